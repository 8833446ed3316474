package pcapgen

import "time"

// streamsScenario exercises stream reassembly: four connections whose
// server responses reach the capture point reordered and duplicated,
// with a segment lost before the capture point (then acknowledged), with a
// retransmission whose bytes differ from the original, and with a segment
// lost and never acknowledged before the capture ends.
func streamsScenario() *Capture {
	capt := &Capture{}
	newConn := func(port string, start time.Duration) *Conn {
		c := NewConn(ConnConfig{
			Client: ap("10.0.6.1:" + port), Server: ap("192.0.2.60:80"),
			ClientISN: 0x60000000, ServerISN: 0xfffff000, // the server's numbers wrap
			Start: Epoch.Add(start), RTT: 10 * time.Millisecond, Capture: capt,
		})
		c.Handshake()
		return c
	}
	// send sends the server's segments of resp in the given order
	// (indices into 1000-byte pieces), then the client's ACK of all.
	pieces := func(resp []byte) [][]byte {
		var p [][]byte
		for len(resp) > 0 {
			n := min(1000, len(resp))
			p, resp = append(p, resp[:n]), resp[n:]
		}
		return p
	}
	raw := func(c *Conn, base uint32, off int, data []byte) {
		c.Raw(RawSegment{FromClient: false, Seq: base + uint32(off), Ack: c.NextSeq(true), Flags: ACK | PSH, Payload: data})
	}

	// 48001: reordered (1 3 2 5 4), a duplicate of piece 2, and a
	// retransmission overlapping pieces 3 and 4 with the same bytes.
	c := newConn("48001", 0)
	c.ClientSend(httpGet("www.example.com", "/reordered"))
	resp := httpOKTotal(5000, 601)
	p := pieces(resp)
	base := c.NextSeq(false)
	for _, i := range []int{0, 2, 1, 4, 3} {
		raw(c, base, i*1000, p[i])
	}
	raw(c, base, 1000, p[1])
	raw(c, base, 2500, resp[2500:3500])
	skipSeq(c, false, uint32(len(resp)))
	c.ACKFromClient()
	c.ClientFIN()
	c.ServerFIN()
	c.ACKFromClient()

	// 48002: the second of four segments lost before the capture point;
	// the client's ACK covers it.
	c = newConn("48002", 100*time.Millisecond)
	c.ClientSend(httpGet("www.example.com", "/lost"))
	resp = httpOKTotal(4000, 602)
	p = pieces(resp)
	c.Segment(false, ACK|PSH, p[0])
	c.Lost(false, p[1])
	c.Segment(false, ACK|PSH, p[2])
	c.Segment(false, ACK|PSH, p[3])
	c.ACKFromClient()
	c.ClientFIN()
	c.ServerFIN()
	c.ACKFromClient()

	// 48003: a retransmission of the second piece with different bytes
	// (the first copy is what the receiver kept).
	c = newConn("48003", 200*time.Millisecond)
	c.ClientSend(httpGet("www.example.com", "/conflict"))
	resp = httpOKTotal(3000, 603)
	p = pieces(resp)
	base = c.NextSeq(false)
	raw(c, base, 0, p[0])
	raw(c, base, 2000, p[2]) // ahead of piece 2: it waits
	raw(c, base, 1000, p[1])
	other := append([]byte(nil), p[1]...)
	copy(other[100:], "INJECTED")
	raw(c, base, 1000, other)
	skipSeq(c, false, uint32(len(resp)))
	c.ACKFromClient()
	c.ClientFIN()
	c.ServerFIN()
	c.ACKFromClient()

	// 48004: a segment lost, the next captured, and the capture ends
	// before anything acknowledges them.
	c = newConn("48004", 300*time.Millisecond)
	c.ClientSend(httpGet("www.example.com", "/tail"))
	resp = httpOKTotal(3000, 604)
	p = pieces(resp)
	c.Segment(false, ACK|PSH, p[0])
	c.Lost(false, p[1])
	c.Segment(false, ACK|PSH, p[2])
	return capt
}

// resetCausesScenario has one connection per reset cause that the other
// scenarios do not show: a RST answering the first segment after 90 s of
// silence (49001), a RST after the client retransmitted its request three
// times with exponential backoff (49002), and a RST from a server that has
// no trace of the connection, answering the first data captured (49003).
func resetCausesScenario() *Capture {
	capt := &Capture{}
	mk := func(port string, start time.Duration, handshake bool) *Conn {
		c := NewConn(ConnConfig{
			Client: ap("10.0.7.1:" + port), Server: ap("192.0.2.70:443"),
			ClientISN: 0x70000000, ServerISN: 0x07000000,
			Start: Epoch.Add(start), RTT: 10 * time.Millisecond, Capture: capt,
		})
		if handshake {
			c.Handshake()
		}
		return c
	}
	// Idle, then the next request is answered by a RST (a NAT forgot it).
	c := mk("49001", 0, true)
	smallExchange(c, "/before-idle", 701)
	c.Advance(90 * time.Second)
	c.ClientSend(httpGet("www.example.com", "/after-idle"))
	c.RST(false)

	// The server stops answering: the client's request goes out four
	// times, 0.2, 0.4 and 0.8 s apart, then the client gives up.
	c = mk("49002", 100*time.Second, true)
	req := httpGet("www.example.com", "/no-answer")
	seq := c.NextSeq(true)
	for _, wait := range []time.Duration{0, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond} {
		c.Advance(wait)
		c.Raw(RawSegment{FromClient: true, Seq: seq, Ack: c.NextSeq(false), Flags: PSH | ACK, Payload: req})
	}
	skipSeq(c, true, uint32(len(req)))
	c.Advance(1600 * time.Millisecond)
	c.RST(true)

	// The server restarted: the client's data meets a RST (no handshake
	// in the capture, nothing from the server before).
	c = mk("49003", 110*time.Second, false)
	c.ClientSend(httpGet("www.example.com", "/after-restart"))
	c.Raw(RawSegment{FromClient: false, Seq: c.NextSeq(false), Flags: RST})
	return capt
}
