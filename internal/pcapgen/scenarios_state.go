package pcapgen

import (
	"fmt"
	"time"
)

// State-machine scenarios: one connection per handshake class, close class
// and RST case, each on its own client port, for the analyzer's
// classification tests (analyze/scenarios_test.go).

// synAgain retransmits the client's SYN (same ISN and options) d after the
// previous frame.
func synAgain(c *Conn, d time.Duration) {
	c.Advance(d - c.cfg.Gap)
	c.Raw(RawSegment{FromClient: true, Seq: c.NextSeq(true) - 1, Flags: SYN, Options: c.synOptions()})
}

// skipSeq advances one side's sequence number by n without a frame: a SYN
// or FIN sent before the capture started or reordered by hand.
func skipSeq(c *Conn, fromClient bool, n uint32) { c.side(fromClient).next += n }

// smallExchange is a request and a short response, acknowledged.
func smallExchange(c *Conn, path string, seed int) {
	c.ClientSend(httpGet("www.example.com", path))
	c.ServerSend(httpOK(600, seed))
	c.ACKFromClient()
}

func handshakesScenario() *Capture {
	capt := &Capture{}
	server := "192.0.2.20:80"
	conn := func(port int, isn, sisn uint32, start time.Duration) *Conn {
		return NewConn(ConnConfig{
			Capture: capt,
			Client:  ap(fmt.Sprintf("10.0.1.1:%d", port)), Server: ap(server),
			ClientISN: isn, ServerISN: sisn,
			Start: Epoch.Add(start), RTT: 10 * time.Millisecond,
		})
	}

	// 41001 complete.
	c := conn(41001, 0x1a2b3c4d, 0x5e6f7081, 0)
	c.Handshake()
	smallExchange(c, "/complete", 100)
	fourWayClose(c)

	// 41002 simultaneous open: both bare SYNs cross, then both SYN-ACKs.
	c = conn(41002, 0x22220000, 0x33330000, 100*time.Millisecond)
	c.Segment(true, SYN, nil, c.synOptions()...)
	c.Segment(false, SYN, nil, c.synOptions()...)
	c.Raw(RawSegment{FromClient: true, Seq: c.NextSeq(true) - 1, Ack: c.NextSeq(false), Flags: SYN | ACK, Options: c.synOptions()})
	c.Raw(RawSegment{FromClient: false, Seq: c.NextSeq(false) - 1, Ack: c.NextSeq(true), Flags: SYN | ACK, Options: c.synOptions()})
	smallExchange(c, "/simultaneous", 101)
	fourWayClose(c)

	// 41003 SYN retransmitted after 1 s and 2 s, then answered.
	c = conn(41003, 0x44440000, 0x55550000, 200*time.Millisecond)
	c.Segment(true, SYN, nil, c.synOptions()...)
	synAgain(c, time.Second)
	synAgain(c, 2*time.Second)
	c.Segment(false, SYN|ACK, nil, c.synOptions()...)
	c.ACKFromClient()
	smallExchange(c, "/backoff", 102)
	fourWayClose(c)

	// 41004 three SYNs (0, 1 s, 3 s), no reply at all.
	c = conn(41004, 0x66660000, 0, 300*time.Millisecond)
	c.Segment(true, SYN, nil, c.synOptions()...)
	synAgain(c, time.Second)
	synAgain(c, 2*time.Second)

	// 41005 refused: RST/ACK acknowledging the SYN.
	c = conn(41005, 0x77770000, 0, 400*time.Millisecond)
	c.Refused()

	// 41006 SYN-ACK without the SYN (capture started just after it).
	c = conn(41006, 0x88880000, 0x99990000, 500*time.Millisecond)
	skipSeq(c, true, 1)
	c.Segment(false, SYN|ACK, nil, c.synOptions()...)
	c.ACKFromClient()
	smallExchange(c, "/no-syn", 103)
	fourWayClose(c)

	// 41007 reordered: the SYN-ACK captured before the SYN.
	c = conn(41007, 0xaaaa0000, 0xbbbb0000, 600*time.Millisecond)
	// The SYN-ACK echoes the timestamp of the SYN it answers.
	opts := c.synOptions()
	for i, o := range opts {
		if o.Kind == OptTimestamp {
			opts[i] = TimestampOption(c.side(false).tsBase, c.side(true).tsBase)
		}
	}
	c.Raw(RawSegment{FromClient: false, Seq: c.NextSeq(false), Ack: c.NextSeq(true) + 1, Flags: SYN | ACK, Options: opts})
	c.Segment(true, SYN, nil, c.synOptions()...)
	skipSeq(c, false, 1)
	c.ACKFromClient()
	smallExchange(c, "/reordered", 104)
	fourWayClose(c)

	// 41008 incomplete: SYN, SYN-ACK, nothing else.
	c = conn(41008, 0xcccc0000, 0xdddd0000, 700*time.Millisecond)
	c.Segment(true, SYN, nil, c.synOptions()...)
	c.Segment(false, SYN|ACK, nil, c.synOptions()...)

	// 41009 mid-stream: no handshake captured.
	c = conn(41009, 0xeeee0000, 0xffff0000, 800*time.Millisecond)
	smallExchange(c, "/midstream", 105)
	fourWayClose(c)

	// 41010 the client aborts its own attempt: SYN, then RST at ISN+1.
	c = conn(41010, 0x01010000, 0, 900*time.Millisecond)
	c.Segment(true, SYN, nil, c.synOptions()...)
	c.Advance(500 * time.Millisecond)
	c.Raw(RawSegment{FromClient: true, Seq: c.NextSeq(true), Flags: RST})

	// 41011 ECN negotiated (SYN with ECE+CWR, SYN-ACK with ECE) and TFO
	// data on the SYN.
	c = conn(41011, 0x02020000, 0x03030000, 1000*time.Millisecond)
	cookie := []byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}
	c.Segment(true, SYN|ECE|CWR, httpGet("www.example.com", "/ecn-tfo"), append(c.synOptions(), TFOOption(cookie))...)
	c.Segment(false, SYN|ACK|ECE, nil, c.synOptions()...)
	c.ServerSend(httpOK(600, 106))
	c.ACKFromClient()
	fourWayClose(c)
	return capt
}

