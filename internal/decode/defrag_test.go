package decode

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/tcp"
)

// frag4 is the IPv4 fragment of datagram payload b holding b[off:off+n].
func frag4(b []byte, off, n int, more bool, id uint16) []byte {
	return ipv4Spec{id: id, mf: more, fragOff: off}.packet(b[off : off+n])
}

// frag6 is the IPv6 fragment of datagram payload b (after the fragment
// header) holding b[off:off+n]; next is the fragmentable part's first header.
func frag6(b []byte, off, n int, more bool, id uint32, next uint8) []byte {
	fh := []byte{next, 0, 0, 0, 0, 0, 0, 0}
	om := uint16(off/8) << 3
	if more {
		om |= 1
	}
	binary.BigEndian.PutUint16(fh[2:], om)
	binary.BigEndian.PutUint32(fh[4:], id)
	return ipv6Packet(44, cat(fh, b[off:off+n]), -1)
}

// tdFragments splits b into IPv4 fragments of size bytes (a multiple of 8).
func tdFragments(b []byte, size int) [][]byte {
	var out [][]byte
	for off := 0; off < len(b); off += size {
		n := min(size, len(b)-off)
		out = append(out, frag4(b, off, n, off+n < len(b), 77))
	}
	return out
}

type fragStep struct {
	pkt  []byte
	link uint32
	ts   int64
	snap int // 0: whole
	want Skip
}

func runFrags(t *testing.T, d *Decoder, steps []fragStep) *tcp.Segment {
	t.Helper()
	var s tcp.Segment
	for i, st := range steps {
		link := st.link
		if link == 0 {
			link = LinkRaw
		}
		f := &capture.Frame{N: int64(i + 1), LinkType: link, Data: st.pkt, CapLen: len(st.pkt), OrigLen: len(st.pkt), TS: st.ts}
		if st.snap > 0 {
			f.Data, f.CapLen = st.pkt[:st.snap], st.snap
		}
		if got := d.Decode(f, &s); got != st.want {
			t.Fatalf("fragment %d: Decode = %v, want %v (stats %+v)", i+1, got, st.want, d.Defrag().Stats)
		}
	}
	return &s
}

func checkReassembled(t *testing.T, s *tcp.Segment, v6 bool, payload int, notes tcp.Note) {
	t.Helper()
	if s.IPv6 != v6 || s.Src.Port() != 40000 || s.Dst.Port() != 80 || s.Seq != 1000 || s.Ack != 2000 || s.Flags != tcp.ACK|tcp.PSH {
		t.Errorf("segment %v > %v seq %d ack %d flags %v v6 %v", s.Src, s.Dst, s.Seq, s.Ack, s.Flags, s.IPv6)
	}
	if !v6 && (s.Src.Addr() != cli4 || s.Dst.Addr() != srv4) || v6 && (s.Src.Addr() != cli6 || s.Dst.Addr() != srv6) {
		t.Errorf("addresses %v > %v", s.Src, s.Dst)
	}
	if s.Len != payload || !bytes.Equal(s.Payload, pattern(len(s.Payload))) {
		t.Errorf("Len %d payload %q", s.Len, s.Payload)
	}
	if s.Notes != notes|tcp.NoteReassembled {
		t.Errorf("Notes %b, want %b", s.Notes, notes|tcp.NoteReassembled)
	}
	if !s.Opts.HasTS || s.Opts.TSVal != 100 {
		t.Errorf("options %+v", s.Opts)
	}
}

