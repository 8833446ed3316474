package zeek

import (
	"github.com/tcptrace/tcptrace/seqnum"
	"github.com/tcptrace/tcptrace/tcp"
)

// packet is the part of a segment the replay needs (kept by value so that the
// first packet can be replayed after a flip).
type packet struct {
	dir              tcp.Dir
	flags            tcp.Flags
	seq, ack         uint32
	len, captured    int
	window           uint16
	ts               int64
	srcPort, dstPort uint16
	ipLen            uint32
}

// scaled is a logarithmic history counter (Connection::ScaledHistoryEntry).
type scaled struct{ cnt, thresh uint32 }

// endpoint is Zeek's TCP_Endpoint, indexed physically by tcptrace direction.
type endpoint struct {
	state, prevState uint8
	isOrig           bool
	didClose         bool
	startSeq         int64
	lastSeq, ackSeq  uint32
	seqWraps         uint32
	ackWraps         uint32
	finCnt, rstCnt   uint32
	finSeq           uint64
	histLastSYN      uint64
	histLastFIN      uint64
	histLastRST      uint64
	chk, rxmt, win0  scaled
	gap              scaled
	r                reassembler
}

type timerKind uint8

const (
	timerExpire timerKind = iota
	timerAttempt
	timerDelete
	timerReset
	timerInactivity
)

type timer struct {
	at   int64
	kind timerKind
}

// conn is one Zeek connection: Connection + TCPSessionAdapter.
type conn struct {
	cfg         *Config
	ep          [2]endpoint
	orig        tcp.Dir // index in ep of Zeek's originator
	history     []byte
	histSeen    uint32
	isPartial   bool
	firstSeen   uint8
	active      bool // TCPSessionAdapter::is_active
	lastTime    int64
	inactivity  int64
	timers      []timer
	packets     int
	pkts        [2]int    // packets per tcptrace direction
	ipBytes     [2]uint64 // their IP datagrams' lengths (ConnSize's num_bytes_ip)
	missed      uint64    // bytes of the content gaps reported (missed_bytes)
	first, last int64
	synAckFirst bool
	firstPkt    packet
}

func (c *conn) peerOf(e *endpoint) *endpoint {
	if e == &c.ep[0] {
		return &c.ep[1]
	}
	return &c.ep[0]
}

// ---- history ----

