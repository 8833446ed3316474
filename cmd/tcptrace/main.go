// Command tcptrace analyzes the TCP connections of packet captures.
package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/tcptrace/tcptrace/internal/cli"
)

func main() {
	// TCPTRACE_CPUPROFILE=FILE writes a CPU profile of the run (for
	// performance work: go tool pprof FILE).
	if p := os.Getenv("TCPTRACE_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, "tcptrace: "+err.Error())
			os.Exit(cli.ExitOutput)
		}
		if err := pprof.StartCPUProfile(f); err == nil {
			code := cli.Main(os.Args[1:], cli.StdIO())
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(code)
		}
	}
	os.Exit(cli.Main(os.Args[1:], cli.StdIO()))
}
