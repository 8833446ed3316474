package pcapgen

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// seen is one decoded frame of a connection, relative to its ISNs.
type seen struct {
	client       bool
	seq, ack     uint32 // relative to the sender's (receiver's) ISN
	flags        TCPFlags
	n            int // payload
	at           time.Duration
	ipid         uint16
	ipLen        int
	tsval, tsecr uint32
	hasTS        bool
	window       uint16
	frag         bool
}

var cISN, sISN uint32 = 0xfffffff0, 1000

func testConfig() ConnConfig {
	return ConnConfig{
		Client: netip.MustParseAddrPort("10.0.0.1:40000"), Server: netip.MustParseAddrPort("192.0.2.10:80"),
		ClientISN: cISN, ServerISN: sISN, Start: Epoch, RTT: 10 * time.Millisecond,
		ClientIPID: 100, ServerIPID: 5000, ClientTSVal: 1000, ServerTSVal: 9000,
	}
}

// decodeConn decodes the frames of capt (Ethernet) and checks checksums.
func decodeConn(t *testing.T, capt *Capture, client netip.AddrPort) []seen {
	t.Helper()
	var out []seen
	for i, f := range capt.Sorted() {
		p := gopacket.NewPacket(f.Data, layers.LayerTypeEthernet, gopacket.Default)
		if el := p.ErrorLayer(); el != nil {
			t.Fatalf("frame %d: %v", i, el.Error())
		}
		var s seen
		s.at = f.Time.Sub(Epoch)
		if ip, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
			s.ipid = ip.Id
			s.ipLen = int(binary.BigEndian.Uint16(f.Data[14+2:])) // gopacket fixes a TSO length of 0
			s.client = ip.SrcIP.Equal(client.Addr().AsSlice())
			if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
				s.frag = true
				out = append(out, s)
				continue
			}
			if Checksum(f.Data[14:14+int(ip.IHL)*4]) != 0 {
				t.Errorf("frame %d: bad IPv4 header checksum", i)
			}
		}
		tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if !ok {
			t.Fatalf("frame %d: no TCP", i)
		}
		if s.ipLen == 0 && p.Layer(layers.LayerTypeIPv4) == nil {
			s.client = p.NetworkLayer().NetworkFlow().Src().String() == client.Addr().String()
		}
		src, dst := p.NetworkLayer().NetworkFlow().Endpoints()
		if !TransportChecksumOK(netip.MustParseAddr(src.String()), netip.MustParseAddr(dst.String()), ProtoTCP, append(tcp.Contents, tcp.Payload...)) {
			t.Errorf("frame %d: bad TCP checksum", i)
		}
		s.flags = TCPFlags(tcp.Contents[13])
		s.n = len(tcp.Payload)
		s.window = tcp.Window
		s.seq, s.ack = tcp.Seq-cISN, tcp.Ack-sISN
		if !s.client {
			s.seq, s.ack = tcp.Seq-sISN, tcp.Ack-cISN
		}
		for _, o := range tcp.Options {
			if o.OptionType == layers.TCPOptionKindTimestamps {
				s.hasTS = true
				s.tsval, s.tsecr = binary.BigEndian.Uint32(o.OptionData), binary.BigEndian.Uint32(o.OptionData[4:])
			}
		}
		out = append(out, s)
	}
	return out
}