func lower(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// checkHistory is TCP_Endpoint::CheckHistory + Connection::CheckHistory: it
// adds the letter the first time, and reports whether it had been seen.
func (c *conn) checkHistory(e *endpoint, mask uint32, code byte) bool {
	if !e.isOrig {
		mask <<= 16
		code = lower(code)
	}
	if c.histSeen&mask == 0 {
		c.histSeen |= mask
		c.history = append(c.history, code)
		return false
	}
	return true
}

func (c *conn) addHistory(e *endpoint, code byte) {
	if !e.isOrig {
		code = lower(code)
	}
	c.history = append(c.history, code)
}

// scaled adds the letter at the 1st, 10th, 100th, ... occurrence.
func (c *conn) scaled(e *endpoint, s *scaled, code byte) {
	s.cnt++
	if s.cnt != s.thresh {
		return
	}
	c.addHistory(e, code)
	if n := s.thresh * 10; n <= s.thresh {
		s.cnt = 0
	} else {
		s.thresh = n
	}
}

// ---- sequence numbers (Zeek's own arithmetic) ----

func seqDelta(a, b uint32) int32 { return int32(seqnum.Diff(seqnum.Value(b), seqnum.Value(a))) }

func (e *endpoint) startSeq32() uint32 { return uint32(e.startSeq) }

func (e *endpoint) toRelative(seq, wraps uint32) uint64 {
	return (uint64(wraps)<<32 + uint64(seq)) - uint64(e.startSeq)
}

func (e *endpoint) updateLastSeqTo(seq uint32) {
	if seq < e.lastSeq {
		e.seqWraps++
	}
	e.lastSeq = seq
}

func (e *endpoint) noDataAcked() bool {
	ack := uint64(e.ackWraps)<<32 + uint64(e.ackSeq)
	start := uint64(e.startSeq)
	return ack == start || ack == start+1
}

// size is TCP_Endpoint::Size.
func (e *endpoint) size(peer *endpoint) uint64 {
	if e.prevState == StateSYNSent && e.state == StateReset && peer.state == StateInactive && !e.noDataAcked() {
		return 0
	}
	last := uint64(e.seqWraps)<<32 + uint64(e.lastSeq)
	ack := uint64(e.ackWraps)<<32 + uint64(e.ackSeq)
	var n uint64
	if last > ack {
		n = last - uint64(e.startSeq)
	} else {
		n = ack - uint64(e.startSeq)
	}
	if n != 0 {
		n--
	}
	if e.finCnt > 0 && n != 0 {
		n--
	}
	return n
}

func relativeSeq(e *endpoint, cur, last, wraps uint32) (uint64, bool) {
	d := seqDelta(cur, last)
	if d < 0 {
		if wraps != 0 && cur > last {
			wraps--
		}
	} else if d > 0 && cur < last {
		wraps++
	}
	if wraps == 0 {
		d = seqDelta(cur, e.startSeq32())
		return uint64(int64(d)), d < 0
	}
	return e.toRelative(cur, wraps), false
}

func initEndpoint(e *endpoint, fl tcp.Flags, first, last uint32) {
	syn := fl&tcp.SYN != 0
	switch e.state {
	case StateInactive:
		if syn {
			e.ackSeq, e.startSeq = first, int64(first)
		} else {
			e.ackSeq, e.startSeq = first-1, int64(first-1)
			last = first
		}
		e.lastSeq = last
	case StateSYNSent, StateSYNACKSent:
		if syn && first != e.startSeq32() {
			e.startSeq, e.ackSeq, e.lastSeq = int64(first), first, last
		}
	case StateEstablished, StatePartial:
		if syn {
			e.startSeq, e.ackSeq, e.lastSeq = int64(first), first, last
		}
	case StateReset:
		if syn && e.prevState == StateInactive {
			e.startSeq, e.ackSeq, e.lastSeq = int64(first), first, last
		}
	}
}

// ---- the packet path: TCPSessionAdapter::Process ----

func (c *conn) process(p *packet) {
	fl := p.flags
	syn, fin, rst, ack := fl&tcp.SYN != 0, fl&tcp.FIN != 0, fl&tcp.RST != 0, fl&tcp.ACK != 0
	isOrig := p.dir == c.orig
	e := &c.ep[p.dir]
	peer := c.peerOf(e)

	c.setPartialStatus(fl, e.isOrig)

	segLen := p.len
	if syn {
		segLen++
	}
	if fin {
		segLen++
	}
	if rst {
		segLen -= p.len
	}
	onePast := p.seq + uint32(segLen)
	initEndpoint(e, fl, p.seq, onePast)
	relSeq, underflow := relativeSeq(e, p.seq, e.lastSeq, e.seqWraps)

	c.updateHistory(e, fl, relSeq, p.len)
	if p.window == 0 && !rst && peer.state != StateClosed && e.state != StateReset {
		c.scaled(e, &e.win0, 'W')
	}
	if !c.ep[0].didClose || !c.ep[1].didClose {
		c.lastTime = p.ts
	}
	if fin {
		e.finCnt++
		e.finSeq = relSeq + uint64(segLen)
	}
	if rst {
		e.rstCnt++
	}

	var relAck uint64
	if ack {
		if peer.state == StateInactive {
			relAck = 1
			peer.startSeq, peer.ackSeq, peer.lastSeq = int64(p.ack-1), p.ack-1, p.ack-1
		} else {
			ra, under := relativeSeq(peer, p.ack, peer.ackSeq, peer.ackWraps)
			if !under {
				relAck = ra
				if !rst {
					if d := seqDelta(p.ack, peer.ackSeq); !(p.ack == 0 && d > tooLargeSeqDelta) && d > 0 {
						if p.ack < peer.ackSeq {
							peer.ackWraps++
						}
						peer.ackSeq = p.ack
					}
				}
			}
		}
	}

	deltaLast := c.updateLastSeq(e, onePast, fl, p.len)
	doClose, genEvent := c.updateStateMachine(p, e, peer, deltaLast, isOrig)

	if ack {
		c.ackReceived(peer, relAck)
	}
	// CheckPIA_FirstPacket, with the is_orig the packet arrived with.
	if isOrig {
		c.firstSeen |= firstOrig
	} else {
		c.firstSeen |= firstResp
	}
	relData := relSeq
	if syn {
		relData++
	}
	if p.len > 0 && !rst && !underflow && p.captured >= p.len {
		c.dataSent(e, relData, uint64(p.len))
	}
	if doClose {
		c.connectionClosed(e, peer, genEvent)
	}
}

func (c *conn) setPartialStatus(fl tcp.Flags, isOrig bool) {
	if isOrig {
		if c.firstSeen&firstOrig == 0 {
			c.isPartial = fl&tcp.SYN == 0 || fl&tcp.ACK != 0
		}
	} else if c.firstSeen&firstResp == 0 && !c.isPartial {
		c.isPartial = fl&tcp.SYN == 0
	}
}

func (c *conn) updateHistory(e *endpoint, fl tcp.Flags, relSeq uint64, n int) {
	syn, fin, rst := fl&tcp.SYN != 0, fl&tcp.FIN != 0, fl&tcp.RST != 0
	bits := 0
	for _, b := range [...]bool{syn, fin, rst} {
		if b {
			bits++
		}
	}
	switch {
	case bits > 1:
		if fin && rst {
			c.checkHistory(e, histFINRST, 'I')
		} else {
			c.checkHistory(e, histMultiFlg, 'Q')
		}
	case bits == 1:
		if syn {
			code := byte('S')
			if fl&tcp.ACK != 0 {
				code = 'H'
			}
			if c.checkHistory(e, histSYN, code) && relSeq != e.histLastSYN {
				c.addHistory(e, code)
			}
			e.histLastSYN = relSeq
		}
		if fin {
			end := relSeq + uint64(n)
			if c.checkHistory(e, histFIN, 'F') && end != e.histLastFIN {
				c.addHistory(e, 'F')
			}
			e.histLastFIN = end
		}
		if rst {
			if c.checkHistory(e, histRST, 'R') && relSeq != e.histLastRST {
				c.addHistory(e, 'R')
			}
			e.histLastRST = relSeq
		}
	default:
		if n > 0 {
			c.checkHistory(e, histData, 'D')
		} else if fl&tcp.ACK != 0 {
			c.checkHistory(e, histACK, 'A')
		}
	}
}

// updateLastSeq is update_last_seq: it advances the endpoint's highest
// sequence number and counts retransmitted payload ('T').
func (c *conn) updateLastSeq(e *endpoint, last uint32, fl tcp.Flags, n int) int32 {
	d := seqDelta(last, e.lastSeq)
	switch {
	case fl&(tcp.SYN|tcp.RST) != 0 && (d > tooLargeSeqDelta || d < -tooLargeSeqDelta):
	case fl&tcp.FIN != 0 && e.lastSeq == e.startSeq32()+1:
		e.updateLastSeqTo(last)
	case e.state == StateReset:
	case d > 0:
		e.updateLastSeqTo(last)
	case n > 0:
		c.scaled(e, &e.rxmt, 'T')
	}
	return d
}

// ---- the state machine ----

func isHandshake(s uint8) bool {
	return s == StateInactive || s == StateSYNSent || s == StateSYNACKSent
}

func (c *conn) setState(e *endpoint, s uint8) {
	if s == e.state {
		return
	}
	if !isHandshake(s) && isHandshake(e.state) && isHandshake(c.peerOf(e).state) {
		c.setInactivityTimeout(tcpInactivityTimeout)
	}
	e.prevState, e.state = e.state, s
}

func (c *conn) updateStateMachine(p *packet, e, peer *endpoint, deltaLast int32, isOrig bool) (doClose, genEvent bool) {
	switch e.state {
	case StateInactive:
		return c.updateInactive(p, e, peer, isOrig)
	case StateSYNSent, StateSYNACKSent:
		return c.updateSYNSent(p, e)
	case StateEstablished, StatePartial:
		return c.updateEstablished(p, e, peer)
	case StateClosed:
		return c.updateClosed(p, e, peer), false
	}
	return false, false // RESET: weirds only
}

func (c *conn) updateInactive(p *packet, e, peer *endpoint, isOrig bool) (doClose, genEvent bool) {
	fl := p.flags
	if fl&tcp.SYN != 0 {
		if isOrig {
			if fl&tcp.ACK != 0 {
				c.setState(e, StateSYNACKSent)
			} else {
				c.setState(e, StateSYNSent)
			}
			c.addTimer(p.ts+tcpAttemptDelay, timerAttempt)
		} else {
			if fl&tcp.ACK == 0 && peer.state == StateSYNACKSent && p.seq == e.startSeq32() {
				// SYN/SYN-ACK reversal: flip and establish.
				c.isPartial = false
				c.flipRoles()
				c.setState(peer, StateEstablished)
				c.firstSeen |= firstOrig
			}
			if peer.state == StateSYNSent {
				c.setState(peer, StateEstablished)
			}
			c.setState(e, StateEstablished)
		}
	}
	if fl&tcp.FIN != 0 {
		c.setState(e, StateClosed)
		doClose, genEvent = true, true
	}
	if fl&tcp.RST != 0 {
		c.setState(e, StateReset)
		reject := false
		if isOrig {
			reject = peer.state == StateEstablished
		} else {
			reject = peer.state == StateSYNSent || peer.state == StateSYNACKSent
		}
		doClose, genEvent = true, !reject
	}
	if e.state == StateInactive {
		switch {
		case !isOrig && p.len == 0 && c.ep[c.orig].state == StateSYNSent:
			// An ACK of the SYN before the SYN-ACK: not a partial connection.
		case fl&tcp.ACK != 0 && peer.state == StateEstablished:
			c.setState(e, StateEstablished)
			c.isPartial = false
			if isOrig {
				c.firstSeen |= firstOrig
			} else {
				c.firstSeen |= firstResp
			}
		default:
			c.setState(e, StatePartial)
		}
	}
	return doClose, genEvent
}

func (c *conn) updateSYNSent(p *packet, e *endpoint) (doClose, genEvent bool) {
	if p.flags&tcp.FIN != 0 {
		c.setState(e, StateClosed)
		doClose, genEvent = true, true
	}
	if p.flags&tcp.RST != 0 {
		c.setState(e, StateReset)
		c.active = false // ConnectionReset
		doClose = true
	}
	return doClose, genEvent
}

func (c *conn) updateEstablished(p *packet, e, peer *endpoint) (doClose, genEvent bool) {
	fl := p.flags
	if fl&tcp.SYN != 0 && e.state == StatePartial && peer.state == StateInactive && fl&tcp.ACK == 0 {
		c.setState(e, StateSYNSent)
	}
	if fl&tcp.FIN != 0 && fl&tcp.RST == 0 {
		c.setState(e, StateClosed)
		if peer.state == StateReset && peer.prevState == StateClosed {
			c.setState(peer, StateClosed)
		}
		doClose, genEvent = true, true
	}
	if fl&tcp.RST != 0 {
		c.setState(e, StateReset)
		doClose = true
		if peer.state != StateReset || peer.prevState != StateEstablished {
			c.active = false // ConnectionReset
		}
	}
	return doClose, genEvent
}

func (c *conn) updateClosed(p *packet, e, peer *endpoint) (doClose bool) {
	if p.flags&tcp.RST != 0 && peer.state != StateClosed {
		c.setState(e, StateReset)
		if !e.didClose {
			doClose = true
		}
		if !c.cfg.NoResetTimer {
			c.addTimer(p.ts+tcpResetDelay, timerReset)
		}
	}
	return doClose
}

// flipRoles is Connection::FlipRoles + TCPSessionAdapter::FlipRoles. The
// history bits are not swapped, as in Zeek.
func (c *conn) flipRoles() {
	c.orig = c.orig.Peer()
	c.ep[0].isOrig, c.ep[1].isOrig = !c.ep[0].isOrig, !c.ep[1].isOrig
	fs := uint8(0)
	if c.firstSeen&firstOrig != 0 {
		fs |= firstResp
	}
	if c.firstSeen&firstResp != 0 {
		fs |= firstOrig
	}
	c.firstSeen = fs
	c.isPartial = false
	c.history = append(c.history, '^')
}

// flipPending reports whether p triggers the flip of a connection that began
// with an unflipped SYN-ACK: nothing else seen yet, and p is an ACK or data
// segment (no SYN, no RST).
func (c *conn) flipPending(p *packet) bool {
	if !c.synAckFirst || len(c.history) != 1 || c.history[0] != 'H' {
		return false
	}
	if p.flags&(tcp.SYN|tcp.RST) != 0 {
		return false
	}
	return p.flags&tcp.ACK != 0 || p.len > 0
}

// connectionClosed is TCPSessionAdapter::ConnectionClosed (without the
// deferral while reassembled data is pending).
func (c *conn) connectionClosed(e, peer *endpoint, genEvent bool) {
	if e.didClose {
		return
	}
	e.didClose = true
	complete := e.state == StateReset || peer.didClose || peer.state == StateInactive
	if complete {
		if (e.prevState != StateInactive || peer.state != StateInactive) && genEvent {
			c.active = false // ConnectionFinished
		}
		c.cancelAnalyzerTimers()
		c.addTimer(c.lastTime+tcpCloseDelay, timerDelete)
		return
	}
	if e.prevState != StateInactive {
		c.addTimer(c.lastTime+tcpSessionTimer, timerExpire)
	}
	// A first packet that is a FIN would arm the partial-close timer, but
	// only when a connection_partial_close handler exists (none in Zeek's
	// shipped scripts).
}

// isReuse is TCPSessionAdapter::IsReuse: whether SYN packet p starts a new
// Zeek connection on this tuple.
func (c *conn) isReuse(p *packet) bool {
	if p.flags&tcp.SYN == 0 {
		return false
	}
	o, r := &c.ep[c.orig], &c.ep[c.orig.Peer()]
	connOrig := o
	if p.flags&tcp.ACK != 0 {
		if o.state != StateInactive {
			return false
		}
		connOrig = r
	}
	if !(o.didClose || r.didClose) {
		if p.seq == connOrig.startSeq32() {
			return false
		}
		if p.flags&tcp.ACK == 0 && connOrig.state == StateSYNACKSent && r.state == StateInactive && p.seq == r.startSeq32() {
			return false
		}
	}
	return true
}

// ---- timers ----

func (c *conn) addTimer(at int64, k timerKind) { c.timers = append(c.timers, timer{at, k}) }

func (c *conn) cancelAnalyzerTimers() {
	n := 0
	for _, tm := range c.timers {
		if tm.kind == timerInactivity {
			c.timers[n] = tm
			n++
		}
	}
	c.timers = c.timers[:n]
}

func (c *conn) setInactivityTimeout(d int64) {
	if d == c.inactivity {
		return
	}
	for i, tm := range c.timers {
		if tm.kind == timerInactivity {
			c.timers = append(c.timers[:i], c.timers[i+1:]...)
			break
		}
	}
	if d > 0 {
		c.addTimer(c.lastTime+d, timerInactivity)
	}
	c.inactivity = d
}

// fire runs a timer at its due time and reports whether Zeek removed the
// connection.
func (c *conn) fire(tm timer) bool {
	now := tm.at
	o, r := &c.ep[c.orig], &c.ep[c.orig.Peer()]
	switch tm.kind {
	case timerInactivity:
		if c.lastTime+c.inactivity <= now {
			return true
		}
		c.addTimer(c.lastTime+c.inactivity, timerInactivity)
	case timerDelete:
		return true
	case timerAttempt:
		if c.active && (o.state == StateSYNSent || o.state == StateSYNACKSent) && r.state == StateInactive {
			c.active = false
			return true
		}
	case timerReset:
		if c.active {
			return true
		}
	case timerExpire:
		if !c.active {
			return false
		}
		if c.lastTime+tcpConnectionLinger < now {
			if o.didClose || r.didClose {
				if (o.didClose && r.didClose) || o.state == StateReset || r.state == StateReset ||
					o.state == StateInactive || r.state == StateInactive {
					return true
				}
			}
			if r.state == StateInactive && o.state == StateInactive {
				return true
			}
		}
		c.addTimer(now+tcpSessionTimer, timerExpire)
	}
	return false
}
