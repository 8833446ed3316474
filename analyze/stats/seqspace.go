package stats

import "github.com/tcptrace/tcptrace/seqnum"

// The segment database: tcptrace's rexmit.c. Each direction remembers the
// sequence ranges it has sent, split into the four quadrants of the 32-bit
// sequence space (a segment straddling a quadrant boundary is recorded as two
// pieces). Within one quadrant every distance is below 2³⁰, so seqnum's
// serial-number comparisons order it exactly. ACKed neighbours collapse into
// one record, so in the steady state a quadrant holds one ACKed prefix plus
// the segments in flight; MaxTrackedSegments bounds the total (see evict).

// MaxTrackedSegments bounds the segment records one direction keeps for
// retransmission detection and RTT measurement. Beyond it the oldest records
// are coalesced with their successor (or dropped when not contiguous) and
// counted in DirStats.SegmentsEvicted.
const MaxTrackedSegments = 8192

// maxAckedRecords bounds the ACKed records a quadrant keeps apart (they stay
// apart only around data the capture missed).
const maxAckedRecords = 32

const quadSize = 1 << 30

func quadOf(v seqnum.Value) int { return int(uint32(v) >> 30) }

// segment is one recorded range [first, last] (inclusive, as in tcptrace).
type segment struct {
	first, last seqnum.Value
	time        int64  // last (re)transmission, ns
	acked       uint32 // how many times ACKed (1 = first ACK; 4 = triple dup)
	retrans     uint8  // retransmission count (u_char in tcptrace: wraps)
}

// segList is one quadrant's segments, sorted, in buf[lo:hi]. Removing at the
// head is O(1) (lo++), which is where ACK collapsing and eviction work.
type segList struct {
	buf    []segment
	lo, hi int
}

func (l *segList) n() int            { return l.hi - l.lo }
func (l *segList) at(i int) *segment { return &l.buf[l.lo+i] }
func (l *segList) reset()            { l.lo, l.hi = 0, 0 }
func (l *segList) tail() *segment    { return &l.buf[l.hi-1] }

// removeHead drops the first record.
func (l *segList) removeHead() {
	l.lo++
	if l.lo == l.hi {
		l.reset()
	}
}

// removeAt removes logical index i by shifting the records before it (the
// short side: ACK collapsing works at the head).
func (l *segList) removeAt(i int) {
	copy(l.buf[l.lo+1:l.lo+i+1], l.buf[l.lo:l.lo+i])
	l.removeHead()
}

// insert puts s at logical index i.
func (l *segList) insert(i int, s segment) {
	if i == 0 && l.lo > 0 {
		l.lo--
		l.buf[l.lo] = s
		return
	}
	if l.hi == len(l.buf) {
		// Full at the end: slide down when at least half is free at the
		// head (amortised O(1)), else grow (up to twice the bound, beyond
		// which eviction keeps the count down).
		n := l.n()
		if l.lo == 0 || (2*n > len(l.buf) && len(l.buf) < 2*MaxTrackedSegments) {
			b := make([]segment, max(4, 2*len(l.buf)))
			copy(b, l.buf[l.lo:l.hi])
			l.buf = b
		} else {
			copy(l.buf, l.buf[l.lo:l.hi])
		}
		l.hi -= l.lo
		l.lo = 0
	}
	copy(l.buf[l.lo+i+1:l.hi+1], l.buf[l.lo+i:l.hi])
	l.hi++
	l.buf[l.lo+i] = s
}

// seqspace is one direction's segment database.
type seqspace struct {
	q       [4]segList
	n       int   // records over all quadrants
	evicted int64 // records coalesced or dropped by the bound
}

// which is tcptrace's whichquad: the quadrant of v, after forgetting the
// opposite quadrant (it can no longer be told apart from this one).
func (ss *seqspace) which(v seqnum.Value) int {
	q := quadOf(v)
	o := &ss.q[(q+2)&3]
	ss.n -= o.n()
	o.reset()
	return q
}

