package statemachine

import (
	"time"

	"github.com/tcptrace/tcptrace/seqnum"
	"github.com/tcptrace/tcptrace/tcp"
)

// EventKind says what an Event observed.
type EventKind uint8

const (
	EvTransition    EventKind = iota + 1 // an endpoint changed state
	EvRSTAccepted                        // a RST whose sequence number is exactly rcv.nxt (RFC 5961 §3.2): the receiver resets
	EvRSTChallenge                       // a RST inside the window but not exact: the receiver must send a challenge ACK and stay open
	EvRSTIgnored                         // a RST outside the window (or unacceptable in SYN-SENT): ignored by the receiver
	EvRSTUnchecked                       // a RST whose acceptability cannot be checked (the sender's sequence space is unknown): taken as accepted
	EvChallengeACK                       // the challenge ACK that answers an in-window RST
	EvFINOutOfOrder                      // a FIN captured before data that precedes it: held until the hole fills
	EvFINRetransmit                      // the same FIN again
	EvFINMoved                           // a FIN with a different sequence number than the first
	EvSYNRetransmit                      // the same SYN again
	EvFINInvalid                         // a FIN at a sequence number already used: ignored
	EvSYNNewISN                          // a SYN with a different ISN on a live connection
)

var eventNames = [...]string{
	EvTransition: "transition", EvRSTAccepted: "rst_accepted", EvRSTChallenge: "rst_in_window",
	EvRSTIgnored: "rst_out_of_window", EvRSTUnchecked: "rst_unchecked", EvChallengeACK: "challenge_ack",
	EvFINOutOfOrder: "fin_out_of_order", EvFINRetransmit: "fin_retransmission",
	EvFINMoved: "fin_changed_seq", EvSYNRetransmit: "syn_retransmission", EvFINInvalid: "fin_invalid_seq", EvSYNNewISN: "syn_new_isn",
}

func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return "event"
}

// Event is one thing a Step observed, with the frame that is its evidence.
type Event struct {
	Kind     EventKind
	Frame    int64   // frame that caused it
	Endpoint tcp.Dir // endpoint concerned (Client or tcp.Server)
	From, To State   // for transitions
	Related  int64   // another frame involved (e.g. the FIN an out-of-order hole delayed)
}

// Reset describes one RST segment.
type Reset struct {
	Frame         int64
	TS            int64
	Sender        tcp.Dir // Client or Server
	SenderState   State
	ReceiverState State // state of the receiver just before the RST
	Verdict       EventKind
	ChallengeSeen int64 // frame of the challenge ACK, when one followed an in-window RST
	Seq, Ack      seqnum.Value
	HasAck        bool
	Expected      seqnum.Value // the receiver's rcv.nxt at that moment (when known)
	Window        uint32       // the receiver's window used for the check
	WindowKnown   bool
	Len           int // payload carried by the RST (RFC 1122 §4.2.2.12 diagnostic text)
}

// ends reports whether the RST ended the connection: the receiver accepts it,
// or the connection was not yet synchronized (a RST answering or aborting an
// attempt). An in-window or out-of-window RST on a synchronized connection
// ends nothing: the receiver ignores it and its sender may well be forged.
func (r *Reset) ends() bool {
	switch r.Verdict {
	case EvRSTAccepted, EvRSTUnchecked:
		return true
	case EvRSTIgnored:
		// A RST to a LISTEN endpoint is ignored by it, but its sender (the
		// client of an attempt the server never answered) gave up. A RST that
		// SYN-SENT does not accept (it does not acknowledge the SYN) changes
		// nothing: the sender may go on with the handshake, which shows the
		// RST was not its own.
		return r.ReceiverState == Listen
	}
	return false
}

// Conn is the replay of one connection: two Halves and what was seen.
type Conn struct {
	H [2]Half

	started bool
	ev      []Event

	// Handshake evidence.
	SynFrames     []int64 // every bare SYN from the client, first included
	SynTimes      []int64
	SynAckFrame   int64
	SynAckTS      int64
	HandshakeAck  int64 // frame of the client's ACK completing the handshake
	HandshakeTS   int64
	SimOpen       bool // both sides sent a bare SYN
	SynDataBytes  int  // payload carried by SYNs (TFO)
	ECNSyn        bool // the client's SYN set ECE+CWR
	ECNSynAck     bool // the server's SYN-ACK set ECE
	MidStream     bool // the first segment was not part of a handshake
	FirstFrame    int64
	FirstDir      tcp.Dir
	FirstIsSynAck bool

	Resets        []Reset
	ResetsDropped int // RSTs beyond MaxResets: checked, not recorded

	challengeWait [2]int // index+1 into Resets of an in-window RST awaiting this endpoint's challenge ACK
	Transitions   []Event
}

