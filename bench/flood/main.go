// Command flood writes the capture of a SYN flood or port scan of N
// distinct connections (internal/pcapgen.WriteFlood) to standard output,
// for bench/scale.sh:
//
//	go run ./bench/flood -n 1000000 > flood.pcap
//	go run ./bench/flood -n 1000000 -scan > scan.pcap
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/tcptrace/tcptrace/internal/pcapgen"
)

func main() {
	n := flag.Int("n", 1_000_000, "connections")
	scan := flag.Bool("scan", false, "each SYN answered by a RST+ACK (a scan of closed ports) instead of unanswered")
	flag.Parse()
	kind := pcapgen.FloodSYN
	if *scan {
		kind = pcapgen.FloodScan
	}
	if err := pcapgen.WriteFlood(os.Stdout, *n, kind); err != nil {
		fmt.Fprintln(os.Stderr, "flood:", err)
		os.Exit(1)
	}
}