func TestConnSequenceTracking(t *testing.T) {
	c := NewConn(testConfig())
	c.Handshake()
	c.ClientSend(make([]byte, 100))
	c.ServerSend(make([]byte, 3000)) // 1448 + 1448 + 104
	c.ACKFromClient()
	c.ClientFIN()
	c.ACKFromServer()
	c.ServerFIN()
	c.ACKFromClient()
	if got := c.NextSeq(true); got != cISN+1+100+1 {
		t.Errorf("client next seq %d", got)
	}
	rtt, gap := 10*time.Millisecond, 40*time.Microsecond
	want := []seen{
		{client: true, seq: 0, ack: 0 - sISN, flags: SYN, at: 0},
		{client: false, seq: 0, ack: 1, flags: SYN | ACK, at: rtt},
		{client: true, seq: 1, ack: 1, flags: ACK, at: rtt + gap},
		{client: true, seq: 1, ack: 1, flags: PSH | ACK, n: 100, at: rtt + 2*gap},
		{client: false, seq: 1, ack: 101, flags: ACK, n: 1448, at: 2*rtt + 2*gap},
		{client: false, seq: 1449, ack: 101, flags: ACK, n: 1448, at: 2*rtt + 3*gap},
		{client: false, seq: 2897, ack: 101, flags: PSH | ACK, n: 104, at: 2*rtt + 4*gap},
		{client: true, seq: 101, ack: 3001, flags: ACK, at: 2*rtt + 5*gap},
		{client: true, seq: 101, ack: 3001, flags: FIN | ACK, at: 2*rtt + 6*gap},
		{client: false, seq: 3001, ack: 102, flags: ACK, at: 3*rtt + 6*gap},
		{client: false, seq: 3001, ack: 102, flags: FIN | ACK, at: 3*rtt + 7*gap},
		{client: true, seq: 102, ack: 3002, flags: ACK, at: 3*rtt + 8*gap},
	}
	got := decodeConn(t, c.Capture(), testConfig().Client)
	if len(got) != len(want) {
		t.Fatalf("%d frames, want %d", len(got), len(want))
	}
	var cid, sid uint16 = 100, 5000
	var lastC, lastS uint32
	for i, w := range want {
		g := got[i]
		if g.client != w.client || g.seq != w.seq || g.flags != w.flags || g.n != w.n || g.at != w.at ||
			(w.flags&ACK != 0 && g.ack != w.ack) {
			t.Errorf("frame %d: client %v seq %d ack %d %v len %d at %v; want client %v seq %d ack %d %v len %d at %v",
				i, g.client, g.seq, g.ack, g.flags, g.n, g.at, w.client, w.seq, w.ack, w.flags, w.n, w.at)
		}
		// IP IDs count up per sender; timestamps echo the peer's last.
		if g.client {
			if g.ipid != cid {
				t.Errorf("frame %d: client IP ID %d, want %d", i, g.ipid, cid)
			}
			cid++
		} else {
			if g.ipid != sid {
				t.Errorf("frame %d: server IP ID %d, want %d", i, g.ipid, sid)
			}
			sid++
		}
		if !g.hasTS {
			t.Errorf("frame %d: no timestamps", i)
			continue
		}
		base := uint32(1000)
		if !g.client {
			base = 9000
		}
		if wantVal := base + uint32(g.at/time.Millisecond); g.tsval != wantVal {
			t.Errorf("frame %d: TSval %d, want %d", i, g.tsval, wantVal)
		}
		wantEcr := lastS
		if !g.client {
			wantEcr = lastC
		}
		if i == 0 {
			wantEcr = 0
		}
		if g.tsecr != wantEcr {
			t.Errorf("frame %d: TSecr %d, want %d", i, g.tsecr, wantEcr)
		}
		if g.client {
			lastC = g.tsval
		} else {
			lastS = g.tsval
		}
		wantWin := map[bool]uint16{true: 502, false: 509}[g.client]
		if g.flags&SYN != 0 {
			wantWin = map[bool]uint16{true: 64240, false: 65160}[g.client]
		}
		if g.window != wantWin {
			t.Errorf("frame %d: window %d, want %d", i, g.window, wantWin)
		}
	}
}

