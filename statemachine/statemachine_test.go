package statemachine

import (
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/seqnum"
	"github.com/tcptrace/tcptrace/tcp"
)

const (
	S  = tcp.SYN
	A  = tcp.ACK
	SA = tcp.SYN | tcp.ACK
	FA = tcp.FIN | tcp.ACK
	R  = tcp.RST
	RA = tcp.RST | tcp.ACK
	PA = tcp.PSH | tcp.ACK
)

type seg struct {
	dir      tcp.Dir
	flags    tcp.Flags
	seq, ack uint32
	n        int
	when     time.Duration // offset from the start; 0 = 1 ms per segment
	win      uint16
}

func c2s(fl tcp.Flags, seq, ack uint32, n int) seg { return seg{tcp.Client, fl, seq, ack, n, 0, 65535} }
func s2c(fl tcp.Flags, seq, ack uint32, n int) seg { return seg{tcp.Server, fl, seq, ack, n, 0, 65535} }
func (s seg) at(d time.Duration) seg               { s.when = d; return s }

// replay runs segments (frames 1..) and returns the connection.
func replay(segs []seg) *Conn {
	c := New()
	for i, sg := range segs {
		at := sg.when
		if at == 0 {
			at = time.Duration(i) * time.Millisecond
		}
		s := &tcp.Segment{Frame: int64(i + 1), TS: int64(at), Flags: sg.flags,
			Seq: seqnum.Value(sg.seq), Ack: seqnum.Value(sg.ack), Len: sg.n, Window: sg.win}
		c.Step(sg.dir, s)
	}
	return c
}

const isnC, isnS = 1000, 5000

var hs = []seg{c2s(S, isnC, 0, 0), s2c(SA, isnS, isnC+1, 0), c2s(A, isnC+1, isnS+1, 0)}

