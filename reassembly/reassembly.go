// Package reassembly rebuilds the byte stream each side of a TCP connection
// delivered to its peer's application: one Stream per direction, segments
// delivered in sequence order, out-of-order data held until the hole before
// it fills, duplicates and overlaps trimmed (the first copy wins, as in
// Linux; overlapping bytes that differ are reported as conflicts), and holes
// that never fill reported as gaps with their offset and length.
//
// It is the reassembler behind tcptrace's stream column, follow and export,
// and it is meant to be embedded in other programs: it needs only the
// standard library and the public packages tcp, seqnum and report. Make one
// Stream per direction with NewStream and a Handler that receives the bytes in
// order, the gaps, the conflicts and the FIN; pass it each tcp.Segment of its
// direction (Stream.Segment) and, optionally, the peer's acknowledgements
// (Stream.Acked); call Stream.Flush at the end of the input (see the Example).
//
// Offsets are 64-bit positions in the stream: offset 0 is the first byte
// after the SYN (or, for a stream whose SYN was not captured, the first
// sequence number seen). They never wrap, so everything past the conversion
// from sequence numbers (which goes through seqnum) is plain int64 arithmetic.
//
// Memory is bounded: buffered out-of-order data is charged to a per-connection
// Budget and to a global Pool; when either is exceeded the oldest buffered
// data is flushed as a gap with reason GapBudget, and the flush is counted.
//
// A Stream is owned by one goroutine; a Pool by the goroutine that owns all
// streams charged to it.
package reassembly

import (
	"bytes"
	"container/list"
	"sort"

	"github.com/tcptrace/tcptrace/report"
	"github.com/tcptrace/tcptrace/seqnum"
	"github.com/tcptrace/tcptrace/tcp"
)

// GapReason says why bytes were skipped.
type GapReason uint8

const (
	// GapLoss: bytes never captured, flushed at the end of input (or when the
	// connection was evicted).
	GapLoss GapReason = iota
	// GapAcked: the receiver acknowledged bytes the capture never showed —
	// capture loss for certain.
	GapAcked
	// GapSnaplen: the segment crossed the capture point but the snaplen cut
	// its payload; sequence space is known, content is not.
	GapSnaplen
	// GapBudget: buffered data was flushed to stay within a memory budget;
	// the hole before it was given up.
	GapBudget
)

var gapNames = [...]string{"loss", "acked_unseen", "snaplen", "budget"}

func (r GapReason) String() string {
	if int(r) < len(gapNames) {
		return gapNames[r]
	}
	return "unknown"
}

// Gap is a range of the stream whose bytes are unknown.
type Gap struct {
	Off, Len int64
	Reason   GapReason
	Frame    int64 // the frame at which the gap was decided (0: end of input)
	File     int
}

// Conflict is an overlap whose bytes differ from the copy that arrived first:
// one per later copy and earlier frame (a segment overlapping bytes of two
// earlier frames that both differ gives two).
type Conflict struct {
	Off, Len   int64 // the first differing byte and the overlap's remaining length from there
	Differ     int64 // bytes from Off to the last differing byte (1..Len)
	Frame      int64 // the later copy
	File       int
	TTL        uint8  // its IP TTL / hop limit
	IPID       uint16 // its IPv4 identification (low 16 bits)
	FirstFrame int64  // the copy that won: the receiver kept its bytes
	FirstFile  int
	FirstTTL   uint8
	FirstIPID  uint16
}

// Handler receives what a stream delivers, in stream order. b is valid only
// during the call.
type Handler interface {
	Data(dir tcp.Dir, off int64, b []byte, frame int64, file int)
	Gap(dir tcp.Dir, g Gap)
	Conflict(dir tcp.Dir, c Conflict)
	FIN(dir tcp.Dir, off int64, frame int64, file int)
}

// Stats are a stream's byte counts; the report model's type, so that the
// counts reach the report without a copy field by field (as analyze/stats
// does with report.DirStats).
type Stats = report.StreamStats