func TestConnHandshakeOptions(t *testing.T) {
	tests := []struct {
		name   string
		mod    func(*ConnConfig)
		tcpHdr int // SYN header length
		segLen int // full segment payload
	}{
		{"linux defaults", func(*ConnConfig) {}, 40, 1448},
		{"no timestamps", func(c *ConnConfig) { c.NoTimestamps = true }, 32, 1460},
		{"no timestamps, no sack", func(c *ConnConfig) { c.NoTimestamps, c.NoSACKPerm = true, true }, 28, 1460},
		{"no options but mss", func(c *ConnConfig) { c.NoTimestamps, c.NoSACKPerm, c.NoWindowScale = true, true, true }, 24, 1460},
		{"timestamps without sack", func(c *ConnConfig) { c.NoSACKPerm = true }, 40, 1448},
		{"ipv6", func(c *ConnConfig) {
			c.Client, c.Server = netip.MustParseAddrPort("[2001:db8::1]:1"), netip.MustParseAddrPort("[2001:db8::2]:2")
		}, 40, 1428},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			tc.mod(&cfg)
			c := NewConn(cfg)
			c.Handshake()
			c.ServerSend(make([]byte, 2000))
			fs := c.Capture().Frames
			if len(fs) != 5 {
				t.Fatalf("%d frames", len(fs))
			}
			ipHdr := 20
			if cfg.Client.Addr().Is6() {
				ipHdr = 40
			}
			syn := fs[0].Data[14+ipHdr:]
			if got := int(syn[12]>>4) * 4; got != tc.tcpHdr {
				t.Errorf("SYN header %d bytes, want %d", got, tc.tcpHdr)
			}
			data := fs[3].Data[14+ipHdr:]
			if got := len(data) - int(data[12]>>4)*4; got != tc.segLen {
				t.Errorf("full segment of %d bytes, want %d", got, tc.segLen)
			}
			if got := len(fs[3].Data); got != 1514 {
				t.Errorf("full frame of %d bytes, want 1514 (a 1500-byte MTU)", got)
			}
		})
	}
}

func TestConnCaptureAtServerTiming(t *testing.T) {
	cfg := testConfig()
	cfg.CaptureAtServer = true
	cfg.Gap = time.Microsecond
	c := NewConn(cfg)
	c.Handshake()
	c.ServerSend([]byte("hello"))
	c.ACKFromClient()
	c.Advance(time.Second)
	c.ServerFIN()
	var at []time.Duration
	for _, f := range c.Capture().Frames {
		at = append(at, f.Time.Sub(Epoch))
	}
	ms := time.Millisecond
	want := []time.Duration{0, time.Microsecond, 10*ms + time.Microsecond, 10*ms + 2*time.Microsecond,
		20*ms + 2*time.Microsecond, time.Second + 20*ms + 3*time.Microsecond}
	if len(at) != len(want) {
		t.Fatalf("times %v", at)
	}
	for i := range want {
		if at[i] != want[i] {
			t.Errorf("frame %d at %v, want %v", i, at[i], want[i])
		}
	}
	// The SYN comes from the far side: TTL 57; the server's frames: 64.
	if ttl := c.Capture().Frames[0].Data[14+8]; ttl != 57 {
		t.Errorf("client TTL %d", ttl)
	}
	if ttl := c.Capture().Frames[1].Data[14+8]; ttl != 64 {
		t.Errorf("server TTL %d", ttl)
	}
}

func TestConnRawLostAndRefused(t *testing.T) {
	c := NewConn(testConfig())
	c.Handshake()
	before := c.NextSeq(false)
	c.Lost(false, make([]byte, 500))
	if c.NextSeq(false) != before+500 {
		t.Errorf("Lost did not advance the sequence")
	}
	c.Segment(false, ACK, make([]byte, 10))
	c.Raw(RawSegment{FromClient: false, Seq: before, Ack: c.NextSeq(true), Flags: ACK, Payload: make([]byte, 500)})
	if c.NextSeq(false) != before+510 {
		t.Errorf("Raw moved the sequence: %d", c.NextSeq(false)-before)
	}
	c.RST(true)
	got := decodeConn(t, c.Capture(), testConfig().Client)
	if len(got) != 6 {
		t.Fatalf("%d frames", len(got))
	}
	if g := got[3]; g.seq != 501 || g.n != 10 || g.ipid != 5002 {
		t.Errorf("after the loss: seq %d len %d ipid %d", g.seq, g.n, g.ipid)
	}
	if g := got[4]; g.seq != 1 || g.n != 500 {
		t.Errorf("retransmission: seq %d len %d", g.seq, g.n)
	}
	if g := got[5]; g.flags != RST|ACK || g.hasTS || g.window != 0 || g.seq != 1 || g.ack != 511 {
		t.Errorf("RST: %+v", g)
	}

	r := NewConn(testConfig())
	r.Refused()
	got = decodeConn(t, r.Capture(), testConfig().Client)
	if len(got) != 2 || got[1].flags != RST|ACK || got[1].seq != 0-sISN || got[1].ack != 1 || got[1].at != 10*time.Millisecond {
		t.Errorf("refused: %+v", got)
	}
}