func closesScenario() *Capture {
	capt := &Capture{}
	server := "198.51.100.30:80"
	conn := func(port int, isn, sisn uint32, start time.Duration) *Conn {
		c := NewConn(ConnConfig{
			Capture: capt,
			Client:  ap(fmt.Sprintf("10.0.2.1:%d", port)), Server: ap(server),
			ClientISN: isn, ServerISN: sisn,
			Start: Epoch.Add(start), RTT: 10 * time.Millisecond,
		})
		c.Handshake()
		return c
	}

	// 42007 idle: open, silent for about 400 s before the capture ends.
	c := conn(42007, 0x07070000, 0x70700000, 0)
	smallExchange(c, "/idle", 200)

	// 42001 four-way: FIN, ACK, FIN, ACK.
	c = conn(42001, 0x01010101, 0x10101010, 100*time.Millisecond)
	smallExchange(c, "/four-way", 201)
	fourWayClose(c)

	// 42002 three-way: the server's FIN carries the ACK of the client's.
	c = conn(42002, 0x02020202, 0x20202020, 200*time.Millisecond)
	smallExchange(c, "/three-way", 202)
	c.ClientFIN()
	c.ServerFIN()
	c.ACKFromClient()

	// 42003 simultaneous close: the FINs cross (neither acknowledges the
	// other's), then both ACKs.
	c = conn(42003, 0x03030303, 0x30303030, 300*time.Millisecond)
	smallExchange(c, "/simultaneous", 203)
	c.ClientFIN()
	c.Raw(RawSegment{FromClient: false, Seq: c.NextSeq(false), Ack: c.NextSeq(true) - 1, Flags: FIN | ACK})
	skipSeq(c, false, 1)
	c.ACKFromClient()
	c.ACKFromServer()

	// 42004 half-close: the client shuts down its sending side after the
	// request, the server sends its response, then closes.
	c = conn(42004, 0x04040404, 0x40404040, 400*time.Millisecond)
	c.ClientSend(httpGet("www.example.com", "/half-close"))
	c.ClientFIN()
	c.ACKFromServer()
	c.ServerSend(httpOK(3000, 204))
	c.ACKFromClient()
	c.Advance(time.Millisecond)
	c.ServerFIN()
	c.ACKFromClient()

	// 42008 FIN then RST: the client closes after part of the response,
	// the server keeps writing, the client's orphaned socket answers RST.
	c = conn(42008, 0x08080808, 0x80808080, 500*time.Millisecond)
	c.ClientSend(httpGet("www.example.com", "/fin-then-rst"))
	resp := httpOK(2500, 208)
	c.Segment(false, ACK, resp[:1448])
	c.ClientFIN()
	c.Segment(false, PSH|ACK, resp[1448:])
	c.Raw(RawSegment{FromClient: true, Seq: c.NextSeq(true), Flags: RST})

	// 42005 half-closed at the end of the capture: the client's FIN is
	// acknowledged, the server is still sending.
	c = conn(42005, 0x05050505, 0x50505050, 400*time.Second)
	c.ClientSend(httpGet("www.example.com", "/half-closed"))
	c.ClientFIN()
	c.ACKFromServer()
	c.ServerSend(textBody(2000, 205))
	c.ACKFromClient()

	// 42006 open at the end of the capture.
	c = conn(42006, 0x06060606, 0x60606060, 400*time.Second+50*time.Millisecond)
	smallExchange(c, "/open", 206)
	return capt
}

