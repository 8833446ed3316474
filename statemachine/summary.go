package statemachine

import "github.com/tcptrace/tcptrace/tcp"

// Handshake classes.
const (
	HSComplete     = "complete"            // SYN, SYN-ACK, ACK
	HSSimultaneous = "simultaneous-open"   // both sides sent a bare SYN
	HSReordered    = "reordered"           // complete, but the SYN-ACK was captured before the SYN
	HSSynAckNoSyn  = "syn-ack-without-syn" // the SYN was not captured (the SYN-ACK acknowledges it)
	HSUnanswered   = "syn-unanswered"      // SYN(s), no answer at all
	HSRefused      = "refused"             // the server answered the SYN with RST
	HSAborted      = "aborted"             // the client reset its own attempt before it completed
	HSIncomplete   = "incomplete"          // SYN and SYN-ACK, the final ACK never came
	HSNotCaptured  = "not-captured"        // the capture starts mid-stream
)

// Close classes.
const (
	CloseFourWay      = "four-way"       // FIN, ACK, FIN, ACK
	CloseThreeWay     = "three-way"      // the second FIN carries the ACK of the first
	CloseSimultaneous = "simultaneous"   // the FINs crossed: neither acknowledges the other's
	CloseHalfClosed   = "half-closed"    // one side sent FIN; the other was still open when the capture ended
	CloseReset        = "reset"          // ended by RST without a FIN
	CloseFINThenReset = "fin-then-reset" // a FIN, then a RST
	CloseOpen         = "open"           // still open at the end of the capture
	CloseIdle         = "idle"           // open, but silent for longer than the idle threshold before the end
	CloseNeverOpened  = "never-opened"   // the handshake did not complete and nothing ended it
)

// HandshakeClasses and CloseClasses are every class, in the order above.
var (
	HandshakeClasses = []string{HSComplete, HSSimultaneous, HSReordered, HSSynAckNoSyn, HSUnanswered,
		HSRefused, HSAborted, HSIncomplete, HSNotCaptured}
	CloseClasses = []string{CloseFourWay, CloseThreeWay, CloseSimultaneous, CloseHalfClosed, CloseReset,
		CloseFINThenReset, CloseOpen, CloseIdle, CloseNeverOpened}
)

// HandshakeInfo summarises how the connection began.
type HandshakeInfo struct {
	Class         string
	SynFrame      int64
	SynAckFrame   int64
	AckFrame      int64
	SynRetrans    int       // bare SYNs from the client beyond the first with the same ISN
	Backoff       []float64 // seconds between successive SYN transmissions
	RTTClient     float64   // SYN → SYN-ACK as the capture point sees it (seconds; -1 unknown)
	RTTServer     float64   // SYN-ACK → ACK (seconds; -1 unknown)
	MSS           [2]int    // offered by client, server (0 = none)
	WScale        [2]int    // offered shift, -1 = none
	ScaleKnown    bool      // both SYNs seen: window scaling known (in use if both offered)
	SACKPermitted bool      // both offered SACK
	Timestamps    bool      // both offered timestamps
	TFO           bool      // data carried on the SYN
	SynData       int
	ECN           bool // ECN negotiated (SYN with ECE+CWR, SYN-ACK with ECE)
}

// CloseInfo summarises how the connection ended.
type CloseInfo struct {
	Class string
	// ClosedBy is "client", "server" or "": who ended the connection — the
	// first FIN's sender for the FIN closes (four-way, three-way,
	// simultaneous, half-closed), the sender of the RST that ended it for
	// reset and fin-then-reset (a FIN, then a RST, from either side).
	ClosedBy      string
	FirstFINBy    string // the first FIN's sender ("" without FIN)
	FirstFIN      int64
	SecondFIN     int64
	LastACK       int64 // frame of the ACK of the last FIN (0 when not captured)
	ResetFrame    int64 // first effective RST
	ResetBy       string
	HalfCloseData int64   // payload bytes the other side sent after the first FIN
	HalfCloseDur  float64 // seconds from the first FIN to the second (or to the last packet)
	IdleFor       float64 // seconds without packets before the end of the capture
}

// Summary is the final word on a connection.
type Summary struct {
	Handshake   HandshakeInfo
	Close       CloseInfo
	ClientState State
	ServerState State
}

// Finish classifies the connection. end is the capture's last timestamp (ns)
// and idle the threshold (ns) beyond which a silent open connection is idle.
func (c *Conn) Finish(lastTS, end, idle int64) Summary {
	s := Summary{ClientState: c.H[tcp.Client].State, ServerState: c.H[tcp.Server].State}
	s.Handshake = c.handshakeInfo()
	s.Close = c.closeInfo(lastTS, end, idle)
	return s
}

