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
	return capt
}
