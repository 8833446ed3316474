package pcapgen

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var (
	v4a  = netip.MustParseAddr("10.0.0.1")
	v4b  = netip.MustParseAddr("192.0.2.10")
	v6a  = netip.MustParseAddr("2001:db8::1")
	v6b  = netip.MustParseAddr("2001:db8::10")
	macA = net.HardwareAddr{2, 0, 0, 0, 0, 1}
	macB = net.HardwareAddr{2, 0, 0, 0, 0, 2}
)

func linuxSYNOptions() []TCPOption {
	return []TCPOption{MSSOption(1460), SACKPermOption(), TimestampOption(1, 0), NOPOption(), WScaleOption(7)}
}

// reserialize decodes an Ethernet frame with gopacket and serialises its
// layers again with FixLengths and ComputeChecksums: equal bytes mean our
// lengths and checksums agree with gopacket's.
func reserialize(t *testing.T, frame []byte) []byte {
	t.Helper()
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	if el := p.ErrorLayer(); el != nil {
		t.Fatalf("gopacket: %v", el.Error())
	}
	var ls []gopacket.SerializableLayer
	var netl gopacket.NetworkLayer
	for _, l := range p.Layers() {
		switch l := l.(type) {
		case *layers.IPv4:
			netl = l
		case *layers.IPv6:
			netl = l
		case *layers.TCP:
			if err := l.SetNetworkLayerForChecksum(netl); err != nil {
				t.Fatal(err)
			}
		}
		sl, ok := l.(gopacket.SerializableLayer)
		if !ok {
			t.Fatalf("layer %v does not serialise", l.LayerType())
		}
		ls = append(ls, sl)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestPacketLengthsAndChecksums(t *testing.T) {
	payload := bytes.Repeat([]byte("x"), 1448)
	tests := []struct {
		name      string
		pkt       Packet
		vlan      []uint16
		tcpHdr    int // TCP header length
		ipLen     int // IP packet length
		frameLen  int
		ethertype uint16 // first EtherType after the MACs
	}{
		{"v4 syn linux options", Packet{Src: v4a, Dst: v4b, TCP: TCP{Flags: SYN, Options: linuxSYNOptions()}},
			nil, 40, 60, 74, EtherTypeIPv4},
		{"v4 full segment with timestamps", Packet{Src: v4a, Dst: v4b, DF: true, TCP: TCP{Flags: ACK, Options: []TCPOption{NOPOption(), NOPOption(), TimestampOption(5, 6)}, Payload: payload}},
			nil, 32, 1500, 1514, EtherTypeIPv4},
		{"v4 no options odd payload", Packet{Src: v4a, Dst: v4b, TCP: TCP{Flags: PSH | ACK, Payload: []byte("abc")}},
			nil, 20, 43, 57, EtherTypeIPv4},
		{"v4 mss+wscale padded", Packet{Src: v4a, Dst: v4b, TCP: TCP{Flags: SYN, Options: []TCPOption{MSSOption(536), WScaleOption(2)}}},
			nil, 28, 48, 62, EtherTypeIPv4},
		{"v4 ip options", Packet{Src: v4a, Dst: v4b, IPOptions: []byte{0x94, 4, 0, 0}, TCP: TCP{Flags: ACK}},
			nil, 20, 44, 58, EtherTypeIPv4},
		{"v4 ip options padded", Packet{Src: v4a, Dst: v4b, IPOptions: []byte{1, 1, 1}, TCP: TCP{Flags: ACK}},
			nil, 20, 44, 58, EtherTypeIPv4},
		{"v4 sack blocks with timestamps (40 bytes)", Packet{Src: v4a, Dst: v4b, TCP: TCP{Flags: ACK, Options: []TCPOption{
			NOPOption(), NOPOption(), TimestampOption(1, 2),
			NOPOption(), NOPOption(), SACKOption(SACKBlock{1, 2}, SACKBlock{3, 4}, SACKBlock{5, 6})}}},
			nil, 60, 80, 94, EtherTypeIPv4},
		{"v4 tfo cookie and unknown kind", Packet{Src: v4a, Dst: v4b, TCP: TCP{Flags: SYN, Options: []TCPOption{
			MSSOption(1460), TFOOption([]byte{1, 2, 3, 4, 5, 6, 7, 8}), RawOption(79, []byte{0xbe, 0xef})}, Payload: []byte("GET /")}},
			nil, 40, 65, 79, EtherTypeIPv4},
		{"v4 vlan", Packet{Src: v4a, Dst: v4b, TCP: TCP{Flags: ACK}},
			[]uint16{10}, 20, 40, 58, EtherTypeVLAN},
		{"v4 qinq", Packet{Src: v4a, Dst: v4b, TCP: TCP{Flags: ACK}},
			[]uint16{100, 10}, 20, 40, 62, EtherTypeQinQ},
		{"v6 syn", Packet{Src: v6a, Dst: v6b, FlowLabel: 0x12345, TCP: TCP{Flags: SYN, Options: linuxSYNOptions()}},
			nil, 40, 80, 94, EtherTypeIPv6},
		{"v6 data vlan", Packet{Src: v6a, Dst: v6b, TCP: TCP{Flags: ACK, Payload: payload[:1000]}},
			[]uint16{20}, 20, 1060, 1078, EtherTypeVLAN},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.pkt.TCP.SrcPort, tc.pkt.TCP.DstPort = 40000, 80
			tc.pkt.TCP.Seq, tc.pkt.TCP.Ack = 0xfffffff0, 12345
			tc.pkt.ID = 0x1234
			if got := tc.pkt.TCP.HeaderLen(); got != tc.tcpHdr {
				t.Errorf("TCP header length %d, want %d", got, tc.tcpHdr)
			}
			ip := tc.pkt.Marshal()
			if len(ip) != tc.ipLen {
				t.Fatalf("IP packet length %d, want %d", len(ip), tc.ipLen)
			}
			var seg []byte
			if tc.pkt.Src.Is4() {
				hl := int(ip[0]&0xf) * 4
				if got := int(binary.BigEndian.Uint16(ip[2:])); got != tc.ipLen {
					t.Errorf("IPv4 total length %d, want %d", got, tc.ipLen)
				}
				if Checksum(ip[:hl]) != 0 {
					t.Error("bad IPv4 header checksum")
				}
				seg = ip[hl:]
			} else {
				if got := int(binary.BigEndian.Uint16(ip[4:])); got != tc.ipLen-40 {
					t.Errorf("IPv6 payload length %d, want %d", got, tc.ipLen-40)
				}
				seg = ip[40:]
			}
			if got := int(seg[12]>>4) * 4; got != tc.tcpHdr {
				t.Errorf("TCP data offset %d, want %d", got, tc.tcpHdr)
			}
			if !TransportChecksumOK(tc.pkt.Src, tc.pkt.Dst, ProtoTCP, seg) {
				t.Error("bad TCP checksum")
			}
			l := Link{Src: macA, Dst: macB, VLAN: tc.vlan}
			frame := l.Wrap(ip)
			if len(frame) != tc.frameLen {
				t.Fatalf("frame length %d, want %d", len(frame), tc.frameLen)
			}
			if got := binary.BigEndian.Uint16(frame[12:]); got != tc.ethertype {
				t.Errorf("EtherType %#04x, want %#04x", got, tc.ethertype)
			}
			// gopacket pads Ethernet frames to 60 bytes.
			if got := reserialize(t, frame); !bytes.Equal(got[:min(len(got), len(frame))], frame) || len(bytes.Trim(got[len(frame):], "\x00")) != 0 {
				t.Errorf("gopacket serialises differently:\n got %x\nwant %x", got, frame)
			}
		})
	}
}

