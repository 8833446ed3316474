package pcapgen

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"time"
)

// Scenario is one generated capture file.
type Scenario struct {
	Name, Description string
	Write             func(w io.Writer) error
	Format            string // "pcap" or "pcapng"
}

// FileName is the scenario's file name: Name.Format.
func (s Scenario) FileName() string { return s.Name + "." + s.Format }

// Bytes renders the scenario in memory.
func (s Scenario) Bytes() ([]byte, error) {
	var b bytes.Buffer
	err := s.Write(&b)
	return b.Bytes(), err
}

// Epoch is the time the scenarios start from.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Scenarios lists every scenario, in a fixed order.
func Scenarios() []Scenario {
	pcap := func(build func() *Capture, link uint32, snaplen int, nano bool) func(io.Writer) error {
		return func(w io.Writer) error { return build().WritePcap(w, link, snaplen, nano) }
	}
	return []Scenario{
		{Name: "handshake-data-close", Format: "pcap",
			Description: "IPv4 handshake with MSS/SACK-perm/TS/wscale, a request, a 3-segment response, four-way close",
			Write:       pcap(handshakeDataClose, LinkTypeEthernet, 0, false)},
		{Name: "ipv6", Format: "pcap",
			Description: "the handshake-data-close exchange over IPv6 plus an overlapping second IPv6 connection",
			Write:       pcap(ipv6Scenario, LinkTypeEthernet, 0, false)},
		{Name: "vlan", Format: "pcap",
			Description: "one 4-tuple in three overlapping connections: VLAN 10, VLAN 20 and QinQ 100/10",
			Write:       pcap(vlanScenario, LinkTypeEthernet, 0, false)},
		{Name: "fragments", Format: "pcap",
			Description: "IPv4 connection whose response segments travel in fragments (second set last-first), IPv6 connection with a fragmented segment",
			Write:       pcap(fragmentsScenario, LinkTypeEthernet, 0, false)},
		{Name: "tso", Format: "pcap",
			Description: "one host sending 20 KB TSO super-packets (IPv4 total length 0) and receiving 20 KB GRO segments (true lengths)",
			Write:       pcap(tsoScenario, LinkTypeEthernet, 0, false)},
		{Name: "snaplen", Format: "pcap",
			Description: "the handshake-data-close traffic captured with snaplen 96 (payloads truncated)",
			Write:       pcap(handshakeDataClose, LinkTypeEthernet, 96, false)},
		{Name: "port-reuse", Format: "pcap",
			Description: "one 4-tuple reused by three successive connections; after each FIN close a retransmitted FIN and trailing ACKs belong to the old one",
			Write:       pcap(portReuseScenario, LinkTypeEthernet, 0, false)},
		{Name: "midstream", Format: "pcap",
			Description: "capture starting mid-connection (no SYN) on port 443, data both ways, server sequence numbers wrapping past 2^32, FIN close",
			Write:       pcap(midstreamScenario, LinkTypeEthernet, 0, false)},
		{Name: "reset", Format: "pcap",
			Description: "a refused connection (SYN, RST/ACK) and a transfer aborted by the client's RST, with a bare RST answering late data",
			Write:       pcap(resetScenario, LinkTypeEthernet, 0, false)},
		{Name: "retransmit-sack", Format: "pcap",
			Description: "a lost segment recovered by fast retransmit after SACK dup ACKs, and a TFO connection (cookie, data on SYN, IPv4 router-alert option, unknown TCP option)",
			Write:       pcap(retransmitSACKScenario, LinkTypeEthernet, 0, false)},
		{Name: "multi-iface", Format: "pcapng",
			Description: "pcapng with an Ethernet interface (µs) and a raw IPv4 tunnel interface (LINKTYPE_RAW, ns), one connection on each",
			Write:       writeMultiIface},
		{Name: "linktype-sll", Format: "pcap",
			Description: "a small connection as captured on Linux 'any' (LINKTYPE_LINUX_SLL, 113)",
			Write:       pcap(func() *Capture { return smallConn(EncapSLL, "10.0.0.1:40011", "192.0.2.10:80") }, LinkTypeLinuxSLL, 0, false)},
		{Name: "linktype-sll2", Format: "pcap",
			Description: "a small connection in Linux cooked v2 frames (LINKTYPE_LINUX_SLL2, 276)",
			Write:       pcap(func() *Capture { return smallConn(EncapSLL2, "10.0.0.1:40017", "192.0.2.10:80") }, LinkTypeLinuxSLL2, 0, false)},
		{Name: "linktype-null", Format: "pcap",
			Description: "BSD loopback (LINKTYPE_NULL, 0): an IPv4 and an IPv6 (AF_INET6=30) connection on localhost, nanosecond pcap",
			Write:       pcap(nullScenario, LinkTypeNull, 0, true)},
		{Name: "linktype-raw6", Format: "pcap",
			Description: "a small IPv6 connection without link header (LINKTYPE_IPV6, 229)",
			Write:       pcap(func() *Capture { return smallConn(EncapRaw, "[2001:db8::1]:40014", "[2001:db8::10]:80") }, LinkTypeIPv6, 0, false)},
		{Name: "anomalies", Format: "pcap",
			Description: "one connection per anomaly only tcptrace reports: data after FIN, segment after RST, SYN with a new ISN, SPAN duplicate, out-of-window RST, FIN at a new sequence number",
			Write:       pcap(anomaliesScenario, LinkTypeEthernet, 0, false)},
		{Name: "handshakes", Format: "pcap",
			Description: "one connection per handshake class: complete, simultaneous open, SYN backoff, unanswered, refused, SYN-ACK without SYN, reordered, incomplete, mid-stream, client abort, ECN with TFO",
			Write:       pcap(handshakesScenario, LinkTypeEthernet, 0, false)},
		{Name: "closes", Format: "pcap",
			Description: "one connection per close class: four-way, three-way, simultaneous, half-close with data, half-closed, open, idle, FIN then RST",
			Write:       pcap(closesScenario, LinkTypeEthernet, 0, false)},
		{Name: "resets", Format: "pcap",
			Description: "RSTs: exact from the server, client abort, in-window with challenge ACK, out of window, after the close, FIN+RST, with diagnostic payload",
			Write:       pcap(resetsScenario, LinkTypeEthernet, 0, false)},
		{Name: "wrap", Format: "pcap",
			Description: "client and server sequence numbers wrapping through 2^32 during the transfer, four-way close",
			Write:       pcap(wrapScenario, LinkTypeEthernet, 0, false)},
		{Name: "early-fin", Format: "pcap",
			Description: "the server's FIN captured before its last data segment, then a normal close",
			Write:       pcap(earlyFINScenario, LinkTypeEthernet, 0, false)},
		{Name: "streams", Format: "pcap",
			Description: "stream reassembly: server responses reordered and duplicated, a segment lost before the capture (acknowledged), a retransmission with different bytes, a loss the capture ends on",
			Write:       pcap(streamsScenario, LinkTypeEthernet, 0, false)},
		{Name: "reset-causes", Format: "pcap",
			Description: "resets after a long idle, after retransmissions with backoff, and from a server with no trace of the connection",
			Write:       pcap(resetCausesScenario, LinkTypeEthernet, 0, false)},
		{Name: "reset-patterns", Format: "pcap",
			Description: "forged RSTs racing a handshake (wrong and right ACK), a host with random IP IDs, an unprompted RST after 2 minutes of silence and one 5 s after acknowledged data, a request retransmitted with backoff then RST, refused SYN retries, a host talking to itself",
			Write:       pcap(resetPatternsScenario, LinkTypeEthernet, 0, false)},
		{Name: "span-duplicates", Format: "pcap",
			Description: "SPAN copies of a SYN, SYN-ACK, request, response, ACK, FIN and RST, a retransmission copied, and equal headers over other bytes (injected, no copy)",
			Write:       pcap(spanDuplicatesScenario, LinkTypeEthernet, 0, false)},
		{Name: "dupack-window-update", Format: "pcap",
			Description: "two dup ACKs then a window update, or data with the same ACK, before a fast retransmission; a retransmission after 25 ms; a new ACK restarting the count",
			Write:       pcap(dupACKWindowUpdateScenario, LinkTypeEthernet, 0, false)},
		{Name: "fin-then-reset", Format: "pcap",
			Description: "a FIN then the RST that ends the connection: the server's RST after the client's FIN, the client's after the server's, the client's after its own",
			Write:       pcap(finThenResetScenario, LinkTypeEthernet, 0, false)},
		{Name: "injected-data", Format: "pcap",
			Description: "injected data: a forged response (foreign TTL and IP ID) delivered before the real one that partly overlaps it, the same range sent twice by the server with other bytes, and a forged copy arriving after the real one",
			Write:       pcap(injectedDataScenario, LinkTypeEthernet, 0, false)},
		{Name: "port-reuse-timewait", Format: "pcap",
			Description: "a four-way close leaving the server in TIME-WAIT, a retransmitted FIN, then a new SYN with a higher ISN on the same 4-tuple within a second",
			Write:       pcap(portReuseTimeWaitScenario, LinkTypeEthernet, 0, false)},
	}
}