// ChallengeWait is how long after an in-window RST (at the capture point)
// its receiver's pure ACK is taken as the challenge ACK that answers it:
// the RST's way to the receiver and the ACK's way back, one round trip,
// which is well under a second on all but the longest paths.
const ChallengeWait = time.Second

// A connection keeps at most MaxResets reset records and MaxSYNs SYN
// retransmission times: a flood on one tuple cannot hold memory per packet.
const (
	MaxResets = 1000
	MaxSYNs   = 1000
)

// New returns a connection replay with both endpoints unknown.
func New() *Conn {
	c := &Conn{}
	c.Init()
	return c
}

// Init makes c a new connection, in place; a recycled one keeps the
// capacity of its buffers (callers copy what they report from them).
func (c *Conn) Init() {
	*c = Conn{ev: c.ev[:0], Transitions: c.Transitions[:0], Resets: c.Resets[:0],
		SynFrames: c.SynFrames[:0], SynTimes: c.SynTimes[:0]}
	c.H[0].WScale, c.H[1].WScale = -1, -1
}

func (c *Conn) emit(e Event) {
	if c.ev == nil {
		c.ev = make([]Event, 0, firstEvents)
	}
	c.ev = append(c.ev, e)
	if e.Kind == EvTransition {
		if c.Transitions == nil {
			c.Transitions = make([]Event, 0, firstTransitions)
		}
		c.Transitions = append(c.Transitions, e)
	}
}

// firstEvents and firstTransitions are the room a new connection's events
// of one step and transitions start with: a handshake, data and a close
// take about eight transitions.
const (
	firstEvents      = 4
	firstTransitions = 12
)

func (c *Conn) setState(ep tcp.Dir, to State, frame int64) {
	h := &c.H[ep]
	if h.State == to {
		return
	}
	c.emit(Event{Kind: EvTransition, Frame: frame, Endpoint: ep, From: h.State, To: to})
	h.State = to
	if to >= Established {
		h.synced = true
	}
}

// Step replays one segment sent by endpoint dir (Client or tcp.Server) and returns
// what it observed. The returned slice is reused by the next call.
func (c *Conn) Step(dir tcp.Dir, s *tcp.Segment) []Event {
	c.ev = c.ev[:0]
	me := &c.H[dir]
	fl := s.Flags
	syn, ack, fin, rst := fl&tcp.SYN != 0, fl&tcp.ACK != 0, fl&tcp.FIN != 0, fl&tcp.RST != 0

	if !c.started {
		c.start(dir, s)
	}
	me.Window, me.WinSet = s.Window, true
	if c.H[dir.Peer()].FinSeen && s.Len > 0 && !rst {
		me.bytesAfterPeerFIN += int64(s.Len)
	}

	// A challenge ACK answers an in-window RST: a pure ACK from the RST's
	// receiver, sent as soon as the RST arrives (RFC 5961 §3.2; Linux's
	// tcp_send_challenge_ack). A pure ACK later than ChallengeWait after the
	// RST answers something else: the wait ends (the receiver's stack
	// rate-limits challenge ACKs, and may send none).
	if i := c.challengeWait[dir]; i > 0 {
		switch {
		case s.TS-c.Resets[i-1].TS > int64(ChallengeWait):
			c.challengeWait[dir] = 0
		case ack && !syn && !fin && !rst && s.Len == 0:
			c.Resets[i-1].ChallengeSeen = s.Frame
			c.emit(Event{Kind: EvChallengeACK, Frame: s.Frame, Endpoint: dir, Related: c.Resets[i-1].Frame})
			c.challengeWait[dir] = 0
		}
	}

	if rst {
		c.rst(dir, s)
		return c.ev
	}

	// 1. The SYN and the sequence space of the sender.
	if syn {
		c.syn(dir, s)
	}
	if !me.NxtSet && !syn {
		// First sight of this endpoint's sequence space (mid-stream, or the
		// SYN was not captured).
		me.Nxt, me.Max, me.NxtSet = s.Seq, s.Seq, true
	}
	start := s.Seq
	if syn {
		start = s.Seq.Add(1)
	}
	end := start.Add(seqnum.Size(s.Len))
	if s.Len > 0 {
		if me.Max.LessThan(end) {
			me.Max = end
		}
		if start.LessThanEq(me.Nxt) && me.Nxt.LessThan(end) {
			me.Nxt = end
		}
	}

	// 2. The acknowledgement field: what this endpoint received of its peer.
	if ack {
		c.ack(dir, s)
	}
	c.handshakeStates(s.Frame)

	// 3. The FIN: it takes one sequence number, after the data.
	if fin {
		c.fin(dir, s, end)
	}
	// A FIN held for a hole may now be in sequence.
	if me.FinSeen && !me.FinApplied && me.Nxt == me.FinSeq {
		c.applyFIN(dir, s.Frame)
	}
	c.handshakeStates(s.Frame)
	return c.ev
}

