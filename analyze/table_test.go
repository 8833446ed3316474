package analyze

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/seqnum"
	"github.com/tcptrace/tcptrace/tcp"
)

var (
	cli = netip.MustParseAddrPort("10.0.0.1:40000")
	srv = netip.MustParseAddrPort("10.0.0.2:80")
)

// seg builds a segment; from is the sender, to the receiver.
type segSpec struct {
	from, to netip.AddrPort
	flags    tcp.Flags
	seq, ack uint32
	n        int
	at       time.Duration
	vlan     []uint16
}

func c2s(fl tcp.Flags, seq, ack uint32, n int) segSpec {
	return segSpec{cli, srv, fl, seq, ack, n, 0, nil}
}
func s2c(fl tcp.Flags, seq, ack uint32, n int) segSpec {
	return segSpec{srv, cli, fl, seq, ack, n, 0, nil}
}

func (s segSpec) after(d time.Duration) segSpec { s.at = d; return s }
func (s segSpec) onVLAN(v ...uint16) segSpec    { s.vlan = v; return s }

const (
	S  = tcp.SYN
	A  = tcp.ACK
	F  = tcp.FIN
	R  = tcp.RST
	SA = tcp.SYN | tcp.ACK
	FA = tcp.FIN | tcp.ACK
	RA = tcp.RST | tcp.ACK
	PA = tcp.PSH | tcp.ACK
)

// run feeds the specs through a table; frame numbers are 1.. in order and
// each spec's time is its offset from the start (default: 1 ms per frame).
func run(specs []segSpec) []*Conn {
	t := NewTable(DefaultConfig())
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for i, sp := range specs {
		at := sp.at
		if at == 0 {
			at = time.Duration(i) * time.Millisecond
		}
		s := &tcp.Segment{
			Frame: int64(i + 1), TS: base + int64(at), Src: sp.from, Dst: sp.to,
			Flags: sp.flags, Seq: seqnum.Value(sp.seq), Ack: seqnum.Value(sp.ack), Len: sp.n,
		}
		for j, v := range sp.vlan {
			s.VLAN.IDs[j] = v
			s.VLAN.N++
		}
		t.Add(s)
	}
	return t.Conns()
}