// Config sets the limits of a stream.
type Config struct {
	// History is how many delivered bytes a stream keeps to compare later
	// retransmissions with (conflict detection). 0 keeps none: only buffered
	// out-of-order data is compared. The history is the last pieces
	// delivered (one per frame) that hold at least History bytes, and at
	// most HistoryPieces of them: what is compared depends on the bytes and
	// segments only, never on Stable.
	History int
	// Stable: segments' payload bytes stay valid for the stream's lifetime
	// (a mapped file), so the history keeps references to them instead of
	// copies.
	Stable bool
	// MaxChunks caps the number of separate buffered ranges per stream; more
	// ranges are flushed like a budget overrun. 0 means 1024.
	MaxChunks int
}

// MaxChunkBytes is the most bytes contiguous segments are merged into one
// buffered range.
const MaxChunkBytes = 32 << 10

// chunkCost and markCost are what a buffered range and a frame mark are
// charged beyond their bytes, so that a flood of one-byte segments is bounded
// as surely as a flood of large ones.
const (
	chunkCost = 128
	markCost  = 24
)

// mark names the frame that carried the bytes from off on, with the IP
// fields that tell its sender (conflicts report them).
type mark struct {
	off   int64
	frame int64
	file  int32
	ipid  uint16
	ttl   uint8
}

// hpiece is a delivered range kept in the history: its bytes (a reference
// to the payload when the input is stable, else a copy in Stream.store) and
// the mark of the frame that carried them.
type hpiece struct {
	b []byte
	m mark
}

// HistoryPieces returns how many delivered pieces a history of n bytes
// keeps at most: a flood of tiny segments cannot make it hold one record
// per byte.
func HistoryPieces(n int) int { return max(64, n/512) }

// chunk is a buffered range [off, off+n): data holds its captured prefix; the
// rest (a snaplen cut) is known only as sequence space.
type chunk struct {
	off, n int64
	data   []byte
	marks  []mark // at least one; marks[0].off == off
}

func (c *chunk) end() int64 { return c.off + c.n }

// cost is what the chunk is charged against the budgets.
func (c *chunk) cost() int64 { return int64(cap(c.data)) + chunkCost + int64(len(c.marks))*markCost }

// Budget bounds the bytes buffered by the streams of one connection.
type Budget struct {
	Limit int64 // 0: unlimited
	Used  int64
}

// Stream is one direction of a connection.
type Stream struct {
	Dir   tcp.Dir
	Stats Stats

	cfg    Config
	h      Handler
	budget *Budget
	pool   *Pool

	started bool
	base    seqnum.Value // the sequence number of offset 0
	next    int64        // the offset of the next byte to deliver
	maxEnd  int64        // the highest offset seen (end of any segment)
	acked   int64        // the highest offset the peer acknowledged
	finSeen bool
	finOff  int64 // the FIN's offset (the stream's length)
	finMark mark
	finDone bool

	q        []*chunk // buffered ranges, sorted, disjoint
	buffered int64    // their cost

	poolElem *list.Element // in Pool.streams while it holds buffered data

	hp     []hpiece // the history: hp[hh:] are delivered pieces, contiguous, ascending
	hh     int
	hbytes int64  // bytes of hp[hh:]
	store  []byte // copies of the history's bytes when the input is not stable (a ring)
	ringW  int    // where the newest copy in store ends

	maxPieces int // HistoryPieces(cfg.History)

	pend   Conflict // a conflict being gathered (pendOK): merged while the same earlier frame differs
	pendOK bool
}

// NewStream returns the stream of direction dir. budget (shared by the two
// streams of a connection) and pool (shared by all) may be nil.
func NewStream(dir tcp.Dir, cfg Config, h Handler, budget *Budget, pool *Pool) *Stream {
	s := &Stream{}
	s.Init(dir, cfg, h, budget, pool)
	return s
}