func TestDefragIPv4(t *testing.T) {
	seg := simpleTCP(100).bytes() // 132 bytes
	in := func(i int, want Skip) fragStep {
		return fragStep{pkt: frag4(seg, i*32, min(32, len(seg)-i*32), i < 4, 77), want: want}
	}
	for _, c := range []struct {
		name  string
		order []int
	}{
		{"in order", []int{0, 1, 2, 3, 4}},
		{"reversed", []int{4, 3, 2, 1, 0}},
		{"shuffled", []int{2, 0, 4, 1, 3}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := NewDecoder()
			var steps []fragStep
			for k, i := range c.order {
				want := SkipFragment
				if k == len(c.order)-1 {
					want = OK
				}
				steps = append(steps, in(i, want))
			}
			s := runFrags(t, d, steps)
			checkReassembled(t, s, false, 100, 0)
			if s.IPID != 77 {
				t.Errorf("IPID %d", s.IPID)
			}
			st := d.Defrag().Stats
			if st.Fragments != 5 || st.Completed != 1 || st.Overlaps != 0 || d.Defrag().Pending() != 0 {
				t.Errorf("stats %+v pending %d", st, d.Defrag().Pending())
			}
		})
	}
	t.Run("over ethernet with VLAN and padding", func(t *testing.T) {
		d := NewDecoder()
		a := eth(etherIPv4, frag4(seg, 0, 128, true, 5), [2]uint16{etherVLAN, 7})
		b := append(eth(etherIPv4, frag4(seg, 128, 4, false, 5), [2]uint16{etherVLAN, 7}), make([]byte, 20)...)
		s := runFrags(t, d, []fragStep{{pkt: a, link: LinkEthernet, want: SkipFragment}, {pkt: b, link: LinkEthernet, want: OK}})
		checkReassembled(t, s, false, 100, 0)
		if s.VLAN.N != 1 || s.VLAN.IDs[0] != 7 {
			t.Errorf("VLAN %+v", s.VLAN)
		}
	})
	t.Run("same id, other direction is another datagram", func(t *testing.T) {
		d := NewDecoder()
		other := ipv4Spec{src: srv4, dst: cli4, id: 77, mf: true}.packet(seg[:64])
		runFrags(t, d, []fragStep{in(0, SkipFragment), {pkt: other, want: SkipFragment}, in(1, SkipFragment), in(2, SkipFragment), in(3, SkipFragment), in(4, OK)})
		if d.Defrag().Pending() != 1 {
			t.Errorf("pending %d", d.Defrag().Pending())
		}
	})
}

