package reassembly

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tcptrace/tcptrace/seqnum"
	"github.com/tcptrace/tcptrace/tcp"
)

// sink collects what a stream delivers.
type sink struct {
	t         testing.TB
	out       []byte
	gaps      []Gap
	conflicts []Conflict
	fin       int
	finOff    int64
	length    int64 // stream length so far (data and gaps)
	huge      bool  // a gap too large to spell out in out
}

func (k *sink) Data(dir tcp.Dir, off int64, b []byte, frame int64, file int) {
	if off != k.length {
		k.t.Fatalf("data at offset %d, want %d (frame %d)", off, k.length, frame)
	}
	k.length += int64(len(b))
	if !k.huge {
		k.out = append(k.out, b...)
	}
}

func (k *sink) Gap(dir tcp.Dir, g Gap) {
	if g.Off != k.length || g.Len <= 0 {
		k.t.Fatalf("gap of %d at offset %d, want one at %d", g.Len, g.Off, k.length)
	}
	k.gaps = append(k.gaps, g)
	k.length += g.Len
	if g.Len > 1<<24 {
		k.huge = true
	}
	if !k.huge {
		k.out = append(k.out, make([]byte, g.Len)...) // zeros stand for the missing bytes
	}
}

func (k *sink) Conflict(dir tcp.Dir, c Conflict) { k.conflicts = append(k.conflicts, c) }
func (k *sink) FIN(dir tcp.Dir, off int64, frame int64, file int) {
	k.fin++
	k.finOff = off
}

// seg builds a segment; flags from "S", "F", "R".
func seg(frame int64, seq uint32, flags string, payload []byte) *tcp.Segment {
	s := &tcp.Segment{Frame: frame, Seq: seqnum.Value(seq), Len: len(payload), Payload: payload}
	for _, f := range flags {
		switch f {
		case 'S':
			s.Flags |= tcp.SYN
		case 'F':
			s.Flags |= tcp.FIN
		case 'R':
			s.Flags |= tcp.RST
		}
	}
	s.Flags |= tcp.ACK
	return s
}

func newTestStream(t testing.TB, cfg Config, b *Budget, p *Pool) (*Stream, *sink) {
	k := &sink{t: t}
	return NewStream(0, cfg, k, b, p), k
}

// TestPermutations: any order, duplication and overlap of a stream's segments
// (with consistent bytes) reassembles to the same bytes, wherever the ISN is.
func TestPermutations(t *testing.T) {
	isns := []uint32{0, 1 << 31, 1<<31 - 1, 1<<32 - 1, 1<<32 - 700, 12345}
	for _, isn := range isns {
		for trial := range 40 {
			t.Run(fmt.Sprintf("isn=%d/%d", isn, trial), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(isn), uint64(trial)))
				data := make([]byte, 1+r.IntN(5000))
				for i := range data {
					data[i] = byte(r.IntN(256))
				}
				var segs []*tcp.Segment
				// A cover of the stream with random cuts, plus random
				// overlapping pieces and exact duplicates.
				for off := 0; off < len(data); {
					n := min(1+r.IntN(600), len(data)-off)
					segs = append(segs, seg(0, isn+1+uint32(off), "", data[off:off+n]))
					off += n
				}
				for range r.IntN(10) {
					a := r.IntN(len(data))
					b := a + 1 + r.IntN(len(data)-a)
					segs = append(segs, seg(0, isn+1+uint32(a), "", data[a:b]))
				}
				for range r.IntN(5) {
					segs = append(segs, segs[r.IntN(len(segs))])
				}
				segs = append(segs, seg(0, isn+1+uint32(len(data)), "F", nil))
				r.Shuffle(len(segs), func(i, j int) { segs[i], segs[j] = segs[j], segs[i] })
				s, k := newTestStream(t, Config{History: 1 << 16}, nil, nil)
				s.Segment(seg(1, isn, "S", nil))
				for i, sg := range segs {
					c := *sg
					c.Frame = int64(i + 2)
					s.Segment(&c)
				}
				if !bytes.Equal(k.out, data) {
					t.Fatalf("reassembled %d bytes, want %d; differ", len(k.out), len(data))
				}
				if len(k.gaps) != 0 || len(k.conflicts) != 0 {
					t.Fatalf("gaps %v conflicts %v", k.gaps, k.conflicts)
				}
				if k.fin != 1 || k.finOff != int64(len(data)) {
					t.Fatalf("fin %d at %d, want once at %d", k.fin, k.finOff, len(data))
				}
				if s.Stats.Delivered != int64(len(data)) || s.Buffered() != 0 {
					t.Fatalf("delivered %d buffered %d", s.Stats.Delivered, s.Buffered())
				}
			})
		}
	}
}