// evict brings the database back under MaxTrackedSegments: in the fullest
// quadrant, the lowest record is merged into its successor when they are
// contiguous and in the same ACK state (coverage for retransmission detection
// is kept; only RTT granularity is lost), else dropped.
func (ss *seqspace) evict() {
	for ss.n > MaxTrackedSegments {
		best := 0
		for i := 1; i < 4; i++ {
			if ss.q[i].n() > ss.q[best].n() {
				best = i
			}
		}
		l := &ss.q[best]
		if l.n() >= 2 {
			a, b := l.at(0), l.at(1)
			if a.last.Add(1) == b.first && (a.acked == 0) == (b.acked == 0) {
				b.first = a.first
				if a.time > b.time {
					b.time = a.time
				}
				if a.retrans > b.retrans {
					b.retrans = a.retrans
				}
			}
		}
		l.removeHead()
		ss.n--
		ss.evicted++
	}
}

// rexmit is tcptrace's rexmit(): record [seq, seq+length) as sent at now and
// return how many of its sequence numbers had been sent before, and whether
// it is out of order (it ends before a segment already recorded).
func (d *dirState) rexmit(seq seqnum.Value, length uint32, now int64) (int64, bool) {
	ss := &d.ss
	last := seq.Add(seqnum.Size(length - 1))
	q := ss.which(seq)
	var rex int64
	ooo := false
	if quadOf(seq) != quadOf(last) {
		// Straddles a quadrant boundary: two pieces.
		len1 := uint32(quadSize - uint32(seq)%quadSize)
		rex = d.addseg(q, seq, len1, now, &ooo)
		rex += d.addseg((q+1)&3, seq.Add(seqnum.Size(len1)), length-len1, now, &ooo)
	} else {
		rex = d.addseg(q, seq, length, now, &ooo)
	}
	if ss.n > MaxTrackedSegments {
		ss.evict()
	}
	return rex, ooo
}

// addseg is tcptrace's addseg() on one quadrant.
func (d *dirState) addseg(q int, first seqnum.Value, length uint32, now int64, ooo *bool) int64 {
	ss := &d.ss
	l := &ss.q[q]
	lastb := first.Add(seqnum.Size(length - 1))
	var rex int64
	split := false
	i := 0
	if n := l.n(); n > 0 && l.tail().last.LessThan(first) {
		i = n // the expected case: it goes at the end
	}
	for ; i < l.n(); i++ {
		p := l.at(i)
		if p.last.LessThan(first) {
			continue // goes beyond this one
		}
		if first.LessThan(p.first) {
			// Starts before this recorded segment; if it also ends before
			// it, it is out of order (else a resend of collapsed data).
			if lastb.LessThan(p.last) {
				*ooo = true
			}
			ns := segment{first: first, last: lastb, time: now}
			if lastb.LessThan(p.first) {
				l.insert(i, ns)
				ss.n++
				return rex
			}
			// Overlaps it: keep the part before, go on with the rest.
			ns.last = p.first - 1
			l.insert(i, ns)
			ss.n++
			i++
			p = l.at(i)
			first = p.first
			length = uint32(lastb-first) + 1
		}
		if p.first.LessThanEq(first) {
			// Starts within this recorded segment: a retransmission.
			p.retrans++
			if !split {
				d.rttRetrans(p, now)
			}
			if lastb.LessThanEq(p.last) {
				rex += int64(length)
				return rex
			}
			split = true
			rex += int64(uint32(p.last-first) + 1)
			first = p.last + 1
			length = uint32(lastb-first) + 1
		}
	}
	l.insert(l.n(), segment{first: first, last: first.Add(seqnum.Size(length - 1)), time: now})
	ss.n++
	return rex
}

