package analyze

import (
	"fmt"
	"strings"

	"github.com/tcptrace/tcptrace/report"
	"github.com/tcptrace/tcptrace/seqnum"
	"github.com/tcptrace/tcptrace/statemachine"
	"github.com/tcptrace/tcptrace/tcp"
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

// idleSuspect is how long a connection must have been silent for the
// segment after the silence to count as "the first packet after a long
// idle" (NAT and firewall idle timeouts are minutes; 30 s catches the
// shortest common ones).
const idleSuspect = 30e9

// lastN is how many recent segments a connection remembers for the
// diagnosis of its resets.
const lastN = 6

// segNote is what the diagnosis keeps of a segment.
type segNote struct {
	frame, ts int64
	file      int
	dir       tcp.Dir
	flags     tcp.Flags
	seq, ack  seqnum.Value
	len       int
	ttl       uint8
	df        bool
	ipid      uint32
	win       uint16
	hasTS     bool
	tsval     uint32
}

// end is the sequence number after the segment (SYN and FIN count one).
func (n *segNote) end() seqnum.Value {
	l := seqnum.Size(n.len)
	if n.flags&tcp.SYN != 0 {
		l++
	}
	if n.flags&tcp.FIN != 0 {
		l++
	}
	return n.seq.Add(l)
}

// habits is what the diagnosis learns of one sender from its own segments,
// RSTs excluded, over the whole connection (before and after any RST): the
// yardstick a RST that claims to come from it is held against. A host's
// habits differ: Linux numbers a connected socket's IPv4 packets from a
// per-socket counter, some stacks use one global counter (jumps), others
// random IDs or zero; TTLs differ by OS and hop count.
type habits struct {
	n              int // segments
	ttlMin, ttlMax uint8
	v4             int // IPv4 segments
	df             int // ... with DF set
	ipidZero       int // ... with IP ID 0
	ipidPairs      int // successive IPv4 segments
	ipidSteps      int // ... whose ID moved forward by 1 to 2048
	lastIPID       uint32
	ts             int    // segments with a timestamp option
	lastTSVal      uint32 // the latest TSval
}

func (h *habits) add(s *tcp.Segment) {
	if s.Opts.HasTS {
		h.ts++
		h.lastTSVal = s.Opts.TSVal
	}
	if h.n == 0 || s.TTL < h.ttlMin {
		h.ttlMin = s.TTL
	}
	if h.n == 0 || s.TTL > h.ttlMax {
		h.ttlMax = s.TTL
	}
	h.n++
	if s.IPv6 {
		return
	}
	if h.v4 > 0 {
		h.ipidPairs++
		if step := uint16(s.IPID - h.lastIPID); step >= 1 && step <= ipidStep {
			h.ipidSteps++
		}
	}
	h.v4++
	if s.DF {
		h.df++
	}
	if s.IPID == 0 {
		h.ipidZero++
	}
	h.lastIPID = s.IPID
}

// ipidStep is the largest forward step of an incrementing IP ID counter
// between two packets of one sender (a global counter shared with other
// connections, and TSO bursts, move it further than one).
const ipidStep = 2048

// IP ID policies of a sender.
const (
	ipidZero         = "zero"
	ipidIncrementing = "incrementing"
	ipidRandom       = "random"
)

// ipidPolicy names the sender's IP ID policy, or "" with too few IPv4
// segments to tell.
func (h *habits) ipidPolicy() string {
	// Two packets one small step apart already say "incrementing" (random
	// IDs do that 3 % of the time); "zero" and "random" need more.
	switch {
	case h.v4 >= 3 && h.ipidZero == h.v4:
		return ipidZero
	case h.ipidPairs >= 1 && h.ipidZero < h.v4 && h.ipidSteps*10 >= h.ipidPairs*8:
		return ipidIncrementing
	case h.v4 >= 4 && h.ipidSteps*10 <= h.ipidPairs*3:
		return ipidRandom
	}
	return ""
}

// pendAck is the latest segment of one direction waiting for the other
// side's acknowledgement: a round-trip sample of the receiver's leg.
type pendAck struct {
	end seqnum.Value
	ts  int64
	ok  bool
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
	hab     [2]habits
	win     [2]struct{ max, last uint16 } // the sender's advertised windows (raw, non-SYN segments)
	pend    [2]pendAck                    // index: the endpoint expected to acknowledge
	minLeg  [2]int64                      // shortest round trip from the capture point to each endpoint (0: none)
	lastRST [2]int                        // index+1 into resets of each sender's latest RST
	resets  []rstCtx
}

// rstCtx is the snapshot taken when a RST is seen, completed by what the
// sender did after it.
type rstCtx struct {
	note         segNote
	answers      segNote // the peer's last segment before the RST
	hasAnswer    bool
	senderPrev   segNote // the sender's previous segment
	hasPrev      bool
	prevAny      segNote // the connection's previous segment, either way
	hasPrevAny   bool
	unacked      [2]int64 // bytes each side had sent that the other had not acknowledged
	sinceData    [2]int64 // ns since the last data of each side (-1: none)
	lastData     [2]int64 // its frame
	recent       []segNote
	rtxN         int // retransmissions of the sender's last data
	rtxTS        [4]int64
	senderFIN    bool // the sender had sent a FIN before
	finAckedAt   int64
	peerDataEnd  bool // the segment answered carried data
	senderMax    seqnum.Value
	maxSet       bool
	peerMax      seqnum.Value
	peerMaxSet   bool
	senderAck    seqnum.Value // the sender's highest acknowledgement
	senderAckSet bool
	lastTSVal    uint32 // the sender's TSval before the RST
	hasTSVal     bool
	lastIPID     uint32 // the sender's IP ID before the RST (non-RST segments)
	hasLastIPID  bool
	win          struct{ max, last uint16 }

	after     segNote // the sender's next segment after the RST (not a RST)
	hasAfter  bool
	continued int64  // frame of the sender's own segment after the RST that shows it was still alive
	contWhat  string // what that segment did
}

// note records segment s (direction d) of c after the state machine stepped;
// pre is the sender's FIN state before the step.
func (g *diag) note(c *Conn, d tcp.Dir, s *tcp.Segment, senderFINBefore bool) {
	n := segNote{frame: s.Frame, ts: s.TS, file: s.File, dir: d, flags: s.Flags, seq: s.Seq, ack: s.Ack, len: s.Len,
		ttl: s.TTL, df: s.DF, ipid: s.IPID, win: s.Window, hasTS: s.Opts.HasTS, tsval: s.Opts.TSVal}
	rst := s.Flags&tcp.RST != 0
	if rst {
		// One snapshot per reset record of the state machine (it keeps at
		// most MaxResets): diagnose pairs them by index.
		if len(g.resets) < len(c.SM.Resets) {
			g.resets = append(g.resets, g.snapshot(c, d, n, senderFINBefore))
			g.lastRST[d] = len(g.resets)
		}
	} else {
		g.afterRST(d, s, n)
		g.hab[d].add(s)
		if s.Flags&tcp.SYN == 0 {
			w := &g.win[d]
			w.last = s.Window
			w.max = max(w.max, s.Window)
		}
		g.legs(d, s)
	}
	if s.Len > 0 && !rst {
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

// afterRST notes a segment (not a RST) of the sender d of an earlier RST:
// its next segment, and whether it shows the sender alive — new data past
// the RST's sequence number, a SYN, or an acknowledgement of data its peer
// sent after the RST. A RST's real sender has no socket left to do either.
func (g *diag) afterRST(d tcp.Dir, s *tcp.Segment, n segNote) {
	i := g.lastRST[d]
	if i == 0 {
		return
	}
	x := &g.resets[i-1]
	if !x.hasAfter {
		x.after, x.hasAfter = n, true
	}
	if x.continued != 0 {
		return
	}
	switch {
	case s.Flags&tcp.SYN != 0:
		x.continued, x.contWhat = s.Frame, "sent a SYN"
		if s.Flags&tcp.ACK != 0 {
			x.contWhat = "went on with the handshake (SYN-ACK)"
		}
	case s.Len > 0 && x.maxSet && x.note.seq.LessThan(s.Seq.Add(seqnum.Size(s.Len))) && x.senderMax.LessThan(s.Seq.Add(seqnum.Size(s.Len))):
		// New data: past the RST's sequence number and past everything
		// the sender had sent before it (not a reordered earlier segment).
		x.continued, x.contWhat = s.Frame, fmt.Sprintf("sent new data up to seq %d, past the RST's %d", uint32(s.Seq.Add(seqnum.Size(s.Len))), uint32(x.note.seq))
	case s.Flags&tcp.ACK != 0 && x.peerMaxSet && x.peerMax.LessThan(s.Ack):
		x.continued, x.contWhat = s.Frame, fmt.Sprintf("acknowledged data its peer sent after the RST (ack %d)", uint32(s.Ack))
	}
}

// legs takes round-trip samples of each endpoint's leg: the time from a
// segment passing the capture point to the receiver's first acknowledgement
// of it (Karn's rule: not for retransmitted data).
func (g *diag) legs(d tcp.Dir, s *tcp.Segment) {
	if s.Flags&tcp.ACK != 0 {
		if p := &g.pend[d]; p.ok && p.end.LessThanEq(s.Ack) {
			if dt := s.TS - p.ts; dt > 0 && (g.minLeg[d] == 0 || dt < g.minLeg[d]) {
				g.minLeg[d] = dt
			}
			p.ok = false
		}
	}
	if l := s.LogicalLen(); l > 0 {
		p := &g.pend[d.Peer()]
		end := s.Seq.Add(l)
		switch {
		case p.ok && s.Seq.LessThan(p.end):
			p.ok = false // a retransmission: no sample until new data
		case !p.ok || p.end.LessThan(end):
			if !p.ok || s.Seq == p.end {
				*p = pendAck{end: end, ts: s.TS, ok: true}
			}
		}
	}
}

func (g *diag) snapshot(c *Conn, d tcp.Dir, n segNote, senderFIN bool) rstCtx {
	x := rstCtx{note: n, senderFIN: senderFIN, finAckedAt: c.SM.H[d].FinAckedAt}
	if g.hasLast[d.Peer()] {
		x.answers, x.hasAnswer = g.last[d.Peer()], true
		x.peerDataEnd = x.answers.len > 0
	}
	if g.hasLast[d] {
		x.senderPrev, x.hasPrev = g.last[d], true
	}
	if g.n > 0 {
		x.prevAny, x.hasPrevAny = g.ring[(g.n-1)%lastN], true
	}
	for _, e := range tcp.Dirs {
		h, p := &c.SM.H[e], &c.SM.H[e.Peer()]
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
	me, peer := &c.SM.H[d], &c.SM.H[d.Peer()]
	x.senderMax, x.maxSet = me.Max, me.NxtSet
	x.peerMax, x.peerMaxSet = peer.Max, peer.NxtSet
	x.senderAck, x.senderAckSet = me.Ack, me.AckSet
	x.lastIPID, x.hasLastIPID = g.hab[d].lastIPID, g.hab[d].v4 > 0
	x.lastTSVal, x.hasTSVal = g.hab[d].lastTSVal, g.hab[d].ts > 0
	x.win = g.win[d]
	for i := max(0, g.n-lastN); i < g.n; i++ {
		x.recent = append(x.recent, g.ring[i%lastN])
	}
	x.rtxN, x.rtxTS = g.rtxN[d], g.rtxTS[d]
	return x
}

// Linux's reasons for a RST (enum sk_rst_reason, include/net/rstreason.h),
// as the kernel prints them: the vocabulary of linux_reason (inferred from
// the wire) and kernel_reason (read from the kernel's tcp_send_reset).
const (
	linuxNoSocket       = "NO_SOCKET"
	linuxFlags          = "TCP_FLAGS"
	linuxAbortOnClose   = "TCP_ABORT_ON_CLOSE"
	linuxState          = "TCP_STATE"
	linuxAbortOnData    = "TCP_ABORT_ON_DATA"
	linuxTimewait       = "TCP_TIMEWAIT_SOCKET"
	linuxKeepaliveTmout = "TCP_KEEPALIVE_TIMEOUT"
)

// diagnose classifies every RST of c and fills the report's reset records
// (in the same order as c.SM.Resets).
func diagnose(c *Conn, rc *report.Conn) {
	if c.diag == nil {
		return
	}
	var first [2]*report.Reset   // each sender's first RST that ended its side
	var prevAck [2]*rstCtx       // each sender's previous RST+ACK
	var refusal [2]*report.Reset // each sender's first refusal of a SYN
	for i := range rc.Resets {
		if i >= len(c.diag.resets) || i >= len(c.SM.Resets) {
			break
		}
		r, x, out := &c.SM.Resets[i], &c.diag.resets[i], &rc.Resets[i]
		var prev *rstCtx
		if x.note.flags&tcp.ACK != 0 {
			prev, prevAck[r.Sender] = prevAck[r.Sender], x
		}
		classify(c, r, x, out, prev)
		switch f := first[r.Sender]; {
		case out.Cause == CauseRefused:
			if f := refusal[r.Sender]; f != nil {
				// The answer to a SYN retry: refused again.
				out.FollowsFrame = f.Frame
				out.Detail += fmt.Sprintf("; it answers a retry of the SYN refused at frame %d", f.Frame)
			} else {
				refusal[r.Sender] = out
			}
		case f != nil && r.SenderState == statemachine.Closed && out.Cause != CauseMiddlebox:
			// The sender reset already: this RST answers what was still
			// in flight to it. Same cause as the first.
			out.Cause, out.Evidence = f.Cause, append(out.Evidence[:0], report.Evidence{Frame: f.Frame, What: "the first RST of the " + f.Sender})
			out.FollowsFrame = f.Frame
			out.Detail = followDetail(f)
		}
		if first[r.Sender] == nil && (r.Verdict == statemachine.EvRSTAccepted || r.Verdict == statemachine.EvRSTUnchecked) && out.Cause != CauseRefused {
			first[r.Sender] = out
		}
	}
	closingRace(c, rc)
}

// followDetail is the detail of a RST that follows the first RST f of its
// sender, answering what was still in flight to it.
func followDetail(f *report.Reset) string {
	return fmt.Sprintf("a further RST from the %s, answering a segment still in flight after its reset of frame %d (%s)", f.Sender, f.Frame, f.Cause)
}

// closingWindow is how soon after a bare RST that looks half-open its
// sender's own abort (a RST+ACK) shows that it was closing instead.
const closingWindow = 10e6 // 10 ms

// closingRace corrects a half-open verdict that the sender's next RST
// refutes. A socket being closed with unread data answers a segment that
// arrives meanwhile as a stack without the connection does (a bare RST
// from the segment's ACK: NO_SOCKET), then sends its own abort, a RST+ACK
// (TCP_ABORT_ON_CLOSE), microseconds later: a host that had lost the
// connection has no sequence space to abort from. Both RSTs are then the
// sender's abort. (Bench capture: 15 connections of port 18080 called
// half-open, each followed by the abort the kernel logged.)
func closingRace(c *Conn, rc *report.Conn) {
	n := min(len(rc.Resets), len(c.SM.Resets), len(c.diag.resets))
	for i := range n {
		first := &rc.Resets[i]
		ri := &c.SM.Resets[i]
		if first.Cause != CauseHalfOpen || first.FollowsFrame != 0 || ri.HasAck {
			continue
		}
		for j := i + 1; j < n; j++ {
			rj := &c.SM.Resets[j]
			if rj.Sender != ri.Sender {
				continue
			}
			if rj.TS-ri.TS > closingWindow {
				break
			}
			if !rj.HasAck {
				continue
			}
			sender, receiver := ri.Sender.String(), ri.Sender.Peer().String()
			abort := &rc.Resets[j]
			abort.Cause, abort.FollowsFrame, abort.LinuxReason = CauseAbort, 0, ""
			abort.Evidence = []report.Evidence{{Frame: first.Frame, What: fmt.Sprintf("the %s's RST just before, answering the %s's segment as its socket closed", sender, receiver)}}
			if unreadData(&c.diag.resets[i], ri.Sender) {
				abort.LinuxReason = linuxAbortOnClose
				abort.Detail = fmt.Sprintf("the %s aborted the connection (a RST+ACK from its own sequence space) as it closed its socket with data from the %s unread: the data it had not even acknowledged", sender, receiver)
			} else {
				abort.Detail = fmt.Sprintf("the %s aborted the connection (a RST+ACK from its own sequence space) as it closed its socket", sender)
			}
			first.Cause = CauseAbort
			first.Detail = fmt.Sprintf("the %s was closing its socket: this RST answered the %s's segment as a stack without the connection does (a bare RST whose seq is that segment's ACK), and the %s's own abort, a RST+ACK, followed at frame %d: it had not lost the connection, it was aborting it", sender, receiver, sender, abort.Frame)
			first.Evidence = append(first.Evidence, report.Evidence{Frame: abort.Frame, What: fmt.Sprintf("the %s's abort (RST+ACK)", sender)})
			first.AppSees = appSees(ri, first.Cause)
			abort.AppSees = appSees(rj, abort.Cause)
			for k := i + 1; k < len(rc.Resets); k++ {
				if x := &rc.Resets[k]; x.FollowsFrame == first.Frame {
					x.Cause, x.Detail = CauseAbort, followDetail(first)
					x.AppSees = appSees(&c.SM.Resets[k], x.Cause)
				}
			}
			break
		}
	}
}

// selfTalk reports whether both ends of c are one address: a host talking
// to itself has no middlebox on its path.
func selfTalk(c *Conn) bool {
	return c.Client.Addr() == c.Server.Addr()
}

// rstKind says how the RST was made, from its header alone. Linux (and RFC
// 9293 §3.10.7.1 for CLOSED) answers a segment it has no socket for, or that
// an orphan, a TIME-WAIT socket or a listener refuses, from the segment
// itself: a bare RST whose seq is the segment's ACK, or, to a segment without
// ACK (a SYN), a RST+ACK with seq 0 acknowledging it. A socket that aborts on
// its own (close with unread data, SO_LINGER 0, a timeout) sends RST+ACK from
// its own snd.nxt.
func rstKind(x *rstCtx) (reply, active bool) {
	n := &x.note
	if n.flags&tcp.ACK == 0 {
		return true, false
	}
	if x.hasAnswer && x.answers.flags&tcp.ACK == 0 && n.ack == x.answers.end() {
		return true, false
	}
	return false, true
}

// linuxReason infers the sk_rst_reason a Linux sender would have logged for
// this RST, or "" when the wire cannot tell (docs/json.md, linux_reason).
func linuxReason(c *Conn, r *statemachine.Reset, x *rstCtx, answersSYN bool) string {
	reply, active := rstKind(x)
	ans := &x.answers
	switch {
	case answersSYN && x.note.flags&tcp.ACK != 0 && !x.maxSet:
		// No socket took the SYN: a closed port.
		return linuxNoSocket
	case reply && x.hasAnswer:
		// New data for an endpoint that closed first (an orphan, or its
		// FIN-WAIT-2 mini-socket); old duplicates only get an ACK there.
		newData := (ans.len > 0 || ans.flags&tcp.FIN != 0) && (!x.senderAckSet || x.senderAck.LessThan(ans.end()))
		closedFirst := false
		switch r.SenderState {
		case statemachine.FinWait1, statemachine.FinWait2, statemachine.Closing, statemachine.TimeWait:
			closedFirst = true
		}
		switch {
		case closedFirst && x.senderFIN && newData && (x.finAckedAt == 0 || x.finAckedAt >= ans.frame):
			// An orphan in FIN-WAIT-1, or one whose FIN this very segment
			// acknowledges, got new data: tcp_rcv_state_process resets.
			return linuxAbortOnData
		case closedFirst && x.senderFIN && newData:
			// The FIN was acknowledged before: the orphan had become a
			// FIN-WAIT-2 mini-socket (tcp_time_wait), which resets new data.
			return linuxTimewait
		case ans.flags&tcp.ACK != 0 && ans.flags&tcp.SYN == 0 && r.Sender == tcp.Server:
			// No connection, but the server's port has a listener, which
			// resets an ACK it has no request for.
			return linuxFlags
		default:
			return linuxNoSocket
		}
	case active:
		switch r.SenderState {
		case statemachine.Established, statemachine.CloseWait, statemachine.SynReceived:
		default:
			return ""
		}
		if keepAlivesUnanswered(c, r.Sender, x) >= 2 {
			return linuxKeepaliveTmout
		}
		switch {
		case unreadData(x, r.Sender):
			return linuxAbortOnClose
		case peerSentData(x, r.Sender):
			// It had received data: read it all and then aborted
			// (TCP_STATE), or closed with some of it unread
			// (TCP_ABORT_ON_CLOSE). The window does not tell: Linux grows
			// it as data arrives while the buffer has room, read or not
			// (a server that read 64 bytes of a 22 KB upload advertised
			// 64 KB, then 79, 93 and 96 KB; bench capture, port 18091).
			return ""
		}
		return linuxState
	}
	return ""
}

// unreadData says whether the sender of an abortive RST most likely had
// received data its application had not read: its advertised window had
// shrunk (its receive buffer holding what the application did not take), or
// its peer's data arrived after the sender's last segment, not even
// acknowledged before the RST. That the peer's data merely came last is no
// evidence: an application that read it and then aborted has nothing unread
// (Linux logs TCP_STATE then, not TCP_ABORT_ON_CLOSE).
func unreadData(x *rstCtx, sender tcp.Dir) bool {
	shrunk := x.win.max > 0 && int(x.win.last)+2 <= int(x.win.max)
	unanswered := x.hasPrev && x.lastData[sender.Peer()] > x.senderPrev.frame
	return shrunk || unanswered
}

// peerSentData says whether the sender of an abortive RST had received
// data from its peer before it: data its application may or may not have
// read.
func peerSentData(x *rstCtx, sender tcp.Dir) bool {
	return x.sinceData[sender.Peer()] >= 0
}

// keepAlivesUnanswered counts the keep-alive probes the sender sent since
// the peer last said anything.
func keepAlivesUnanswered(c *Conn, sender tcp.Dir, x *rstCtx) int {
	since := int64(0)
	if x.hasAnswer {
		since = x.answers.frame
	}
	n := 0
	for i := len(c.anomalies) - 1; i >= 0; i-- {
		a := &c.anomalies[i]
		if a.Frame <= since {
			break
		}
		if a.Kind == "keep_alive" && a.Dir == sender && a.Frame < x.note.frame {
			n++
		}
	}
	return n
}

// forgery lists the signals for and against a third party having sent the
// RST (Weaver, Sommer & Paxson, NDSS 2009; docs/json.md, signals), judged
// against the claimed sender's own packets before and after it. It returns
// the number of independent signals of forgery.
func forgery(c *Conn, r *statemachine.Reset, x *rstCtx, prevAck *rstCtx, out *report.Reset) int {
	sender := r.Sender.String()
	h := &c.diag.hab[r.Sender]
	n := &x.note
	forged := 0
	sig := func(name string, isForged bool, frame int64, format string, args ...any) {
		out.Signals = append(out.Signals, report.Signal{Name: name, Value: fmt.Sprintf(format, args...), Forged: isForged, Frame: frame})
		if isForged {
			forged++
		}
	}
	if h.n > 0 {
		usual := fmt.Sprint(h.ttlMin)
		if h.ttlMax != h.ttlMin {
			usual = fmt.Sprintf("%d–%d", h.ttlMin, h.ttlMax)
		}
		odd := n.ttl < h.ttlMin || n.ttl > h.ttlMax
		sig("ttl", odd, 0, "ttl %d, the %s's other packets %s", n.ttl, sender, usual)
	}
	if h.v4 >= 2 {
		allDF, noneDF := h.df == h.v4, h.df == 0
		if allDF && !n.df || noneDF && n.df {
			sig("df", true, 0, "DF %s, the %s's other packets %s", onOff(n.df), sender, onOff(!n.df))
		}
	}
	if h.v4 > 0 && n.ipid != 0 {
		switch pol := h.ipidPolicy(); pol {
		case ipidZero:
			sig("ip_id", true, 0, "ip id %d, the %s's packets all carry 0", n.ipid, sender)
		case ipidIncrementing:
			// Within a counter's step after the sender's packet before it
			// (or a little behind it: reordering), or before the one after.
			fits := x.hasLastIPID && (uint16(n.ipid-x.lastIPID) <= ipidStep || uint16(x.lastIPID-n.ipid) <= 64)
			var around []string
			if x.hasLastIPID {
				around = append(around, fmt.Sprintf("%d before it", x.lastIPID))
			}
			if x.hasAfter && x.after.ipid != 0 {
				fits = fits || uint16(x.after.ipid-n.ipid) <= ipidStep
				around = append(around, fmt.Sprintf("%d after it", x.after.ipid))
			}
			sig("ip_id", !fits, 0, "ip id %d, the %s's counter was at %s", n.ipid, sender, strings.Join(around, " and "))
		}
		// An injector may copy the ID of the packet it answers. Tools that
		// write every packet with ID 0 or 1 are no evidence.
		if x.hasAnswer && x.answers.ipid == n.ipid && n.ipid >= 256 && h.ipidPolicy() != ipidRandom {
			sig("ip_id_copied", true, x.answers.frame, "ip id %d, the same as frame %d that it answers", n.ipid, x.answers.frame)
		}
	}
	// A timestamp clock runs forward: a RST whose TSval lies behind the
	// sender's clock before it, or past its clock after it, did not come
	// from that clock (RFC 7323 §5; an injector must guess it).
	if n.hasTS && x.hasTSVal {
		// By more than 1000 ticks (1 s on Linux): reordering on the way
		// moves a packet a few ticks, a guess is off by far more.
		const slack = 1000
		behind := int32(x.lastTSVal - n.tsval)
		ahead := int32(0)
		if x.hasAfter && x.after.hasTS && int32(x.after.tsval-x.lastTSVal) >= 0 {
			ahead = int32(n.tsval - x.after.tsval)
		}
		what := fmt.Sprintf("TSval %d, the %s's clock was at %d before it", n.tsval, sender, x.lastTSVal)
		if x.hasAfter && x.after.hasTS {
			what += fmt.Sprintf(" and %d after it", x.after.tsval)
		}
		sig("timestamp", behind > slack || ahead > slack, 0, "%s", what)
	}
	if x.maxSet && x.senderMax.LessThan(n.seq) {
		sig("seq_beyond_sent", true, 0, "seq %d is %d bytes past the highest the %s had sent (%d)", uint32(n.seq), seqnum.Diff(x.senderMax, n.seq), sender, uint32(x.senderMax))
	}
	if n.flags&tcp.ACK != 0 && x.peerMaxSet && x.peerMax.LessThan(n.ack) && !(x.hasAnswer && n.ack == x.answers.end()) {
		sig("ack_beyond_sent", true, 0, "ack %d acknowledges %d bytes the %s never sent", uint32(n.ack), seqnum.Diff(x.peerMax, n.ack), r.Sender.Peer().String())
	}
	if prevAck != nil && prevAck.note.ack != n.ack && prevAck.lastData[r.Sender.Peer()] == x.lastData[r.Sender.Peer()] {
		sig("ack_change", true, prevAck.note.frame, "ack %d, but the %s's RST of frame %d acknowledged %d and nothing new came in between", uint32(n.ack), sender, prevAck.note.frame, uint32(prevAck.note.ack))
	}
	if x.continued != 0 {
		sig("sender_alive", true, x.continued, "after it the %s %s", sender, x.contWhat)
	}
	// Timing: a RST that acknowledges (or answers) a segment cannot reach
	// the capture point sooner than a round trip of its sender's leg after
	// that segment passed it. Judged against the shortest round trip
	// measured on that leg; one signal among others, never alone.
	if leg := c.diag.minLeg[r.Sender]; leg >= 1e6 {
		if a, ok := x.answered(r.Sender); ok {
			if dt := n.ts - a.ts; dt < leg/2 {
				sig("timing", true, a.frame, "%.3f ms after frame %d, which it answers; the %s's shortest round trip is %.3f ms", float64(dt)/1e6, a.frame, sender, float64(leg)/1e6)
			}
		}
	}
	return forged
}

// answered finds, among the last segments before the RST, the peer's
// segment that the RST answers: the one whose end it acknowledges (RST+ACK),
// or whose ACK it takes as its sequence number (a bare RST).
func (x *rstCtx) answered(sender tcp.Dir) (segNote, bool) {
	n := &x.note
	for i := len(x.recent) - 1; i >= 0; i-- {
		a := x.recent[i]
		if a.dir == sender || a.flags&tcp.RST != 0 {
			continue
		}
		if n.flags&tcp.ACK != 0 && a.end() != a.seq && n.ack == a.end() ||
			n.flags&tcp.ACK == 0 && a.flags&tcp.ACK != 0 && n.seq == a.ack {
			return a, true
		}
	}
	return segNote{}, false
}

func onOff(b bool) string {
	if b {
		return "set"
	}
	return "clear"
}

// classify diagnoses one RST r, in its context x, into out: the state of
// both directions around it, the reason a Linux sender would have logged,
// the signals of forgery, its cause with the detail and evidence, and whose
// application saw what. prevAck is its sender's previous RST+ACK (nil if
// none).
func classify(c *Conn, r *statemachine.Reset, x *rstCtx, out *report.Reset, prevAck *rstCtx) {
	describeAround(x, out)
	f := rstFactsOf(c, r, x)
	out.LinuxReason = linuxReason(c, r, x, f.answersSYN)

	// A third party? Two independent signals at least, and never on a host
	// talking to itself.
	forged := forgery(c, r, x, prevAck, out)
	var why []string
	for _, s := range out.Signals {
		if s.Forged {
			why = append(why, s.Value)
		}
	}
	if forged >= 2 && !selfTalk(c) {
		setCause(out, CauseMiddlebox, "a third party may have forged this RST: %s", joinWords(why))
		out.LinuxReason = ""
	}
	if out.Cause == "" {
		setPatternCause(c, r, x, f, out)
	}
	setCause(out, CauseUnknown, "none of the known patterns fits this RST")
	if forged == 1 && out.Cause != CauseMiddlebox {
		out.Detail += fmt.Sprintf(" (one sign of a third party, not enough to say: %s)", why[0])
	}
	out.AppSees = appSees(r, out.Cause)
}

// describeAround fills what out tells of both directions at the RST: the
// bytes in flight, the time since and frame of each one's last data, and
// the last segments before it.
func describeAround(x *rstCtx, out *report.Reset) {
	out.Unacked = &report.Dir{Client: x.unacked[0], Server: x.unacked[1]}
	out.SinceData = &report.Seconds{Client: secs(x.sinceData[0]), Server: secs(x.sinceData[1])}
	out.LastDataFrames = &report.Dir{Client: x.lastData[0], Server: x.lastData[1]}
	for _, s := range x.recent {
		out.Recent = append(out.Recent, report.SegBrief{
			Frame: s.frame, Sender: s.dir.String(), Flags: s.flags.String(), Len: s.len, TS: s.ts, Time: formatTS(s.ts),
		})
	}
}

// rstFacts are what the cause of a RST is judged on, derived once from the
// reset and its context.
type rstFacts struct {
	sender, receiver string // "client" or "server"
	answersSYN       bool   // it answers the peer's SYN (no ACK)
	synchronized     bool   // its sender was synchronized (SYN-RECEIVED, ESTABLISHED or beyond)
	accepted         bool   // its receiver accepts it, or that cannot be checked
	reply            bool   // made from the segment it answers (rstKind)
	lateClose        bool   // its sender had sent its FIN, or was closing (not CLOSE-WAIT)
	prompt           bool   // it answers the peer's last segment, and soon after it
	idleBefore       int64  // the silence that ended with the segment it answers (ns; -1 unknown)
	senderSilence    int64  // the time since its sender's previous segment (ns; -1: none)
}

// rstFactsOf derives the facts of RST r from its context x.
func rstFactsOf(c *Conn, r *statemachine.Reset, x *rstCtx) rstFacts {
	ans := x.answers
	f := rstFacts{
		sender: r.Sender.String(), receiver: r.Sender.Peer().String(),
		answersSYN:   x.hasAnswer && ans.flags&(tcp.SYN|tcp.ACK) == tcp.SYN,
		synchronized: r.SenderState >= statemachine.Established || r.SenderState == statemachine.SynReceived,
		accepted:     r.Verdict == statemachine.EvRSTAccepted || r.Verdict == statemachine.EvRSTUnchecked,
		lateClose:    x.senderFIN || r.SenderState >= statemachine.FinWait1 && r.SenderState != statemachine.CloseWait,
		idleBefore:   -1, senderSilence: -1,
	}
	f.reply, _ = rstKind(x)
	// The RST answers the peer's last segment: it came from it (a reply
	// RST, or one acknowledging it) and soon after it.
	f.prompt = x.hasAnswer && (f.reply || x.note.ack == ans.end()) && x.note.ts-ans.ts <= max(int64(1e9), 4*c.diag.minLeg[r.Sender])
	if x.hasAnswer && x.hasPrevAny {
		f.idleBefore = x.silenceBefore(ans)
	}
	if x.hasPrev {
		f.senderSilence = x.note.ts - x.senderPrev.ts
	}
	return f
}

// setCause sets out's cause and detail, unless a cause is set already.
func setCause(out *report.Reset, cause, detail string, args ...any) {
	if out.Cause == "" {
		out.Cause, out.Detail = cause, fmt.Sprintf(detail, args...)
	}
}

// addEvidence adds a frame that shows out's cause.
func addEvidence(out *report.Reset, frame int64, what string, args ...any) {
	out.Evidence = append(out.Evidence, report.Evidence{Frame: frame, What: fmt.Sprintf(what, args...)})
}

// setPatternCause sets the cause of a RST from the first pattern it fits,
// in this order: a refused SYN, a retransmission timeout, a RST the
// receiver would not accept, a reset after the sender's close, an idle
// timeout (answering the first segment after a silence), a half-open
// connection (answering data or a keep-alive, or a segment as a stack with
// no connection does), an unprompted reset after a silence, an abort. It
// sets nothing when none fits.
func setPatternCause(c *Conn, r *statemachine.Reset, x *rstCtx, f rstFacts, out *report.Reset) {
	ans := x.answers
	sender, receiver := f.sender, f.receiver
	switch {
	case f.answersSYN && !f.synchronized:
		addEvidence(out, ans.frame, "the %s's SYN", receiver)
		setCause(out, CauseRefused, "the %s answered the SYN of frame %d with a RST: nothing listens on %s (or a firewall rejects it)", sender, ans.frame, endpointOf(c, r.Sender))
	case x.rtxN >= 2 && x.unacked[r.Sender] > 0 && !x.peerDataEnd:
		addEvidence(out, x.note.frame, "the %s had sent the same data %d times", sender, x.rtxN+1)
		setCause(out, CauseRetransTimeout, "the %s retransmitted its data %d times without an acknowledgment and gave up: the peer or the path stopped answering", sender, x.rtxN)
	case !f.accepted && f.synchronized && !f.lateClose:
		setCause(out, CauseUnknown, "the %s would not accept this RST (%s) and too little points at a third party to say who sent it: a stale RST, or a blind reset attempt", receiver, acceptWords(r.Verdict))
	case f.lateClose:
		if x.peerDataEnd {
			addEvidence(out, ans.frame, "%d bytes from the %s after the %s had closed", ans.len, receiver, sender)
			setCause(out, CauseResetAfterClose, "the %s had already closed (%s) and answered the %s's late data with a RST: the %s wrote to a socket the %s had closed", sender, r.SenderState, receiver, receiver, sender)
		} else {
			setCause(out, CauseResetAfterClose, "the %s had already closed (%s) and reset the connection instead of finishing the close", sender, r.SenderState)
		}
	case f.idleBefore >= idleSuspect && f.prompt:
		addEvidence(out, ans.frame, "the first segment after %.1f s of silence", secs(f.idleBefore))
		setCause(out, CauseIdleTimeout, "the connection was idle for %.1f s; the first segment after that was answered by a RST: a NAT or firewall on the path (or the %s) had likely forgotten the connection", secs(f.idleBefore), sender)
	case f.prompt && (!x.hasPrev || f.senderSilence >= idleSuspect) && (ans.len > 0 || isKeepAlive(ans)):
		what := "data"
		if ans.len == 0 {
			what = "a keep-alive"
		}
		addEvidence(out, ans.frame, "%s from the %s", what, receiver)
		setCause(out, CauseHalfOpen, "the %s answered %s for a connection it no longer knows (%s): a restart or a dropped connection left the %s half-open", sender, what, silenceWords(x.hasPrev, f.senderSilence), receiver)
	case f.reply && f.accepted && f.synchronized && x.hasAnswer && ans.flags&tcp.ACK != 0:
		// A bare RST taking its seq from the segment's ACK is how a stack
		// with no socket for a segment answers (RFC 9293 §3.10.7.1).
		addEvidence(out, ans.frame, "the %s's segment, answered from its own ACK field", receiver)
		setCause(out, CauseHalfOpen, "the %s answered frame %d as a stack with no connection does (a bare RST whose seq is that segment's ACK): it no longer knew the connection, which it still had for the %s", sender, ans.frame, receiver)
	case !f.prompt && x.hasPrevAny && x.note.ts-x.prevAny.ts >= idleSuspect:
		idle := x.note.ts - x.prevAny.ts
		addEvidence(out, x.prevAny.frame, "the last segment before %.1f s of silence", secs(idle))
		setCause(out, CauseIdleTimeout, "the %s reset the connection unprompted after %.1f s of silence: an idle timeout (its application's, or a firewall's on its behalf)", sender, secs(idle))
	case f.synchronized && f.accepted:
		setAbortCause(r, x, f, out)
	}
}

// setAbortCause sets the cause of a RST that aborted an established
// connection, with what the evidence leans to: data left unread, data read
// (or not) then an abortive close, or nothing unread at all.
func setAbortCause(r *statemachine.Reset, x *rstCtx, f rstFacts, out *report.Reset) {
	sender, receiver := f.sender, f.receiver
	switch {
	case unreadData(x, r.Sender):
		if last := x.lastData[r.Sender.Peer()]; x.hasPrev && last > x.senderPrev.frame {
			addEvidence(out, last, "the %s's last data, which the %s did not even acknowledge before its RST", receiver, sender)
		} else {
			addEvidence(out, x.note.frame, "the %s's advertised window had shrunk from %d to %d: data waited unread", sender, x.win.max, x.win.last)
		}
		setCause(out, CauseAbort, "the %s reset an established connection instead of closing it with a FIN; it had received data its application had not read, so most likely it closed the socket with unread data (Linux sends a RST then)", sender)
	case peerSentData(x, r.Sender):
		addEvidence(out, x.lastData[r.Sender.Peer()], "the %s's last data to the %s", receiver, sender)
		setCause(out, CauseAbort, "the %s reset an established connection instead of closing it with a FIN, after data from the %s: it closed the socket with some of that data unread (Linux: TCP_ABORT_ON_CLOSE), or read it all and closed with SO_LINGER 0 (TCP_STATE); the wire cannot tell which", sender, receiver)
	default:
		setCause(out, CauseAbort, "the %s reset an established connection instead of closing it with a FIN, having received no data to leave unread: an abortive close (SO_LINGER with timeout 0)", sender)
	}
}

// appSees says whose application saw the RST, and how ("connection reset
// by peer", "connection refused"), given its cause.
func appSees(r *statemachine.Reset, cause string) string {
	receiver := r.Sender.Peer().String()
	switch {
	case cause == CauseRefused:
		return fmt.Sprintf("the %s's connect() fails with \"connection refused\" (ECONNREFUSED)", receiver)
	case r.Verdict == statemachine.EvRSTIgnored:
		return fmt.Sprintf("nobody: the %s ignores a RST outside its window", receiver)
	case r.Verdict == statemachine.EvRSTChallenge:
		return fmt.Sprintf("nobody yet: the %s answers with a challenge ACK and stays open (RFC 5961)", receiver)
	case r.ReceiverState == statemachine.TimeWait || r.ReceiverState == statemachine.Closed:
		return fmt.Sprintf("nobody: the %s had already closed", receiver)
	default:
		return fmt.Sprintf("the %s's application: \"connection reset by peer\" (ECONNRESET) on its next read or write", receiver)
	}
}

func acceptWords(v statemachine.EventKind) string {
	if v == statemachine.EvRSTChallenge {
		return "in its window but not the exact next sequence number"
	}
	return "outside its window"
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

func isKeepAlive(s segNote) bool {
	return s.len <= 1 && s.flags&(tcp.SYN|tcp.FIN|tcp.RST) == 0
}

func endpointOf(c *Conn, e tcp.Dir) string {
	if e == tcp.Client {
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

// Causes is every reset cause, in the order of docs/json.md.
func Causes() []string {
	return []string{CauseRefused, CauseAbort, CauseResetAfterClose, CauseHalfOpen, CauseIdleTimeout,
		CauseRetransTimeout, CauseMiddlebox, CauseUnknown}
}
