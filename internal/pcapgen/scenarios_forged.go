package pcapgen

import (
	"fmt"
	"time"
)

// injectedDataScenario is data injection (issue 14): two copies of the
// same bytes that differ, where one of them comes from a third party on the
// path, and one where nothing tells the copies apart.
//
//   - 51001: an injector answers the client's request first, with a short
//     fake redirect from the server's address (TTL 46 where the server's
//     packets have 57, IP ID 0xbeef far from the server's counter); the
//     client acknowledges it; the real response arrives an RTT later, its
//     first segment overlapping the fake one partly (the fake is shorter)
//     with other bytes. The receiver kept the forged copy.
//   - 51002: the server's segment is retransmitted 200 ms later over
//     exactly the same range with other bytes, both copies with the
//     server's TTL and IP IDs from its counter: nothing says which is
//     genuine.
//   - 51003: the injector is late: the real response is delivered first,
//     and the fake copy, starting 20 bytes into it, arrives 2 ms after it.
//     The receiver kept the genuine copy; the dropped one looks forged.
func injectedDataScenario() *Capture {
	capt := &Capture{}
	conn := func(port int, start time.Duration) *Conn {
		return NewConn(ConnConfig{
			Capture: capt,
			Client:  ap(fmt.Sprintf("10.0.10.1:%d", port)), Server: ap("192.0.2.100:80"),
			ClientISN: 0x51000000 + uint32(port)<<8, ServerISN: 0x15000000 + uint32(port)<<8,
			ServerIPID: 0x2000,
			Start:      Epoch.Add(start), RTT: 20 * time.Millisecond,
		})
	}
	// inject sends a segment that claims to come from c's server, from an
	// injector whose packets arrive with TTL 46 and its own IP IDs, after
	// wait.
	inject := func(c *Conn, wait time.Duration, seq uint32, payload []byte) {
		f := NewConn(ConnConfig{
			Capture: capt, Client: c.cfg.Client, Server: c.cfg.Server,
			Start: c.Now().Add(wait), RTT: time.Millisecond,
			ClientTTL: 46, ServerTTL: 46, ClientIPID: 0xbeef, ServerIPID: 0xbeef,
		})
		f.Raw(RawSegment{FromClient: false, Seq: seq, Ack: c.NextSeq(true), Flags: PSH | ACK, Payload: payload, NoTimestamp: true})
	}
	fake := []byte("HTTP/1.1 302 Found\r\nLocation: http://198.51.100.66/blocked.html\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

	// 51001: the forged copy first, partly overlapped by the real one.
	c := conn(51001, 0)
	c.Handshake()
	c.ClientSend(httpGet("www.example.com", "/download"))
	srv := c.NextSeq(false)
	inject(c, time.Millisecond, srv, fake)
	c.Advance(1100 * time.Microsecond)
	c.Raw(RawSegment{FromClient: true, Seq: c.NextSeq(true), Ack: srv + uint32(len(fake)), Flags: ACK})
	c.ServerSend(httpOK(3000, 1101))
	c.ACKFromClient()
	fourWayClose(c)

	// 51002: the same range twice from the server itself, other bytes.
	c = conn(51002, time.Second)
	c.Handshake()
	c.ClientSend(httpGet("www.example.com", "/retry"))
	srv = c.NextSeq(false)
	resp := httpOK(500, 1102)
	c.ServerSend(resp)
	c.Advance(200 * time.Millisecond)
	other := append([]byte(nil), resp...)
	copy(other[len(other)-40:], "this line was changed on the way back..\n")
	c.Raw(RawSegment{FromClient: false, Seq: srv, Ack: c.NextSeq(true), Flags: PSH | ACK, Payload: other})
	c.ACKFromClient()
	fourWayClose(c)

	// 51003: the real copy first; the forged one arrives after it,
	// overlapping part of it.
	c = conn(51003, 2*time.Second)
	c.Handshake()
	c.ClientSend(httpGet("www.example.com", "/late"))
	srv = c.NextSeq(false)
	c.ServerSend(httpOK(1000, 1103))
	inject(c, 2*time.Millisecond, srv+20, fake)
	c.Advance(3 * time.Millisecond)
	c.ACKFromClient()
	fourWayClose(c)
	return capt
}