func TestDefragOverlap(t *testing.T) {
	seg := simpleTCP(100).bytes() // 132 bytes
	t.Run("identical overlap", func(t *testing.T) {
		d := NewDecoder()
		s := runFrags(t, d, []fragStep{
			{pkt: frag4(seg, 0, 48, true, 1), want: SkipFragment},
			{pkt: frag4(seg, 40, 48, true, 1), want: SkipFragment},
			{pkt: frag4(seg, 88, 44, false, 1), want: OK},
		})
		checkReassembled(t, s, false, 100, 0)
		if st := d.Defrag().Stats; st.Overlaps != 1 || st.Conflicts != 0 {
			t.Errorf("stats %+v", st)
		}
	})
	// The second copy of bytes 40..48 differs: the first received wins,
	// whichever place in the datagram it holds.
	altered := append([]byte(nil), seg...)
	for i := 40; i < 48; i++ {
		altered[i] = 'X'
	}
	t.Run("conflicting overlap, first copy wins", func(t *testing.T) {
		d := NewDecoder()
		s := runFrags(t, d, []fragStep{
			{pkt: frag4(seg, 0, 48, true, 1), want: SkipFragment},
			{pkt: frag4(altered, 40, 48, true, 1), want: SkipFragment},
			{pkt: frag4(seg, 88, 44, false, 1), want: OK},
		})
		checkReassembled(t, s, false, 100, 0)
		if st := d.Defrag().Stats; st.Overlaps != 1 || st.Conflicts != 1 {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("conflicting overlap received first wins", func(t *testing.T) {
		d := NewDecoder()
		s := runFrags(t, d, []fragStep{
			{pkt: frag4(altered, 40, 48, true, 1), want: SkipFragment},
			{pkt: frag4(seg, 0, 48, true, 1), want: SkipFragment},
			{pkt: frag4(seg, 88, 44, false, 1), want: OK},
		})
		if !bytes.Equal(s.Payload[40-32:48-32], []byte("XXXXXXXX")) {
			t.Errorf("payload %q: the first copy of 40..48 should have been kept", s.Payload)
		}
		if st := d.Defrag().Stats; st.Overlaps != 1 || st.Conflicts != 1 {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("duplicate fragment", func(t *testing.T) {
		d := NewDecoder()
		s := runFrags(t, d, []fragStep{
			{pkt: frag4(seg, 0, 64, true, 1), want: SkipFragment},
			{pkt: frag4(seg, 0, 64, true, 1), want: SkipFragment},
			{pkt: frag4(seg, 64, 68, false, 1), want: OK},
		})
		checkReassembled(t, s, false, 100, 0)
		if st := d.Defrag().Stats; st.Overlaps != 1 || st.Conflicts != 0 || st.Completed != 1 {
			t.Errorf("stats %+v", st)
		}
	})
}

func TestDefragTruncatedFragment(t *testing.T) {
	seg := simpleTCP(100).bytes()
	d := NewDecoder()
	mid := frag4(seg, 64, 32, true, 3)
	s := runFrags(t, d, []fragStep{
		{pkt: frag4(seg, 0, 64, true, 3), want: SkipFragment},
		{pkt: mid, snap: 20 + 8, want: SkipFragment}, // only 8 of its 32 bytes captured
		{pkt: frag4(seg, 96, 36, false, 3), want: OK},
	})
	// Captured: 0..72 contiguous, so 72-32 = 40 payload bytes.
	if s.Len != 100 || len(s.Payload) != 40 || s.Notes != tcp.NoteReassembled|tcp.NoteTruncated {
		t.Errorf("Len %d captured %d notes %b", s.Len, len(s.Payload), s.Notes)
	}
	// The TCP header itself not captured.
	d = NewDecoder()
	runFrags(t, d, []fragStep{
		{pkt: frag4(seg, 0, 64, true, 4), snap: 20 + 16, want: SkipFragment},
		{pkt: frag4(seg, 64, 68, false, 4), want: SkipTruncated},
	})
	// A reassembled datagram too short for a TCP header.
	d = NewDecoder()
	runFrags(t, d, []fragStep{
		{pkt: frag4(seg, 0, 8, true, 5), want: SkipFragment},
		{pkt: frag4(seg, 8, 4, false, 5), want: SkipMalformed},
	})
}

func TestDefragIPv6(t *testing.T) {
	seg := simpleTCP(100).bytes()
	for _, c := range []struct {
		name  string
		order []int
	}{{"in order", []int{0, 1, 2}}, {"out of order", []int{2, 0, 1}}} {
		t.Run(c.name, func(t *testing.T) {
			d := NewDecoder()
			parts := [][]byte{frag6(seg, 0, 48, true, 0xABCDEF, 6), frag6(seg, 48, 48, true, 0xABCDEF, 6), frag6(seg, 96, 36, false, 0xABCDEF, 6)}
			var steps []fragStep
			for k, i := range c.order {
				want := SkipFragment
				if k == len(c.order)-1 {
					want = OK
				}
				steps = append(steps, fragStep{pkt: eth(etherIPv6, parts[i]), link: LinkEthernet, want: want})
			}
			s := runFrags(t, d, steps)
			checkReassembled(t, s, true, 100, 0)
			if s.IPID != 0xABCDEF {
				t.Errorf("IPID %#x", s.IPID)
			}
		})
	}
	t.Run("destination options in the fragmentable part", func(t *testing.T) {
		d := NewDecoder()
		b := cat(ext6(6, []byte{0x1E, 2, 1, 2}), seg)
		s := runFrags(t, d, []fragStep{
			{pkt: frag6(b, 0, 64, true, 9, 60), want: SkipFragment},
			{pkt: frag6(b, 64, len(b)-64, false, 9, 60), want: OK},
		})
		checkReassembled(t, s, true, 100, 0)
	})
	t.Run("atomic fragment", func(t *testing.T) {
		d := NewDecoder()
		s := runFrags(t, d, []fragStep{{pkt: frag6(seg, 0, len(seg), false, 9, 6), want: OK}})
		if s.Len != 100 || !s.IPv6 || s.IPID != 9 {
			t.Errorf("Len %d IPID %d", s.Len, s.IPID)
		}
	})
}

func TestDefragLimits(t *testing.T) {
	seg := simpleTCP(100).bytes()
	first := func(id uint16, ts int64) fragStep {
		return fragStep{pkt: frag4(seg, 0, 64, true, id), ts: ts, want: SkipFragment}
	}
	rest := func(id uint16, ts int64, want Skip) fragStep {
		return fragStep{pkt: frag4(seg, 64, 68, false, id), ts: ts, want: want}
	}
	t.Run("MaxDatagrams evicts the oldest", func(t *testing.T) {
		d := NewDecoder()
		d.defrag = NewDefragmenter(DefragLimits{MaxDatagrams: 2})
		runFrags(t, d, []fragStep{first(1, 0), first(2, 1), first(3, 2)})
		if st := d.Defrag().Stats; st.Evicted != 1 || d.Defrag().Pending() != 2 {
			t.Fatalf("stats %+v pending %d", st, d.Defrag().Pending())
		}
		runFrags(t, d, []fragStep{rest(3, 3, OK), rest(2, 4, OK)})
		// Datagram 1 lost its head: its tail waits alone.
		runFrags(t, d, []fragStep{rest(1, 5, SkipFragment)})
		if st := d.Defrag().Stats; st.Completed != 2 || st.Evicted != 1 || d.Defrag().Pending() != 1 {
			t.Errorf("stats %+v pending %d", st, d.Defrag().Pending())
		}
	})
	t.Run("MaxBytes evicts the oldest", func(t *testing.T) {
		d := NewDecoder()
		d.defrag = NewDefragmenter(DefragLimits{MaxBytes: 100})
		runFrags(t, d, []fragStep{first(1, 0), first(2, 1)})
		if st := d.Defrag().Stats; st.Evicted != 1 || d.Defrag().Pending() != 1 {
			t.Fatalf("stats %+v pending %d", st, d.Defrag().Pending())
		}
		runFrags(t, d, []fragStep{rest(2, 2, OK)})
	})
	t.Run("MaxBytes holds when a held datagram grows", func(t *testing.T) {
		d := NewDecoder()
		d.defrag = NewDefragmenter(DefragLimits{MaxBytes: 3620})
		// Two datagrams start small; a late fragment far into the second
		// must push the first out rather than exceed the limit.
		runFrags(t, d, []fragStep{
			{pkt: frag4(seg, 0, 64, true, 1), want: SkipFragment},
			{pkt: frag4(seg, 0, 64, true, 2), want: SkipFragment},
			{pkt: ipv4Spec{id: 2, mf: true, fragOff: 2800}.packet(make([]byte, 800)), want: SkipFragment},
		})
		st, df := d.Defrag().Stats, d.Defrag()
		if st.Evicted != 1 || df.Pending() != 1 || df.bytes != 3600 {
			t.Errorf("stats %+v pending %d bytes %d", st, df.Pending(), df.bytes)
		}
	})
	t.Run("completed datagrams do not pile up behind an old one", func(t *testing.T) {
		d := NewDecoder()
		runFrags(t, d, []fragStep{first(60000, 0)}) // never completed
		for i := range 20000 {
			runFrags(t, d, []fragStep{first(uint16(i), 1), rest(uint16(i), 1, OK)})
		}
		if n := len(d.defrag.order); n > 2*d.defrag.Pending()+1024 {
			t.Errorf("order holds %d entries for %d pending datagrams", n, d.defrag.Pending())
		}
	})
	t.Run("timeout on capture time", func(t *testing.T) {
		d := NewDecoder()
		d.defrag = NewDefragmenter(DefragLimits{Timeout: 1e9})
		runFrags(t, d, []fragStep{first(1, 0), first(2, 500e6), rest(2, 900e6, OK)})
		if st := d.Defrag().Stats; st.TimedOut != 0 || d.Defrag().Pending() != 1 {
			t.Fatalf("stats %+v pending %d", st, d.Defrag().Pending())
		}
		// 2 s later datagram 1 has expired: its tail does not complete it.
		runFrags(t, d, []fragStep{rest(1, 2e9+1, SkipFragment)})
		if st := d.Defrag().Stats; st.TimedOut != 1 || d.Defrag().Pending() != 1 {
			t.Errorf("stats %+v pending %d", st, d.Defrag().Pending())
		}
	})
	t.Run("default limits", func(t *testing.T) {
		df := NewDefragmenter(DefragLimits{})
		if df.lim.MaxDatagrams != 4096 || df.lim.MaxBytes != 64<<20 || df.lim.Timeout != 60e9 {
			t.Errorf("limits %+v", df.lim)
		}
	})
	t.Run("invalid fragments", func(t *testing.T) {
		d := NewDecoder()
		beyond := ipv4Spec{id: 8, fragOff: 65528}.packet(make([]byte, 16))
		odd := ipv4Spec{id: 8, mf: true}.packet(make([]byte, 13))
		runFrags(t, d, []fragStep{{pkt: beyond, want: SkipFragment}, {pkt: odd, want: SkipFragment}})
		if st := d.Defrag().Stats; st.Invalid != 2 || d.Defrag().Pending() != 0 {
			t.Errorf("stats %+v pending %d", st, d.Defrag().Pending())
		}
	})
	t.Run("many datagrams stay bounded", func(t *testing.T) {
		d := NewDecoder()
		d.defrag = NewDefragmenter(DefragLimits{MaxDatagrams: 16})
		for i := range 5000 {
			runFrags(t, d, []fragStep{first(uint16(i), int64(i))})
		}
		if d.Defrag().Pending() != 16 || d.Defrag().Stats.Evicted != 5000-16 {
			t.Errorf("pending %d stats %+v", d.Defrag().Pending(), d.Defrag().Stats)
		}
		if d.defrag.bytes != 16*64 {
			t.Errorf("bytes held %d", d.defrag.bytes)
		}
	})
}