// Init makes s a new stream, in place (see NewStream). A stream being
// reused must have been released first.
func (s *Stream) Init(dir tcp.Dir, cfg Config, h Handler, budget *Budget, pool *Pool) {
	if cfg.MaxChunks <= 0 {
		cfg.MaxChunks = 1024
	}
	*s = Stream{Dir: dir, cfg: cfg, h: h, budget: budget, pool: pool, maxPieces: HistoryPieces(cfg.History), hp: keptPieces(s.hp)}
}

// keptPiecesMax bounds the history's array that a stream keeps when it is
// flushed, released or initialized again (a recycled stream starts with
// it): a short connection's pieces fit, a long one's array is let go.
const keptPiecesMax = 64

// firstPieces is the room the history's array starts with.
const firstPieces = 8

// keptPieces returns hp emptied, its references cleared, to be used again;
// nil when its array is larger than keptPiecesMax.
func keptPieces(hp []hpiece) []hpiece {
	if cap(hp) > keptPiecesMax {
		return nil
	}
	hp = hp[:cap(hp)]
	clear(hp)
	return hp[:0]
}

// Started reports whether the stream knows its sequence base.
func (s *Stream) Started() bool { return s.started }

// Next returns the offset of the next byte the stream waits for.
func (s *Stream) Next() int64 { return s.next }

// Buffered returns the bytes (with bookkeeping) held out of order.
func (s *Stream) Buffered() int64 { return s.buffered }

// Offset converts a sequence number to a stream offset (the one nearest to
// the next expected byte). It is meaningful only once the stream started.
func (s *Stream) Offset(v seqnum.Value) int64 {
	return s.next + seqnum.Diff(s.base.Add(seqnum.Size(uint32(s.next))), v)
}

// Seq converts a stream offset back to its sequence number (meaningful only
// once the stream started).
func (s *Stream) Seq(off int64) seqnum.Value { return s.base.Add(seqnum.Size(uint32(off))) }

// Segment takes one segment of this direction.
func (s *Stream) Segment(seg *tcp.Segment) {
	if seg.Flags&tcp.RST != 0 {
		// A RST's payload is diagnostic text at most (RFC 1122 §4.2.2.12),
		// never delivered to the application. Wireshark's Follow shows it.
		s.Stats.RSTData += int64(seg.Len)
		return
	}
	syn := seg.Flags&tcp.SYN != 0
	seq := seg.Seq
	if syn {
		seq++
	}
	if !s.started {
		if !syn && seg.Len == 0 && seg.Flags&tcp.FIN == 0 {
			return // a bare ACK says nothing about where data starts
		}
		s.started, s.base = true, seq
	}
	off := s.Offset(seq)
	n := int64(seg.Len)
	m := mark{off: off, frame: seg.Frame, file: int32(seg.File), ttl: seg.TTL, ipid: uint16(seg.IPID)}
	if seg.Flags&tcp.FIN != 0 && !s.finSeen {
		s.finSeen, s.finOff, s.finMark = true, off+n, mark{off: off + n, frame: seg.Frame, file: int32(seg.File)}
		s.maxEnd = max(s.maxEnd, s.finOff)
	}
	if n > 0 {
		s.add(off, n, seg.Payload, m)
	}
	s.checkFIN()
}

// Acked takes an acknowledgment from the peer: bytes below it were received,
// so buffered data below it no longer waits for anything, and the hole before
// it is capture loss. The gap never reaches past what the capture showed of
// this stream (a bogus ACK must not invent gigabytes); Flush covers the rest.
func (s *Stream) Acked(ack seqnum.Value, frame int64, file int) {
	if !s.started {
		return
	}
	a := s.Offset(ack)
	if a > s.acked {
		s.acked = a
	}
	if a <= s.next {
		return
	}
	limit := min(a, s.maxEnd)
	if s.finSeen {
		limit = min(limit, s.finOff)
	}
	for s.next < limit {
		if len(s.q) > 0 && s.q[0].off < limit {
			s.skipTo(s.q[0].off, GapAcked, frame, file)
			s.drain()
			continue
		}
		s.skipTo(limit, GapAcked, frame, file)
	}
	s.checkFIN()
}

