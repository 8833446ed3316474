// Package statemachine replays a TCP connection as an observer on the wire
// sees it: one Half per endpoint with its RFC 9293 state, inferred only from
// what each side sends and acknowledges. Conn.Step is pure: no I/O, no clock,
// no logging; every transition is an Event naming the frame that caused it.
//
// It is the state machine behind tcptrace's state column, and it is meant to
// be embedded in other programs (an IDS, a proxy's connection log, a test of a
// TCP stack's behaviour on the wire): it needs only the standard library and
// the public packages tcp and seqnum, not tcptrace's decoder. Make a Conn with
// New, pass each tcp.Segment of one connection to Conn.Step with the side that
// sent it, read the returned Events (state changes, RFC 5961 verdicts on RSTs)
// and the two Halves, and call Conn.Finish at the end for how the connection
// began and ended (see the Example). A Conn is not safe for concurrent use.
package statemachine

import "github.com/tcptrace/tcptrace/seqnum"

// State is an endpoint's RFC 9293 §3.3.2 connection state.
type State uint8

const (
	Unknown     State = iota // nothing known yet
	Closed                   // CLOSED
	Listen                   // LISTEN (assumed for a server that receives a SYN)
	SynSent                  // SYN-SENT
	SynReceived              // SYN-RECEIVED
	Established              // ESTABLISHED
	FinWait1                 // FIN-WAIT-1
	FinWait2                 // FIN-WAIT-2
	CloseWait                // CLOSE-WAIT
	Closing                  // CLOSING
	LastAck                  // LAST-ACK
	TimeWait                 // TIME-WAIT
)

var stateNames = [...]string{
	Unknown: "UNKNOWN", Closed: "CLOSED", Listen: "LISTEN", SynSent: "SYN-SENT",
	SynReceived: "SYN-RECEIVED", Established: "ESTABLISHED", FinWait1: "FIN-WAIT-1",
	FinWait2: "FIN-WAIT-2", CloseWait: "CLOSE-WAIT", Closing: "CLOSING", LastAck: "LAST-ACK",
	TimeWait: "TIME-WAIT",
}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "INVALID"
}

// Half is what the observer knows of one endpoint: its sequence space as it
// sends, what it acknowledged of its peer, and its inferred state. One update
// path serves both directions (no mirrored client/server branches).
type Half struct {
	State State

	ISN         seqnum.Value
	SynSeen     bool // this endpoint's SYN was captured
	SynInferred bool // its SYN was not captured, but the peer acknowledged it
	SynFrame    int64
	SynAcked    bool // the peer acknowledged this endpoint's SYN
	GotPeerSyn  bool // this endpoint acknowledged the peer's SYN

	Nxt    seqnum.Value // next sequence number expected from this endpoint (contiguous)
	NxtSet bool
	Max    seqnum.Value // highest sequence number sent (seq + len), gaps included

	Ack    seqnum.Value // highest acknowledgement this endpoint sent
	AckSet bool

	Window   uint16 // last raw window advertised
	WinSet   bool
	WScale   int  // window scale shift offered in its SYN, -1 if none
	HasTS    bool // timestamps offered in its SYN
	SACKPerm bool
	MSS      int // MSS offered (0 if none)

	FinSeq     seqnum.Value // sequence number of its FIN
	FinSeen    bool         // a FIN was captured from this endpoint
	FinFrame   int64        // frame of the (first) FIN
	FinApplied bool         // the FIN was in sequence: the state machine moved on
	FinAcked   bool         // the peer acknowledged the FIN (ack == FinSeq+1)
	FinAckedAt int64        // frame of that acknowledgement
	finTS      int64

	bytesAfterPeerFIN int64 // payload sent after the peer's FIN (half-close data)

	synced   bool  // the endpoint reached ESTABLISHED (or later) at some point
	RSTSent  bool  // this endpoint sent a RST (it aborted)
	RSTFrame int64 // frame of its first RST

}

// rcvWindow returns the receive window this endpoint advertised, in bytes, and
// whether the scale is known (docs/principles.md#window-scale: only when both
// SYNs were seen; see Scale).
func (h *Half) rcvWindow(peer *Half) (uint32, bool) {
	if sh, ok := Scale(h, peer); ok {
		return uint32(h.Window) << sh, true
	}
	// Unknown: the field may mean up to 2^14 times itself; only a segment
	// beyond that is surely outside the window.
	return uint32(h.Window) << 14, false
}

// Scale is the one answer to "is the window scale known", read by every
// check that scales a window (the RST check here, the window checks and
// timeline of analyze, the handshake summary): the shift that applies to
// h's window field and whether it is known. It is known only when both SYNs
// were seen (an inferred SYN says nothing of its options): then it is h's
// offered shift if both offered one (RFC 7323 §2.2), else 0.
func Scale(h, peer *Half) (int, bool) {
	if !h.SynSeen || h.SynInferred || !peer.SynSeen || peer.SynInferred {
		return 0, false
	}
	if h.WScale >= 0 && peer.WScale >= 0 {
		return min(h.WScale, 14), true
	}
	return 0, true
}
