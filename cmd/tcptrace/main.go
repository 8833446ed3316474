// Command tcptrace analyzes the TCP connections of packet captures.
package main

import (
	"os"

	"github.com/tcptrace/tcptrace/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.StdIO()))
}