func resetsScenario() *Capture {
	capt := &Capture{}
	server := "192.0.2.30:80"
	conn := func(port int, isn, sisn uint32, start time.Duration, atServer bool) *Conn {
		c := NewConn(ConnConfig{
			Capture: capt,
			Client:  ap(fmt.Sprintf("10.0.3.1:%d", port)), Server: ap(server),
			ClientISN: isn, ServerISN: sisn,
			Start: Epoch.Add(start), RTT: 10 * time.Millisecond,
			CaptureAtServer: atServer,
		})
		c.Handshake()
		return c
	}

	// 43001 the server resets in ESTABLISHED at exactly the client's
	// rcv.nxt.
	c := conn(43001, 0x0a010000, 0xa0010000, 0, false)
	c.ClientSend(httpGet("www.example.com", "/server-rst"))
	c.RST(false)

	// 43002 the client aborts (SO_LINGER 0) right after data it did not
	// acknowledge with a pure ACK: RST/ACK at its snd.nxt.
	c = conn(43002, 0x0a020000, 0xa0020000, 100*time.Millisecond, false)
	c.ClientSend(httpGet("www.example.com", "/client-abort"))
	body := httpBinary(3*1448, 300)
	c.Segment(false, ACK, body[:1448])
	c.Segment(false, ACK, body[1448:2*1448])
	c.RST(true)

	// 43003 a RST 5000 bytes inside the client's window (not rcv.nxt),
	// answered by the client's challenge ACK; the connection goes on and
	// closes with FINs.
	c = conn(43003, 0x0a030000, 0xa0030000, 200*time.Millisecond, false)
	c.ClientSend(httpGet("www.example.com", "/challenge"))
	c.Raw(RawSegment{FromClient: false, Seq: c.NextSeq(false) + 5000, Ack: c.NextSeq(true), Flags: RST | ACK})
	c.ACKFromClient()
	c.ServerSend(httpOK(2000, 301))
	c.ACKFromClient()
	fourWayClose(c)

	// 43004 a RST far outside the server's window (ignored); the
	// connection then closes normally.
	c = conn(43004, 0x0a040000, 0xa0040000, 300*time.Millisecond, false)
	c.ClientSend(httpGet("www.example.com", "/blind-rst"))
	c.Raw(RawSegment{FromClient: true, Seq: c.NextSeq(true) + 0x40000000, Flags: RST})
	c.ServerSend(httpOK(2000, 302))
	c.ACKFromClient()
	fourWayClose(c)

	// 43005 captured at the server: four-way close, then a delayed
	// duplicate of the request reaches the closed server, which answers
	// RST <SEQ=SEG.ACK> (RFC 9293 §3.10.7.1).
	c = conn(43005, 0x0a050000, 0xa0050000, 400*time.Millisecond, true)
	reqSeq, reqAck := c.NextSeq(true), c.NextSeq(false)
	req := httpGet("www.example.com", "/late")
	c.ClientSend(req)
	reqTS := TimestampOption(c.side(true).lastTSVal, c.side(false).lastTSVal)
	c.ServerSend(httpOK(1000, 303))
	c.ACKFromClient()
	fourWayClose(c)
	c.Advance(300 * time.Millisecond)
	c.Raw(RawSegment{FromClient: true, Seq: reqSeq, Ack: reqAck, Flags: PSH | ACK, Payload: req,
		Options: []TCPOption{NOPOption(), NOPOption(), reqTS}})
	c.Raw(RawSegment{FromClient: false, Seq: reqAck, Flags: RST})

	// 43006 FIN and RST in one segment from the server, at rcv.nxt.
	c = conn(43006, 0x0a060000, 0xa0060000, 500*time.Millisecond, false)
	smallExchange(c, "/fin-rst", 304)
	c.Raw(RawSegment{FromClient: false, Seq: c.NextSeq(false), Ack: c.NextSeq(true), Flags: FIN | RST | ACK})

	// 43007 a RST carrying diagnostic text (RFC 9293 §3.5.3), at rcv.nxt.
	c = conn(43007, 0x0a070000, 0xa0070000, 600*time.Millisecond, false)
	c.ClientSend(httpGet("www.example.com", "/diagnostic"))
	c.Raw(RawSegment{FromClient: false, Seq: c.NextSeq(false), Ack: c.NextSeq(true), Flags: RST | ACK,
		Payload: []byte("connection reset: request timeout")})
	return capt
}