func TestTCPFields(t *testing.T) {
	tcp := TCP{SrcPort: 1, DstPort: 2, Seq: 3, Ack: 4, Flags: SYN | ACK | ECE, Window: 5, Urgent: 6,
		Options: []TCPOption{MSSOption(1400), SACKPermOption(), EOLOption()}}
	b := tcp.Marshal(v4a, v4b)
	p := gopacket.NewPacket(b, layers.LayerTypeTCP, gopacket.Default)
	got, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if !ok {
		t.Fatal("no TCP layer")
	}
	if got.SrcPort != 1 || got.DstPort != 2 || got.Seq != 3 || got.Ack != 4 || got.Window != 5 || got.Urgent != 6 {
		t.Errorf("fields: %+v", got)
	}
	if !got.SYN || !got.ACK || !got.ECE || got.FIN || got.RST || got.PSH || got.URG || got.CWR {
		t.Errorf("flags: %+v", got)
	}
	if len(got.Options) < 2 || got.Options[0].OptionType != layers.TCPOptionKindMSS ||
		binary.BigEndian.Uint16(got.Options[0].OptionData) != 1400 || got.Options[1].OptionType != layers.TCPOptionKindSACKPermitted {
		t.Errorf("options: %v", got.Options)
	}
	if s := (SYN | ACK).String(); s != "SYN|ACK" {
		t.Errorf("flags string %q", s)
	}
	if s := TCPFlags(0).String(); s != "none" {
		t.Errorf("flags string %q", s)
	}
}

