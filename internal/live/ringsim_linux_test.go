//go:build linux

package live

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/internal/capture"
)

const simBlock = 4096

// simRing is a ring over ordinary memory (no socket: reading the kernel's
// counters fails and adds nothing).
func simRing(idx, blocks int, cooked bool) *ring {
	r := &ring{idx: idx, fd: -1, cooked: cooked, mem: make([]byte, blocks*simBlock), blockSize: simBlock, blocks: blocks}
	r.ifc = Interface{Name: fmt.Sprintf("sim%d", idx), Index: idx + 1, LinkType: LinkEthernet, MTU: 1500}
	if cooked {
		r.ifc.LinkType = LinkLinuxSLL2
	}
	return r
}

func simSource(rings ...*ring) *Source {
	s := &Source{rings: rings, opt: Options{Snaplen: DefaultSnaplen}, mtus: map[int32]int{}}
	for _, r := range rings {
		s.ifaces = append(s.ifaces, r.ifc)
	}
	return s
}

// frameAt is a 20-byte Ethernet frame whose last bytes name it.
func frameAt(name string) []byte {
	b := []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00}
	return append(b, name...)
}

// drain returns what the rings hold now, as "iface:name:dropsBefore"
// strings, the way step picks them (without polling).
func (s *Source) drainSim(t *testing.T) []string {
	t.Helper()
	var out []string
	var f capture.Frame
	var buf []byte
	for range 1000 {
		var best *ring
		for _, r := range s.rings {
			if r.load() && (best == nil || r.headTS() < best.headTS()) {
				best = r
			}
		}
		if best == nil {
			return out
		}
		if g := s.emit(best, &f, &buf); g != nil {
			out = append(out, fmt.Sprintf("%d:%s:%d", g.Iface, g.Data[14:], g.DropsBefore))
		}
	}
	t.Fatal("the rings never ran dry")
	return nil
}

