package analyze

import (
	"fmt"

	"github.com/tcptrace/tcptrace/internal/decode"
	"github.com/tcptrace/tcptrace/internal/seqnum"
	"github.com/tcptrace/tcptrace/report"
	"github.com/tcptrace/tcptrace/statemachine"
)

// Reset causes (docs/json.md, "type":"reset").
const (
	CauseRefused         = "refused"
	CauseAbort           = "abort"
	CauseResetAfterClose = "reset-after-close"
	CauseHalfOpen        = "half-open"
	CauseIdleTimeout     = "idle-timeout-suspect"
	CauseRetransTimeout  = "retransmission-timeout"
	CauseMiddlebox       = "middlebox-suspect"
	CauseUnknown         = "unknown"
)

// IdleSuspect is how long a connection must have been silent for the
// segment after the silence to count as "the first packet after a long
// idle" (NAT and firewall idle timeouts are minutes; 30 s catches the
// shortest common ones).
const IdleSuspect = 30e9

// lastN is how many recent segments a connection remembers for the
// diagnosis of its resets.
const lastN = 6

// segNote is what the diagnosis keeps of a segment.
type segNote struct {
	frame, ts int64
	file      int
	dir       int8
	flags     decode.Flags
	seq, ack  seqnum.Value
	len       int
	ttl       uint8
	ipid      uint32
}

// diag is the per-connection memory of the reset diagnosis: a few values
// per direction and a ring of the last segments, never per packet.
type diag struct {
	ring    [lastN]segNote
	n       int // segments seen
	last    [2]segNote
	hasLast [2]bool
	data    [2]segNote // last data segment of each direction
	hasData [2]bool
	rtxSeq  [2]seqnum.Value
	rtxN    [2]int      // retransmissions of the data at rtxSeq
	rtxTS   [2][4]int64 // times of its last transmissions
	ttl     [2]uint8    // the sender's usual TTL (first non-RST segment)
	hasTTL  [2]bool
	resets  []rstCtx
}

// rstCtx is the snapshot taken when a RST is seen.
type rstCtx struct {
	note        segNote
	answers     segNote // the peer's last segment before the RST
	hasAnswer   bool
	senderPrev  segNote // the sender's previous segment
	hasPrev     bool
	prevAny     segNote // the connection's previous segment, either way
	hasPrevAny  bool
	unacked     [2]int64 // bytes each side had sent that the other had not acknowledged
	sinceData   [2]int64 // ns since the last data of each side (-1: none)
	lastData    [2]int64 // its frame
	recent      []segNote
	rtxN        int // retransmissions of the sender's last data
	rtxTS       [4]int64
	ttlOdd      bool
	senderFIN   bool // the sender had sent a FIN before
	peerDataEnd bool // the segment answered carried data
}

// note records segment s (direction d) of c after the state machine stepped;
// pre is the sender's FIN state before the step.
func (g *diag) note(c *Conn, d int, s *decode.Segment, senderFINBefore bool) {
	n := segNote{frame: s.Frame, ts: s.TS, file: s.File, dir: int8(d), flags: s.Flags, seq: s.Seq, ack: s.Ack, len: s.Len, ttl: s.TTL, ipid: s.IPID}
	if s.Flags&decode.RST != 0 {
		// One snapshot per reset record of the state machine (it keeps at
		// most MaxResets): diagnose pairs them by index.
		if len(g.resets) < len(c.SM.Resets) {
			g.resets = append(g.resets, g.snapshot(c, d, n, senderFINBefore))
		}
	} else if !g.hasTTL[d] {
		g.ttl[d], g.hasTTL[d] = s.TTL, true
	}
	if s.Len > 0 && s.Flags&decode.RST == 0 {
		if g.hasData[d] && s.Seq == g.rtxSeq[d] {
			g.rtxN[d]++
			copy(g.rtxTS[d][:], g.rtxTS[d][1:])
			g.rtxTS[d][3] = s.TS
		} else if !g.hasData[d] || g.data[d].seq.LessThan(s.Seq) {
			g.rtxSeq[d], g.rtxN[d] = s.Seq, 0
			g.rtxTS[d] = [4]int64{0, 0, 0, s.TS}
		}
		g.data[d], g.hasData[d] = n, true
	}
	g.ring[g.n%lastN] = n
	g.n++
	g.last[d], g.hasLast[d] = n, true
}