// Flush gives up on every hole: buffered data is delivered after a gap, and a
// FIN beyond the last data leaves a gap to it. Bytes only acknowledged (never
// seen) after the last data are not turned into a gap: one bogus ACK could
// claim two gigabytes. Called at the end of input or when the connection is
// evicted.
func (s *Stream) Flush(frame int64, file int) {
	for len(s.q) > 0 {
		s.skipTo(s.q[0].off, GapLoss, frame, file)
		s.drain()
	}
	if s.finSeen && s.finOff > s.next {
		s.skipTo(s.finOff, GapLoss, frame, file)
	}
	s.checkFIN()
	s.forget()
	s.hp, s.store = keptPieces(s.hp), nil
}

// add takes the bytes [off, off+n) of one segment; data is its captured
// prefix.
func (s *Stream) add(off, n int64, data []byte, m mark) {
	if int64(len(data)) > n {
		data = data[:n]
	}
	if s.finSeen && off+n > s.finOff {
		cut := off + n - max(off, s.finOff)
		s.Stats.AfterFIN += cut
		n -= cut
		if int64(len(data)) > n {
			data = data[:max(n, 0)]
		}
		if n <= 0 {
			return
		}
	}
	end := off + n
	if end > s.maxEnd {
		s.maxEnd = end
	}
	if off < s.next {
		k := min(s.next, end) - off
		s.Stats.Duplicate += k
		s.compareHistory(off, data[:min(k, int64(len(data)))], m)
		s.flushConflict()
		if end <= s.next {
			return
		}
		data = data[min(k, int64(len(data))):]
		off, n = s.next, n-k
		m.off = off
	}
	if off == s.next && (len(s.q) == 0 || end <= s.q[0].off) {
		// The common case: in order, nothing buffered in the way.
		s.deliver(off, n, data, m)
		s.drain()
		return
	}
	s.insert(off, n, data, m)
	s.drain()
	s.enforce(m.frame, int(m.file))
}

// insert buffers [off, off+n) where no earlier copy covers it (first copy
// wins), comparing the overlaps.
func (s *Stream) insert(off, n int64, data []byte, m mark) {
	end := off + n
	// i: the first chunk that ends after off. Segments mostly arrive in
	// ascending order, so look from the end.
	i := len(s.q)
	for i > 0 && s.q[i-1].end() > off {
		i--
	}
	pos := off
	for pos < end {
		if i < len(s.q) && s.q[i].off <= pos {
			c := s.q[i]
			ce := min(c.end(), end)
			s.Stats.Duplicate += ce - pos
			s.compareChunk(c, pos, ce, off, data, m)
			pos = ce
			i++
			continue
		}
		he := end
		if i < len(s.q) {
			he = min(he, s.q[i].off)
		}
		piece := data[min(pos-off, int64(len(data))):min(he-off, int64(len(data)))]
		if pos > s.next {
			s.Stats.OutOfOrder += he - pos
		}
		pm := m
		pm.off = pos
		// Extend the chunk before when contiguous and fully captured, so a
		// long run above one hole stays a few chunks (of up to MaxChunkBytes:
		// a chunk's growth is what a budget can be overshot by).
		if i > 0 && s.q[i-1].end() == pos && int64(len(s.q[i-1].data)) == s.q[i-1].n && len(s.q[i-1].data)+len(piece) <= MaxChunkBytes {
			c := s.q[i-1]
			before := c.cost()
			c.data = append(c.data, piece...)
			c.n += he - pos
			c.marks = append(c.marks, pm)
			s.charge(c.cost() - before)
		} else {
			c := &chunk{off: pos, n: he - pos, data: append([]byte(nil), piece...), marks: []mark{pm}}
			s.q = append(s.q, nil)
			copy(s.q[i+1:], s.q[i:])
			s.q[i] = c
			i++
			s.charge(c.cost())
		}
		pos = he
	}
	s.flushConflict()
}

