package analyze

import (
	"net/netip"
	"runtime"
	"testing"

	"github.com/tcptrace/tcptrace/seqnum"
	"github.com/tcptrace/tcptrace/tcp"
)

// floodSegs returns n SYNs of distinct connections (and with scan, each
// answered by a RST+ACK), as a flood or a port scan would send them.
func floodSegs(n int, scan bool) []tcp.Segment {
	srv := netip.MustParseAddrPort("10.200.0.1:80")
	var out []tcp.Segment
	for i := range n {
		cl := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(1024+i%60000))
		ts := int64(1767225600e9) + int64(i)*1000
		out = append(out, tcp.Segment{Frame: int64(len(out) + 1), TS: ts, Src: cl, Dst: srv, Seq: 1000, Flags: tcp.SYN, Window: 64240, TTL: 64})
		if scan {
			out = append(out, tcp.Segment{Frame: int64(len(out) + 1), TS: ts + 100, Src: srv, Dst: cl, Ack: seqnum.Value(1001), Flags: tcp.RST | tcp.ACK, TTL: 64})
		}
	}
	return out
}

// BenchmarkEmbryonicConn measures what a connection that is only a SYN
// (flood) or a SYN and its RST (scan) costs the table while it is held:
// the live heap after filing N of them, per connection (B/conn). Goal
// (the scale issue): at most 512 bytes.
func BenchmarkEmbryonicConn(b *testing.B) {
	for _, scan := range []bool{false, true} {
		name := map[bool]string{false: "syn", true: "scan"}[scan]
		b.Run(name, func(b *testing.B) {
			const n = 200_000
			segs := floodSegs(n, scan)
			cfg := DefaultConfig()
			cfg.MaxConns = 0
			var per float64
			for b.Loop() {
				runtime.GC()
				var m0, m1 runtime.MemStats
				runtime.ReadMemStats(&m0)
				t := NewTable(cfg)
				t.streaming(func(*Conn) {})
				for i := range segs {
					t.Add(&segs[i])
				}
				runtime.GC()
				runtime.ReadMemStats(&m1)
				per = float64(m1.HeapAlloc-m0.HeapAlloc) / n
				runtime.KeepAlive(t)
			}
			b.ReportMetric(per, "B/conn")
		})
	}
}