func TestCases(t *testing.T) {
	abc := []byte("abcdefghij")
	type step struct {
		seg   *tcp.Segment
		acked int64 // > 0: an ACK of isn+acked instead of a segment
	}
	var isn uint32 = 1<<32 - 5 // wraps inside the stream
	tests := []struct {
		name      string
		steps     []step
		flush     bool
		want      string // delivered bytes, '.' for a gap byte
		gaps      []GapReason
		conflicts [][2]int64 // later frame, first frame
		fin       bool
	}{
		{name: "in order", steps: []step{{seg: seg(1, isn, "S", nil)}, {seg: seg(2, isn+1, "", abc[:5])}, {seg: seg(3, isn+6, "F", abc[5:])}},
			want: "abcdefghij", fin: true},
		{name: "early FIN held until the data before it", steps: []step{{seg: seg(1, isn, "S", nil)}, {seg: seg(2, isn+6, "F", abc[5:])}, {seg: seg(3, isn+1, "", abc[:5])}},
			want: "abcdefghij", fin: true},
		{name: "FIN alone before the data", steps: []step{{seg: seg(1, isn, "S", nil)}, {seg: seg(2, isn+11, "F", nil)}, {seg: seg(3, isn+6, "", abc[5:])}, {seg: seg(4, isn+1, "", abc[:5])}},
			want: "abcdefghij", fin: true},
		{name: "hole flushed at the end", steps: []step{{seg: seg(1, isn, "S", nil)}, {seg: seg(2, isn+1, "", abc[:3])}, {seg: seg(3, isn+6, "", abc[5:])}},
			flush: true, want: "abc..fghij", gaps: []GapReason{GapLoss}},
		{name: "hole acknowledged by the peer", steps: []step{{seg: seg(1, isn, "S", nil)}, {seg: seg(2, isn+1, "", abc[:3])}, {seg: seg(3, isn+6, "", abc[5:])}, {acked: 11}},
			want: "abc..fghij", gaps: []GapReason{GapAcked}},
		{name: "ack beyond anything seen leaves no gap until flush", steps: []step{{seg: seg(1, isn, "S", nil)}, {seg: seg(2, isn+1, "", abc[:3])}, {acked: 9}},
			want: "abc", gaps: nil},
		{name: "an ack beyond anything seen invents no gap at the end", steps: []step{{seg: seg(1, isn, "S", nil)}, {seg: seg(2, isn+1, "", abc[:3])}, {acked: 9}},
			flush: true, want: "abc", gaps: nil},
		{name: "snaplen cut", steps: []step{{seg: seg(1, isn, "S", nil)}, {seg: func() *tcp.Segment { s := seg(2, isn+1, "", abc[:2]); s.Len = 5; return s }()}, {seg: seg(3, isn+6, "", abc[5:])}},
			want: "ab...fghij", gaps: []GapReason{GapSnaplen}},
		{name: "conflict in the queue: first copy wins", steps: []step{{seg: seg(1, isn, "S", nil)}, {seg: seg(2, isn+4, "", []byte("defg"))}, {seg: seg(3, isn+4, "", []byte("dXfg"))}, {seg: seg(4, isn+1, "", abc[:3])}},
			want: "abcdefg", conflicts: [][2]int64{{3, 2}}},
		{name: "queued copy wins over a later in-order one", steps: []step{{seg: seg(1, isn, "S", nil)}, {seg: seg(2, isn+4, "", []byte("defg"))}, {seg: seg(3, isn+1, "", []byte("abcDEfg"))}},
			want: "abcdefg", conflicts: [][2]int64{{3, 2}}},
		{name: "conflict with delivered bytes", steps: []step{{seg: seg(1, isn, "S", nil)}, {seg: seg(2, isn+1, "", abc[:5])}, {seg: seg(3, isn+6, "", abc[5:])}, {seg: seg(4, isn+3, "", []byte("cdXfg"))}},
			want: "abcdefghij", conflicts: [][2]int64{{4, 2}}},
		{name: "partial overlap with delivered bytes, differing", steps: []step{{seg: seg(1, isn, "S", nil)}, {seg: seg(2, isn+1, "", []byte("abcXY"))}, {seg: seg(3, isn+4, "", abc[3:])}},
			want: "abcXYfghij", conflicts: [][2]int64{{3, 2}}},
		{name: "partial overlap with delivered bytes, identical", steps: []step{{seg: seg(1, isn, "S", nil)}, {seg: seg(2, isn+1, "", abc[:5])}, {seg: seg(3, isn+4, "", abc[3:])}},
			want: "abcdefghij"},
		{name: "a later copy inside an earlier one", steps: []step{{seg: seg(1, isn, "S", nil)}, {seg: seg(2, isn+1, "", abc)}, {seg: seg(3, isn+3, "", []byte("cD"))}},
			want: "abcdefghij", conflicts: [][2]int64{{3, 2}}},
		{name: "a later copy over two earlier frames: one conflict each", steps: []step{{seg: seg(1, isn, "S", nil)}, {seg: seg(2, isn+1, "", abc[:4])}, {seg: seg(3, isn+5, "", abc[4:])}, {seg: seg(4, isn+1, "", []byte("XbcdefghiX"))}},
			want: "abcdefghij", conflicts: [][2]int64{{4, 2}, {4, 3}}},
		{name: "partial overlap with queued bytes past a hole", steps: []step{{seg: seg(1, isn, "S", nil)}, {seg: seg(2, isn+6, "", []byte("fghij"))}, {seg: seg(3, isn+4, "", []byte("deFG"))}, {seg: seg(4, isn+1, "", abc[:3])}},
			want: "abcdefghij", conflicts: [][2]int64{{3, 2}}},
		{name: "midstream start", steps: []step{{seg: seg(1, 1000, "", abc[:4])}, {seg: seg(2, 1004, "F", abc[4:])}},
			want: "abcdefghij", fin: true},
		{name: "RST payload is not data", steps: []step{{seg: seg(1, isn, "S", nil)}, {seg: seg(2, isn+1, "", abc[:3])}, {seg: seg(3, isn+4, "R", abc[3:])}},
			want: "abc"},
		{name: "data after FIN ignored", steps: []step{{seg: seg(1, isn, "S", nil)}, {seg: seg(2, isn+1, "F", abc[:3])}, {seg: seg(3, isn+5, "", abc[3:])}},
			want: "abc", fin: true},
		{name: "SYN with data (TFO)", steps: []step{{seg: seg(1, isn, "S", abc[:4])}, {seg: seg(2, isn+5, "", abc[4:])}},
			want: "abcdefghij"},
	}
	for _, tc := range tests {
		for _, stable := range []bool{false, true} { // what is compared does not depend on it
			t.Run(fmt.Sprintf("%s/stable=%v", tc.name, stable), func(t *testing.T) {
				s, k := newTestStream(t, Config{History: 1024, Stable: stable}, nil, nil)
				for _, st := range tc.steps {
					if st.acked > 0 {
						s.Acked(seqnum.Value(isn+uint32(st.acked)), 99, 0)
						continue
					}
					s.Segment(st.seg)
				}
				if tc.flush {
					s.Flush(0, 0)
				}
				got := k.out
				for _, g := range k.gaps {
					for i := g.Off; i < g.Off+g.Len; i++ {
						got[i] = '.'
					}
				}
				if string(got) != tc.want {
					t.Errorf("stream %q, want %q", got, tc.want)
				}
				var reasons []GapReason
				for _, g := range k.gaps {
					reasons = append(reasons, g.Reason)
				}
				if fmt.Sprint(reasons) != fmt.Sprint(tc.gaps) {
					t.Errorf("gaps %v, want %v", reasons, tc.gaps)
				}
				var cf [][2]int64
				for _, c := range k.conflicts {
					cf = append(cf, [2]int64{c.Frame, c.FirstFrame})
				}
				if fmt.Sprint(cf) != fmt.Sprint(tc.conflicts) {
					t.Errorf("conflicts %v, want %v", cf, tc.conflicts)
				}
				if (k.fin == 1) != tc.fin {
					t.Errorf("fin delivered %d times, want %v", k.fin, tc.fin)
				}
			})
		}
	}
}

