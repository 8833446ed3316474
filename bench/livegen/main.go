// Command livegen makes TCP traffic on loopback for bench/live-analyze.sh:
// N connections each write small messages with TCP_NODELAY (each write is
// a segment, each answered by an ACK), at a total target rate of writes per
// second, for a duration; every connection then closes, and one in ten is
// reset (SO_LINGER 0) so that the analysis has RSTs to diagnose.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	port := flag.Int("port", 47900, "server port on 127.0.0.1")
	conns := flag.Int("conns", 64, "connections at once")
	rate := flag.Int("rate", 150000, "writes per second in all (0: as fast as possible)")
	dur := flag.Duration("duration", 10*time.Second, "how long")
	size := flag.Int("size", 64, "bytes per write")
	flag.Parse()
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	var writes atomic.Int64
	deadline := time.Now().Add(*dur)
	var wg sync.WaitGroup
	msg := make([]byte, *size)
	per := time.Duration(0)
	if *rate > 0 {
		per = time.Second * time.Duration(*conns) / time.Duration(*rate)
	}
	for i := range *conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; time.Now().Before(deadline); n++ {
				c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
				if err != nil {
					continue
				}
				tc := c.(*net.TCPConn)
				tc.SetNoDelay(true)
				next := time.Now()
				for k := 0; k < 2000 && time.Now().Before(deadline); k++ {
					if _, err := tc.Write(msg); err != nil {
						break
					}
					writes.Add(1)
					if per > 0 {
						next = next.Add(per)
						if d := time.Until(next); d > 0 {
							time.Sleep(d)
						}
					}
				}
				if (i+n)%10 == 0 {
					tc.SetLinger(0)
				}
				tc.Close()
			}
		}()
	}
	wg.Wait()
	fmt.Printf("writes %d in %v (%.0f/s)\n", writes.Load(), *dur, float64(writes.Load())/dur.Seconds())
}