// start initialises the endpoint states from the first segment seen.
func (c *Conn) start(dir tcp.Dir, s *tcp.Segment) {
	c.started = true
	c.FirstFrame, c.FirstDir = s.Frame, dir
	fl := s.Flags
	switch {
	case fl&(tcp.SYN|tcp.ACK) == tcp.SYN:
		c.H[dir].State = Closed
		c.H[dir.Peer()].State = Listen
	case fl&(tcp.SYN|tcp.ACK) == tcp.SYN|tcp.ACK:
		c.FirstIsSynAck = true
		c.H[dir].State = Listen
		c.H[dir.Peer()].State = Closed
	default:
		// Mid-stream: the handshake happened before the capture started.
		c.MidStream = true
		c.H[dir].State = Established
		c.H[dir.Peer()].State = Established
	}
}

// syn handles the SYN flag of a segment from dir.
func (c *Conn) syn(dir tcp.Dir, s *tcp.Segment) {
	me := &c.H[dir]
	if me.SynSeen && !me.SynInferred {
		if s.Seq == me.ISN {
			if dir == tcp.Client && s.Flags&tcp.ACK == 0 && len(c.SynFrames) < MaxSYNs {
				c.SynFrames = append(c.SynFrames, s.Frame)
				c.SynTimes = append(c.SynTimes, s.TS)
			}
			c.emit(Event{Kind: EvSYNRetransmit, Frame: s.Frame, Endpoint: dir})
		} else {
			c.emit(Event{Kind: EvSYNNewISN, Frame: s.Frame, Endpoint: dir, Related: me.SynFrame})
		}
		return
	}
	me.ISN, me.SynSeen, me.SynInferred, me.SynFrame = s.Seq, true, false, s.Frame
	me.Nxt, me.Max, me.NxtSet = s.Seq.Add(1), s.Seq.Add(1), true
	o := &s.Opts
	if o.HasWScale {
		me.WScale = int(o.WScale)
	}
	me.HasTS, me.SACKPerm = o.HasTS, o.SACKPerm
	if o.HasMSS {
		me.MSS = int(o.MSS)
	}
	c.SynDataBytes += s.Len
	if s.Flags&tcp.ACK == 0 {
		if dir == tcp.Client {
			c.SynFrames = append(c.SynFrames, s.Frame)
			c.SynTimes = append(c.SynTimes, s.TS)
			c.ECNSyn = s.Flags&(tcp.ECE|tcp.CWR) == tcp.ECE|tcp.CWR
		} else {
			c.SimOpen = c.H[tcp.Client].SynSeen
		}
	} else {
		if c.SynAckFrame == 0 {
			c.SynAckFrame, c.SynAckTS = s.Frame, s.TS
			c.ECNSynAck = s.Flags&tcp.ECE != 0
		}
	}
}