// TestConflictFields: a conflict names the range where the copies differ
// (first to last differing byte), the overlap's rest, and the IP fields of
// both copies.
func TestConflictFields(t *testing.T) {
	ip := func(sg *tcp.Segment, ttl uint8, id uint32) *tcp.Segment {
		sg.TTL, sg.IPID = ttl, id
		return sg
	}
	tests := []struct {
		name  string
		segs  []*tcp.Segment
		want  []Conflict
		bytes string
	}{
		{name: "forged copy first, the real one overlaps it and goes on",
			segs:  []*tcp.Segment{ip(seg(2, 1, "", []byte("HTTP/1.1 302 Found")), 46, 0xbeef), ip(seg(3, 1, "", []byte("HTTP/1.1 200 OK, and more")), 64, 0x2001)},
			want:  []Conflict{{Off: 9, Len: 9, Differ: 9, Frame: 3, TTL: 64, IPID: 0x2001, FirstFrame: 2, FirstTTL: 46, FirstIPID: 0xbeef}},
			bytes: "HTTP/1.1 302 Foundnd more"},
		{name: "one byte differs in the middle",
			segs:  []*tcp.Segment{ip(seg(2, 1, "", []byte("0123456789")), 64, 1), ip(seg(3, 4, "", []byte("345X7")), 64, 2)},
			want:  []Conflict{{Off: 6, Len: 2, Differ: 1, Frame: 3, TTL: 64, IPID: 2, FirstFrame: 2, FirstTTL: 64, FirstIPID: 1}},
			bytes: "0123456789"},
		{name: "past a hole: the queued copy is the first",
			segs:  []*tcp.Segment{ip(seg(2, 6, "", []byte("56789")), 50, 7), ip(seg(3, 4, "", []byte("34X6Y89")), 64, 8), seg(4, 1, "", []byte("012"))},
			want:  []Conflict{{Off: 5, Len: 5, Differ: 3, Frame: 3, TTL: 64, IPID: 8, FirstFrame: 2, FirstTTL: 50, FirstIPID: 7}},
			bytes: "0123456789"},
	}
	for _, tc := range tests {
		for _, stable := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stable=%v", tc.name, stable), func(t *testing.T) {
				s, k := newTestStream(t, Config{History: 1024, Stable: stable}, nil, nil)
				s.Segment(seg(1, 0, "S", nil))
				for _, sg := range tc.segs {
					s.Segment(sg)
				}
				if fmt.Sprint(k.conflicts) != fmt.Sprint(tc.want) {
					t.Errorf("conflicts\n%+v, want\n%+v", k.conflicts, tc.want)
				}
				if string(k.out) != tc.bytes {
					t.Errorf("stream %q, want %q (the first copy wins)", k.out, tc.bytes)
				}
				if s.Stats.Conflicts != int64(len(tc.want)) {
					t.Errorf("stats count %d conflicts, want %d", s.Stats.Conflicts, len(tc.want))
				}
			})
		}
	}
}

