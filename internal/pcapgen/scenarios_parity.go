package pcapgen

import (
	"bytes"
	"fmt"
	"time"
)

// Scenarios for parity with the tools users cross-check us with (issue 14,
// "causes that fit the facts"): SPAN duplicates that are no
// retransmissions, Wireshark's duplicate-ACK count across a window update,
// and who a fin-then-reset close names.

// spanCopy adds a copy of the capture's last frame 1 µs after it, byte for
// byte: a SPAN port (or a NIC) delivering the same frame twice.
func spanCopy(capt *Capture) {
	last := capt.Frames[len(capt.Frames)-1]
	capt.Add(Frame{Time: last.Time.Add(time.Microsecond), Data: bytes.Clone(last.Data), OrigLen: last.OrigLen, Iface: last.Iface})
}

// spanDuplicatesScenario: client 10.0.8.1, ports 54001-54004, to
// 198.51.100.60:80.
func spanDuplicatesScenario() *Capture {
	capt := &Capture{}
	conn := func(port int, isn, sisn uint32, start time.Duration, atServer bool) *Conn {
		return NewConn(ConnConfig{
			Capture: capt,
			Client:  ap(fmt.Sprintf("10.0.8.1:%d", port)), Server: ap("198.51.100.60:80"),
			ClientISN: isn, ServerISN: sisn,
			Start: Epoch.Add(start), RTT: 10 * time.Millisecond, CaptureAtServer: atServer,
		})
	}

	// 54001: a clean exchange in which the SPAN port copies the SYN, the
	// SYN-ACK, the request, the last response segment, the client's ACK and
	// the client's FIN. Nothing was sent twice.
	c := conn(54001, 0x31000000, 0x41000000, 0, false)
	c.Segment(true, SYN, nil, c.synOptions()...)
	spanCopy(capt)
	c.Segment(false, SYN|ACK, nil, c.synOptions()...)
	spanCopy(capt)
	c.ACKFromClient()
	c.ClientSend(httpGet("www.example.com", "/copied"))
	spanCopy(capt)
	c.ServerSend(httpOK(2500, 700))
	spanCopy(capt)
	c.ACKFromClient()
	spanCopy(capt)
	c.ClientFIN()
	spanCopy(capt)
	c.ACKFromServer()
	c.Advance(time.Millisecond)
	c.ServerFIN()
	c.ACKFromClient()

	// 54002: captured at the server. Its response is lost after the capture
	// point and retransmitted 200 ms later; the SPAN port copies the
	// retransmission. One retransmission, one copy.
	c = conn(54002, 0x32000000, 0x42000000, 100*time.Millisecond, true)
	c.Handshake()
	c.ClientSend(httpGet("www.example.com", "/retransmitted"))
	seq := c.NextSeq(false)
	resp := httpOK(300, 701)
	c.ServerSend(resp)
	c.Advance(200 * time.Millisecond)
	c.Raw(RawSegment{FromClient: false, Seq: seq, Ack: c.NextSeq(true), Flags: PSH | ACK, Payload: resp})
	spanCopy(capt)
	c.ACKFromClient()
	fourWayClose(c)

	// 54003: the same headers (IP ID, timestamps, sequence numbers) 40 µs
	// later over other bytes of the same length: no copy of a frame but
	// data injected over the response, a conflicting retransmission.
	c = conn(54003, 0x33000000, 0x43000000, 500*time.Millisecond, false)
	c.Handshake()
	c.ClientSend(httpGet("www.example.com", "/injected"))
	seq = c.NextSeq(false)
	c.ServerSend(httpOK(120, 702))
	sv, cl := &c.sides[1], &c.sides[0]
	sv.ipid--
	c.Raw(RawSegment{FromClient: false, Seq: seq, Ack: c.NextSeq(true), Flags: PSH | ACK, Payload: httpOK(120, 703),
		Options: []TCPOption{NOPOption(), NOPOption(), TimestampOption(sv.lastTSVal, cl.lastTSVal)}})
	c.ACKFromClient()
	fourWayClose(c)

	// 54004: the client aborts with RST/ACK, and the SPAN port copies the
	// RST: one RST was sent.
	c = conn(54004, 0x34000000, 0x44000000, 600*time.Millisecond, false)
	c.Handshake()
	c.ClientSend(httpGet("www.example.com", "/abort"))
	c.ServerSend(httpOK(200, 704))
	c.RST(true)
	spanCopy(capt)
	return capt
}

