package analyze

import (
	"io"
	"net/netip"
	"os"
	"testing"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/internal/decode"
	"github.com/tcptrace/tcptrace/seqnum"
	"github.com/tcptrace/tcptrace/statemachine"
	"github.com/tcptrace/tcptrace/tcp"
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

// eachFrame reads the capture at path once, handing every frame to fn.
func eachFrame(b *testing.B, path string, fn func(*capture.Frame)) {
	src, err := capture.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	for {
		f, err := src.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			b.Fatal(err)
		}
		fn(f)
	}
}

// BenchmarkRead measures framing alone (pcap records, zero copy).
func BenchmarkRead(b *testing.B) {
	path := benchCapture(b)
	b.ReportAllocs()
	var pkts int64
	for b.Loop() {
		eachFrame(b, path, func(*capture.Frame) { pkts++ })
	}
	b.ReportMetric(float64(pkts)/b.Elapsed().Seconds(), "pkts/s")
}

// BenchmarkReadDecode measures read + decode (link, IP, TCP, options) on one core.
func BenchmarkReadDecode(b *testing.B) {
	path := benchCapture(b)
	b.ReportAllocs()
	var pkts int64
	d := decode.NewDecoder()
	var seg tcp.Segment
	for b.Loop() {
		eachFrame(b, path, func(f *capture.Frame) {
			pkts++
			d.Decode(f, &seg)
		})
	}
	b.ReportMetric(float64(pkts)/b.Elapsed().Seconds(), "pkts/s")
}

// BenchmarkEngine measures the whole analysis (read, decode, the sharded
// connection table with every check, records) with a worker per CPU;
// BenchmarkEngineWorkers1 the same on one goroutine.
func BenchmarkEngine(b *testing.B) { benchEngine(b, DefaultConfig().Workers) }

func BenchmarkEngineWorkers1(b *testing.B) { benchEngine(b, 1) }

func benchEngine(b *testing.B, workers int) {
	path := benchCapture(b)
	b.ReportAllocs()
	var pkts int64
	for b.Loop() {
		src, err := capture.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		e := NewEngine(withWorkers(workers))
		if err := e.Run(src); err != nil {
			b.Fatal(err)
		}
		pkts += e.rd.frames
		src.Close()
	}
	b.ReportMetric(float64(pkts)/b.Elapsed().Seconds(), "pkts/s")
}

// decodedSegments reads and decodes the benchmark capture once, keeping
// every TCP segment (payloads copied), for the stage benchmarks below.
func decodedSegments(b *testing.B) []tcp.Segment {
	d := decode.NewDecoder()
	var segs []tcp.Segment
	var s tcp.Segment
	eachFrame(b, benchCapture(b), func(f *capture.Frame) {
		if d.Decode(f, &s) == decode.OK {
			c := s
			c.Payload = append([]byte(nil), s.Payload...)
			c.Opts.Raw = append([]byte(nil), s.Opts.Raw...)
			segs = append(segs, c)
		}
	})
	return segs
}

// BenchmarkTableFull measures the table stage alone on decoded segments:
// connection lookup, state machine, every detector, statistics, reassembly.
func BenchmarkTableFull(b *testing.B) { benchTable(b, DefaultConfig()) }

// BenchmarkTableFullStable is BenchmarkTableFull with payloads known to
// outlive the run (as from a mapped file: references instead of copies and
// hashes).
func BenchmarkTableFullStable(b *testing.B) { benchTableStable(b, DefaultConfig(), true) }

// BenchmarkTableStreams measures the table stage of follow/export: lookup,
// state machine and reassembly only.
func BenchmarkTableStreams(b *testing.B) {
	cfg := DefaultConfig()
	cfg.StreamsOnly = true
	benchTable(b, cfg)
}

func benchTable(b *testing.B, cfg Config) { benchTableStable(b, cfg, false) }

func benchTableStable(b *testing.B, cfg Config, stable bool) {
	segs := decodedSegments(b)
	b.ReportAllocs()
	var n int64
	for b.Loop() {
		t := NewTable(cfg)
		t.stablePayload = stable
		t.streaming(func(*Conn) {})
		for i := range segs {
			t.Add(&segs[i])
		}
		n += int64(len(segs))
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "segments/s")
}

// BenchmarkStateMachine measures the RFC 9293 replay alone: the segments of
// the benchmark capture, already sorted into connections and directions,
// stepped through a fresh statemachine.Conn per connection.
func BenchmarkStateMachine(b *testing.B) {
	segs := decodedSegments(b)
	conn := make([]int, len(segs))
	dir := make([]tcp.Dir, len(segs))
	t := NewTable(DefaultConfig())
	t.streaming(func(*Conn) {})
	ids := map[*Conn]int{}
	for i := range segs {
		c, d := t.Add(&segs[i])
		if _, ok := ids[c]; !ok || c.FirstFrame == segs[i].Frame {
			ids[c] = len(ids)
		}
		conn[i], dir[i] = ids[c], d
	}
	sms := make([]statemachine.Conn, len(ids))
	b.ReportAllocs()
	var n int64
	for b.Loop() {
		for i := range sms {
			sms[i].Init()
		}
		for i := range segs {
			sms[conn[i]].Step(dir[i], &segs[i])
		}
		n += int64(len(segs))
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "segments/s")
}

// BenchmarkTableSteadyState measures one long, clean bulk transfer through
// the full table (every check, statistics, reassembly): one data segment
// and its ACK per op, after the handshake. allocs/op is the allocations per
// segment pair in the steady state (the issue asks for none).
func BenchmarkTableSteadyState(b *testing.B) {
	cli := netip.MustParseAddrPort("10.0.0.1:40000")
	srv := netip.MustParseAddrPort("10.0.0.2:80")
	payload := make([]byte, 1000)
	t := NewTable(DefaultConfig())
	t.stablePayload = true
	t.streaming(func(*Conn) {})
	ts := int64(1e18)
	seg := func(from, to netip.AddrPort, fl tcp.Flags, seq, ack uint32, p []byte) *tcp.Segment {
		ts += 1000
		return &tcp.Segment{Src: from, Dst: to, Flags: fl, Seq: seqnum.Value(seq), Ack: seqnum.Value(ack),
			Window: 65535, Len: len(p), Payload: p, TS: ts, TTL: 64}
	}
	t.Add(seg(cli, srv, tcp.SYN, 100, 0, nil))
	t.Add(seg(srv, cli, tcp.SYN|tcp.ACK, 500, 101, nil))
	t.Add(seg(cli, srv, tcp.ACK, 101, 501, nil))
	seq := uint32(101)
	for range 1000 { // warm up: rings and buffers reach their size
		t.Add(seg(cli, srv, tcp.ACK|tcp.PSH, seq, 501, payload))
		seq += 1000
		t.Add(seg(srv, cli, tcp.ACK, 501, seq, nil))
	}
	b.ReportAllocs()
	for b.Loop() {
		t.Add(seg(cli, srv, tcp.ACK|tcp.PSH, seq, 501, payload))
		seq += 1000
		t.Add(seg(srv, cli, tcp.ACK, 501, seq, nil))
	}
	b.ReportMetric(float64(2*b.N)/b.Elapsed().Seconds(), "segments/s")
}
