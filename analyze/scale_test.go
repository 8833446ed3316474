package analyze

import (
	"bytes"
	"testing"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/internal/pcapgen"
	"github.com/tcptrace/tcptrace/report"
)

// TestScaleFloodHeap: a generated capture of a million one-SYN connections
// (a SYN flood or a port scan, common in real captures) analyzed with the
// default configuration and streaming output, as `analyze --format json`
// runs it: the live heap stays within the scale issue's budget, and every
// connection is reported.
func TestScaleFloodHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("a million connections: -short")
	}
	skipIfRace(t)
	for _, kind := range []pcapgen.FloodKind{pcapgen.FloodSYN, pcapgen.FloodScan} {
		var buf bytes.Buffer
		const n = 1_000_000
		if err := pcapgen.WriteFlood(&buf, n, kind); err != nil {
			t.Fatal(err)
		}
		data := bytes.Clone(buf.Bytes()) // no spare capacity: the heap beside it is the analysis's
		buf = bytes.Buffer{}
		records := 0
		var rep *report.Report
		peak := heapPeak(func() {
			src, err := capture.OpenReader("flood.pcap", bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			e := NewEngine(DefaultConfig())
			e.Stream([]string{"flood.pcap"}, func(*report.Conn, []*report.Anomaly) { records++ })
			if err := e.Run(src); err != nil {
				t.Fatal(err)
			}
			rep = e.Report([]string{"flood.pcap"})
		})
		held := peak - uint64(len(data)) // the capture itself is in memory here
		t.Logf("flood %d: %d records, peak live heap %.1f MiB beside the %.0f MiB capture", kind, records, float64(held)/(1<<20), float64(len(data))/(1<<20))
		if records != n || rep.Summary.Connections != n {
			t.Errorf("%d records, summary %d, want %d", records, rep.Summary.Connections, n)
		}
		if held > 160<<20 {
			t.Errorf("peak live heap %d MiB beside the capture, want at most 160 MiB", held>>20)
		}
	}
}
