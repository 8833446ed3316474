package statemachine_test

import (
	"fmt"
	"net/netip"

	"github.com/tcptrace/tcptrace/seqnum"
	"github.com/tcptrace/tcptrace/statemachine"
	"github.com/tcptrace/tcptrace/tcp"
)

// Replay a connection — the handshake, a request and its answer, and a
// four-way close — through the state machine: print each state change as
// it happens, then the summary of how the connection began and ended.
func Example() {
	client := netip.MustParseAddrPort("10.0.0.1:40000")
	server := netip.MustParseAddrPort("192.0.2.1:80")
	const cisn, sisn seqnum.Value = 1000, 5000 // initial sequence numbers

	segments := []struct {
		dir      tcp.Dir
		flags    tcp.Flags
		seq, ack seqnum.Value
		payload  string
	}{
		{tcp.Client, tcp.SYN, cisn, 0, ""},
		{tcp.Server, tcp.SYN | tcp.ACK, sisn, cisn + 1, ""},
		{tcp.Client, tcp.ACK, cisn + 1, sisn + 1, ""},
		{tcp.Client, tcp.PSH | tcp.ACK, cisn + 1, sisn + 1, "ping"},
		{tcp.Server, tcp.PSH | tcp.ACK, sisn + 1, cisn + 5, "pong"},
		{tcp.Client, tcp.FIN | tcp.ACK, cisn + 5, sisn + 5, ""},
		{tcp.Server, tcp.ACK, sisn + 5, cisn + 6, ""},
		{tcp.Server, tcp.FIN | tcp.ACK, sisn + 5, cisn + 6, ""},
		{tcp.Client, tcp.ACK, cisn + 6, sisn + 6, ""},
	}

	c := statemachine.New()
	var ts int64
	for i, s := range segments {
		ts = int64(i) * 1e6 // one segment per millisecond, in ns
		src, dst := client, server
		if s.dir == tcp.Server {
			src, dst = server, client
		}
		seg := &tcp.Segment{
			Frame: int64(i + 1), TS: ts, Src: src, Dst: dst,
			Seq: s.seq, Ack: s.ack, Flags: s.flags, Window: 65535,
			Len: len(s.payload), Payload: []byte(s.payload),
		}
		for _, ev := range c.Step(s.dir, seg) {
			if ev.Kind == statemachine.EvTransition {
				fmt.Printf("frame %d: %s %s → %s\n", ev.Frame, ev.Endpoint, ev.From, ev.To)
			}
		}
	}
	fmt.Printf("client %s, server %s, done: %v\n", c.H[tcp.Client].State, c.H[tcp.Server].State, c.Done())

	// The capture ends at the last segment; an open connection silent for
	// 5 minutes before that would be idle.
	sum := c.Finish(ts, ts, 300e9)
	h, cl := sum.Handshake, sum.Close
	fmt.Printf("began: %s (SYN %d, SYN-ACK %d, ACK %d)\n", h.Class, h.SynFrame, h.SynAckFrame, h.AckFrame)
	fmt.Printf("ended: %s by %s (FINs %d and %d, last ACK %d)\n", cl.Class, cl.ClosedBy, cl.FirstFIN, cl.SecondFIN, cl.LastACK)
	fmt.Printf("end client/server: %s/%s\n", sum.ClientState, sum.ServerState)
	// Output:
	// frame 1: client CLOSED → SYN-SENT
	// frame 2: server LISTEN → SYN-RECEIVED
	// frame 3: client SYN-SENT → ESTABLISHED
	// frame 3: server SYN-RECEIVED → ESTABLISHED
	// frame 6: client ESTABLISHED → FIN-WAIT-1
	// frame 7: client FIN-WAIT-1 → FIN-WAIT-2
	// frame 7: server ESTABLISHED → CLOSE-WAIT
	// frame 8: server CLOSE-WAIT → LAST-ACK
	// frame 9: server LAST-ACK → CLOSED
	// frame 9: client FIN-WAIT-2 → TIME-WAIT
	// client TIME-WAIT, server CLOSED, done: true
	// began: complete (SYN 1, SYN-ACK 2, ACK 3)
	// ended: four-way by client (FINs 6 and 8, last ACK 9)
	// end client/server: TIME-WAIT/CLOSED
}