// drain delivers the buffered chunks that have become in order.
func (s *Stream) drain() {
	for len(s.q) > 0 && s.q[0].off <= s.next {
		c := s.q[0]
		s.q[0] = nil
		s.q = s.q[1:]
		s.charge(-c.cost())
		if c.end() <= s.next {
			continue
		}
		for j, mk := range c.marks {
			to := c.end()
			if j+1 < len(c.marks) {
				to = c.marks[j+1].off
			}
			if to <= s.next {
				continue
			}
			from := max(mk.off, s.next)
			lo, hi := min(from-c.off, int64(len(c.data))), min(to-c.off, int64(len(c.data)))
			mk.off = from
			s.deliver(from, to-from, c.data[lo:hi], mk)
		}
	}
	if len(s.q) == 0 {
		s.q = s.q[:0:0] // let the emptied backing array go
	}
}

// deliver hands [off, off+n) to the handler; data is the captured prefix,
// the rest is a snaplen gap. off == s.next.
func (s *Stream) deliver(off, n int64, data []byte, m mark) {
	if len(data) > 0 {
		s.Stats.Delivered += int64(len(data))
		if s.h != nil {
			s.h.Data(s.Dir, off, data, m.frame, int(m.file))
		}
		s.remember(off, data, m)
	}
	s.next = off + int64(len(data))
	if cut := n - int64(len(data)); cut > 0 {
		s.Stats.Snaplen += cut
		s.gap(cut, GapSnaplen, m.frame, int(m.file))
	}
}

// skipTo declares the bytes from s.next to o a gap.
func (s *Stream) skipTo(o int64, r GapReason, frame int64, file int) {
	if o > s.next {
		s.gap(o-s.next, r, frame, file)
	}
}

func (s *Stream) gap(n int64, r GapReason, frame int64, file int) {
	g := Gap{Off: s.next, Len: n, Reason: r, Frame: frame, File: file}
	s.Stats.GapBytes += n
	s.Stats.Gaps++
	s.next += n
	s.forget() // history must stay contiguous
	if s.h != nil {
		s.h.Gap(s.Dir, g)
	}
}

func (s *Stream) checkFIN() {
	if s.finSeen && !s.finDone && s.next >= s.finOff {
		s.finDone, s.Stats.FIN = true, true
		if s.h != nil {
			s.h.FIN(s.Dir, s.finOff, s.finMark.frame, int(s.finMark.file))
		}
	}
}

// compareChunk compares the overlap [pos, ce) of a new segment (data from
// off) with buffered chunk c, frame by frame of the chunk.
func (s *Stream) compareChunk(c *chunk, pos, ce, off int64, data []byte, m mark) {
	for j, mk := range c.marks {
		to := c.end()
		if j+1 < len(c.marks) {
			to = c.marks[j+1].off
		}
		lo, hi := max(pos, mk.off), min(ce, to)
		if lo >= hi {
			continue
		}
		a := bytesAt(c.data, c.off, lo, hi)
		b := bytesAt(data, off, lo, hi)
		k := min(len(a), len(b)) // only captured bytes are compared
		s.compare(lo, hi, a[:k], b[:k], mk, m)
	}
}

// compareHistory compares bytes that arrived again below s.next with what
// was delivered, as far as the history reaches.
func (s *Stream) compareHistory(off int64, data []byte, m mark) {
	live := s.hp[s.hh:]
	if len(live) == 0 || len(data) == 0 {
		return
	}
	end := off + int64(len(data))
	// The first piece that ends after off.
	i := sort.Search(len(live), func(i int) bool { return live[i].m.off+int64(len(live[i].b)) > off })
	for ; i < len(live) && live[i].m.off < end; i++ {
		p := &live[i]
		lo, hi := max(off, p.m.off), min(end, p.m.off+int64(len(p.b)))
		s.compare(lo, hi, p.b[lo-p.m.off:hi-p.m.off], data[lo-off:hi-off], p.m, m)
	}
}