func (g *diag) snapshot(c *Conn, d int, n segNote, senderFIN bool) rstCtx {
	x := rstCtx{note: n, senderFIN: senderFIN}
	if g.hasLast[1-d] {
		x.answers, x.hasAnswer = g.last[1-d], true
		x.peerDataEnd = x.answers.len > 0
	}
	if g.hasLast[d] {
		x.senderPrev, x.hasPrev = g.last[d], true
	}
	if g.n > 0 {
		x.prevAny, x.hasPrevAny = g.ring[(g.n-1)%lastN], true
	}
	for e := range 2 {
		h, p := &c.SM.H[e], &c.SM.H[1-e]
		if h.NxtSet && p.AckSet {
			if u := seqnum.Diff(p.Ack, h.Max); u > 0 {
				x.unacked[e] = u
			}
		}
		x.sinceData[e], x.lastData[e] = -1, 0
		if g.hasData[e] {
			x.sinceData[e], x.lastData[e] = n.ts-g.data[e].ts, g.data[e].frame
		}
	}
	for i := max(0, g.n-lastN); i < g.n; i++ {
		x.recent = append(x.recent, g.ring[i%lastN])
	}
	x.rtxN, x.rtxTS = g.rtxN[d], g.rtxTS[d]
	x.ttlOdd = g.hasTTL[d] && n.ttl != g.ttl[d]
	return x
}

// diagnose classifies every RST of c and fills the report's reset records
// (in the same order as c.SM.Resets).
func diagnose(c *Conn, rc *report.Conn) {
	if c.diag == nil {
		return
	}
	seqs := map[int]map[seqnum.Value]bool{}
	for i := range c.SM.Resets {
		r := &c.SM.Resets[i]
		if seqs[r.Sender] == nil {
			seqs[r.Sender] = map[seqnum.Value]bool{}
		}
		seqs[r.Sender][r.Seq] = true
	}
	anomAt := map[int64][]Kind{}
	for _, a := range c.Anomalies {
		anomAt[a.Frame] = append(anomAt[a.Frame], a.Kind)
	}
	var first [2]*report.Reset // each sender's first RST that ended its side
	for i := range rc.Resets {
		if i >= len(c.diag.resets) || i >= len(c.SM.Resets) {
			break
		}
		r, out := &c.SM.Resets[i], &rc.Resets[i]
		if f := first[r.Sender]; f != nil && r.SenderState == statemachine.Closed {
			// The sender reset already: this RST answers what was still
			// in flight to it. Same cause as the first.
			classify(c, r, &c.diag.resets[i], out, len(seqs[r.Sender]), anomAt)
			out.Cause, out.Evidence = f.Cause, append(out.Evidence[:0], report.Evidence{Frame: f.Frame, What: "the first RST of the " + f.Sender})
			out.FollowsFrame = f.Frame
			out.Detail = fmt.Sprintf("a further RST from the %s, answering a segment still in flight after its reset of frame %d (%s)", f.Sender, f.Frame, f.Cause)
			continue
		}
		classify(c, r, &c.diag.resets[i], out, len(seqs[r.Sender]), anomAt)
		if r.Verdict == statemachine.EvRSTAccepted || r.Verdict == statemachine.EvRSTUnchecked {
			if first[r.Sender] == nil {
				first[r.Sender] = out
			}
		}
	}
}