func wrapScenario() *Capture {
	c := NewConn(ConnConfig{
		Client: ap("10.0.4.1:44001"), Server: ap("192.0.2.40:80"),
		ClientISN: 0xfffff800, ServerISN: 0xffffe000,
		Start: Epoch, RTT: 10 * time.Millisecond,
	})
	c.Handshake()
	// The client's data starts 2047 bytes below 2^32 (its sequence numbers
	// wrap inside its second segment), the server's 8191 bytes below (they
	// wrap inside its sixth).
	c.ClientSend(textBody(3000, 400))
	c.ACKFromServer()
	c.ServerSend(httpOK(12000, 401))
	c.ACKFromClient()
	fourWayClose(c)
	return c.Capture()
}

func earlyFINScenario() *Capture {
	c := NewConn(ConnConfig{
		Client: ap("10.0.5.1:45001"), Server: ap("192.0.2.45:80"),
		ClientISN: 0x45450000, ServerISN: 0x54540000,
		Start: Epoch, RTT: 10 * time.Millisecond,
	})
	c.Handshake()
	c.ClientSend(httpGet("www.example.com", "/early-fin"))
	resp := httpOK(3500, 500)
	c.Segment(false, ACK, resp[:1448])
	c.Segment(false, ACK, resp[1448:2*1448])
	// The server's FIN overtakes its last data segment on the way.
	last := resp[2*1448:]
	c.Raw(RawSegment{FromClient: false, Seq: c.NextSeq(false) + uint32(len(last)), Ack: c.NextSeq(true), Flags: FIN | ACK})
	c.Segment(false, PSH|ACK, last)
	skipSeq(c, false, 1)
	c.ACKFromClient()
	c.Advance(time.Millisecond)
	c.ClientFIN()
	c.ACKFromServer()
	return c.Capture()
}

func portReuseTimeWaitScenario() *Capture {
	capt := &Capture{}
	// Captured at the server. The server closes first and ends in
	// TIME-WAIT; its last ACK is lost after the capture point, so the
	// client's FIN comes again and is acknowledged again.
	a := NewConn(ConnConfig{
		Capture: capt,
		Client:  ap("10.0.6.1:46001"), Server: ap("192.0.2.50:80"),
		ClientISN: 0x2a000000, ServerISN: 0xb0000000,
		Start: Epoch, RTT: 10 * time.Millisecond, CaptureAtServer: true,
		ClientTSVal: 1_000_000, ServerTSVal: 7_000_000,
	})
	a.Handshake()
	smallExchange(a, "/first", 600)
	a.ServerFIN()
	a.ACKFromClient()
	a.Advance(time.Millisecond)
	a.ClientFIN()
	a.ACKFromServer()
	a.Advance(200 * time.Millisecond)
	a.Raw(RawSegment{FromClient: true, Seq: a.NextSeq(true) - 1, Ack: a.NextSeq(false), Flags: FIN | ACK})
	a.ACKFromServer()

	// Within a second the client connects again from the same port with a
	// higher ISN (and later timestamps): the server's TIME-WAIT accepts it.
	start := a.Now().Add(300 * time.Millisecond)
	ms := uint32(start.Sub(Epoch) / time.Millisecond)
	b := NewConn(ConnConfig{
		Capture: capt,
		Client:  ap("10.0.6.1:46001"), Server: ap("192.0.2.50:80"),
		ClientISN: 0x2a100000, ServerISN: 0xc0000000,
		Start: start, RTT: 10 * time.Millisecond, CaptureAtServer: true,
		ClientTSVal: 1_000_000 + ms, ServerTSVal: 7_000_000 + ms,
	})
	b.Handshake()
	smallExchange(b, "/second", 601)
	fourWayClose(b)
	return capt
}
