package zeek

// reassembler models the sequence bookkeeping of Zeek's TCP_Reassembler
// (over Reassembler/DataBlockList) that decides content gaps ('g' in the
// history): which relative sequence ranges of an endpoint's stream were seen,
// how far the stream was delivered in order, and how far the peer acked it.
// Payload bytes are not kept.
type reassembler struct {
	lastReassem uint64  // next in-order sequence number to deliver (starts at 1)
	trimSeq     uint64  // everything below was acked and trimmed (starts at 1)
	blocks      []block // seen data not yet trimmed, sorted, disjoint
	size        uint64  // total bytes in blocks
	skip        bool    // skip_deliveries
}

type block struct{ seq, upper uint64 }

// insert adds [seq, upper), merging it with the blocks it touches, and
// returns the index of the block that holds it.
func (r *reassembler) insert(seq, upper uint64) int {
	i := 0
	for i < len(r.blocks) && r.blocks[i].upper < seq {
		i++
	}
	if i == len(r.blocks) || upper < r.blocks[i].seq {
		r.blocks = append(r.blocks, block{})
		copy(r.blocks[i+1:], r.blocks[i:])
		r.blocks[i] = block{seq, upper}
	} else {
		b := &r.blocks[i]
		b.seq = min(b.seq, seq)
		b.upper = max(b.upper, upper)
		j := i + 1
		for j < len(r.blocks) && r.blocks[j].seq <= b.upper {
			b.upper = max(b.upper, r.blocks[j].upper)
			j++
		}
		r.blocks = append(r.blocks[:i+1], r.blocks[j:]...)
	}
	r.recount()
	return i
}

func (r *reassembler) recount() {
	r.size = 0
	for _, b := range r.blocks {
		r.size += b.upper - b.seq
	}
}

func (r *reassembler) clear() {
	r.blocks = r.blocks[:0]
	r.size = 0
}

// undeliveredBytes is NumUndeliveredBytes.
func (r *reassembler) undeliveredBytes() uint64 {
	if len(r.blocks) == 0 {
		return 0
	}
	return r.blocks[len(r.blocks)-1].upper - r.lastReassem
}

// deliver is BlockInserted: deliver in order from block i when it reaches
// the delivery point.
func (c *conn) deliver(e *endpoint, i int) {
	r := &e.r
	b := r.blocks[i]
	if b.seq > r.lastReassem || b.upper <= r.lastReassem {
		return
	}
	for ; i < len(r.blocks) && r.blocks[i].seq <= r.lastReassem; i++ {
		if r.blocks[i].upper > r.lastReassem {
			r.lastReassem = r.blocks[i].upper
		}
	}
	if e.noDataAcked() && e.size(c.peerOf(e)) > tcpMaxInitialWindow {
		c.trimTo(e, r.lastReassem)
	}
}

// dataSent is TCP_Reassembler::DataSent for payload [seq, seq+n) (relative
// sequence numbers) fully captured.
func (c *conn) dataSent(e *endpoint, seq, n uint64) {
	r := &e.r
	if r.skip {
		return
	}
	upper := seq + n
	if ack := e.toRelative(e.ackSeq, e.ackWraps); seq < ack {
		if upper <= ack {
			return
		}
		seq = ack
	}
	// Reassembler::NewBlock.
	if upper <= r.trimSeq {
		return
	}
	if seq < r.trimSeq {
		seq = r.trimSeq
	}
	c.deliver(e, r.insert(seq, upper))
	if e.noDataAcked() && r.undeliveredBytes() > tcpMaxAboveHoleNoAcks {
		r.clear()
		r.skip = true
	}
	if lim := c.cfg.ExcessiveDataWithoutAcks; lim > 0 && r.size > lim {
		r.clear()
		r.skip = true
	}
}

// ackReceived is TCP_Reassembler::AckReceived on the endpoint whose data the
// peer acknowledged up to relative sequence number seq.
func (c *conn) ackReceived(e *endpoint, seq uint64) {
	if e.finCnt > 0 && seq >= e.finSeq {
		seq = e.finSeq - 1
	}
	if seq <= e.r.trimSeq {
		return
	}
	c.trimTo(e, seq)
}

// trimTo is Reassembler::TrimToSeq (DataBlockList::Trim).
func (c *conn) trimTo(e *endpoint, seq uint64) {
	r := &e.r
	if seq > r.lastReassem {
		c.undelivered(e, seq)
	}
	n := 0
	for n < len(r.blocks) && r.blocks[n].upper <= seq {
		n++
	}
	if n > 0 {
		r.blocks = append(r.blocks[:0], r.blocks[n:]...)
		r.recount()
	}
	if len(r.blocks) > 0 && r.blocks[0].seq == r.lastReassem {
		c.deliver(e, 0)
	}
	r.trimSeq = seq
}

// undelivered is TCP_Reassembler::Undelivered: the peer acked data up to
// upTo that was never delivered in order; every hole is a content gap.
func (c *conn) undelivered(e *endpoint, upTo uint64) {
	r := &e.r
	if upTo <= 2 && c.isPartial {
		// The faked initial sequence number of a partial connection.
		return
	}
	if !r.skip {
		for i := 0; i < len(r.blocks); {
			b := r.blocks[i]
			if b.seq < r.lastReassem {
				i++
				continue
			}
			if b.seq >= upTo {
				break
			}
			c.gap(e, b.seq-r.lastReassem)
			r.lastReassem = b.seq
			c.deliver(e, i)
			i = 0
		}
		if upTo > r.lastReassem {
			c.gap(e, upTo-r.lastReassem)
		}
	}
	if upTo > r.lastReassem {
		r.lastReassem = upTo
	}
}

func isClean(e *endpoint) bool {
	return e.state == StateEstablished || (e.state == StateClosed && e.prevState == StateEstablished)
}

// gap is TCP_Reassembler::Gap: a 'G'/'g' (logarithmic) and a content_gap
// of n bytes (conn.log missed_bytes) only when both sides are established
// or closing cleanly.
func (c *conn) gap(e *endpoint, n uint64) {
	if isClean(e) && isClean(c.peerOf(e)) {
		c.scaled(e, &e.gap, 'G')
		c.missed += n
	}
}