func TestConnFragmentationAndTSO(t *testing.T) {
	c := NewConn(testConfig())
	c.Handshake()
	c.SetFragmentation(512, true)
	c.ServerSend(make([]byte, 1448))
	c.ClientSend([]byte("small"))
	c.SetFragmentation(0, false)
	c.SetTSO(14 * 1448) // marks only the capture side's (the client's) segments
	c.ClientSend(make([]byte, 14*1448+100))
	c.SetGRO(14 * 1448)
	c.ServerSend(make([]byte, 3*1448))
	got := decodeConn(t, c.Capture(), testConfig().Client)
	if len(got) != 3+3+1+2+1 {
		t.Fatalf("%d frames", len(got))
	}
	for i := 3; i < 6; i++ {
		if !got[i].frag || got[i].ipid != 5001 || got[i].client {
			t.Errorf("frame %d: not a fragment of the server's segment: %+v", i, got[i])
		}
	}
	if f := c.Capture().Frames[3].Data; binary.BigEndian.Uint16(f[14+6:])&0x1fff != 1024/8 {
		t.Error("fragments not last-first")
	}
	if g := got[6]; g.frag || g.n != 5 || binary.BigEndian.Uint16(c.Capture().Frames[6].Data[14+6:])&0x4000 != 0 {
		t.Errorf("small segment: %+v (DF must be clear while fragmenting)", g)
	}
	if g := got[7]; g.ipLen != 0 || g.n != 14*1448 {
		t.Errorf("TSO super-packet: IP length %d, payload %d", g.ipLen, g.n)
	}
	if g := got[8]; g.ipLen != 20+32+100 {
		t.Errorf("short tail of a TSO send: IP length %d", g.ipLen)
	}
	if g := got[9]; g.ipLen != 20+32+3*1448 || g.client {
		t.Errorf("GRO segment: IP length %d", g.ipLen)
	}
}

func TestSharedCaptureInterleaves(t *testing.T) {
	capt := &Capture{}
	a := testConfig()
	a.Capture = capt
	b := testConfig()
	b.Capture = capt
	b.Client = netip.MustParseAddrPort("10.0.0.2:40001")
	b.Start = Epoch.Add(5 * time.Millisecond)
	ca, cb := NewConn(a), NewConn(b)
	ca.Handshake()
	cb.Handshake()
	fs := capt.Sorted()
	if len(fs) != 6 {
		t.Fatalf("%d frames", len(fs))
	}
	order := ""
	for i, f := range fs {
		if i > 0 && f.Time.Before(fs[i-1].Time) {
			t.Errorf("frame %d goes back in time", i)
		}
		ports := f.Data[14+20:]
		order += map[bool]string{true: "a", false: "b"}[binary.BigEndian.Uint16(ports) == 40000 || binary.BigEndian.Uint16(ports[2:]) == 40000]
	}
	if order != "abaabb" {
		t.Errorf("interleaving %s, want abaabb", order)
	}
}

func TestConnEncapsulations(t *testing.T) {
	for _, e := range []Encap{EncapEthernet, EncapRaw, EncapNull, EncapSLL, EncapSLL2} {
		cfg := testConfig()
		cfg.Encap = e
		cfg.VLAN = []uint16{7}
		c := NewConn(cfg)
		c.Handshake()
		first := map[Encap]gopacket.LayerType{EncapEthernet: layers.LayerTypeEthernet, EncapRaw: layers.LayerTypeIPv4,
			EncapNull: layers.LayerTypeLoopback, EncapSLL: layers.LayerTypeLinuxSLL, EncapSLL2: layers.LayerTypeLinuxSLL2}[e]
		for i, f := range c.Capture().Frames {
			p := gopacket.NewPacket(f.Data, first, gopacket.Default)
			if p.ErrorLayer() != nil || p.Layer(layers.LayerTypeTCP) == nil {
				t.Errorf("encap %d frame %d: %v", e, i, p)
			}
			if e == EncapEthernet && p.Layer(layers.LayerTypeDot1Q) == nil {
				t.Errorf("frame %d lost its VLAN tag", i)
			}
		}
	}
}
