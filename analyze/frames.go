package analyze

import (
	"github.com/tcptrace/tcptrace/report"
	"github.com/tcptrace/tcptrace/tcp"
)

// Config.Frames: every connection records its frames (report.FrameList),
// for the commands that write the selected connections' frames to a file
// or name them in a Wireshark display filter. A segment is recorded under
// the frame the decoder gave it: an IP datagram reassembled from fragments
// is the frame that completed it.
//
// The table also tells whether its connection IDs can stand for Wireshark's
// tcp.stream (ID - 1). Both number connections in order of their first
// segment, but they may split a tuple's segments differently:
//
//   - a tuple that carried more than one connection here (port reuse, a
//     connection finished idle or early and taken up again, the same tuple
//     on two VLANs): Wireshark has its own rules, and ignores VLANs;
//   - a SYN with a new sequence number inside a connection that goes on
//     here (an answered connection keeps it, as an anomaly): Wireshark
//     (4.0) starts a new stream on any bare SYN whose sequence number is
//     not the direction's first.
//
// Each is a doubt (Engine.StreamDoubts). Tuples seen are kept in a Bloom
// filter: bounded memory, and a false positive only errs on the safe side.

// tupleFilterBits is the size of the Bloom filter (2 MiB per table, with
// Config.Frames only). With two probes, a capture of 10,000 tuples has a
// false repeat about once in 70 captures, one of 100,000 about 14; beyond
// a few million tuples nearly every tuple looks repeated.
const tupleFilterBits = 1 << 24

// tupleFilter is a Bloom filter of tuples (without VLANs) and the count of
// doubts about the numbering.
type tupleFilter struct {
	bits   []uint64
	doubts int
}

// note records tuple k and reports whether it (probably) was seen before.
func (f *tupleFilter) note(k tupleKey) bool {
	if f.bits == nil {
		f.bits = make([]uint64, tupleFilterBits/64)
	}
	h := k.hash()
	seen := true
	for _, b := range [2]uint64{h & (tupleFilterBits - 1), (h >> 32) & (tupleFilterBits - 1)} {
		w, m := b/64, uint64(1)<<(b%64)
		if f.bits[w]&m == 0 {
			seen = false
			f.bits[w] |= m
		}
	}
	return seen
}

// noteFrames starts the frame list of a new connection c on key k.
func (t *Table) noteFrames(c *Conn, k connKey) {
	c.frames = &report.FrameList{}
	if t.tuples.note(k.tuple) {
		t.tuples.doubts++
	}
}

// noteFrame records segment s, of direction d, in c's frames (before the
// counters count it).
func (t *Table) noteFrame(c *Conn, d tcp.Dir, s *tcp.Segment) {
	c.frames.Add(s.File, s.Frame)
	if s.Flags&(tcp.SYN|tcp.ACK) == tcp.SYN && c.Packets[d] > 0 && (!c.isnSet[d] || c.isn[d] != s.Seq) {
		t.tuples.doubts++
	}
}

// StreamDoubts is, after a run with Config.Frames, the number of reasons
// to doubt that connection ID - 1 is Wireshark's tcp.stream (frames.go).
// 0 means the numbering is the same, as far as the segments tcptrace
// decoded tell (frames it skipped may be TCP to Wireshark: the caller
// judges those from the summary).
func (e *Engine) StreamDoubts() int {
	n := e.tbl.table.tuples.doubts
	if e.sh != nil {
		for _, sub := range e.sh.subs {
			n += sub.table.tuples.doubts
		}
	}
	return n
}