func TestMarshalPanics(t *testing.T) {
	tests := []struct {
		name string
		f    func()
	}{
		{"tcp options over 40 bytes", func() {
			tcp := TCP{Options: []TCPOption{SACKOption(SACKBlock{}, SACKBlock{}, SACKBlock{}, SACKBlock{}), TimestampOption(1, 2)}}
			tcp.Marshal(v4a, v4b)
		}},
		{"mixed families", func() { (&TCP{}).Marshal(v4a, v6b) }},
		{"ipv4 options over 40 bytes", func() { (&IPv4{Src: v4a, Dst: v4b, Options: make([]byte, 41)}).Marshal(nil) }},
		{"ipv6 header with ipv4 addresses", func() { (&IPv6{Src: v4a, Dst: v4b}).Marshal(nil) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tc.f()
		})
	}
}

func TestLinkEncapsulations(t *testing.T) {
	ip4 := (&Packet{Src: v4a, Dst: v4b, TCP: TCP{Flags: ACK}}).Marshal()
	ip6 := (&Packet{Src: v6a, Dst: v6b, TCP: TCP{Flags: ACK}}).Marshal()
	tests := []struct {
		name     string
		link     Link
		ip       []byte
		first    gopacket.LayerType
		linkType uint32
		hdr      []byte // expected link header
	}{
		{"ethernet", Link{Encap: EncapEthernet, Src: macA, Dst: macB}, ip4, layers.LayerTypeEthernet, 1,
			[]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00}},
		{"ethernet padded", Link{Encap: EncapEthernet, Src: macA, Dst: macB, Pad: true}, ip4, layers.LayerTypeEthernet, 1,
			[]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00}},
		{"raw", Link{Encap: EncapRaw}, ip6, layers.LayerTypeIPv6, 101, nil},
		{"null v4", Link{Encap: EncapNull}, ip4, layers.LayerTypeLoopback, 0, []byte{2, 0, 0, 0}},
		{"null v6", Link{Encap: EncapNull}, ip6, layers.LayerTypeLoopback, 0, []byte{30, 0, 0, 0}},
		{"sll outgoing", Link{Encap: EncapSLL, Src: macA, Outgoing: true}, ip4, layers.LayerTypeLinuxSLL, 113,
			[]byte{0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00}},
		{"sll incoming v6", Link{Encap: EncapSLL, Src: macB}, ip6, layers.LayerTypeLinuxSLL, 113,
			[]byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 2, 0, 0, 0x86, 0xdd}},
		{"sll2", Link{Encap: EncapSLL2, Src: macA, Outgoing: true, IfIndex: 2}, ip4, layers.LayerTypeLinuxSLL2, 276,
			[]byte{0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 4, 6, 2, 0, 0, 0, 0, 1, 0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.link.Encap.LinkType(); got != tc.linkType {
				t.Errorf("link type %d, want %d", got, tc.linkType)
			}
			f := tc.link.Wrap(tc.ip)
			if !bytes.Equal(f[:len(tc.hdr)], tc.hdr) {
				t.Errorf("link header %x, want %x", f[:len(tc.hdr)], tc.hdr)
			}
			body := f[len(tc.hdr):]
			if tc.link.Pad {
				if len(f) != 60 {
					t.Errorf("padded frame of %d bytes", len(f))
				}
				body = body[:len(tc.ip)]
			}
			if !bytes.Equal(body, tc.ip) {
				t.Error("IP packet altered")
			}
			p := gopacket.NewPacket(f, tc.first, gopacket.Default)
			if el := p.ErrorLayer(); el != nil {
				t.Fatalf("gopacket: %v", el.Error())
			}
			if p.Layer(layers.LayerTypeTCP) == nil {
				t.Errorf("gopacket finds no TCP in %v", p)
			}
		})
	}
}