// ack handles the acknowledgement field of a segment from dir.
func (c *Conn) ack(dir tcp.Dir, s *tcp.Segment) {
	me, peer := &c.H[dir], &c.H[dir.Peer()]
	a := s.Ack
	if !me.AckSet || me.Ack.LessThan(a) {
		me.Ack, me.AckSet = a, true
	}
	if !peer.SynSeen && !peer.NxtSet && s.Flags&tcp.SYN != 0 {
		// A SYN-ACK whose SYN we did not capture: the peer's ISN is ack-1.
		peer.ISN, peer.SynSeen, peer.SynInferred = a-1, true, true
		peer.Nxt, peer.Max, peer.NxtSet = a, a, true
	}
	if peer.SynSeen && !peer.SynAcked && peer.ISN.Add(1).LessThanEq(a) {
		peer.SynAcked = true
		me.GotPeerSyn = true
		if dir == tcp.Client && c.HandshakeAck == 0 && s.Flags&tcp.SYN == 0 && c.SynAckFrame != 0 {
			c.HandshakeAck, c.HandshakeTS = s.Frame, s.TS
		}
	}
	if peer.NxtSet && peer.Nxt.LessThan(a) && !peer.FinSeen {
		// The peer sent data we did not capture and this endpoint acknowledges
		// it: the stream continues from there.
		peer.Nxt = a
		if peer.Max.LessThan(a) {
			peer.Max = a
		}
	}
	// The acknowledgement of the peer's FIN: exactly FinSeq+1.
	if peer.FinSeen && !peer.FinAcked && a == peer.FinSeq.Add(1) {
		if !peer.FinApplied {
			// The receiver has everything before the FIN: it is in sequence.
			peer.Nxt = peer.FinSeq
			c.applyFIN(dir.Peer(), s.Frame)
		}
		peer.FinAcked, peer.FinAckedAt = true, s.Frame
		// The FIN's sender learns its FIN arrived.
		switch peer.State {
		case FinWait1:
			if me.FinApplied && !me.FinAcked {
				// This endpoint's FIN went out before this ACK: the peer
				// received it first (simultaneous close, RFC 9293 §3.6 case
				// 2): FIN-WAIT-1 → CLOSING, then this ACK → TIME-WAIT.
				c.setState(dir.Peer(), Closing, s.Frame)
				c.setState(dir.Peer(), TimeWait, s.Frame)
			} else {
				c.setState(dir.Peer(), FinWait2, s.Frame)
			}
		case Closing:
			c.setState(dir.Peer(), TimeWait, s.Frame)
		case LastAck:
			c.setState(dir.Peer(), Closed, s.Frame)
		}
		// This endpoint received the peer's FIN.
		switch me.State {
		case Established, SynReceived:
			c.setState(dir, CloseWait, s.Frame)
		case FinWait1:
			if me.FinAcked {
				c.setState(dir, TimeWait, s.Frame)
			} else {
				c.setState(dir, Closing, s.Frame)
			}
		case FinWait2:
			c.setState(dir, TimeWait, s.Frame)
		}
	}
}

// fin handles the FIN flag of a segment from dir whose data ends at end.
func (c *Conn) fin(dir tcp.Dir, s *tcp.Segment, end seqnum.Value) {
	me := &c.H[dir]
	if me.FinSeen {
		if end == me.FinSeq {
			c.emit(Event{Kind: EvFINRetransmit, Frame: s.Frame, Endpoint: dir, Related: me.FinFrame})
		} else {
			c.emit(Event{Kind: EvFINMoved, Frame: s.Frame, Endpoint: dir, Related: me.FinFrame})
		}
		return
	}
	if me.NxtSet && end.LessThan(me.Nxt) {
		// A FIN in sequence space already used (e.g. at the SYN's own
		// sequence number): no stack would accept it; it closes nothing.
		c.emit(Event{Kind: EvFINInvalid, Frame: s.Frame, Endpoint: dir})
		return
	}
	me.FinSeen, me.FinSeq, me.FinFrame, me.finTS = true, end, s.Frame, s.TS
	if me.Max.LessThan(end.Add(1)) {
		me.Max = end.Add(1)
	}
	if me.Nxt == end {
		c.applyFIN(dir, s.Frame)
		return
	}
	c.emit(Event{Kind: EvFINOutOfOrder, Frame: s.Frame, Endpoint: dir})
}

// applyFIN moves the FIN's sender on once the FIN is in sequence (RFC 9293
// §3.10.4 CLOSE: ESTABLISHED → FIN-WAIT-1, CLOSE-WAIT → LAST-ACK).
func (c *Conn) applyFIN(dir tcp.Dir, frame int64) {
	me := &c.H[dir]
	me.FinApplied = true
	me.Nxt = me.FinSeq.Add(1)
	switch me.State {
	case Established, SynReceived, SynSent, Listen, Closed, Unknown:
		c.setState(dir, FinWait1, frame)
	case CloseWait:
		c.setState(dir, LastAck, frame)
	}
}

