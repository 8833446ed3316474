// Command tcptrace analyzes the TCP connections of packet captures.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/tcptrace/tcptrace/internal/cli"
	"github.com/tcptrace/tcptrace/internal/gctune"
)

func main() {
	os.Exit(run())
}

// run runs the command line. For performance work, TCPTRACE_CPUPROFILE=FILE
// writes a CPU profile of the run and TCPTRACE_MEMPROFILE=FILE an allocation
// profile (go tool pprof FILE; -sample_index=alloc_space for all
// allocations).
func run() int {
	if p := os.Getenv("TCPTRACE_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, "tcptrace: "+err.Error())
			return cli.ExitOutput
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err == nil {
			defer pprof.StopCPUProfile()
		}
	}
	if p := os.Getenv("TCPTRACE_MEMPROFILE"); p != "" {
		runtime.MemProfileRate = 64 << 10
		defer func() {
			f, err := os.Create(p)
			if err != nil {
				fmt.Fprintln(os.Stderr, "tcptrace: "+err.Error())
				return
			}
			defer f.Close()
			pprof.Lookup("allocs").WriteTo(f, 0)
		}()
	}
	defer gctune.Start(os.Getenv)()
	return cli.Main(os.Args[1:], cli.StdIO())
}