// TestHistoryStableEqualsCopies: the history compares the same bytes
// whether it keeps references (stable input) or copies (the payload buffer
// is overwritten after every segment), over long random streams with
// retransmissions, some of them altered, and a history much shorter than
// the stream (so copies are compacted and old pieces dropped).
func TestHistoryStableEqualsCopies(t *testing.T) {
	total := 0
	for trial := range 30 {
		r := rand.New(rand.NewPCG(uint64(trial), 7))
		data := make([]byte, 20000+r.IntN(20000))
		for i := range data {
			data[i] = byte(r.IntN(256))
		}
		type sent struct {
			off  int
			data []byte
		}
		var segs []sent
		for off := 0; off < len(data); {
			n := 1 + r.IntN(1500)
			if r.IntN(10) == 0 {
				n = 1 + r.IntN(6000) // larger than the history: the copies' ring grows
			}
			n = min(n, len(data)-off)
			segs = append(segs, sent{off, data[off : off+n]})
			if r.IntN(4) == 0 { // a retransmission of something recent, maybe altered
				a := max(0, off-r.IntN(3000))
				b := min(len(data), a+1+r.IntN(2000))
				p := append([]byte(nil), data[a:b]...)
				if r.IntN(2) == 0 {
					p[r.IntN(len(p))] ^= 0x55
				}
				segs = append(segs, sent{a, p})
			}
			off += n
		}
		run := func(stable bool) ([]Conflict, []byte) {
			s, k := newTestStream(t, Config{History: 2048, Stable: stable}, nil, nil)
			s.Segment(seg(1, 0, "S", nil))
			buf := make([]byte, 8192)
			for i, sg := range segs {
				p := sg.data
				if !stable {
					p = buf[:copy(buf, p)]
				}
				s.Segment(seg(int64(i+2), uint32(1+sg.off), "", p))
				if !stable {
					for j := range buf {
						buf[j] = 0xee // the input's buffer is reused
					}
				}
				// The history holds what was delivered, nothing overwritten.
				for _, hp := range s.hp[s.hh:] {
					if !bytes.Equal(hp.b, k.out[hp.m.off:hp.m.off+int64(len(hp.b))]) {
						t.Fatalf("trial %d stable=%v: history piece at %d (frame %d) is not what was delivered", trial, stable, hp.m.off, hp.m.frame)
					}
				}
			}
			return k.conflicts, k.out
		}
		c1, out1 := run(true)
		c2, out2 := run(false)
		if !bytes.Equal(out1, out2) || len(out1) != len(data) {
			t.Fatalf("trial %d: streams differ", trial)
		}
		if fmt.Sprint(c1) != fmt.Sprint(c2) {
			t.Fatalf("trial %d: conflicts differ:\nstable %v\ncopies %v", trial, c1, c2)
		}
		total += len(c1)
	}
	if total < 30 {
		t.Fatalf("only %d conflicts in all trials: the test compares little", total)
	}
	t.Logf("%d conflicts, the same both ways", total)
}