func classify(c *Conn, r *statemachine.Reset, x *rstCtx, out *report.Reset, senderSeqs int, anomAt map[int64][]Kind) {
	sender, receiver := statemachine.EndpointName(r.Sender), statemachine.EndpointName(1-r.Sender)
	out.Unacked = &report.Dir{Client: x.unacked[0], Server: x.unacked[1]}
	out.SinceData = &report.Seconds{Client: secs(x.sinceData[0]), Server: secs(x.sinceData[1])}
	out.LastDataFrames = &report.Dir{Client: x.lastData[0], Server: x.lastData[1]}
	for _, s := range x.recent {
		out.Recent = append(out.Recent, report.SegBrief{
			Frame: s.frame, Sender: dirName(int(s.dir)), Flags: s.flags.String(), Len: s.len, TS: s.ts, Time: FormatTS(s.ts),
		})
	}
	ev := func(frame int64, what string, args ...any) {
		out.Evidence = append(out.Evidence, report.Evidence{Frame: frame, What: fmt.Sprintf(what, args...)})
	}
	set := func(cause, detail string, args ...any) {
		if out.Cause == "" {
			out.Cause, out.Detail = cause, fmt.Sprintf(detail, args...)
		}
	}
	ans := x.answers
	answersSYN := x.hasAnswer && ans.flags&(decode.SYN|decode.ACK) == decode.SYN
	synchronized := r.SenderState >= statemachine.Established || r.SenderState == statemachine.SynReceived
	idleBefore := int64(-1)
	if x.hasAnswer && x.hasPrevAny {
		// the silence that ended with the segment the RST answers
		idleBefore = x.silenceBefore(ans)
	}
	senderSilence := int64(-1)
	if x.hasPrev {
		senderSilence = x.note.ts - x.senderPrev.ts
	}

	// Signs of a third party. Strong ones (TTL, IP ID, timing) come before
	// everything but a refusal; weak ones (the receiver would not accept
	// it) after the signs of a late RST from a closed endpoint.
	var strong, weak []string
	for _, k := range anomAt[r.Frame] {
		switch k {
		case KTTLChange:
			strong = append(strong, "its TTL differs from the sender's other segments")
			ev(r.Frame, "TTL/hop limit %d unlike the %s's other segments", x.note.ttl, sender)
		case KIPIDBreak:
			strong = append(strong, "its IP ID breaks the sender's sequence")
			ev(r.Frame, "IP ID %d far from the %s's previous segments", x.note.ipid, sender)
		}
	}
	if far := farLeg(c, r.Sender); far > 0 && x.hasAnswer && x.note.ts-ans.ts < far/3 {
		strong = append(strong, "it came back faster than the path's round trip allows")
		ev(r.Frame, "%.3f ms after frame %d, but the round trip to the %s is %.3f ms", float64(x.note.ts-ans.ts)/1e6, ans.frame, sender, float64(farLeg(c, r.Sender))/1e6)
	}
	switch r.Verdict {
	case statemachine.EvRSTIgnored:
		weak = append(weak, "its sequence number is outside the receiver's window (the real sender would know it)")
	case statemachine.EvRSTChallenge:
		weak = append(weak, "its sequence number is in the window but not the exact next one")
	}
	if senderSeqs > 1 && r.Verdict != statemachine.EvRSTAccepted {
		weak = append(weak, fmt.Sprintf("the %s sent RSTs with %d different sequence numbers", sender, senderSeqs))
	}
	if len(strong) > 0 && !answersSYN {
		set(CauseMiddlebox, "a third party may have forged this RST: %s", joinWords(append(strong, weak...)))
	}
	lateClose := x.senderFIN || r.SenderState >= statemachine.FinWait1 && r.SenderState != statemachine.CloseWait
	if len(weak) > 0 && !answersSYN && !lateClose && synchronized {
		set(CauseMiddlebox, "a third party may have forged this RST, or it is stale: %s", joinWords(weak))
	}

	switch {
	case out.Cause != "":
	case answersSYN && !synchronized:
		ev(ans.frame, "the %s's SYN", receiver)
		set(CauseRefused, "the %s answered the SYN of frame %d with a RST: nothing listens on %s (or a firewall rejects it)", sender, ans.frame, endpointOf(c, r.Sender))
	case lateClose:
		if x.peerDataEnd {
			ev(ans.frame, "%d bytes from the %s after the %s had closed", ans.len, receiver, sender)
			set(CauseResetAfterClose, "the %s had already closed (%s) and answered the %s's late data with a RST: the %s wrote to a socket the %s had closed", sender, r.SenderState, receiver, receiver, sender)
		} else {
			set(CauseResetAfterClose, "the %s had already closed (%s) and reset the connection instead of finishing the close", sender, r.SenderState)
		}
	case x.rtxN >= 2:
		ev(x.note.frame, "the %s had sent the same data %d times", sender, x.rtxN+1)
		set(CauseRetransTimeout, "the %s retransmitted its data %d times without an acknowledgment and gave up: the peer or the path stopped answering", sender, x.rtxN)
	case idleBefore >= IdleSuspect && x.hasAnswer:
		ev(ans.frame, "the first segment after %.1f s of silence", secs(idleBefore))
		set(CauseIdleTimeout, "the connection was idle for %.1f s; the first segment after that was answered by a RST: a NAT or firewall on the path (or the %s) had likely forgotten the connection", secs(idleBefore), sender)
	case x.hasAnswer && (!x.hasPrev || senderSilence >= IdleSuspect) && (ans.len > 0 || isKeepAlive(ans)):
		what := "data"
		if ans.len == 0 {
			what = "a keep-alive"
		}
		ev(ans.frame, "%s from the %s", what, receiver)
		set(CauseHalfOpen, "the %s answered %s for a connection it no longer knows (%s): a restart or a dropped connection left the %s half-open", sender, what, silenceWords(x.hasPrev, senderSilence), receiver)
	case synchronized && r.Verdict != statemachine.EvRSTIgnored:
		// An abort: which way does the evidence lean?
		unread := x.hasAnswer && x.peerDataEnd || (x.lastData[1-r.Sender] > x.lastData[r.Sender] && x.lastData[1-r.Sender] > 0)
		if unread {
			ev(x.lastData[1-r.Sender], "the %s's last data, which the %s's application never answered", receiver, sender)
			set(CauseAbort, "the %s reset an established connection instead of closing it with a FIN; its peer's data was the last thing it received, so most likely its application closed the socket with unread data (Linux sends a RST then)", sender)
		} else {
			set(CauseAbort, "the %s reset an established connection instead of closing it with a FIN, with nothing left unread: an abortive close (SO_LINGER with timeout 0) or the process exited", sender)
		}
	}
	set(CauseUnknown, "none of the known patterns fits this RST")

	// Who saw "connection reset by peer".
	switch {
	case out.Cause == CauseRefused:
		out.AppSees = fmt.Sprintf("the %s's connect() fails with \"connection refused\" (ECONNREFUSED)", receiver)
	case r.Verdict == statemachine.EvRSTIgnored:
		out.AppSees = fmt.Sprintf("nobody: the %s ignores a RST outside its window", receiver)
	case r.Verdict == statemachine.EvRSTChallenge:
		out.AppSees = fmt.Sprintf("nobody yet: the %s answers with a challenge ACK and stays open (RFC 5961)", receiver)
	case r.ReceiverState == statemachine.TimeWait || r.ReceiverState == statemachine.Closed:
		out.AppSees = fmt.Sprintf("nobody: the %s had already closed", receiver)
	default:
		out.AppSees = fmt.Sprintf("the %s's application: \"connection reset by peer\" (ECONNRESET) on its next read or write", receiver)
	}
}