// compare compares the bytes a of earlier frame first with b of the later
// copy m, both starting at stream offset lo (hi ends the overlap of the
// two frames), and gathers a difference into the pending conflict.
func (s *Stream) compare(lo, hi int64, a, b []byte, first, m mark) {
	i := mismatch(a, b)
	if i < 0 {
		return
	}
	j := len(a) - 1
	for a[j] == b[j] {
		j--
	}
	if s.pendOK && s.pend.FirstFrame == first.frame && s.pend.FirstFile == int(first.file) && s.pend.Frame == m.frame {
		s.pend.Differ = lo + int64(j) + 1 - s.pend.Off
		s.pend.Len = hi - s.pend.Off
		return
	}
	s.flushConflict()
	o := lo + int64(i)
	s.pend = Conflict{Off: o, Len: hi - o, Differ: int64(j-i) + 1,
		Frame: m.frame, File: int(m.file), TTL: m.ttl, IPID: m.ipid,
		FirstFrame: first.frame, FirstFile: int(first.file), FirstTTL: first.ttl, FirstIPID: first.ipid}
	s.pendOK = true
}

// flushConflict reports the pending conflict.
func (s *Stream) flushConflict() {
	if !s.pendOK {
		return
	}
	s.pendOK = false
	s.Stats.Conflicts++
	if s.h != nil {
		s.h.Conflict(s.Dir, s.pend)
	}
}

// remember appends a delivered piece to the history, which keeps the last
// pieces holding at least cfg.History bytes, at most HistoryPieces of them.
// With a stable input the piece refers to the bytes where they are (the
// mapped payload, or a chunk no longer used); otherwise they are copied.
func (s *Stream) remember(off int64, data []byte, m mark) {
	h := int64(s.cfg.History)
	if h <= 0 {
		return
	}
	b := data
	if !s.cfg.Stable {
		b = s.keep(data)
	}
	m.off = off
	if n := len(s.hp); n < cap(s.hp) {
		s.hp = s.hp[:n+1]
	} else if n == 0 {
		s.hp = make([]hpiece, 1, firstPieces)
	} else {
		s.hp = append(s.hp, hpiece{})
	}
	p := &s.hp[len(s.hp)-1]
	p.b, p.m = b, m
	s.hbytes += int64(len(b))
	// Drop the oldest pieces the rest can do without. Dropped entries are
	// cleared when the slice is compacted (amortized), not one by one.
	hp, hh, maxN := s.hp, s.hh, s.maxPieces
	for len(hp)-hh > 1 && (s.hbytes-int64(len(hp[hh].b)) >= h || len(hp)-hh > maxN) {
		s.hbytes -= int64(len(hp[hh].b))
		hh++
	}
	s.hh = hh
	if hh >= 32 && 2*hh >= len(hp) {
		n := copy(hp, hp[hh:])
		clear(hp[n:])
		s.hp, s.hh = hp[:n], 0
	}
}

// keep copies data to the store of the history and returns the copy. The
// store is a ring: a copy goes after the newest piece, or at the start when
// it does not fit before the end (the rest of the end left unused), never
// over a piece still in the history; when there is no room the history
// moves to a store twice its size. Each byte is copied once in the steady
// state.
func (s *Stream) keep(data []byte) []byte {
	n, st := len(data), s.store
	at := -1
	switch {
	case s.hbytes == 0:
		if n <= len(st) {
			at = 0
		}
	default:
		ls, w := len(st)-cap(s.hp[s.hh].b), s.ringW // oldest piece's start, newest's end
		switch {
		case ls < w && w+n <= len(st):
			at = w
		case ls < w && n <= ls:
			at = 0
		case ls >= w && w+n <= ls:
			at = w
		}
	}
	if at < 0 {
		ns := make([]byte, max(2*(int(s.hbytes)+n), 256))
		at = 0
		for i := s.hh; i < len(s.hp); i++ {
			k := copy(ns[at:], s.hp[i].b)
			s.hp[i].b = ns[at : at+k]
			at += k
		}
		s.store, st = ns, ns
	}
	copy(st[at:], data)
	s.ringW = at + n
	return st[at : at+n] // its capacity tells where it is: len(store) - cap
}