// TestHistoryBounds: the history holds at least History bytes of the last
// pieces and at most HistoryPieces(History) pieces; what is older is not
// compared.
func TestHistoryBounds(t *testing.T) {
	for _, stable := range []bool{false, true} {
		s, k := newTestStream(t, Config{History: 1000, Stable: stable}, nil, nil)
		s.Segment(seg(1, 0, "S", nil))
		s.Segment(seg(2, 1, "", bytes.Repeat([]byte("a"), 400)))
		s.Segment(seg(3, 401, "", bytes.Repeat([]byte("b"), 400)))
		s.Segment(seg(4, 801, "", bytes.Repeat([]byte("c"), 400)))
		s.Segment(seg(5, 1201, "", bytes.Repeat([]byte("d"), 400)))
		// Frames 3-5 hold 1200 bytes ≥ 1000: frame 2 is gone.
		s.Segment(seg(6, 1, "", []byte("X")))
		s.Segment(seg(7, 401, "", []byte("X")))
		if len(k.conflicts) != 1 || k.conflicts[0].FirstFrame != 3 {
			t.Errorf("stable=%v: conflicts %+v, want one with frame 3 only", stable, k.conflicts)
		}
		if n := len(s.hp) - s.hh; n != 3 {
			t.Errorf("stable=%v: %d pieces kept, want 3", stable, n)
		}
		// Tiny segments: the number of pieces is capped.
		for i := range 200 {
			s.Segment(seg(int64(10+i), uint32(1601+i), "", []byte{'e'}))
		}
		if n := len(s.hp) - s.hh; n != HistoryPieces(1000) {
			t.Errorf("stable=%v: %d pieces kept, want %d", stable, n, HistoryPieces(1000))
		}
	}
}

