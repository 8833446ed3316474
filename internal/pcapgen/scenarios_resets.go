package pcapgen

import (
	"fmt"
	"time"
)

// resetPatternsScenario holds the reset patterns of real captures that a
// diagnosis must tell apart (issue 14): forged RSTs racing a handshake, a
// host with random IP IDs, unprompted RSTs after a silence, a request
// retransmitted until the client gives up, refused SYN retries, and a host
// talking to itself.
func resetPatternsScenario() *Capture {
	capt := &Capture{}
	conn := func(port int, start time.Duration, cfg ConnConfig) *Conn {
		cfg.Capture = capt
		if !cfg.Client.IsValid() {
			cfg.Client, cfg.Server = ap(fmt.Sprintf("10.0.9.1:%d", port)), ap("192.0.2.90:443")
		}
		cfg.ClientISN, cfg.ServerISN = 0x50000000+uint32(port)<<8, 0x05000000+uint32(port)<<8
		cfg.Start, cfg.RTT = Epoch.Add(start), 20*time.Millisecond
		return NewConn(cfg)
	}
	// forge sends a RST that claims to come from the server (or client)
	// of c, from an injector two hops closer: TTL 46 and its own IP IDs.
	forge := func(c *Conn, fromClient bool, seq, ack uint32, flags TCPFlags) {
		f := NewConn(ConnConfig{
			Capture: capt, Client: c.cfg.Client, Server: c.cfg.Server,
			Start: c.Now().Add(2 * time.Millisecond), RTT: time.Millisecond,
			ClientTTL: 46, ServerTTL: 46, ClientIPID: 0xbeef, ServerIPID: 0xbeef,
		})
		f.Raw(RawSegment{FromClient: fromClient, Seq: seq, Ack: ack, Flags: flags, NoTimestamp: true})
	}

	// 50001 an injector answers the client's SYN with a RST whose ACK is
	// wrong: SYN-SENT drops it, the real SYN-ACK follows and the
	// connection carries on and closes normally.
	c := conn(50001, 0, ConnConfig{})
	c.Segment(true, SYN, nil, c.synOptions()...)
	forge(c, false, 0, c.NextSeq(true)+1000, RST|ACK)
	c.Segment(false, SYN|ACK, nil, c.synOptions()...)
	c.ACKFromClient()
	smallExchange(c, "/raced", 901)
	fourWayClose(c)

	// 50002 the injector gets the ACK right: the client's connect fails,
	// and when the real SYN-ACK arrives the client, with no socket left,
	// answers it with a RST.
	c = conn(50002, time.Second, ConnConfig{})
	c.Segment(true, SYN, nil, c.synOptions()...)
	forge(c, false, 0, c.NextSeq(true), RST|ACK)
	c.Segment(false, SYN|ACK, nil, c.synOptions()...)
	c.Raw(RawSegment{FromClient: true, Seq: c.NextSeq(true), Flags: RST})

	// 50003 a server with random IP IDs aborts with SO_LINGER 0 after its
	// response: its RST's ID is as random as its other packets'.
	c = conn(50003, 2*time.Second, ConnConfig{ServerRandomIPID: true})
	c.Handshake()
	smallExchange(c, "/random-ids", 902)
	c.ServerSend(httpOK(3000, 903))
	c.ACKFromClient()
	c.RST(false)

	// 50004 the server resets a connection silent for two minutes, with
	// nothing asked of it: an idle timeout, not a half-open connection.
	c = conn(50004, 3*time.Second, ConnConfig{})
	c.Handshake()
	smallExchange(c, "/then-idle", 904)
	c.Advance(120 * time.Second)
	c.RST(false)

	// 50005 the client sends its request and closes (FIN); nothing comes
	// back, it retransmits four times with backoff and gives up with a RST:
	// a retransmission timeout, not a reset after close.
	c = conn(50005, 200*time.Second, ConnConfig{})
	c.Handshake()
	req := httpGet("www.example.com", "/lost")
	seq := c.NextSeq(true)
	for i, wait := range []time.Duration{0, 300 * time.Millisecond, 600 * time.Millisecond, 1200 * time.Millisecond, 2400 * time.Millisecond} {
		c.Advance(wait)
		c.Raw(RawSegment{FromClient: true, Seq: seq, Ack: c.NextSeq(false), Flags: PSH | ACK, Payload: req})
		if i == 0 {
			c.Raw(RawSegment{FromClient: true, Seq: seq + uint32(len(req)), Ack: c.NextSeq(false), Flags: FIN | ACK})
		}
	}
	skipSeq(c, true, uint32(len(req))+1)
	c.Advance(4800 * time.Millisecond)
	c.RST(true)

	// 50006 a closed port: the SYN and its two retries (1 s, then 2 s
	// later) each answered by a RST.
	c = conn(50006, 220*time.Second, ConnConfig{})
	c.Refused()
	syn := c.NextSeq(true) - 1
	for _, wait := range []time.Duration{time.Second, 2 * time.Second} {
		c.Advance(wait)
		c.Raw(RawSegment{FromClient: true, Seq: syn, Flags: SYN, Options: c.synOptions()})
		c.Raw(RawSegment{FromClient: false, Seq: 0, Ack: syn + 1, Flags: RST | ACK})
	}

	// 50007 a host talking to itself (same address both ends): its RST
	// left another socket with another TTL and IP ID, yet no middlebox sits
	// between a host and itself.
	c = conn(50007, 230*time.Second, ConnConfig{Client: ap("10.0.9.9:50007"), Server: ap("10.0.9.9:8080")})
	c.Handshake()
	smallExchange(c, "/self", 905)
	forge(c, false, c.NextSeq(false), c.NextSeq(true), RST|ACK)

	// 50008 the server resets 5 s after the client's last data, which it
	// had acknowledged with a smaller window (the data waits unread in its
	// buffer): an abort with unread data, not a half-open connection.
	c = conn(50008, 240*time.Second, ConnConfig{})
	c.Handshake()
	smallExchange(c, "/slow", 906)
	c.ClientSend(httpGet("www.example.com", "/more"))
	c.SetWindow(false, 500)
	c.ACKFromServer()
	c.Advance(5 * time.Second)
	c.RST(false)
	return capt
}