// forget empties the history (its references too: the bytes may go).
func (s *Stream) forget() {
	clear(s.hp)
	s.hp, s.hh, s.hbytes, s.store = s.hp[:0], 0, 0, s.store[:0]
}

// bytesAt returns the part of data (which starts at stream offset off) within
// [lo, hi), as far as it was captured.
func bytesAt(data []byte, off, lo, hi int64) []byte {
	a, b := lo-off, hi-off
	if a >= int64(len(data)) {
		return nil
	}
	return data[a:min(b, int64(len(data)))]
}

// mismatch returns the index of the first differing byte, or -1.
func mismatch(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// charge adds d to the stream's buffered cost and its budgets.
func (s *Stream) charge(d int64) {
	s.buffered += d
	if s.buffered > s.Stats.PeakBuffered {
		s.Stats.PeakBuffered = s.buffered
	}
	if s.budget != nil {
		s.budget.Used += d
	}
	if s.pool != nil {
		s.pool.used += d
		if s.pool.used > s.pool.peak {
			s.pool.peak = s.pool.used
		}
		if s.pool.used > s.pool.stepPeak {
			s.pool.stepPeak = s.pool.used
		}
		s.pool.track(s)
	}
}

// enforce flushes the oldest buffered data while a budget is exceeded.
func (s *Stream) enforce(frame int64, file int) {
	for len(s.q) > s.cfg.MaxChunks || (s.budget != nil && s.budget.Limit > 0 && s.budget.Used > s.budget.Limit && len(s.q) > 0) {
		s.flushOldest(frame, file)
	}
	if s.pool != nil {
		s.pool.enforce(frame, file)
	}
}

// flushOldest gives up the hole before the first buffered chunk.
func (s *Stream) flushOldest(frame int64, file int) {
	s.Stats.BudgetFlushes++
	if s.pool != nil {
		s.pool.Flushes++
	}
	s.skipTo(s.q[0].off, GapBudget, frame, file)
	s.drain()
	s.checkFIN()
}

// Pool is the global budget for buffered bytes over all streams.
type Pool struct {
	Limit   int64 // 0: unlimited
	Flushes int64 // budget flushes, per-connection ones included

	used, peak int64
	stepPeak   int64     // the most since StartStep
	streams    list.List // streams with buffered data, oldest first
}

// StartStep starts a step (the processing of one segment, say): StepPeak
// then gives the most bytes buffered at once since. A sharded run uses it
// to work out the peak over all shards' pools exactly.
func (p *Pool) StartStep() { p.stepPeak = p.used }

// StepPeak returns the most bytes buffered at once since StartStep.
func (p *Pool) StepPeak() int64 { return p.stepPeak }

// Used returns the bytes buffered now; Peak the most at once.
func (p *Pool) Used() int64 { return p.used }

// Peak returns the most bytes buffered at once.
func (p *Pool) Peak() int64 { return p.peak }

// track keeps s in the list of streams with buffered data (oldest first).
func (p *Pool) track(s *Stream) {
	switch {
	case s.buffered > 0 && s.poolElem == nil:
		s.poolElem = p.streams.PushBack(s)
	case s.buffered <= 0 && s.poolElem != nil:
		p.streams.Remove(s.poolElem)
		s.poolElem = nil
	}
}

// enforce flushes the streams that have buffered longest until the pool is
// within its limit.
func (p *Pool) enforce(frame int64, file int) {
	for p.Limit > 0 && p.used > p.Limit && p.streams.Len() > 0 {
		s := p.streams.Front().Value.(*Stream)
		s.flushOldest(frame, file)
		if s.poolElem != nil { // still buffering: let the others go next
			p.streams.MoveToBack(s.poolElem)
		}
	}
}

// Release forgets a stream that will not be used again (its connection was
// retired), returning its buffered bytes to the pool without delivering them.
func (s *Stream) Release() {
	for _, c := range s.q {
		s.charge(-c.cost())
	}
	s.q = nil
	s.hp, s.hh, s.hbytes, s.store = keptPieces(s.hp), 0, 0, nil
}