func cat(parts ...[]seg) []seg {
	var out []seg
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestStateMachine(t *testing.T) {
	const c1, s1 = isnC + 1, isnS + 1
	tests := []struct {
		name               string
		segs               []seg
		handshake, close   string
		closedBy           string
		client, server     State
		halfCloseData      int64
		resetVerdict       EventKind
		challengeSeen      bool
		synRetrans         int
		firstFIN, secondFN int64
	}{
		{name: "four-way close", segs: cat(hs, []seg{c2s(PA, c1, s1, 100), s2c(A, s1, c1+100, 0),
			c2s(FA, c1+100, s1, 0), s2c(A, s1, c1+101, 0), s2c(FA, s1, c1+101, 0), c2s(A, c1+101, s1+1, 0)}),
			handshake: HSComplete, close: CloseFourWay, closedBy: "client", client: TimeWait, server: Closed, firstFIN: 6, secondFN: 8},
		{name: "three-way close: the second FIN carries the ACK", segs: cat(hs, []seg{
			s2c(FA, s1, c1, 0), c2s(FA, c1, s1+1, 0), s2c(A, s1+1, c1+1, 0)}),
			handshake: HSComplete, close: CloseThreeWay, closedBy: "server", client: Closed, server: TimeWait, firstFIN: 4, secondFN: 5},
		{name: "simultaneous close: the FINs cross", segs: cat(hs, []seg{
			c2s(FA, c1, s1, 0), s2c(FA, s1, c1, 0), c2s(A, c1+1, s1+1, 0), s2c(A, s1+1, c1+1, 0)}),
			handshake: HSComplete, close: CloseSimultaneous, closedBy: "client", client: TimeWait, server: TimeWait, firstFIN: 4, secondFN: 5},
		{name: "half-close: server keeps sending after the client's FIN", segs: cat(hs, []seg{
			c2s(FA, c1, s1, 0), s2c(A, s1, c1+1, 0), s2c(PA, s1, c1+1, 1000), c2s(A, c1+1, s1+1000, 0),
			s2c(FA, s1+1000, c1+1, 0), c2s(A, c1+1, s1+1001, 0)}),
			handshake: HSComplete, close: CloseFourWay, closedBy: "client", client: TimeWait, server: Closed, halfCloseData: 1000, firstFIN: 4, secondFN: 8},
		{name: "half-closed at the end of the capture", segs: cat(hs, []seg{c2s(FA, c1, s1, 0), s2c(A, s1, c1+1, 0)}),
			handshake: HSComplete, close: CloseHalfClosed, closedBy: "client", client: FinWait2, server: CloseWait, firstFIN: 4},
		{name: "reset by the server, exact sequence number", segs: cat(hs, []seg{c2s(PA, c1, s1, 10), s2c(RA, s1, c1+10, 0)}),
			handshake: HSComplete, close: CloseReset, closedBy: "server", client: Closed, server: Closed, resetVerdict: EvRSTAccepted},
		{name: "RST inside the window: challenge ACK, receiver stays open", segs: cat(hs, []seg{s2c(R, s1+100, 0, 0), c2s(A, c1, s1, 0)}),
			handshake: HSComplete, close: CloseOpen, client: Established, server: Established, resetVerdict: EvRSTChallenge, challengeSeen: true},
		{name: "RST outside the window is ignored", segs: cat(hs, []seg{s2c(R, s1+200000, 0, 0)}),
			handshake: HSComplete, close: CloseOpen, client: Established, server: Established, resetVerdict: EvRSTIgnored},
		{name: "refused: RST answers the SYN", segs: []seg{c2s(S, isnC, 0, 0), s2c(RA, 0, c1, 0)},
			handshake: HSRefused, close: CloseReset, closedBy: "server", client: Closed, server: Closed, resetVerdict: EvRSTAccepted},
		{name: "RST answering a SYN with a wrong ack is not acceptable and changes nothing", segs: []seg{c2s(S, isnC, 0, 0), s2c(RA, 0, c1+5, 0)},
			handshake: HSUnanswered, close: CloseNeverOpened, client: SynSent, server: Listen, resetVerdict: EvRSTIgnored},
		{name: "RST without ACK in SYN-SENT is dropped (RFC 9293 3.10.7.3)", segs: []seg{c2s(S, isnC, 0, 0), s2c(R, 0, 0, 0)},
			handshake: HSUnanswered, close: CloseNeverOpened, client: SynSent, server: Listen, resetVerdict: EvRSTIgnored},
		{name: "forged RST races the handshake: the server goes on", segs: []seg{c2s(S, isnC, 0, 0), s2c(RA, 12345, c1+7, 0),
			s2c(SA, isnS, c1, 0), c2s(A, c1, s1, 0)},
			handshake: HSComplete, close: CloseOpen, client: Established, server: Established, resetVerdict: EvRSTIgnored},
		{name: "SYN unanswered, retransmitted with backoff", segs: []seg{c2s(S, isnC, 0, 0).at(time.Millisecond),
			c2s(S, isnC, 0, 0).at(1001 * time.Millisecond), c2s(S, isnC, 0, 0).at(3001 * time.Millisecond)},
			handshake: HSUnanswered, close: CloseNeverOpened, client: SynSent, server: Listen, synRetrans: 2},
		{name: "simultaneous open", segs: []seg{c2s(S, isnC, 0, 0), s2c(S, isnS, 0, 0), c2s(SA, isnC, s1, 0), s2c(SA, isnS, c1, 0)},
			handshake: HSSimultaneous, close: CloseOpen, client: Established, server: Established},
		{name: "SYN-ACK without SYN", segs: []seg{s2c(SA, isnS, c1, 0), c2s(A, c1, s1, 0)},
			handshake: HSSynAckNoSyn, close: CloseOpen, client: Established, server: Established},
		{name: "reordered handshake: SYN-ACK captured first", segs: []seg{s2c(SA, isnS, c1, 0), c2s(S, isnC, 0, 0), c2s(A, c1, s1, 0)},
			handshake: HSReordered, close: CloseOpen, client: Established, server: Established},
		{name: "SYN and SYN-ACK, no final ACK", segs: []seg{c2s(S, isnC, 0, 0), s2c(SA, isnS, c1, 0)},
			handshake: HSIncomplete, close: CloseNeverOpened, client: SynSent, server: SynReceived},
		{name: "mid-stream start, closed by the server", segs: []seg{s2c(PA, 700, 300, 50), c2s(A, 300, 750, 0),
			s2c(FA, 750, 300, 0), c2s(FA, 300, 751, 0), s2c(A, 751, 301, 0)},
			handshake: HSNotCaptured, close: CloseThreeWay, closedBy: "server", client: Closed, server: TimeWait, firstFIN: 3, secondFN: 4},
		{name: "FIN captured before the last data segment", segs: cat(hs, []seg{c2s(PA, c1, s1, 100),
			c2s(FA, c1+200, s1, 0), c2s(PA, c1+100, s1, 100), s2c(FA, s1, c1+201, 0), c2s(A, c1+201, s1+1, 0)}),
			handshake: HSComplete, close: CloseThreeWay, closedBy: "client", client: TimeWait, server: Closed, firstFIN: 5, secondFN: 7},
		{name: "sequence numbers wrap through 2^32", segs: []seg{c2s(S, 0xFFFFFFF0, 0, 0), s2c(SA, 0xFFFFFFFE, 0xFFFFFFF1, 0),
			c2s(A, 0xFFFFFFF1, 0xFFFFFFFF, 0), c2s(PA, 0xFFFFFFF1, 0xFFFFFFFF, 100), s2c(A, 0xFFFFFFFF, 0x55, 0),
			c2s(FA, 0x55, 0xFFFFFFFF, 0), s2c(FA, 0xFFFFFFFF, 0x56, 0), c2s(A, 0x56, 0, 0)},
			handshake: HSComplete, close: CloseThreeWay, closedBy: "client", client: TimeWait, server: Closed, firstFIN: 6, secondFN: 7},
		{name: "FIN then RST", segs: cat(hs, []seg{c2s(FA, c1, s1, 0), s2c(A, s1, c1+1, 0), s2c(PA, s1, c1+1, 10), c2s(R, c1+1, 0, 0)}),
			handshake: HSComplete, close: CloseFINThenReset, closedBy: "client", client: Closed, server: Closed, resetVerdict: EvRSTAccepted, halfCloseData: 10, firstFIN: 4},
		{name: "client aborts its own attempt", segs: []seg{c2s(S, isnC, 0, 0), c2s(R, c1, 0, 0)},
			handshake: HSAborted, close: CloseReset, closedBy: "client", client: Closed, server: Listen, resetVerdict: EvRSTIgnored},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := replay(tt.segs)
			last := int64(len(tt.segs)) * int64(time.Millisecond)
			s := c.Finish(last, last, int64(time.Minute))
			if s.Handshake.Class != tt.handshake {
				t.Errorf("handshake %q, want %q", s.Handshake.Class, tt.handshake)
			}
			if s.Close.Class != tt.close {
				t.Errorf("close %q, want %q", s.Close.Class, tt.close)
			}
			if s.Close.ClosedBy != tt.closedBy {
				t.Errorf("closed by %q, want %q", s.Close.ClosedBy, tt.closedBy)
			}
			if s.ClientState != tt.client || s.ServerState != tt.server {
				t.Errorf("final states client %s server %s, want %s %s", s.ClientState, s.ServerState, tt.client, tt.server)
			}
			if s.Close.HalfCloseData != tt.halfCloseData {
				t.Errorf("half-close data %d, want %d", s.Close.HalfCloseData, tt.halfCloseData)
			}
			if tt.resetVerdict != 0 {
				if len(c.Resets) == 0 || c.Resets[0].Verdict != tt.resetVerdict {
					t.Errorf("resets %+v, want first verdict %s", c.Resets, tt.resetVerdict)
				} else if (c.Resets[0].ChallengeSeen != 0) != tt.challengeSeen {
					t.Errorf("challenge ACK seen = %v, want %v", c.Resets[0].ChallengeSeen != 0, tt.challengeSeen)
				}
			}
			if s.Handshake.SynRetrans != tt.synRetrans {
				t.Errorf("SYN retransmissions %d, want %d", s.Handshake.SynRetrans, tt.synRetrans)
			}
			if s.Close.FirstFIN != tt.firstFIN || s.Close.SecondFIN != tt.secondFN {
				t.Errorf("FIN frames %d,%d want %d,%d", s.Close.FirstFIN, s.Close.SecondFIN, tt.firstFIN, tt.secondFN)
			}
			if t.Failed() {
				for _, e := range c.Transitions {
					t.Logf("frame %d: %s %s -> %s", e.Frame, e.Endpoint, e.From, e.To)
				}
			}
		})
	}
}