// collapse merges ACKed contiguous records from the head of quadrant q.
func (ss *seqspace) collapse(q int) {
	l := &ss.q[q]
	i := 0
	for i+1 < l.n() {
		p := l.at(i)
		if p.acked == 0 {
			break
		}
		nx := l.at(i + 1)
		if nx.acked > 0 && p.last.Add(1) == nx.first {
			// The merged record keeps the later ACK count, the later
			// transmission time and the earlier record's retrans count.
			nx.first = p.first
			if p.time > nx.time {
				nx.time = p.time
			}
			nx.retrans = p.retrans
			l.removeAt(i)
			ss.n--
			continue
		}
		i++
	}
	// Holes the capture missed keep ACKed records apart; beyond
	// maxAckedRecords the oldest are merged (across the hole) so that an
	// ACK's walk over the ACKed prefix stays short.
	k := 0
	for k < l.n() && l.at(k).acked > 0 {
		k++
	}
	for ; k > maxAckedRecords; k-- {
		a, b := l.at(0), l.at(1)
		b.first = a.first
		if a.time > b.time {
			b.time = a.time
		}
		b.retrans = a.retrans
		l.removeHead()
		ss.n--
		ss.evicted++
	}
}

// ackIn is tcptrace's ack_in(): d is the data sender, a the direction that
// sent this ACK (its ack and win_last still hold the previous packet's).
func (d *dirState) ackIn(a *dirState, ack seqnum.Value, dataLen int, effWin uint64, now int64) {
	ss := &d.ss
	q := ss.which(ack)
	prev := (q + 3) & 3
	var lastXmit int64
	haveXmit := false
	changed := false
	pl := &ss.q[prev]
	for i := 0; i < pl.n(); i++ {
		p := pl.at(i)
		if p.acked == 0 {
			p.acked++
			changed = true
			d.cumAck++
			if !haveXmit || p.time > lastXmit {
				lastXmit, haveXmit = p.time, true
			}
		}
	}
	if changed {
		ss.collapse(prev)
	}
	changed = false
	l := &ss.q[q]
	for i := 0; i < l.n(); i++ {
		p := l.at(i)
		if ack.LessThanEq(p.first) {
			break // covers nothing further
		}
		if !haveXmit || p.time > lastXmit {
			lastXmit, haveXmit = p.time, true
		}
		if p.acked > 0 {
			// BSD duplicate ACK (tcptrace's default): the highest ACK
			// again, no data, same window, and data outstanding.
			if ack == p.last.Add(1) && ack == a.ack && dataLen == 0 && effWin == a.winLast && d.owinTot {
				d.dupAcks++
				p.acked++
				if p.acked == 4 {
					d.tripleDupAcks++
				}
			} else {
				p.acked = 1
			}
			continue
		}
		p.acked++
		changed = true
		if ack == p.last.Add(1) {
			// If an earlier segment was sent after this one, the sample
			// would include recovery time: no sample.
			d.rttAckIn(p, lastXmit > p.time, now)
		} else {
			d.cumAck++
		}
	}
	if changed {
		ss.collapse(q)
	}
}

// rttAckIn takes an RTT sample from an exactly ACKed segment (Karn's rule:
// none from a retransmitted one).
func (d *dirState) rttAckIn(p *segment, rexmitPrev bool, now int64) {
	et := elapsed(p.time, now)
	switch {
	case rexmitPrev:
		d.rttLast, d.rttLastOK = 0, false
		d.postLossAcks++
	case p.retrans == 0:
		d.rttLast, d.rttLastOK = et, true
		d.rtt.add(et)
	default:
		d.rttLast, d.rttLastOK = 0, false
		d.ambiguousAcks++
	}
}

// rttRetrans records the retransmission of p (tcptrace's rtt_retrans).
func (d *dirState) rttRetrans(p *segment, now int64) {
	if p.acked == 0 {
		if int(p.retrans) > d.maxRetrans {
			d.maxRetrans = int(p.retrans)
		}
		d.rto.add(elapsed(p.time, now))
	}
	p.time = now
}

// elapsed is t2 - t1, or 0 when the capture's clock went backwards.
func elapsed(t1, t2 int64) int64 {
	if t2 < t1 {
		return 0
	}
	return t2 - t1
}