// WriteAll writes every scenario to dir/<name>.<format>.
func WriteAll(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, s := range Scenarios() {
		b, err := s.Bytes()
		if err != nil {
			return fmt.Errorf("%s: %w", s.Name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, s.FileName()), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// textBody is n bytes of numbered text lines, different for each seed.
func textBody(n int, seed int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%04d-%05d the quick brown fox jumps over the lazy dog\n", seed, i)
	}
	return b.Bytes()[:n]
}

// noise is n pseudo-random bytes (xorshift), like encrypted records.
func noise(n int, seed uint32) []byte {
	x := seed*2654435761 | 1
	b := make([]byte, n)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

func httpGet(host, path string) []byte {
	return fmt.Appendf(nil, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: pcapgen/1.0\r\nAccept: */*\r\n\r\n", path, host)
}

func httpOK(bodyLen, seed int) []byte {
	b := fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n", bodyLen)
	return append(b, textBody(bodyLen, seed)...)
}

// httpOKTotal is an HTTP response of exactly total bytes.
func httpOKTotal(total, seed int) []byte {
	n := total
	for len(httpOK(n, seed)) != total {
		n -= len(httpOK(n, seed)) - total
	}
	return httpOK(n, seed)
}

// httpBinary is an HTTP response of exactly total bytes with a
// pseudo-random body.
func httpBinary(total int, seed uint32) []byte {
	hdr := func(n int) []byte {
		return fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", n)
	}
	n := total - len(hdr(total))
	for len(hdr(n))+n != total {
		n = total - len(hdr(n))
	}
	return append(hdr(n), noise(n, seed)...)
}

// fourWayClose: client FIN, server ACK, server FIN, client ACK.
func fourWayClose(c *Conn) {
	c.ClientFIN()
	c.ACKFromServer()
	c.Advance(time.Millisecond)
	c.ServerFIN()
	c.ACKFromClient()
}

func handshakeDataClose() *Capture {
	c := NewConn(ConnConfig{
		Client: ap("10.0.0.1:40000"), Server: ap("192.0.2.10:80"),
		ClientISN: 0x3a7c1e05, ServerISN: 0x8d02b4f1,
		Start: Epoch, RTT: 10 * time.Millisecond,
	})
	c.Handshake()
	c.ClientSend(httpGet("www.example.com", "/index.html"))
	c.ServerSend(httpOK(4000, 1))
	c.ACKFromClient()
	c.Advance(50 * time.Millisecond)
	fourWayClose(c)
	return c.Capture()
}

func ipv6Scenario() *Capture {
	capt := &Capture{}
	c := NewConn(ConnConfig{
		Capture: capt,
		Client:  ap("[2001:db8::1]:40000"), Server: ap("[2001:db8::10]:80"),
		ClientISN: 0x5b1d7a20, ServerISN: 0x0c44e9a3,
		Start: Epoch, RTT: 10 * time.Millisecond,
	})
	d := NewConn(ConnConfig{
		Capture: capt,
		Client:  ap("[2001:db8::2]:40100"), Server: ap("[2001:db8::20]:443"),
		ClientISN: 0x71f0c2aa, ServerISN: 0xe3a9015d,
		Start: Epoch.Add(12 * time.Millisecond), RTT: 7 * time.Millisecond,
	})
	c.Handshake()
	c.ClientSend(httpGet("www.example.com", "/index.html"))
	c.ServerSend(httpOK(4000, 2))
	c.ACKFromClient()
	c.Advance(50 * time.Millisecond)
	fourWayClose(c)

	d.Handshake()
	d.ClientSend(noise(517, 1))
	d.ServerSend(noise(2900, 2))
	d.ACKFromClient()
	d.ClientSend(noise(120, 3))
	d.ServerSend(noise(300, 4))
	d.ACKFromClient()
	d.Advance(20 * time.Millisecond)
	fourWayClose(d)
	return capt
}

func vlanScenario() *Capture {
	capt := &Capture{}
	for i, v := range []struct {
		vlan  []uint16
		isn   uint32
		start time.Duration
	}{
		{[]uint16{10}, 0x11111111, 0},
		{[]uint16{20}, 0x22222222, 3 * time.Millisecond},
		{[]uint16{100, 10}, 0x33333333, 6 * time.Millisecond},
	} {
		c := NewConn(ConnConfig{
			Capture: capt,
			Client:  ap("10.0.0.1:40000"), Server: ap("192.0.2.10:80"),
			ClientISN: v.isn, ServerISN: ^v.isn,
			VLAN:      v.vlan,
			ClientMAC: net.HardwareAddr{0x02, 0x00, 0x00, 0x00, byte(i + 1), 0x01},
			ServerMAC: net.HardwareAddr{0x02, 0x00, 0x00, 0x00, byte(i + 1), 0x10},
			Start:     Epoch.Add(v.start), RTT: 10 * time.Millisecond,
		})
		c.Handshake()
		c.ClientSend(httpGet("tenant.example", fmt.Sprintf("/vlan/%d", v.vlan[len(v.vlan)-1])))
		c.ServerSend(httpOK(2000+100*i, 10+i))
		c.ACKFromClient()
		c.Advance(5 * time.Millisecond)
		fourWayClose(c)
	}
	return capt
}

func fragmentsScenario() *Capture {
	capt := &Capture{}
	c := NewConn(ConnConfig{
		Capture: capt,
		Client:  ap("10.0.0.1:40002"), Server: ap("192.0.2.10:80"),
		ClientISN: 0x0a0b0c0d, ServerISN: 0x6e5f4031,
		Start: Epoch, RTT: 10 * time.Millisecond,
	})
	c.Handshake()
	c.ClientSend(httpGet("www.example.com", "/fragmented"))
	resp := httpOK(2600, 3)
	c.SetFragmentation(512, false)
	c.Segment(false, ACK, resp[:1448])
	c.SetFragmentation(512, true)
	c.Segment(false, PSH|ACK, resp[1448:])
	c.SetFragmentation(0, false)
	c.ACKFromClient()
	c.Advance(20 * time.Millisecond)
	fourWayClose(c)

	d := NewConn(ConnConfig{
		Capture: capt,
		Client:  ap("[2001:db8::1]:40003"), Server: ap("[2001:db8::10]:80"),
		ClientISN: 0x4d3c2b1a, ServerISN: 0x99aabbcc,
		Start: Epoch.Add(200 * time.Millisecond), RTT: 10 * time.Millisecond,
	})
	d.Handshake()
	d.ClientSend(httpGet("www.example.com", "/fragmented6"))
	d.SetFragmentation(1232, false)
	d.ServerSend(httpOK(1800, 4))
	d.SetFragmentation(0, false)
	d.ACKFromClient()
	d.Advance(20 * time.Millisecond)
	fourWayClose(d)
	return capt
}

func tsoScenario() *Capture {
	capt := &Capture{}
	const big = 14 * 1448
	// The capturing host 10.0.0.1 serves a download with TSO...
	c := NewConn(ConnConfig{
		Capture: capt,
		Client:  ap("10.0.0.2:50000"), Server: ap("10.0.0.1:8080"),
		ClientISN: 0x1f2e3d4c, ServerISN: 0x5a6b7c8d,
		Start: Epoch, RTT: 500 * time.Microsecond, CaptureAtServer: true,
	})
	c.Handshake()
	c.ClientSend(httpGet("10.0.0.1", "/blob"))
	c.SetTSO(big)
	blob := httpBinary(3*big, 5)
	var acks []uint32
	for i := range 3 {
		c.Segment(false, pick(i == 2, PSH|ACK, ACK), blob[i*big:(i+1)*big])
		acks = append(acks, c.NextSeq(false))
	}
	c.SetTSO(0)
	for _, a := range acks {
		c.Raw(RawSegment{FromClient: true, Seq: c.NextSeq(true), Ack: a, Flags: ACK})
	}
	fourWayClose(c)

	// ... and downloads with GRO.
	d := NewConn(ConnConfig{
		Capture: capt,
		Client:  ap("10.0.0.1:40004"), Server: ap("192.0.2.10:80"),
		ClientISN: 0x2c3d4e5f, ServerISN: 0x0f1e2d3c,
		Start: Epoch.Add(4 * time.Millisecond), RTT: 10 * time.Millisecond,
	})
	d.Handshake()
	d.ClientSend(httpGet("www.example.com", "/big"))
	d.SetGRO(big)
	blob = httpBinary(3*big, 6)
	for i := range 3 {
		d.ServerSend(blob[i*big : (i+1)*big])
		d.ACKFromClient()
	}
	d.SetGRO(0)
	fourWayClose(d)
	return capt
}

func portReuseScenario() *Capture {
	capt := &Capture{}
	for i := range 3 {
		c := NewConn(ConnConfig{
			Capture: capt,
			Client:  ap("10.0.0.1:40006"), Server: ap("192.0.2.10:80"),
			ClientISN: 0x10000000 + uint32(i)*0x20000000, ServerISN: 0x90000000 + uint32(i)*0x1000000,
			Start: Epoch.Add(time.Duration(i) * 2 * time.Second), RTT: 10 * time.Millisecond,
		})
		c.Handshake()
		c.ClientSend(httpGet("www.example.com", fmt.Sprintf("/conn/%d", i+1)))
		c.ServerSend(httpOK(1000+500*i, 20+i))
		c.ACKFromClient()
		switch i {
		case 0:
			// Close, then the server's FIN is retransmitted (the last ACK
			// was lost) and acknowledged again.
			c.ClientFIN()
			c.ServerFIN()
			c.ACKFromClient()
			c.Advance(200 * time.Millisecond)
			c.Raw(RawSegment{FromClient: false, Seq: c.NextSeq(false) - 1, Ack: c.NextSeq(true), Flags: FIN | ACK})
			c.ACKFromClient()
		case 1:
			// Four-way close, then a late duplicate of the last ACK and a
			// retransmitted FIN from the server.
			fourWayClose(c)
			c.Advance(300 * time.Millisecond)
			c.ACKFromClient()
			c.Raw(RawSegment{FromClient: false, Seq: c.NextSeq(false) - 1, Ack: c.NextSeq(true), Flags: FIN | ACK})
			c.ACKFromClient()
		}
	}
	return capt
}

func midstreamScenario() *Capture {
	c := NewConn(ConnConfig{
		Client: ap("10.0.0.7:51000"), Server: ap("198.51.100.20:443"),
		ClientISN: 0x1b2e44c0, ServerISN: 0xfffff9c0,
		Start: Epoch.Add(90 * time.Second), RTT: 20 * time.Millisecond,
	})
	c.ServerSend(noise(2000, 30))
	c.ACKFromClient()
	c.Advance(100 * time.Millisecond)
	c.ClientSend(noise(600, 31))
	c.ServerSend(noise(3000, 32))
	c.ACKFromClient()
	c.Advance(time.Second)
	c.ServerFIN()
	c.ClientFIN()
	c.ACKFromServer()
	return c.Capture()
}

func resetScenario() *Capture {
	capt := &Capture{}
	r := NewConn(ConnConfig{
		Capture: capt,
		Client:  ap("10.0.0.1:40007"), Server: ap("192.0.2.10:8080"),
		ClientISN: 0x77665544, ServerISN: 0,
		Start: Epoch, RTT: 10 * time.Millisecond,
	})
	r.Refused()

	c := NewConn(ConnConfig{
		Capture: capt,
		Client:  ap("10.0.0.1:40008"), Server: ap("192.0.2.10:80"),
		ClientISN: 0x13572468, ServerISN: 0x24681357,
		Start: Epoch.Add(100 * time.Millisecond), RTT: 10 * time.Millisecond,
	})
	c.Handshake()
	c.ClientSend(httpGet("www.example.com", "/huge"))
	body := httpBinary(5*1448, 40)
	for i := range 3 {
		c.Segment(false, ACK, body[i*1448:(i+1)*1448])
	}
	c.ACKFromClient()
	// The client gives up: RST/ACK, then a bare RST for data still in flight.
	c.RST(true)
	rstSeq := c.NextSeq(true)
	c.Segment(false, ACK, body[3*1448:4*1448])
	c.Raw(RawSegment{FromClient: true, Seq: rstSeq, Flags: RST})
	return capt
}

func retransmitSACKScenario() *Capture {
	capt := &Capture{}
	c := NewConn(ConnConfig{
		Capture: capt,
		Client:  ap("10.0.0.1:40015"), Server: ap("192.0.2.10:80"),
		ClientISN: 0x0badcafe, ServerISN: 0xfeedf00d,
		Start: Epoch, RTT: 10 * time.Millisecond,
	})
	c.Handshake()
	c.ClientSend(httpGet("www.example.com", "/lossy"))
	const mss = 1448
	resp := httpOKTotal(6*mss, 50) // six full segments
	seg := func(i int) []byte { return resp[i*mss : (i+1)*mss] }
	c.Segment(false, ACK, seg(0))
	c.Segment(false, ACK, seg(1))
	c.ACKFromClient()
	holeSeq := c.NextSeq(false)
	c.Lost(false, seg(2))
	// The rest of the window arrives in one burst; each segment gets a
	// dup ACK with a growing SACK block.
	for i := 3; i < 6; i++ {
		c.Segment(false, pick(i == 5, PSH|ACK, ACK), seg(i))
	}
	for i := 3; i < 6; i++ {
		c.Raw(RawSegment{
			FromClient: true, Seq: c.NextSeq(true), Ack: holeSeq, Flags: ACK,
			Options: []TCPOption{NOPOption(), NOPOption(), SACKOption(SACKBlock{holeSeq + mss, holeSeq + uint32(i-1)*mss})},
		})
	}
	// Fast retransmit of the hole, then the cumulative ACK.
	c.Raw(RawSegment{FromClient: false, Seq: holeSeq, Ack: c.NextSeq(true), Flags: ACK, Payload: seg(2)})
	c.ACKFromClient()
	c.Advance(30 * time.Millisecond)
	fourWayClose(c)

	// TCP Fast Open: SYN carrying a cookie and the request.
	t := NewConn(ConnConfig{
		Capture: capt,
		Client:  ap("10.0.0.1:40016"), Server: ap("192.0.2.10:80"),
		ClientISN: 0x600dd00d, ServerISN: 0xabcdef01,
		Start:           Epoch.Add(500 * time.Millisecond),
		RTT:             10 * time.Millisecond,
		ClientIPOptions: []byte{0x94, 0x04, 0x00, 0x00}, // router alert
	})
	cookie := []byte{0x5e, 0x1f, 0x02, 0x9a, 0xc3, 0x44, 0x7b, 0xd0}
	t.Segment(true, SYN, httpGet("www.example.com", "/fast"),
		MSSOption(1460), SACKPermOption(), TCPOption{Kind: OptTimestamp}, NOPOption(), WScaleOption(7),
		TFOOption(cookie), RawOption(0x4f, []byte{0xbe, 0xef}))
	t.Segment(false, SYN|ACK, nil,
		MSSOption(1460), SACKPermOption(), TCPOption{Kind: OptTimestamp}, NOPOption(), WScaleOption(7))
	t.ServerSend(httpOK(1200, 51))
	t.ACKFromClient()
	fourWayClose(t)
	return capt
}

func writeMultiIface(w io.Writer) error {
	capt := &Capture{}
	c := NewConn(ConnConfig{
		Capture: capt,
		Client:  ap("10.0.0.1:40009"), Server: ap("192.0.2.10:80"),
		ClientISN: 0x01234567, ServerISN: 0x89abcdef,
		Start: Epoch, RTT: 10 * time.Millisecond,
	})
	t := NewConn(ConnConfig{
		Capture: capt, Iface: 1, Encap: EncapRaw,
		Client: ap("10.8.0.2:40010"), Server: ap("198.51.100.20:443"),
		ClientISN: 0x76543210, ServerISN: 0xfedcba98,
		Start: Epoch.Add(2*time.Millisecond + 345_678*time.Nanosecond + 9),
		RTT:   23_456_789 * time.Nanosecond, Gap: 1234 * time.Nanosecond,
		MSS: 1360,
	})
	c.Handshake()
	t.Handshake()
	c.ClientSend(httpGet("www.example.com", "/eth"))
	t.ClientSend(noise(517, 60))
	c.ServerSend(httpOK(3000, 61))
	t.ServerSend(noise(2600, 62))
	c.ACKFromClient()
	t.ACKFromClient()
	fourWayClose(c)
	fourWayClose(t)
	return capt.WritePcapng(w,
		Interface{LinkType: LinkTypeEthernet, TSResol: 6},
		Interface{LinkType: LinkTypeRaw, TSResol: 9})
}

func smallConn(e Encap, client, server string) *Capture {
	c := NewConn(ConnConfig{
		Client: ap(client), Server: ap(server), Encap: e,
		ClientISN: 0x0f0f0f0f, ServerISN: 0xf0f0f0f0,
		Start: Epoch, RTT: 10 * time.Millisecond,
	})
	c.Handshake()
	c.ClientSend(httpGet("www.example.com", "/small"))
	c.ServerSend(httpOK(1600, 70))
	c.ACKFromClient()
	fourWayClose(c)
	return c.Capture()
}

func nullScenario() *Capture {
	capt := &Capture{}
	for i, ends := range [][2]string{
		{"127.0.0.1:40012", "127.0.0.1:8080"},
		{"[::1]:40013", "[::1]:8080"},
	} {
		c := NewConn(ConnConfig{
			Capture: capt, Encap: EncapNull,
			Client: ap(ends[0]), Server: ap(ends[1]),
			ClientISN: 0x0000beef + uint32(i), ServerISN: 0xdead0000 + uint32(i),
			Start: Epoch.Add(time.Duration(i)*time.Millisecond + 123_456_789), RTT: 45_678 * time.Nanosecond, Gap: 3_210 * time.Nanosecond,
			MSS: 16344, ClientTTL: 64, ServerTTL: 64,
		})
		c.Handshake()
		c.ClientSend(httpGet("localhost", "/loop"))
		c.ServerSend(httpOK(6000, 80+i))
		c.ACKFromClient()
		fourWayClose(c)
	}
	return capt
}