// TestBudget: a hole followed by a flood of out-of-order data, in ascending,
// descending and random order, never buffers more than the budget allows;
// the overrun is reported as budget gaps and every byte is accounted for.
func TestBudget(t *testing.T) {
	for _, order := range []string{"ascending", "descending", "random"} {
		t.Run(order, func(t *testing.T) {
			const n, size = 20000, 100
			data := make([]byte, n*size)
			for i := range data {
				data[i] = byte(i * 7)
			}
			idx := make([]int, n-1)
			for i := range idx {
				idx[i] = i + 1 // segment 0 is the hole
			}
			switch order {
			case "descending":
				for i, j := 0, len(idx)-1; i < j; i, j = i+1, j-1 {
					idx[i], idx[j] = idx[j], idx[i]
				}
			case "random":
				rand.New(rand.NewPCG(1, 2)).Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
			}
			b := &Budget{Limit: 64 << 10}
			p := &Pool{Limit: 1 << 20}
			s, k := newTestStream(t, Config{MaxChunks: 256}, b, p)
			s.Segment(seg(1, 0, "S", nil))
			peak := int64(0)
			for f, i := range idx {
				s.Segment(seg(int64(f+2), uint32(1+i*size), "", data[i*size:(i+1)*size]))
				peak = max(peak, b.Used)
				if len(s.q) > 256 {
					t.Fatalf("%d chunks buffered", len(s.q))
				}
			}
			s.Flush(0, 0)
			if peak > b.Limit+chunkCost+2*size+markCost {
				t.Errorf("peak buffered %d over the budget %d", peak, b.Limit)
			}
			if s.Stats.BudgetFlushes == 0 {
				t.Errorf("no budget flush reported")
			}
			budgetGaps := 0
			var gapBytes int64
			for _, g := range k.gaps {
				gapBytes += g.Len
				if g.Reason == GapBudget {
					budgetGaps++
				}
			}
			if budgetGaps == 0 {
				t.Errorf("no budget gap")
			}
			if int64(len(k.out)) != int64(len(data)) || s.Stats.Delivered+gapBytes != int64(len(data)) {
				t.Errorf("out %d delivered %d gaps %d, want %d in all", len(k.out), s.Stats.Delivered, gapBytes, len(data))
			}
			// Every delivered byte is the right one.
			for _, g := range k.gaps {
				copy(data[g.Off:g.Off+g.Len], make([]byte, g.Len))
			}
			if !bytes.Equal(k.out, data) {
				t.Errorf("delivered bytes differ from the stream")
			}
			if b.Used != 0 || p.Used() != 0 {
				t.Errorf("budget %d pool %d still charged after flush", b.Used, p.Used())
			}
		})
	}
}

// TestPoolFlushesOldest: the global pool flushes the stream that has buffered
// longest, and its handler hears about it.
func TestPoolFlushesOldest(t *testing.T) {
	p := &Pool{Limit: 4 << 10}
	var streams []*Stream
	var sinks []*sink
	for i := range 8 {
		s, k := newTestStream(t, Config{}, &Budget{}, p)
		s.Segment(seg(1, 0, "S", nil))
		s.Segment(seg(int64(2+i), 500, "", bytes.Repeat([]byte{byte(i)}, 900)))
		streams, sinks = append(streams, s), append(sinks, k)
	}
	if p.Used() > p.Limit {
		t.Fatalf("pool holds %d over its limit %d", p.Used(), p.Limit)
	}
	if len(sinks[0].gaps) != 1 || sinks[0].gaps[0].Reason != GapBudget {
		t.Errorf("oldest stream gaps %v, want one budget gap", sinks[0].gaps)
	}
	if len(sinks[7].gaps) != 0 {
		t.Errorf("newest stream was flushed: %v", sinks[7].gaps)
	}
	if p.Flushes == 0 {
		t.Errorf("no flush counted")
	}
	for _, s := range streams {
		s.Release()
	}
	if p.Used() != 0 {
		t.Errorf("pool holds %d after release", p.Used())
	}
}