func TestTransitionsNameTheirFrames(t *testing.T) {
	const c1, s1 = isnC + 1, isnS + 1
	c := replay(cat(hs, []seg{c2s(FA, c1, s1, 0), s2c(A, s1, c1+1, 0), s2c(FA, s1, c1+1, 0), c2s(A, c1+1, s1+1, 0)}))
	type tr struct {
		frame    int64
		ep       tcp.Dir
		from, to State
	}
	want := []tr{
		{1, tcp.Client, Closed, SynSent},
		{2, tcp.Server, Listen, SynReceived},
		{3, tcp.Client, SynSent, Established},
		{3, tcp.Server, SynReceived, Established},
		{4, tcp.Client, Established, FinWait1},
		{5, tcp.Client, FinWait1, FinWait2},
		{5, tcp.Server, Established, CloseWait},
		{6, tcp.Server, CloseWait, LastAck},
		{7, tcp.Server, LastAck, Closed},
		{7, tcp.Client, FinWait2, TimeWait},
	}
	if len(c.Transitions) != len(want) {
		for _, e := range c.Transitions {
			t.Logf("frame %d: %s %s -> %s", e.Frame, e.Endpoint, e.From, e.To)
		}
		t.Fatalf("%d transitions, want %d", len(c.Transitions), len(want))
	}
	for i, w := range want {
		e := c.Transitions[i]
		if e.Frame != w.frame || e.Endpoint != w.ep || e.From != w.from || e.To != w.to {
			t.Errorf("transition %d: frame %d %s %s->%s, want frame %d %s %s->%s", i, e.Frame, e.Endpoint,
				e.From, e.To, w.frame, w.ep, w.from, w.to)
		}
	}
}