func TestTable(t *testing.T) {
	type want struct {
		client netip.AddrPort
		roleBy role
		first  int64
		last   int64
		pk     [2]int64
		reused bool
	}
	handshake := []segSpec{c2s(S, 100, 0, 0), s2c(SA, 500, 101, 0), c2s(A, 101, 501, 0)}
	closeFIN := []segSpec{c2s(FA, 101, 501, 0), s2c(FA, 501, 102, 0), c2s(A, 102, 502, 0)}
	cat := func(parts ...[]segSpec) []segSpec {
		var out []segSpec
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name  string
		segs  []segSpec
		conns []want
	}{
		{"handshake and close", cat(handshake, closeFIN),
			[]want{{cli, roleSYN, 1, 6, [2]int64{4, 2}, false}}},
		{"syn-ack first (reordered handshake)", []segSpec{s2c(SA, 500, 101, 0), c2s(S, 100, 0, 0), c2s(A, 101, 501, 0)},
			[]want{{cli, roleSYNACK, 1, 3, [2]int64{2, 1}, false}}},
		{"mid-stream: server port by number", []segSpec{s2c(PA, 500, 101, 10), c2s(A, 101, 510, 0)},
			[]want{{cli, rolePort, 1, 2, [2]int64{1, 1}, false}}},
		{"mid-stream: ports say nothing, first packet is client", []segSpec{
			{netip.MustParseAddrPort("10.0.0.1:5555"), netip.MustParseAddrPort("10.0.0.2:7777"), PA, 1, 1, 10, 0, nil}},
			[]want{{netip.MustParseAddrPort("10.0.0.1:5555"), roleFirstPacket, 1, 1, [2]int64{1, 0}, false}}},
		{"retransmitted SYN stays", []segSpec{c2s(S, 100, 0, 0), c2s(S, 100, 0, 0).after(time.Second), s2c(SA, 500, 101, 0).after(1001 * time.Millisecond)},
			[]want{{cli, roleSYN, 1, 3, [2]int64{2, 1}, false}}},
		{"port reuse after close, trailing ACK absorbed", cat(handshake, closeFIN,
			[]segSpec{s2c(FA, 501, 102, 0)}, // retransmitted FIN after the close
			[]segSpec{c2s(S, 9000, 0, 0), s2c(SA, 7000, 9001, 0), c2s(A, 9001, 7001, 0)}),
			[]want{{cli, roleSYN, 1, 7, [2]int64{4, 3}, false}, {cli, roleSYN, 8, 10, [2]int64{2, 1}, true}}},
		{"new ISN after refused SYN", []segSpec{c2s(S, 100, 0, 0), s2c(RA, 0, 101, 0), c2s(S, 200, 0, 0), s2c(RA, 0, 201, 0)},
			[]want{{cli, roleSYN, 1, 2, [2]int64{1, 1}, false}, {cli, roleSYN, 3, 4, [2]int64{1, 1}, true}}},
		{"new ISN on a live answered connection stays", cat(handshake, []segSpec{c2s(S, 7777, 0, 0)}),
			[]want{{cli, roleSYN, 1, 4, [2]int64{3, 1}, false}}},
		{"new ISN after long idle", cat(handshake, []segSpec{c2s(S, 7777, 0, 0).after(10 * time.Minute)}),
			[]want{{cli, roleSYN, 1, 3, [2]int64{2, 1}, false}, {cli, roleSYN, 4, 4, [2]int64{1, 0}, true}}},
		{"SYN after mid-stream data opens a new connection", []segSpec{s2c(PA, 500, 101, 10), c2s(S, 9000, 0, 0)},
			[]want{{cli, rolePort, 1, 1, [2]int64{0, 1}, false}, {cli, roleSYN, 2, 2, [2]int64{1, 0}, true}}},
		{"simultaneous open is one connection", []segSpec{c2s(S, 100, 0, 0), s2c(S, 500, 0, 0), c2s(SA, 100, 501, 0), s2c(SA, 500, 101, 0)},
			[]want{{cli, roleSYN, 1, 4, [2]int64{2, 2}, false}}},
		{"same tuple on two VLANs is two connections", []segSpec{
			c2s(S, 100, 0, 0).onVLAN(10), c2s(S, 100, 0, 0).onVLAN(20), s2c(SA, 500, 101, 0).onVLAN(10), s2c(SA, 500, 101, 0).onVLAN(20)},
			[]want{{cli, roleSYN, 1, 3, [2]int64{1, 1}, false}, {cli, roleSYN, 2, 4, [2]int64{1, 1}, false}}},
		{"directions on different VLANs are one connection", []segSpec{
			c2s(S, 100, 0, 0).onVLAN(81), s2c(SA, 500, 101, 0).onVLAN(80), c2s(A, 101, 501, 0).onVLAN(81)},
			[]want{{cli, roleSYN, 1, 3, [2]int64{2, 1}, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(tt.segs)
			if len(got) != len(tt.conns) {
				t.Fatalf("got %d connections, want %d", len(got), len(tt.conns))
			}
			for i, w := range tt.conns {
				c := got[i]
				if c.ID != i+1 || c.Client != w.client || c.roleBy != w.roleBy || c.FirstFrame != w.first ||
					c.LastFrame != w.last || c.Packets != w.pk || c.reused != w.reused {
					t.Errorf("conn %d: got id=%d client=%s role=%s frames=%d-%d pk=%v reused=%v; want client=%s role=%s frames=%d-%d pk=%v reused=%v",
						i, c.ID, c.Client, c.roleBy, c.FirstFrame, c.LastFrame, c.Packets, c.reused,
						w.client, w.roleBy, w.first, w.last, w.pk, w.reused)
				}
			}
		})
	}
}

func TestServerSide(t *testing.T) {
	tests := []struct {
		p0, p1 uint16
		want   int
	}{
		{80, 40000, 0}, {40000, 443, 1}, {3306, 40000, 0}, {5555, 7777, -1}, {50000, 2000, 1}, {22, 23, -1},
	}
	for _, tt := range tests {
		if got := serverSide(tt.p0, tt.p1); got != tt.want {
			t.Errorf("serverSide(%d, %d) = %d, want %d", tt.p0, tt.p1, got, tt.want)
		}
	}
}

// TestSweepMatchesFullScan: Sweep walks the activity list from its oldest
// end and stops early; with timestamps that jump back and forth (damaged or
// merged captures) it must still evict exactly the connections a scan of
// every live connection would.
func TestSweepMatchesFullScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	const closedIdle, openIdle = int64(10e9), int64(60e9)
	for round := range 20 {
		tb := NewTable(DefaultConfig())
		base := int64(1e18)
		now := base
		for i := range 3000 {
			now += rng.Int64N(int64(50e6))
			ts := now
			if rng.IntN(10) == 0 { // a timestamp from the past or the future
				ts += rng.Int64N(int64(200e9)) - int64(100e9)
			}
			port := uint16(1000 + rng.IntN(400))
			a := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(rng.IntN(3))}), port)
			fl := tcp.ACK
			switch rng.IntN(8) {
			case 0:
				fl = tcp.SYN
			case 1:
				fl = tcp.FIN | tcp.ACK
			case 2:
				fl = tcp.RST
			}
			s := &tcp.Segment{Src: a, Dst: srv, Flags: fl, Seq: seqnum.Value(rng.Uint32()), TS: ts, Frame: int64(i + 1)}
			if rng.IntN(2) == 0 {
				s.Src, s.Dst = s.Dst, s.Src
			}
			tb.Add(s)
			if i%100 != 99 {
				continue
			}
			sweepAt := now - rng.Int64N(int64(20e9))
			var want []int
			for _, c := range tb.Live() {
				idle := sweepAt - c.lastTS
				if idle > openIdle || (idle > closedIdle && tb.done(c)) {
					want = append(want, c.ID)
				}
			}
			slices.Sort(want)
			var got []int
			tb.Sweep(sweepAt, closedIdle, openIdle, func(c *Conn) { got = append(got, c.ID) })
			if !slices.Equal(got, want) {
				t.Fatalf("round %d, segment %d: swept %v, a full scan finds %v", round, i, got, want)
			}
		}
	}
}

// TestFormatTS: the hand-written formatter writes what time.Format does
// over the whole range of int64 nanoseconds.
func TestFormatTS(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	vals := []int64{0, 1, -1, 999_999_999, 1e9, math.MaxInt64, math.MinInt64, 1764393482860951000}
	for range 100000 {
		vals = append(vals, int64(rng.Uint64()))
	}
	for _, ns := range vals {
		want := time.Unix(0, ns).UTC().Format("2006-01-02T15:04:05.000000000Z")
		if got := formatTS(ns); got != want {
			t.Fatalf("FormatTS(%d) = %s, want %s", ns, got, want)
		}
	}
}