func TestRingReader(t *testing.T) {
	t.Run("blocks in order, each given back", func(t *testing.T) {
		r := simRing(0, 3, false)
		fakeBlock(r.block(0), statusUser, []fakePkt{{ts: 1, data: frameAt("a")}, {ts: 2, data: frameAt("b")}})
		fakeBlock(r.block(1), statusUser, []fakePkt{{ts: 3, data: frameAt("c")}})
		// block 2 still the kernel's
		s := simSource(r)
		got := s.drainSim(t)
		want := []string{"0:a:0", "0:b:0", "0:c:0"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		for i := range 2 {
			if st := atomic.LoadUint32(r.statusWord(i)); st != 0 {
				t.Errorf("block %d status %#x after reading, want 0 (the kernel's)", i, st)
			}
		}
		if r.cur != 2 || s.n != 3 {
			t.Errorf("cursor %d, frames %d", r.cur, s.n)
		}
		// The kernel fills block 2 then block 0 again: the cursor wraps.
		fakeBlock(r.block(2), statusUser, []fakePkt{{ts: 4, data: frameAt("d")}})
		fakeBlock(r.block(0), statusUser, []fakePkt{{ts: 5, data: frameAt("e")}})
		if got := s.drainSim(t); fmt.Sprint(got) != "[0:d:0 0:e:0]" {
			t.Fatalf("after wrapping: %v", got)
		}
	})
	t.Run("drops go to the first frame of the next block", func(t *testing.T) {
		r := simRing(0, 4, false)
		fakeBlock(r.block(0), statusUser, []fakePkt{{ts: 1, data: frameAt("a")}, {ts: 2, data: frameAt("b")}})
		fakeBlock(r.block(1), statusUser|statusLosing, []fakePkt{{ts: 10, data: frameAt("c")}, {ts: 11, data: frameAt("d")}})
		s := simSource(r)
		r.load()
		r.pending = 7 // as read from PACKET_STATISTICS while block 0 was held
		if got := s.drainSim(t); fmt.Sprint(got) != "[0:a:0 0:b:0 0:c:7 0:d:0]" {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("the drop count skips to the next delivered frame", func(t *testing.T) {
		r := simRing(0, 2, false)
		r.ifc.Loopback = true
		fakeBlock(r.block(0), statusUser, []fakePkt{
			{ts: 1, data: frameAt("out"), pkttype: pkttypeOutgoing, hatype: hatypeLoopback},
			{ts: 2, data: frameAt("in"), hatype: hatypeLoopback},
		})
		r.pending = 3
		s := simSource(r)
		if got := s.drainSim(t); fmt.Sprint(got) != "[0:in:3]" {
			t.Fatalf("got %v", got)
		}
		if r.st.skipped.Load() != 1 || r.st.delivered.Load() != 1 {
			t.Errorf("skipped %d delivered %d", r.st.skipped.Load(), r.st.delivered.Load())
		}
	})
	t.Run("a damaged block is given back and counted as dropped", func(t *testing.T) {
		r := simRing(0, 3, false)
		fakeBlock(r.block(0), statusUser, []fakePkt{{ts: 1, data: frameAt("a")}, {ts: 2, data: frameAt("b")}, {ts: 3, data: frameAt("c")}})
		ne.PutUint32(r.block(0)[blkHdrLen+pktNext:], simBlock) // a's next points outside
		fakeBlock(r.block(1), statusUser, []fakePkt{{ts: 4, data: frameAt("d")}})
		ne.PutUint32(r.block(1)[blkFirst:], simBlock-8)
		fakeBlock(r.block(2), statusUser, []fakePkt{{ts: 5, data: frameAt("e")}})
		s := simSource(r)
		// a is lost with the rest of its block (3), d with its block (1).
		if got := s.drainSim(t); fmt.Sprint(got) != "[0:e:4]" {
			t.Fatalf("got %v", got)
		}
		if r.st.dropped.Load() != 4 {
			t.Errorf("dropped %d, want 4", r.st.dropped.Load())
		}
		for i := range 3 {
			if st := atomic.LoadUint32(r.statusWord(i)); st != 0 {
				t.Errorf("block %d not given back (status %#x)", i, st)
			}
		}
	})
	t.Run("interfaces merged by timestamp", func(t *testing.T) {
		a, b := simRing(0, 2, false), simRing(1, 2, true)
		fakeBlock(a.block(0), statusUser, []fakePkt{{ts: 1, data: frameAt("a1")}, {ts: 4, data: frameAt("a4")}, {ts: 6, data: frameAt("a6")}})
		fakeBlock(b.block(0), statusUser, []fakePkt{{ts: 2, data: []byte("x"), proto: 0x0800}, {ts: 5, data: []byte("x"), proto: 0x0800}})
		s := simSource(a, b)
		var order []string
		var f capture.Frame
		var buf []byte
		for {
			var best *ring
			for _, r := range s.rings {
				if r.load() && (best == nil || r.headTS() < best.headTS()) {
					best = r
				}
			}
			if best == nil {
				break
			}
			g := s.emit(best, &f, &buf)
			order = append(order, fmt.Sprintf("%d@%d#%d/%d", g.Iface, g.TS, g.N, g.LinkType))
		}
		want := "[0@1#1/1 1@2#2/276 0@4#3/1 1@5#4/276 0@6#5/1]"
		if fmt.Sprint(order) != want {
			t.Fatalf("order %v, want %v", order, want)
		}
	})
	t.Run("super-frames counted", func(t *testing.T) {
		r := simRing(0, 2, false)
		fakeBlock(r.block(0), statusUser, []fakePkt{
			{ts: 1, data: frameAt("small"), length: 1514, netOff: 14},
			{ts: 2, data: frameAt("big"), length: 9014, netOff: 14},
			{ts: 3, data: frameAt("gso"), length: 1000, netOff: 14, status: statusGSOTCP},
		})
		s := simSource(r)
		s.drainSim(t)
		if got := r.st.super.Load(); got != 2 {
			t.Errorf("%d super-frames, want 2", got)
		}
	})
}

// TestEmitAllocs: taking a packet out of the ring allocates nothing.
func TestEmitAllocs(t *testing.T) {
	r := simRing(0, 2, false)
	pkts := make([]fakePkt, 16)
	for i := range pkts {
		pkts[i] = fakePkt{ts: int64(i), data: frameAt("x"), status: statusVlanValid, tci: 7}
	}
	s := simSource(r)
	var f capture.Frame
	buf := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() {
		fakeBlock(r.block(r.cur), statusUser, pkts)
		for r.load() {
			s.emit(r, &f, &buf)
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per block of %d packets", allocs, len(pkts))
	}
}

// TestEarlierPending: with several rings, the earliest ready frame waits
// while the block another ring is filling may hold an older packet.
func TestEarlierPending(t *testing.T) {
	now := time.Unix(1000, 0)
	ms := int64(time.Millisecond)
	tests := []struct {
		name     string
		head     int64  // ts of the ready ring's next packet
		pkts     uint32 // packets in the quiet ring's open block
		opened   int64  // when that block was opened
		ready    bool   // the quiet ring has a block ready itself
		done     bool
		wantWait bool
	}{
		{"quiet ring empty, head old enough", now.UnixNano() - 5*ms, 0, 0, false, false, false},
		{"quiet ring empty, head too recent", now.UnixNano() - ms/2, 0, 0, false, false, true},
		{"quiet ring has packets since before head", now.UnixNano() - 5*ms, 3, now.UnixNano() - 40*ms, false, false, true},
		{"quiet ring has packets opened after head", now.UnixNano() - 40*ms, 3, now.UnixNano() - 5*ms, false, false, false},
		{"other ring ready", now.UnixNano(), 0, 0, true, false, false},
		{"other ring done", now.UnixNano(), 3, 0, false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			busy, quiet := simRing(0, 2, false), simRing(1, 2, false)
			fakeBlock(busy.block(0), statusUser, []fakePkt{{ts: tt.head, data: frameAt("a")}})
			blk := quiet.block(0)
			if tt.ready {
				fakeBlock(blk, statusUser, []fakePkt{{ts: tt.head + 1, data: frameAt("b")}})
				quiet.load()
			} else {
				clear(blk)
				ne.PutUint32(blk[blkNumPkts:], tt.pkts)
				ne.PutUint32(blk[blkTSFirst:], uint32(tt.opened/1e9))
				ne.PutUint32(blk[blkTSFirst+4:], uint32(tt.opened%1e9))
			}
			quiet.done = tt.done
			s := simSource(busy, quiet)
			busy.load()
			got := s.earlier(busy, now, nil)
			if (len(got) > 0) != tt.wantWait {
				t.Errorf("wait for %d rings, want waiting %v", len(got), tt.wantWait)
			}
		})
	}
}
