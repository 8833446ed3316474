package analyze

import (
	"io"
	"os"
	"testing"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/internal/decode"
)

// benchCapture is the capture the stage benchmarks read: $TCPTRACE_BENCH_PCAP,
// else the small real capture that ../shared/bench/mkcapture.sh writes into
// bench/data (DATA=bench/data ../shared/bench/mkcapture.sh).
func benchCapture(b *testing.B) string {
	p := os.Getenv("TCPTRACE_BENCH_PCAP")
	if p == "" {
		p = "../bench/data/real-lo-small.pcap"
	}
	if _, err := os.Stat(p); err != nil {
		b.Skipf("benchmark capture %s not found: set TCPTRACE_BENCH_PCAP or run DATA=bench/data ../shared/bench/mkcapture.sh", p)
	}
	return p
}

// BenchmarkRead measures framing alone (pcap records, zero copy).
func BenchmarkRead(b *testing.B) {
	path := benchCapture(b)
	b.ReportAllocs()
	var pkts int64
	for b.Loop() {
		src, err := capture.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := src.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			pkts++
		}
		src.Close()
	}
	b.ReportMetric(float64(pkts)/b.Elapsed().Seconds(), "pkts/s")
}

// BenchmarkReadDecode measures read + decode (link, IP, TCP, options) on one core.
func BenchmarkReadDecode(b *testing.B) {
	path := benchCapture(b)
	b.ReportAllocs()
	var pkts, tcp int64
	d := decode.NewDecoder()
	var seg decode.Segment
	for b.Loop() {
		src, err := capture.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		for {
			f, err := src.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			pkts++
			if d.Decode(f, &seg) == decode.OK {
				tcp++
			}
		}
		src.Close()
	}
	b.ReportMetric(float64(pkts)/b.Elapsed().Seconds(), "pkts/s")
}

// BenchmarkEngine measures read + decode + connection table.
func BenchmarkEngine(b *testing.B) {
	path := benchCapture(b)
	b.ReportAllocs()
	var pkts int64
	for b.Loop() {
		src, err := capture.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		e := NewEngine(DefaultConfig())
		if err := e.Run(src); err != nil {
			b.Fatal(err)
		}
		pkts += e.frames
		src.Close()
	}
	b.ReportMetric(float64(pkts)/b.Elapsed().Seconds(), "pkts/s")
}
