package analyze

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/tcptrace/tcptrace/report"
	"github.com/tcptrace/tcptrace/tcp"
)

// TestMergePoolPeak: the peak of the reassembly pools over all shards is
// the most held at once, not any one shard's: shard 0 holds 100 bytes when
// shard 1 rises to 70 within a step (and falls back to 50 after it), then
// shard 0's sweep releases (it cannot raise the peak).
func TestMergePoolPeak(t *testing.T) {
	e := NewEngine(withWorkers(2))
	e.sh = e.newShards(2)
	e.sh.merge([]*shardOut{
		{pool: []poolEv{{pos: 1, shard: 0, peak: 100, after: 100}}},
		{pool: []poolEv{{pos: 2, shard: 1, peak: 70, after: 50}}},
	})
	if e.sh.peak != 170 {
		t.Errorf("peak %d, want 170", e.sh.peak)
	}
	e.sh.merge([]*shardOut{
		{pool: []poolEv{{pos: 5, phase: 1, shard: 0, peak: 100, after: 0}}},
		{pool: []poolEv{{pos: 4, shard: 1, peak: 80, after: 80}}},
	})
	if e.sh.peak != 180 || e.sh.total != 80 {
		t.Errorf("peak %d, total %d; want 180 and 80", e.sh.peak, e.sh.total)
	}
}

// TestMergeOrder: finished connections are renumbered by the position of
// the segment that created them and delivered as one table would: by the
// position that finished them; retirements (phase 0) in their order, sweeps
// and the end in ID order.
func TestMergeOrder(t *testing.T) {
	e := NewEngine(withWorkers(2))
	e.sh = e.newShards(2)
	var got []int
	e.Stream(nil, func(c *report.Conn, _ []*report.Anomaly) { got = append(got, c.ID) })
	rec := func(pos int64, phase int8, seq, id int) outRec {
		return outRec{pos: pos, phase: phase, seq: seq, id: id, rc: &report.Conn{ID: id}}
	}
	e.sh.merge([]*shardOut{
		{creates: []int64{0, 7, 9}, recs: []outRec{rec(9, 1, 0, 7), rec(9, 1, 1, 9)}},
		{creates: []int64{3, 5}, recs: []outRec{rec(8, 0, 0, 5), rec(9, 1, 0, 3)}},
	})
	// IDs: 0→1, 3→2, 5→3, 7→4, 9→5. Finished: pos 8 retire (3), then the
	// sweep at 9 in ID order (2, 4, 5).
	want := []int{3, 2, 4, 5}
	if len(got) != len(want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delivered %v, want %v", got, want)
		}
	}
	if len(e.sh.ids) != 1 {
		t.Errorf("%d connections still numbered, want 1 (the one not finished)", len(e.sh.ids))
	}
}

// TestFlowShardSymmetric: both directions of a flow go to the same shard,
// for IPv4 and IPv6 endpoints, and flows spread over the shards.
func TestFlowShardSymmetric(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	addr := func(v6 bool) netip.AddrPort {
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		a := netip.AddrFrom16(b)
		if !v6 {
			a = netip.AddrFrom4([4]byte(b[:4]))
		}
		return netip.AddrPortFrom(a, uint16(rng.Uint32()))
	}
	for n := 1; n <= 4; n++ {
		count := make([]int, n)
		for i := range 10000 {
			s := tcp.Segment{Src: addr(i%2 == 0), Dst: addr(i%2 == 0)}
			r := tcp.Segment{Src: s.Dst, Dst: s.Src}
			k := flowShard(&s, n)
			if k != flowShard(&r, n) {
				t.Fatalf("%v → %v: shard differs by direction", s.Src, s.Dst)
			}
			count[k]++
		}
		for k, c := range count {
			if c < 10000/n*8/10 {
				t.Errorf("%d shards: shard %d has %d of 10000 flows", n, k, c)
			}
		}
	}
}