// dupACKWindowUpdateScenario: client 10.0.9.1, ports 55001-55004, to
// 198.51.100.70:80, captured at the client. In each the server's first
// response segment is lost before the capture point and the client
// answers the next ones with duplicate ACKs.
func dupACKWindowUpdateScenario() *Capture {
	capt := &Capture{}
	const mss = 1448 // payload of a full segment with timestamps
	conn := func(port int, isn, sisn uint32, start time.Duration) (*Conn, []byte) {
		c := NewConn(ConnConfig{
			Capture: capt,
			Client:  ap(fmt.Sprintf("10.0.9.1:%d", port)), Server: ap("198.51.100.70:80"),
			ClientISN: isn, ServerISN: sisn,
			Start: Epoch.Add(start), RTT: 10 * time.Millisecond,
		})
		c.Handshake()
		c.ClientSend(httpGet("www.example.com", fmt.Sprintf("/dupack-%d", port)))
		return c, httpOKTotal(4*mss+500, port)
	}
	// dupACK sends a pure ACK from the client of the hole at seq.
	dupACK := func(c *Conn, hole uint32) {
		c.Raw(RawSegment{FromClient: true, Seq: c.NextSeq(true), Ack: hole, Flags: ACK})
	}
	// twoDupACKs loses the response's first segment before the capture,
	// sends the next two, each answered by a duplicate ACK of the hole, and
	// returns the hole.
	twoDupACKs := func(c *Conn, resp []byte) uint32 {
		hole := c.NextSeq(false)
		c.Lost(false, resp[:mss])
		c.Segment(false, ACK, resp[mss:2*mss])
		dupACK(c, hole)
		c.Segment(false, ACK, resp[2*mss:3*mss])
		dupACK(c, hole)
		return hole
	}
	finish := func(c *Conn, resp []byte) {
		c.ACKFromClient()
		c.Segment(false, PSH|ACK, resp[3*mss:])
		c.ACKFromClient()
		fourWayClose(c)
	}

	// 55001: dup ACK, dup ACK, a window update (same ACK, larger window),
	// then the server's retransmission 10 ms after the window update: a
	// fast retransmission for Wireshark, whose count of duplicate ACKs only
	// a new ACK number restarts.
	c, resp := conn(55001, 0x35000000, 0x45000000, 0)
	hole := twoDupACKs(c, resp)
	c.Advance(3 * time.Millisecond)
	c.SetWindow(true, 600)
	dupACK(c, hole)
	c.Raw(RawSegment{FromClient: false, Seq: hole, Ack: c.NextSeq(true), Flags: ACK, Payload: resp[:mss]})
	finish(c, resp)

	// 55002: dup ACK, dup ACK, then a data segment from the client carrying
	// the same ACK (a second request); the retransmission that follows is
	// still a fast one.
	c, resp = conn(55002, 0x36000000, 0x46000000, 200*time.Millisecond)
	hole = twoDupACKs(c, resp)
	c.Advance(3 * time.Millisecond)
	second := httpGet("www.example.com", "/second")
	c.Raw(RawSegment{FromClient: true, Seq: c.NextSeq(true), Ack: hole, Flags: PSH | ACK, Payload: second})
	skipSeq(c, true, uint32(len(second)))
	c.Raw(RawSegment{FromClient: false, Seq: hole, Ack: c.NextSeq(true), Flags: ACK, Payload: resp[:mss]})
	finish(c, resp)

	// 55003: dup ACK, dup ACK, and the retransmission only 25 ms after the
	// last of them: too late for a fast retransmission (Wireshark's 20 ms),
	// a plain one.
	c, resp = conn(55003, 0x37000000, 0x47000000, 400*time.Millisecond)
	hole = twoDupACKs(c, resp)
	c.Advance(15 * time.Millisecond)
	c.Raw(RawSegment{FromClient: false, Seq: hole, Ack: c.NextSeq(true), Flags: ACK, Payload: resp[:mss]})
	finish(c, resp)

	// 55004: two holes. Two dup ACKs of the first, its fast
	// retransmission, then the client's ACK moves on to the second hole (a
	// new ACK number: the count restarts) and one dup ACK of it: the
	// retransmission of the second hole, 10 ms later, is a plain one.
	c, resp = conn(55004, 0x38000000, 0x48000000, 600*time.Millisecond)
	hole = c.NextSeq(false)
	c.Lost(false, resp[:mss])
	c.Segment(false, ACK, resp[mss:2*mss])
	dupACK(c, hole)
	hole2 := c.NextSeq(false)
	c.Lost(false, resp[2*mss:3*mss])
	c.Segment(false, PSH|ACK, resp[3*mss:])
	dupACK(c, hole)
	c.Raw(RawSegment{FromClient: false, Seq: hole, Ack: c.NextSeq(true), Flags: ACK, Payload: resp[:mss]})
	dupACK(c, hole2)
	c.Advance(3 * time.Millisecond)
	dupACK(c, hole2)
	c.Raw(RawSegment{FromClient: false, Seq: hole2, Ack: c.NextSeq(true), Flags: ACK, Payload: resp[2*mss : 3*mss]})
	c.ACKFromClient()
	fourWayClose(c)
	return capt
}

// finThenResetScenario: client 10.0.10.1, ports 56001-56003, to
// 198.51.100.80:80: a FIN, then the RST that ends the connection.
func finThenResetScenario() *Capture {
	capt := &Capture{}
	conn := func(port int, isn, sisn uint32, start time.Duration) *Conn {
		c := NewConn(ConnConfig{
			Capture: capt,
			Client:  ap(fmt.Sprintf("10.0.10.1:%d", port)), Server: ap("198.51.100.80:80"),
			ClientISN: isn, ServerISN: sisn,
			Start: Epoch.Add(start), RTT: 10 * time.Millisecond,
		})
		c.Handshake()
		return c
	}

	// 56001: the client sends its request and half-closes; the server
	// answers with RST/ACK at its snd.nxt: fin-then-reset by the server.
	c := conn(56001, 0x39000000, 0x49000000, 0)
	c.ClientSend(httpGet("www.example.com", "/then-reset"))
	c.ClientFIN()
	c.RST(false)

	// 56002: the server sends its response and FIN; the client resets
	// instead of closing: fin-then-reset by the client.
	c = conn(56002, 0x3a000000, 0x4a000000, 100*time.Millisecond)
	smallExchange(c, "/server-fin", 710)
	c.ServerFIN()
	c.RST(true)

	// 56003: the client's FIN, acknowledged, then the client's own RST
	// (close with SO_LINGER 0 after shutdown): fin-then-reset by the client,
	// who also sent the FIN.
	c = conn(56003, 0x3b000000, 0x4b000000, 200*time.Millisecond)
	smallExchange(c, "/own-reset", 711)
	c.ClientFIN()
	c.ACKFromServer()
	c.RST(true)
	return capt
}
