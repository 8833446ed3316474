package pcapgen

import (
	"fmt"
	"time"
)

// anomaliesScenario: one connection per anomaly kind that only tcptrace
// reports (analyze/anomaly.go), each on its own client port 470xx, for
// analyze/anomaly_scenarios_test.go.
func anomaliesScenario() *Capture {
	capt := &Capture{}
	conn := func(port int, isn, sisn uint32, start time.Duration) *Conn {
		return NewConn(ConnConfig{
			Capture: capt,
			Client:  ap(fmt.Sprintf("10.0.4.1:%d", port)), Server: ap("192.0.2.40:80"),
			ClientISN: isn, ServerISN: sisn,
			Start: Epoch.Add(start), RTT: 10 * time.Millisecond,
		})
	}

	// 47001 data_after_fin: the client sends a FIN, then more data beyond it.
	c := conn(47001, 0x10000000, 0x20000000, 0)
	c.Handshake()
	smallExchange(c, "/fin-then-data", 200)
	c.ClientFIN()
	c.ClientSend([]byte("late bytes after my own FIN"))

	// 47002 after_rst: the server resets with the exact sequence number; a
	// client segment already in flight arrives after it.
	c = conn(47002, 0x11000000, 0x21000000, 100*time.Millisecond)
	c.Handshake()
	smallExchange(c, "/reset", 201)
	c.RST(false)
	c.ClientSend([]byte("still writing"))

	// 47003 syn_new_isn: a SYN with another ISN on the live, answered
	// connection.
	c = conn(47003, 0x12000000, 0x22000000, 200*time.Millisecond)
	c.Handshake()
	smallExchange(c, "/new-isn", 202)
	c.Raw(RawSegment{FromClient: true, Seq: 0x7abcdef0, Flags: SYN, Options: c.synOptions()})

	// 47004 duplicate_frame: the same data segment captured twice, 1 µs
	// apart, identical to the byte (a SPAN duplicate).
	c = conn(47004, 0x13000000, 0x23000000, 300*time.Millisecond)
	c.Handshake()
	c.ClientSend(httpGet("www.example.com", "/dup"))
	last := capt.Frames[len(capt.Frames)-1]
	dup := Frame{Time: last.Time.Add(time.Microsecond), Data: append([]byte(nil), last.Data...), OrigLen: last.OrigLen, Iface: last.Iface}
	capt.Add(dup)
	c.ServerSend(httpOK(300, 203))
	c.ACKFromClient()

	// 47005 rst_out_of_window: a RST 2^30 beyond the client's window; the
	// connection then goes on and closes normally.
	c = conn(47005, 0x14000000, 0x24000000, 400*time.Millisecond)
	c.Handshake()
	c.Raw(RawSegment{FromClient: false, Seq: c.NextSeq(false) + 1<<30, Flags: RST})
	smallExchange(c, "/ignored-rst", 204)
	fourWayClose(c)

	// 47006 fin_changed_seq: the client's FIN, then a FIN 10 bytes further.
	c = conn(47006, 0x15000000, 0x25000000, 500*time.Millisecond)
	c.Handshake()
	smallExchange(c, "/moved-fin", 205)
	c.ClientFIN()
	c.Raw(RawSegment{FromClient: true, Seq: c.NextSeq(true) + 9, Ack: c.NextSeq(false), Flags: FIN | ACK})

	// 47007 rst_in_window: a RST 1000 bytes past the client's rcv.nxt,
	// inside its window; the client answers with a challenge ACK.
	c = conn(47007, 0x16000000, 0x26000000, 600*time.Millisecond)
	c.Handshake()
	smallExchange(c, "/blind-reset", 206)
	c.Raw(RawSegment{FromClient: false, Seq: c.NextSeq(false) + 1000, Flags: RST})
	c.ACKFromClient()

	// 47008 ttl_change and ipid_break: a RST with the exact sequence number
	// but another TTL and IP ID than the server's other packets (forged by
	// a middlebox, as it were).
	c = conn(47008, 0x17000000, 0x27000000, 700*time.Millisecond)
	c.Handshake()
	smallExchange(c, "/forged", 207)
	forger := NewConn(ConnConfig{
		Capture: capt, Client: ap("10.0.4.1:47008"), Server: ap("192.0.2.40:80"),
		ClientISN: c.NextSeq(true) - 1, ServerISN: c.NextSeq(false) - 1,
		Start: c.Now().Add(time.Millisecond), RTT: 10 * time.Millisecond,
		ServerTTL: 40, ServerIPID: 30000,
	})
	forger.Raw(RawSegment{FromClient: false, Seq: c.NextSeq(false), Ack: c.NextSeq(true), Flags: RST | ACK, NoTimestamp: true})

	// 47009 window_shrink: the client acknowledges 600 more bytes but offers
	// a window whose right edge lies ~50 KB before the previous one.
	c = conn(47009, 0x18000000, 0x28000000, 800*time.Millisecond)
	c.Handshake()
	c.ClientSend(httpGet("www.example.com", "/shrink"))
	c.SetWindow(true, 500)
	c.ACKFromClient()
	c.ServerSend(httpOK(600, 208))
	c.SetWindow(true, 100)
	c.ACKFromClient()

	// 47010 outside_window: the client offers 2 units (256 bytes at scale 7)
	// and the server sends 1448 bytes anyway.
	c = conn(47010, 0x19000000, 0x29000000, 900*time.Millisecond)
	c.Handshake()
	c.ClientSend(httpGet("www.example.com", "/overrun"))
	c.SetWindow(true, 2)
	c.ACKFromClient()
	c.ServerSend(httpOK(1300, 209))

	// 47011 ack_unsent_data: the client acknowledges 500 bytes the server
	// sends only afterwards.
	c = conn(47011, 0x1a000000, 0x2a000000, time.Second)
	c.Handshake()
	c.ClientSend(httpGet("www.example.com", "/early-ack"))
	c.Raw(RawSegment{FromClient: true, Seq: c.NextSeq(true), Ack: c.NextSeq(false) + 500, Flags: ACK})
	c.ServerSend(textBody(500, 210))

	// 47012 fin_invalid_seq: a FIN at the SYN's own sequence number.
	c = conn(47012, 0x1b000000, 0x2b000000, 1100*time.Millisecond)
	c.Handshake()
	c.Raw(RawSegment{FromClient: true, Seq: c.NextSeq(true) - 1, Ack: c.NextSeq(false), Flags: FIN | ACK})

	// 47013 conflicting_retransmission: the client retransmits its request
	// with other bytes in the same sequence range.
	c = conn(47013, 0x1c000000, 0x2c000000, 1200*time.Millisecond)
	c.Handshake()
	seq := c.NextSeq(true)
	c.ClientSend([]byte("GET /original HTTP/1.1\r\n\r\n"))
	c.Advance(200 * time.Millisecond)
	c.Raw(RawSegment{FromClient: true, Seq: seq, Ack: c.NextSeq(false), Flags: PSH | ACK, Payload: []byte("GET /tampered HTTP/1.1\r\n\r\n")})
	c.ACKFromServer()

	// 47014 bad_checksum (seen with --checksum only): the client's request
	// carries a wrong TCP checksum.
	c = conn(47014, 0x1d000000, 0x2d000000, 1300*time.Millisecond)
	c.Handshake()
	c.ClientSend(httpGet("www.example.com", "/bad-checksum"))
	f := &capt.Frames[len(capt.Frames)-1]
	f.Data[14+20+16] ^= 0xff // Ethernet, IPv4 without options, TCP checksum
	c.ServerSend(httpOK(200, 211))
	c.ACKFromClient()

	// 47015 zero_window_probe, Linux style: the client offers 8 units (1024
	// bytes at scale 7), the server fills them, the client's window closes
	// with its right edge in place; the server probes with an empty segment
	// at snd.una-1 (Wireshark calls it a keep-alive) and the client answers
	// still with a zero window.
	c = NewConn(ConnConfig{
		Capture: capt, Client: ap("10.0.4.1:47015"), Server: ap("192.0.2.40:80"),
		ClientISN: 0x1e000000, ServerISN: 0x2e000000,
		Start: Epoch.Add(1400 * time.Millisecond), RTT: 10 * time.Millisecond, ClientWindow: 8,
	})
	c.Handshake()
	c.ClientSend(httpGet("www.example.com", "/slow-reader"))
	c.ServerSend(textBody(1024, 212))
	c.SetWindow(true, 0)
	c.ACKFromClient()
	c.Advance(200 * time.Millisecond)
	c.Raw(RawSegment{FromClient: false, Seq: c.NextSeq(false) - 1, Ack: c.NextSeq(true), Flags: ACK})
	c.ACKFromClient()
	return capt
}