// handshakeInfo tells how the connection began: the handshake's frames,
// timing and negotiated options, then its class.
func (c *Conn) handshakeInfo() HandshakeInfo {
	cl, sv := &c.H[tcp.Client], &c.H[tcp.Server]
	h := HandshakeInfo{RTTClient: -1, RTTServer: -1}
	if len(c.SynFrames) > 0 {
		h.SynFrame = c.SynFrames[0]
		h.SynRetrans = len(c.SynFrames) - 1
		for i := 1; i < len(c.SynTimes); i++ {
			h.Backoff = append(h.Backoff, float64(c.SynTimes[i]-c.SynTimes[i-1])/1e9)
		}
	}
	h.SynAckFrame, h.AckFrame = c.SynAckFrame, c.HandshakeAck
	if len(c.SynTimes) > 0 && c.SynAckFrame != 0 && c.SynAckTS >= c.SynTimes[len(c.SynTimes)-1] {
		h.RTTClient = float64(c.SynAckTS-c.SynTimes[len(c.SynTimes)-1]) / 1e9
	}
	if c.SynAckFrame != 0 && c.HandshakeAck != 0 && c.HandshakeTS >= c.SynAckTS {
		h.RTTServer = float64(c.HandshakeTS-c.SynAckTS) / 1e9
	}
	h.MSS = [2]int{cl.MSS, sv.MSS}
	h.WScale = [2]int{cl.WScale, sv.WScale}
	_, bothSyn := Scale(cl, sv)
	h.ScaleKnown = bothSyn
	h.SACKPermitted = bothSyn && cl.SACKPerm && sv.SACKPerm
	h.Timestamps = bothSyn && cl.HasTS && sv.HasTS
	h.SynData = c.SynDataBytes
	h.TFO = c.SynDataBytes > 0
	h.ECN = c.ECNSyn && c.ECNSynAck
	h.Class = c.handshakeClass()
	return h
}

// established reports whether the handshake completed: either endpoint
// reached ESTABLISHED (or beyond), or both SYNs were acknowledged.
func (c *Conn) established() bool {
	cl, sv := &c.H[tcp.Client], &c.H[tcp.Server]
	return cl.State >= Established || sv.State >= Established || (cl.SynAcked && sv.SynAcked)
}

// refused reports whether the server answered the client's SYN with a RST
// that SYN-SENT accepts (or that cannot be checked), without a SYN of its
// own.
func (c *Conn) refused() bool {
	sv := &c.H[tcp.Server]
	for _, r := range c.Resets {
		if r.Sender == tcp.Server && r.ReceiverState == SynSent && !sv.SynSeen &&
			(r.Verdict == EvRSTAccepted || r.Verdict == EvRSTUnchecked) {
			return true
		}
	}
	return false
}

// handshakeClass is the HS* class of how the connection began; the first
// case that holds wins.
func (c *Conn) handshakeClass() string {
	cl, sv := &c.H[tcp.Client], &c.H[tcp.Server]
	clientSyn := cl.SynSeen && !cl.SynInferred
	established := c.established()
	switch {
	case c.MidStream:
		return HSNotCaptured
	case c.SimOpen:
		return HSSimultaneous
	case c.refused():
		return HSRefused
	case !clientSyn && sv.SynSeen:
		return HSSynAckNoSyn
	case clientSyn && !sv.SynSeen && len(c.Resets) > 0 && c.Resets[0].Sender == tcp.Client:
		return HSAborted
	case clientSyn && !sv.SynSeen:
		return HSUnanswered
	case established && c.FirstIsSynAck:
		return HSReordered
	case established:
		return HSComplete
	default:
		return HSIncomplete
	}
}