// silenceBefore is the silence before segment a: the time from the
// connection's segment before it to it.
func (x *rstCtx) silenceBefore(a segNote) int64 {
	prev := int64(-1)
	for _, s := range x.recent {
		if s.frame == a.frame && s.ts == a.ts {
			break
		}
		prev = s.ts
	}
	if prev < 0 {
		return -1
	}
	return a.ts - prev
}

// farLeg returns the round trip from the capture point to endpoint e when e
// is clearly the far side (its leg of the handshake is at least 1 ms and
// three times the other), else 0: the time within which e cannot answer.
func farLeg(c *Conn, e int) int64 {
	h := c.SM
	if h.SynAckFrame == 0 || h.HandshakeAck == 0 || len(h.SynTimes) == 0 {
		return 0
	}
	toServer := h.SynAckTS - h.SynTimes[len(h.SynTimes)-1] // SYN → SYN-ACK: the server's distance
	toClient := h.HandshakeTS - h.SynAckTS                 // SYN-ACK → ACK: the client's distance
	mine, other := toServer, toClient
	if e == statemachine.Client {
		mine, other = toClient, toServer
	}
	if mine >= 1e6 && mine > 3*other {
		return mine
	}
	return 0
}

func isKeepAlive(s segNote) bool {
	return s.len <= 1 && s.flags&(decode.SYN|decode.FIN|decode.RST) == 0
}

func endpointOf(c *Conn, e int) string {
	if e == statemachine.Client {
		return c.Client.String()
	}
	return c.Server.String()
}

func secs(ns int64) float64 {
	if ns < 0 {
		return -1
	}
	return float64(ns) / 1e9
}

func silenceWords(hasPrev bool, ns int64) string {
	if !hasPrev {
		return "it had sent nothing before in this capture"
	}
	return fmt.Sprintf("it had sent nothing for %.1f s", secs(ns))
}

func joinWords(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	out := s[0]
	for _, w := range s[1 : len(s)-1] {
		out += ", " + w
	}
	return out + " and " + s[len(s)-1]
}
