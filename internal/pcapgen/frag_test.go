package pcapgen

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/ip4defrag"
	"github.com/gopacket/gopacket/ip6defrag"
	"github.com/gopacket/gopacket/layers"
)

func TestFragmentIPv4(t *testing.T) {
	payload := textBody(1448, 1)
	tests := []struct {
		name       string
		opts       []byte
		size       int
		outOfOrder bool
		sizes      []int // fragment payload sizes in wire order
		offsets    []int
		optLens    []int // IPv4 option bytes in each fragment
	}{
		{"512 in order", nil, 512, false, []int{512, 512, 456}, []int{0, 512, 1024}, []int{0, 0, 0}},
		{"512 out of order", nil, 512, true, []int{456, 512, 512}, []int{1024, 512, 0}, []int{0, 0, 0}},
		{"size rounded down to 8", nil, 700, false, []int{696, 696, 88}, []int{0, 696, 1392}, []int{0, 0, 0}},
		{"copied option kept", []byte{0x94, 4, 0, 0}, 1000, false, []int{1000, 480}, []int{0, 1000}, []int{4, 4}},
		{"uncopied option dropped", []byte{7, 7, 4, 0, 0, 0, 0, 1}, 1000, false, []int{1000, 480}, []int{0, 1000}, []int{8, 0}},
		{"fits whole", nil, 1480, false, []int{1480}, []int{0}, []int{0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Packet{Src: v4a, Dst: v4b, ID: 0xbeef, DF: true, IPOptions: tc.opts,
				TCP: TCP{SrcPort: 80, DstPort: 40000, Seq: 1, Ack: 2, Flags: ACK, Options: []TCPOption{NOPOption(), NOPOption(), TimestampOption(1, 2)}, Payload: payload}}
			ip := p.Marshal()
			frags, err := FragmentIPv4(ip, tc.size, tc.outOfOrder)
			if err != nil {
				t.Fatal(err)
			}
			if len(frags) != len(tc.sizes) {
				t.Fatalf("%d fragments, want %d", len(frags), len(tc.sizes))
			}
			d := ip4defrag.NewIPv4Defragmenter()
			var whole *layers.IPv4
			for i, f := range frags {
				hl := int(f[0]&0xf) * 4
				if hl-20 != tc.optLens[i] {
					t.Errorf("fragment %d: %d option bytes, want %d", i, hl-20, tc.optLens[i])
				}
				if got := int(binary.BigEndian.Uint16(f[2:])); got != len(f) || got-hl != tc.sizes[i] {
					t.Errorf("fragment %d: total length %d (len %d), payload want %d", i, got, len(f), tc.sizes[i])
				}
				if Checksum(f[:hl]) != 0 {
					t.Errorf("fragment %d: bad header checksum", i)
				}
				if id := binary.BigEndian.Uint16(f[4:]); id != 0xbeef {
					t.Errorf("fragment %d: ID %#x", i, id)
				}
				ff := binary.BigEndian.Uint16(f[6:])
				if len(frags) > 1 && ff&0x4000 != 0 {
					t.Errorf("fragment %d keeps DF", i)
				}
				last := tc.offsets[i]+tc.sizes[i] == len(ip)-20-len(tc.opts)
				if (ff&0x2000 != 0) == last {
					t.Errorf("fragment %d: MF %v at offset %d", i, ff&0x2000 != 0, tc.offsets[i])
				}
				if got := int(ff&0x1fff) * 8; got != tc.offsets[i] {
					t.Errorf("fragment %d: offset %d, want %d", i, got, tc.offsets[i])
				}
				pk := gopacket.NewPacket(f, layers.LayerTypeIPv4, gopacket.Default)
				l4, ok := pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
				if !ok {
					t.Fatalf("fragment %d does not decode", i)
				}
				out, err := d.DefragIPv4(l4)
				if err != nil {
					t.Fatal(err)
				}
				if out != nil {
					whole = out
				}
			}
			if whole == nil {
				t.Fatal("gopacket did not reassemble the fragments")
			}
			if hl := int(ip[0]&0xf) * 4; !bytes.Equal(whole.Payload, ip[hl:]) {
				t.Error("reassembled payload differs")
			}
			if !TransportChecksumOK(v4a, v4b, ProtoTCP, whole.Payload) {
				t.Error("bad TCP checksum after reassembly")
			}
		})
	}
}