func BenchmarkInOrder(b *testing.B) { benchInOrder(b, Config{}) }

// BenchmarkInOrderHistory keeps the history analyze keeps by default, by
// reference (a mapped file) or by copy (stdin, gzip).
func BenchmarkInOrderHistory(b *testing.B) {
	for _, stable := range []bool{true, false} {
		b.Run(fmt.Sprintf("stable=%v", stable), func(b *testing.B) { benchInOrder(b, Config{History: 64 << 10, Stable: stable}) })
	}
}

func benchInOrder(b *testing.B, cfg Config) {
	payload := make([]byte, 1448)
	s := NewStream(0, cfg, nil, nil, nil)
	s.Segment(seg(1, 0, "S", nil))
	sg := seg(2, 1, "", payload)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		s.Segment(sg)
		sg.Seq = sg.Seq.Add(seqnum.Size(len(payload)))
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "segments/s")
}

func BenchmarkReordered(b *testing.B) {
	payload := make([]byte, 1448)
	s := NewStream(0, Config{}, nil, nil, nil)
	s.Segment(seg(1, 0, "S", nil))
	seq := uint32(1)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		// pairs swapped: every other segment waits for the one before it
		s.Segment(seg(2, seq+1448, "", payload))
		s.Segment(seg(3, seq, "", payload))
		seq += 2 * 1448
	}
	b.ReportMetric(2*float64(b.N)/b.Elapsed().Seconds(), "segments/s")
}

// FuzzStream feeds arbitrary segment sequences (seq, flags, length, snaplen
// cut, ACKs) through a stream with small budgets. Invariants: no panic;
// delivery is contiguous (the sink checks offsets); bytes delivered never
// exceed the bytes sent; budgets return to zero once flushed.
func FuzzStream(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 1, 10, 0, 0, 0, 20, 0, 30, 0})
	f.Add([]byte{1, 0, 0, 0, 40, 200, 0, 1, 0, 3, 0, 255, 255, 2, 0, 0, 5, 5})
	f.Fuzz(func(t *testing.T, in []byte) {
		b := &Budget{Limit: 4096}
		p := &Pool{Limit: 8192}
		s, k := newTestStream(t, Config{History: 512, MaxChunks: 16}, b, p)
		var sent int64
		payload := make([]byte, 1024)
		for len(in) >= 5 {
			op, seq, n := in[0], uint32(in[1])<<8|uint32(in[2]), int(in[3])<<2|int(in[4]&3)
			in = in[5:]
			for i := range payload {
				payload[i] = byte(seq) + byte(i) + op>>4 // mostly consistent, sometimes not
			}
			switch op & 7 {
			case 7:
				s.Acked(seqnum.Value(seq), 1, 0)
				continue
			case 6:
				s.Flush(1, 0)
				continue
			}
			flags := ""
			if op&8 != 0 {
				flags += "F"
			}
			if op&7 == 1 {
				flags += "S"
			}
			if op&7 == 2 {
				flags += "R"
			}
			sg := seg(2, seq, flags, payload[:min(n, len(payload))])
			if op&7 == 3 && n > 1 {
				sg.Payload = sg.Payload[:n/2] // snaplen cut
			}
			if flags != "R" {
				sent += int64(sg.Len)
			}
			s.Segment(sg)
		}
		s.Flush(0, 0)
		if s.Stats.Delivered > sent {
			t.Fatalf("delivered %d of %d bytes sent", s.Stats.Delivered, sent)
		}
		if k.length != s.Stats.Delivered+s.Stats.GapBytes {
			t.Fatalf("stream length %d != delivered %d + gaps %d", k.length, s.Stats.Delivered, s.Stats.GapBytes)
		}
		if b.Used != 0 || p.Used() != 0 || s.Buffered() != 0 {
			t.Fatalf("still charged after flush: budget %d pool %d stream %d", b.Used, p.Used(), s.Buffered())
		}
	})
}