// closeInfo tells how the connection ended: the RST that ended it, the
// FINs, the half-close, then its class. lastTS is the connection's last
// packet, end the capture's, idle the threshold for CloseIdle (all ns).
func (c *Conn) closeInfo(lastTS, end, idle int64) CloseInfo {
	var cs CloseInfo
	eff := c.endingReset()
	first, second, hasFirst, hasSecond := c.finOrder()
	if hasFirst {
		f := &c.H[first]
		cs.FirstFIN = f.FinFrame
		cs.ClosedBy = first.String()
		cs.FirstFINBy = cs.ClosedBy
		cs.HalfCloseData = c.H[first.Peer()].bytesAfterPeerFIN
		endHC := lastTS
		if hasSecond {
			cs.SecondFIN = c.H[second].FinFrame
			endHC = c.H[second].finTS
		}
		cs.HalfCloseDur = float64(endHC-f.finTS) / 1e9
	}
	if eff != nil {
		cs.ResetFrame, cs.ResetBy = eff.Frame, eff.Sender.String()
	}
	switch {
	case eff != nil && hasFirst && cs.FirstFIN < eff.Frame:
		// The RST ended it: "fin-then-reset by server" is the server's RST
		// after a FIN (the client's, or its own: FirstFINBy says whose).
		cs.Class = CloseFINThenReset
		cs.ClosedBy = eff.Sender.String()
	case eff != nil:
		cs.Class = CloseReset
		cs.ClosedBy = eff.Sender.String()
		cs.SecondFIN, cs.HalfCloseData, cs.HalfCloseDur = 0, 0, 0
	case hasSecond:
		cs.Class, cs.LastACK = c.finCloseClass(first, second)
	case hasFirst:
		cs.Class = CloseHalfClosed
	case !c.established() && !c.MidStream:
		cs.Class = CloseNeverOpened
	default:
		cs.Class = CloseOpen
		if idle > 0 && end-lastTS > idle {
			cs.Class = CloseIdle
		}
	}
	if end > lastTS && StillOpen(cs.Class) {
		cs.IdleFor = float64(end-lastTS) / 1e9
	}
	return cs
}

// StillOpen reports whether a connection of close class class was still
// open when its record was made: nothing ended it, or only one side closed
// (half-closed). Only such a connection has a silence before the end
// (IdleFor): a closed one's would measure when the analysis let it go.
func StillOpen(class string) bool {
	switch class {
	case CloseOpen, CloseIdle, CloseHalfClosed, CloseNeverOpened:
		return true
	}
	return false
}

// endingReset is the RST that ended the connection: the first one that
// ends it (see Reset.ends), unless FINs had already closed both directions
// (a RST after that answers a late segment and ends nothing). nil if none.
func (c *Conn) endingReset() *Reset {
	cl, sv := &c.H[tcp.Client], &c.H[tcp.Server]
	var fullClose int64
	if cl.FinAcked && sv.FinAcked {
		fullClose = max(cl.FinAckedAt, sv.FinAckedAt)
	}
	for i := range c.Resets {
		r := &c.Resets[i]
		if fullClose != 0 && r.Frame > fullClose {
			break
		}
		if r.ends() {
			return r
		}
	}
	return nil
}

// finOrder tells whose FIN came first and whose second, if any (on a tie
// in frame number, the client's first).
func (c *Conn) finOrder() (first, second tcp.Dir, hasFirst, hasSecond bool) {
	cl, sv := &c.H[tcp.Client], &c.H[tcp.Server]
	switch {
	case cl.FinSeen && sv.FinSeen:
		if cl.FinFrame <= sv.FinFrame {
			return tcp.Client, tcp.Server, true, true
		}
		return tcp.Server, tcp.Client, true, true
	case cl.FinSeen:
		return tcp.Client, 0, true, false
	case sv.FinSeen:
		return tcp.Server, 0, true, false
	}
	return 0, 0, false, false
}

// finCloseClass classifies a close where both sides sent a FIN, first's
// before second's: three-way when the second FIN carries the ACK of the
// first, four-way when that ACK came before it, simultaneous when the FINs
// crossed. lastACK is the frame that acknowledged the second FIN (0 if not
// captured).
func (c *Conn) finCloseClass(first, second tcp.Dir) (class string, lastACK int64) {
	f, g := &c.H[first], &c.H[second]
	switch {
	case f.FinAcked && f.FinAckedAt == g.FinFrame:
		class = CloseThreeWay
	case f.FinAcked && f.FinAckedAt < g.FinFrame:
		class = CloseFourWay
	default:
		class = CloseSimultaneous
	}
	if g.FinAcked {
		lastACK = g.FinAckedAt
	}
	return class, lastACK
}

// Done reports whether both endpoints are past the connection: each CLOSED
// or in TIME-WAIT (or the connection never got beyond an attempt that a RST
// ended).
func (c *Conn) Done() bool {
	for _, i := range tcp.Dirs {
		switch c.H[i].State {
		case Closed, TimeWait:
		case Listen:
			if !c.H[i.Peer()].RSTSent && c.H[i.Peer()].State != Closed {
				return false
			}
		default:
			return false
		}
	}
	return true
}