func TestFragmentIPv4Errors(t *testing.T) {
	ip := (&Packet{Src: v4a, Dst: v4b, TCP: TCP{Payload: make([]byte, 100)}}).Marshal()
	frags, err := FragmentIPv4(ip, 64, false)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		pkt  []byte
		size int
	}{
		{"fragment of a fragment", frags[0], 16},
		{"size below 8", ip, 7},
		{"not ipv4", (&Packet{Src: v6a, Dst: v6b}).Marshal(), 64},
		{"truncated", ip[:30], 8},
	}
	for _, tc := range tests {
		if _, err := FragmentIPv4(tc.pkt, tc.size, false); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestFragmentIPv6(t *testing.T) {
	payload := textBody(1428, 2)
	tests := []struct {
		name       string
		size       int
		outOfOrder bool
		sizes      []int
	}{
		{"1232 in order", 1232, false, []int{1232, 228}},
		{"1232 out of order", 1232, true, []int{228, 1232}},
		{"500 rounded", 500, false, []int{496, 496, 468}},
		{"fits", 1500, false, []int{1460}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Packet{Src: v6a, Dst: v6b, FlowLabel: 7,
				TCP: TCP{SrcPort: 80, DstPort: 40000, Flags: ACK, Options: []TCPOption{NOPOption(), NOPOption(), TimestampOption(1, 2)}, Payload: payload}}
			ip := p.Marshal()
			frags, err := FragmentIPv6(ip, tc.size, 0xcafe, tc.outOfOrder)
			if err != nil {
				t.Fatal(err)
			}
			if len(frags) != len(tc.sizes) {
				t.Fatalf("%d fragments, want %d", len(frags), len(tc.sizes))
			}
			if len(frags) == 1 {
				if !bytes.Equal(frags[0], ip) {
					t.Error("unfragmented packet altered")
				}
				return
			}
			d := ip6defrag.NewIPv6Defragmenter()
			var whole *layers.IPv6
			for i, f := range frags {
				if f[6] != ProtoIPv6Frag || f[40] != ProtoTCP {
					t.Errorf("fragment %d: next headers %d, %d", i, f[6], f[40])
				}
				if got := int(binary.BigEndian.Uint16(f[4:])); got != len(f)-40 || got-8 != tc.sizes[i] {
					t.Errorf("fragment %d: payload length %d, want 8+%d", i, got, tc.sizes[i])
				}
				if id := binary.BigEndian.Uint32(f[44:]); id != 0xcafe {
					t.Errorf("fragment %d: id %#x", i, id)
				}
				pk := gopacket.NewPacket(f, layers.LayerTypeIPv6, gopacket.Default)
				l6, _ := pk.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
				fh, _ := pk.Layer(layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment)
				if l6 == nil || fh == nil {
					t.Fatalf("fragment %d does not decode: %v", i, pk)
				}
				if out := d.DefragIPv6(l6, fh); out != nil {
					whole = out
				}
			}
			if whole == nil {
				t.Fatal("gopacket did not reassemble the fragments")
			}
			if !bytes.Equal(whole.Payload, ip[40:]) {
				t.Error("reassembled payload differs")
			}
		})
	}
}

func TestMarkTSO(t *testing.T) {
	p := Packet{Src: v4a, Dst: v4b, DF: true, TCP: TCP{Flags: ACK, Payload: make([]byte, 20272)}}
	ip := p.Marshal()
	got, err := MarkTSO(ip)
	if err != nil {
		t.Fatal(err)
	}
	if binary.BigEndian.Uint16(got[2:]) != 0 {
		t.Error("total length not 0")
	}
	if Checksum(got[:20]) != 0 {
		t.Error("bad header checksum")
	}
	if !bytes.Equal(got[20:], ip[20:]) || len(got) != len(ip) {
		t.Error("segment altered")
	}
	if !TransportChecksumOK(v4a, v4b, ProtoTCP, got[20:]) {
		t.Error("bad TCP checksum")
	}
	if _, err := MarkTSO((&Packet{Src: v6a, Dst: v6b}).Marshal()); err == nil {
		t.Error("IPv6 packet marked")
	}
}
