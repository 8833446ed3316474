package stats_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tcptrace/tcptrace/analyze"
	"github.com/tcptrace/tcptrace/analyze/stats"
	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/internal/decode"
	"github.com/tcptrace/tcptrace/seqnum"
	"github.com/tcptrace/tcptrace/tcp"
)

// BenchmarkStep measures one segment of a bulk transfer with timestamps
// (two data segments and one ACK per round).
func BenchmarkStep(b *testing.B) {
	c := stats.New()
	var data, ack tcp.Segment
	data = tcp.Segment{Flags: tcp.ACK | tcp.PSH, Len: 1448, Payload: payload[:1448], Window: 500, Ack: 1}
	data.Opts.HasTS = true
	ack = tcp.Segment{Flags: tcp.ACK, Window: 500, Seq: 1}
	ack.Opts.HasTS = true
	b.ReportAllocs()
	b.ResetTimer()
	seq := uint32(1)
	for i := 0; i < b.N; i++ {
		ts := int64(i) * 10000
		switch i % 3 {
		case 0, 1:
			data.TS, data.Seq = ts, seqnum.Value(seq)
			data.Opts.TSVal, data.Opts.TSEcr = uint32(i/3), uint32(i/3)
			seq += 1448
			c.Step(0, &data)
		case 2:
			ack.TS, ack.Ack = ts, seqnum.Value(seq)
			ack.Opts.TSVal, ack.Opts.TSEcr = uint32(i/3), uint32(i/3)
			c.Step(1, &ack)
		}
	}
}

// BenchmarkStepCorpus replays the real loopback capture's segments
// (decoded once, before timing) through per-connection statistics.
func BenchmarkStepCorpus(b *testing.B) {
	path := filepath.Join(corpusDir, "raw", "loopback", "real-lo-dev.pcap")
	if _, err := os.Stat(path); err != nil {
		b.Skipf("corpus capture not found: %v", err)
	}
	src, err := capture.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	dec := decode.NewDecoder()
	tbl := analyze.NewTable(analyze.DefaultConfig())
	type step struct {
		conn int
		dir  tcp.Dir
		seg  tcp.Segment
	}
	ids := map[*analyze.Conn]int{}
	var steps []step
	var seg tcp.Segment
	for {
		f, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var ce *capture.Error
			if errors.As(err, &ce) {
				continue
			}
			b.Fatal(err)
		}
		if dec.Decode(f, &seg) != decode.OK {
			continue
		}
		c, d := tbl.Add(&seg)
		id, ok := ids[c]
		if !ok {
			id = len(ids)
			ids[c] = id
		}
		s := seg
		s.Payload = append([]byte(nil), seg.Payload...)
		s.Opts.Raw = nil
		steps = append(steps, step{id, d, s})
	}
	conns := make([]*stats.Conn, len(ids))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range conns {
			conns[j] = stats.New()
		}
		for k := range steps {
			st := &steps[k]
			conns[st.conn].Step(st.dir, &st.seg)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(steps)), "ns/segment")
}