// handshakeStates derives the states of endpoints still in their handshake
// from what they sent and what was acknowledged (RFC 9293 §3.5).
func (c *Conn) handshakeStates(frame int64) {
	for _, ep := range tcp.Dirs {
		h := &c.H[ep]
		if h.synced || h.RSTSent || !h.SynSeen {
			continue
		}
		switch {
		case h.SynAcked && h.GotPeerSyn:
			c.setState(ep, Established, frame)
		case h.GotPeerSyn:
			c.setState(ep, SynReceived, frame)
		case !h.SynInferred && h.State != SynSent && h.State < SynReceived:
			c.setState(ep, SynSent, frame)
		case h.SynInferred && h.State < SynSent:
			c.setState(ep, SynSent, frame)
		}
	}
}

// rst checks a RST from dir against the receiver's state (RFC 9293 §3.10.7,
// RFC 5961 §3): exactly rcv.nxt resets; inside the window calls for a
// challenge ACK and does not reset; outside it is ignored. The sender itself
// has aborted whatever the verdict.
func (c *Conn) rst(dir tcp.Dir, s *tcp.Segment) {
	me, peer := &c.H[dir], &c.H[dir.Peer()]
	r := Reset{
		Frame: s.Frame, TS: s.TS, Sender: dir, SenderState: me.State, ReceiverState: peer.State,
		Seq: s.Seq, Ack: s.Ack, HasAck: s.Flags&tcp.ACK != 0, Len: s.Len,
	}
	switch {
	case peer.State == SynSent || (peer.SynSeen && !peer.SynAcked && !me.SynSeen && !me.NxtSet):
		// Answer to a SYN: SYN-SENT accepts a RST only when its ACK
		// acknowledges the SYN; without the ACK bit it drops it (RFC 9293
		// §3.10.7.3; Linux tcp_rcv_synsent_state_process likewise).
		r.Expected = peer.ISN.Add(1)
		switch {
		case !peer.SynSeen:
			r.Verdict = EvRSTUnchecked
		case r.HasAck && s.Ack == peer.ISN.Add(1):
			r.Verdict = EvRSTAccepted
		default:
			r.Verdict = EvRSTIgnored
		}
	case peer.State == Listen:
		r.Verdict = EvRSTIgnored // a RST to LISTEN is ignored (§3.10.7.2)
	case !me.NxtSet:
		r.Verdict = EvRSTUnchecked
	default:
		r.Expected = me.Nxt
		r.Window, r.WindowKnown = peer.rcvWindow(me)
		switch {
		case s.Seq == me.Nxt:
			r.Verdict = EvRSTAccepted
		case s.Seq.InWindow(me.Nxt, seqnum.Size(r.Window)):
			r.Verdict = EvRSTChallenge
		default:
			r.Verdict = EvRSTIgnored
		}
	}
	recorded := len(c.Resets) < MaxResets
	if recorded {
		c.Resets = append(c.Resets, r)
	} else {
		c.ResetsDropped++
	}
	c.emit(Event{Kind: r.Verdict, Frame: s.Frame, Endpoint: dir})
	if r.ends() {
		// Only a RST that ends something tells about its sender: one the
		// receiver does not accept changes nothing in the replay (it may be
		// forged, or stale).
		if r.HasAck && (!me.AckSet || me.Ack.LessThan(s.Ack)) {
			me.Ack, me.AckSet = s.Ack, true
		}
		if !me.RSTSent {
			me.RSTSent, me.RSTFrame = true, s.Frame
		}
		// The sender has aborted its end, and the receiver resets (or, for a
		// RST the receiver ignores before synchronizing, the attempt is over).
		c.setState(dir, Closed, s.Frame)
	}
	switch r.Verdict {
	case EvRSTAccepted, EvRSTUnchecked:
		if peer.State != Closed && peer.State != Unknown {
			c.setState(dir.Peer(), Closed, s.Frame)
		}
	case EvRSTChallenge:
		// Not exact: the receiver stays open and must answer with a
		// challenge ACK. Nothing proves the sender aborted either: such RSTs
		// are typically forged (blind reset attacks, RFC 5961 §3).
		// The next challenge ACK answers this RST: it is credited to its
		// record, or to none when the record was dropped at MaxResets (not
		// to the last record kept, nor to an earlier RST still waiting).
		if recorded {
			c.challengeWait[dir.Peer()] = len(c.Resets)
		} else {
			c.challengeWait[dir.Peer()] = 0
		}
	}
}
