package decode

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"testing"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/tcp"
)

// decodeCase is one frame and what Decode must make of it. For OK cases the
// segment is checked against the remaining fields (zero values: IPv4
// cli4:40000 > srv4:80, Len = captured payload length, no notes, no VLAN).
type decodeCase struct {
	name  string
	f     *capture.Frame
	want  Skip
	v6    bool
	len   int
	capd  int // -1: same as len
	notes tcp.Note
	vlan  tcp.VLANs
	check func(t *testing.T, s *tcp.Segment)
}

func okCase(name string, f *capture.Frame, payload int) decodeCase {
	return decodeCase{name: name, f: f, want: OK, len: payload, capd: -1}
}

func (c decodeCase) with(fn func(*decodeCase)) decodeCase { fn(&c); return c }

func skipCase(name string, f *capture.Frame, want Skip) decodeCase {
	return decodeCase{name: name, f: f, want: want}
}

func runDecodeCases(t *testing.T, cases []decodeCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewDecoder()
			var s tcp.Segment
			// Poison the segment: Decode must reset every field.
			s.VLAN = tcp.VLANs{N: 2, IDs: [2]uint16{7, 8}}
			s.Notes = 0xFF
			s.Opts.HasMSS = true
			got := d.Decode(c.f, &s)
			if got != c.want {
				t.Fatalf("Decode = %v, want %v", got, c.want)
			}
			if c.want != OK {
				return
			}
			src, dst := netip.AddrPortFrom(cli4, 40000), netip.AddrPortFrom(srv4, 80)
			if c.v6 {
				src, dst = netip.AddrPortFrom(cli6, 40000), netip.AddrPortFrom(srv6, 80)
			}
			if s.Src != src || s.Dst != dst || s.IPv6 != c.v6 {
				t.Errorf("endpoints %v > %v (v6 %v), want %v > %v", s.Src, s.Dst, s.IPv6, src, dst)
			}
			capd := c.capd
			if capd < 0 {
				capd = c.len
			}
			if s.Len != c.len || len(s.Payload) != capd {
				t.Errorf("Len %d, captured %d; want %d, %d", s.Len, len(s.Payload), c.len, capd)
			}
			if !bytes.Equal(s.Payload, pattern(len(s.Payload))) {
				t.Errorf("payload %q is not the segment's data", s.Payload)
			}
			if s.Notes != c.notes {
				t.Errorf("Notes %b, want %b", s.Notes, c.notes)
			}
			if s.VLAN != c.vlan {
				t.Errorf("VLAN %+v, want %+v", s.VLAN, c.vlan)
			}
			if s.Frame != c.f.N || s.TS != c.f.TS {
				t.Errorf("Frame %d TS %d, want %d %d", s.Frame, s.TS, c.f.N, c.f.TS)
			}
			if c.check != nil {
				c.check(t, &s)
			}
			// Invariants every OK segment keeps.
			if len(s.Payload) > s.Len || s.Len < 0 {
				t.Errorf("invariant: len(Payload) %d > Len %d", len(s.Payload), s.Len)
			}
		})
	}
}

func TestDecodeTCPFields(t *testing.T) {
	syn := tcpSpec{
		sport: 40000, dport: 80, seq: 0xFFFFFFF0, flags: tcp.SYN | tcp.ECE | tcp.CWR | tcp.AE, win: 64240,
		opts: cat(mssOpt(1460), []byte{OptNOP}, wsOpt(7), sackPermOpt(), tsOpt(0xDEADBEEF, 0)),
	}
	ack := tcpSpec{
		sport: 40000, dport: 80, seq: 5, ack: 0x80000000, flags: tcp.ACK | tcp.URG | tcp.FIN, win: 9, urg: 3,
		opts:    cat(tsOpt(11, 12), sackOpt(100, 200, 300, 400)),
		payload: pattern(10),
	}
	runDecodeCases(t, []decodeCase{
		okCase("syn with options", frame(LinkEthernet, eth(etherIPv4, ipv4TCP(syn))), 0).with(func(c *decodeCase) {
			c.check = func(t *testing.T, s *tcp.Segment) {
				if s.Seq != 0xFFFFFFF0 || s.Ack != 0 || s.Flags != tcp.SYN|tcp.ECE|tcp.CWR|tcp.AE || s.Window != 64240 {
					t.Errorf("header: seq %d ack %d flags %v win %d", s.Seq, s.Ack, s.Flags, s.Window)
				}
				o := s.Opts
				if !o.HasMSS || o.MSS != 1460 || !o.HasWScale || o.WScale != 7 || !o.SACKPerm ||
					!o.HasTS || o.TSVal != 0xDEADBEEF || o.TSEcr != 0 || o.SACKOpt || o.Malformed || o.Unknown {
					t.Errorf("options %+v", o)
				}
				var kinds []uint8
				EachOption(o.Raw, func(op Option) { kinds = append(kinds, op.Kind) })
				want := []uint8{OptMSS, OptNOP, OptWScale, OptSACKPerm, OptNOP, OptNOP, OptTimestamp, OptEOL}
				if !bytes.Equal(kinds, want) {
					t.Errorf("option kinds %v, want %v", kinds, want)
				}
				if s.LogicalLen() != 1 {
					t.Errorf("LogicalLen %d", s.LogicalLen())
				}
				if s.TTL != 64 || s.Checksum != 0xBEEF {
					t.Errorf("TTL %d checksum %#x", s.TTL, s.Checksum)
				}
			}
		}),
		okCase("data with sack", frame(LinkEthernet, eth(etherIPv4, ipv4TCP(ack))), 10).with(func(c *decodeCase) {
			c.check = func(t *testing.T, s *tcp.Segment) {
				if s.Seq != 5 || s.Ack != 0x80000000 || s.Flags != tcp.ACK|tcp.URG|tcp.FIN || s.Urgent != 3 || s.Window != 9 {
					t.Errorf("header: seq %d ack %d flags %v urg %d", s.Seq, s.Ack, s.Flags, s.Urgent)
				}
				o := s.Opts
				want := [4]tcp.SACKBlock{{Left: 100, Right: 200}, {Left: 300, Right: 400}}
				if !o.SACKOpt || o.NSACK != 2 || o.SACK != want || !o.HasTS || o.TSVal != 11 || o.TSEcr != 12 {
					t.Errorf("options %+v", o)
				}
				if s.LogicalLen() != 11 {
					t.Errorf("LogicalLen %d", s.LogicalLen())
				}
			}
		}),
	})
}

func TestDecodeOptionsEdgeCases(t *testing.T) {
	for _, c := range []struct {
		name  string
		opts  []byte
		check func(o tcp.Options) bool
	}{
		{"mss bad length", []byte{OptMSS, 3, 5}, func(o tcp.Options) bool { return o.Malformed && !o.HasMSS }},
		{"length beyond area", []byte{OptTimestamp, 40, 0, 0}, func(o tcp.Options) bool { return o.Malformed && !o.HasTS }},
		{"zero length", []byte{99, 0, 0, 0}, func(o tcp.Options) bool { return o.Malformed }},
		{"unknown kind", []byte{99, 4, 1, 2}, func(o tcp.Options) bool { return o.Unknown && !o.Malformed }},
		{"tfo cookie", []byte{OptTFO, 10, 1, 2, 3, 4, 5, 6, 7, 8}, func(o tcp.Options) bool { return o.TFO && o.TFOCookie == 8 }},
		{"tfo request", []byte{OptTFO, 2}, func(o tcp.Options) bool { return o.TFO && o.TFOCookie == 0 }},
		{"exp tfo", []byte{OptExp2, 4, 0xF9, 0x89}, func(o tcp.Options) bool { return o.TFO && o.TFOCookie == 0 && !o.Unknown }},
		{"exp other", []byte{OptExp2, 4, 0xAC, 0xC0}, func(o tcp.Options) bool { return !o.TFO && o.Unknown }},
		{"mptcp", []byte{OptMPTCP, 4, 0x20, 0x01}, func(o tcp.Options) bool { return o.MPTCP }},
		{"sack odd length", []byte{OptSACK, 6, 0, 0, 0, 1}, func(o tcp.Options) bool { return o.SACKOpt && o.Malformed && o.NSACK == 0 }},
		{"five sack blocks kept four", cat([]byte{OptSACK, 42}, make([]byte, 40)), func(o tcp.Options) bool { return o.NSACK == 4 }},
		{"after eol ignored", []byte{OptEOL, OptMSS, 4, 1, 1}, func(o tcp.Options) bool { return !o.HasMSS && !o.Malformed }},
		{"wscale 15 kept as sent", wsOpt(15), func(o tcp.Options) bool { return o.HasWScale && o.WScale == 15 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			var o tcp.Options
			parseOptions(c.opts, &o)
			if !c.check(o) {
				t.Errorf("options %+v", o)
			}
		})
	}
}

func TestDecodeIP(t *testing.T) {
	seg := simpleTCP(30)
	withIPOpts := ipv4Spec{opts: []byte{0x94, 4, 0, 0, 0x07, 7, 4, 0, 0, 0, 0, 1}, id: 4242, ttl: 9}.packet(seg.bytes())
	v4 := ipv4TCP(seg)
	v6 := ipv6TCP(seg)

	// IPv6 with hop-by-hop (router alert) and destination options before TCP.
	hbh := ext6(60, []byte{5, 2, 0, 0})         // router alert
	dst := ext6(6, []byte{0x1E, 2, 0xAB, 0xCD}) // an experimental destination option
	v6ext := ipv6Packet(0, cat(hbh, dst, seg.bytes()), -1)
	// Routing header type 0 (segments left 0) between them.
	rt := []byte{60, 0, 0, 0, 0, 0, 0, 0}
	v6rt := ipv6Packet(43, cat(rt, dst, seg.bytes()), -1)

	// Jumbogram: payload length 0 and a Jumbo Payload option (RFC 2675).
	big := simpleTCP(70000)
	tcpBig := big.bytes()
	jumbo := []byte{6, 0, 0xC2, 4, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(jumbo[4:], uint32(len(jumbo)+len(tcpBig)))
	v6jumbo := ipv6Packet(0, cat(jumbo, tcpBig), 0)
	v6zero := ipv6Packet(6, seg.bytes(), 0)

	tso := ipv4Spec{totalLen: -1}.packet(big.bytes()[:32+3000])

	runDecodeCases(t, []decodeCase{
		okCase("ipv4", frame(LinkIPv4, v4), 30).with(func(c *decodeCase) {
			c.check = func(t *testing.T, s *tcp.Segment) {
				if s.IPv6 || !s.Src.Addr().Is4() {
					t.Error("IPv4 addresses expected")
				}
			}
		}),
		okCase("ipv4 with IP options", frame(LinkEthernet, eth(etherIPv4, withIPOpts)), 30).with(func(c *decodeCase) {
			c.check = func(t *testing.T, s *tcp.Segment) {
				if s.IPID != 4242 || s.TTL != 9 || !s.Opts.HasTS {
					t.Errorf("IPID %d TTL %d opts %+v", s.IPID, s.TTL, s.Opts)
				}
			}
		}),
		okCase("ipv6", frame(LinkIPv6, v6), 30).with(func(c *decodeCase) {
			c.v6 = true
			c.check = func(t *testing.T, s *tcp.Segment) {
				if s.TTL != 63 || s.IPID != 0 {
					t.Errorf("hop limit %d IPID %d", s.TTL, s.IPID)
				}
			}
		}),
		okCase("ipv6 hop-by-hop and destination options", frame(LinkEthernet, eth(etherIPv6, v6ext)), 30).with(func(c *decodeCase) { c.v6 = true }),
		okCase("ipv6 routing and destination options", frame(LinkEthernet, eth(etherIPv6, v6rt)), 30).with(func(c *decodeCase) { c.v6 = true }),
		okCase("ipv6 jumbogram", frame(LinkEthernet, eth(etherIPv6, v6jumbo)), 70000).with(func(c *decodeCase) {
			c.v6, c.notes = true, tcp.NoteJumbo
		}),
		okCase("ipv6 jumbogram cut by snaplen", snapped(LinkEthernet, eth(etherIPv6, v6jumbo), 14+40+8+32+100), 70000).with(func(c *decodeCase) {
			c.v6, c.capd, c.notes = true, 100, tcp.NoteJumbo|tcp.NoteTruncated
		}),
		okCase("ipv6 payload length 0 without hop-by-hop (BIG TCP, new kernels)", frame(LinkIPv6, v6zero), 30).with(func(c *decodeCase) {
			c.v6, c.notes = true, tcp.NoteTSO
			c.check = func(t *testing.T, s *tcp.Segment) {
				if s.TTL != 63 || !s.Opts.HasTS || s.Seq != 1000 {
					t.Errorf("TTL %d seq %d opts %+v", s.TTL, s.Seq, s.Opts)
				}
			}
		}),
		okCase("ipv6 payload length 0, cut by snaplen", snapped(LinkIPv6, ipv6Packet(6, big.bytes(), 0), 40+32+500), 70000).with(func(c *decodeCase) {
			c.v6, c.capd, c.notes = true, 500, tcp.NoteTSO|tcp.NoteTruncated
		}),
		skipCase("ipv6 payload length 0, UDP", frame(LinkIPv6, ipv6Packet(17, make([]byte, 20), 0)), SkipNotTCP),
		skipCase("ipv6 payload length 0, TCP header cut", snapped(LinkIPv6, v6zero, 40+25), SkipTruncated),
		skipCase("ipv6 payload length 0, bad TCP offset", frame(LinkIPv6, func() []byte { b := ipv6Packet(6, seg.bytes(), 0); b[40+12] = 0x20; return b }()), SkipMalformed),
		skipCase("ipv6 payload length 0, hop-by-hop without jumbo", frame(LinkIPv6, ipv6Packet(0, cat(ext6(6, []byte{5, 2, 0, 0}), seg.bytes()), 0)), SkipMalformed),
		okCase("ipv6 ethernet padding ignored", frame(LinkEthernet, append(eth(etherIPv6, ipv6TCP(simpleTCP(1))), 0, 0, 0, 0)), 1).with(func(c *decodeCase) {
			c.v6, c.notes = true, tcp.NotePadding
		}),
		okCase("ipv6 snaplen truncation", snapped(LinkEthernet, eth(etherIPv6, v6), 14+40+32+5), 30).with(func(c *decodeCase) {
			c.v6, c.capd, c.notes = true, 5, tcp.NoteTruncated
		}),
		skipCase("ipv6 extension header cut by snaplen", snapped(LinkEthernet, eth(etherIPv6, v6ext), 14+40+12), SkipTruncated),
		okCase("6in4 tunnel: inner IPv6 endpoints", frame(LinkIPv4, ipv4Spec{proto: 41}.packet(v6)), 30).with(func(c *decodeCase) { c.v6 = true }),
		okCase("4in6 tunnel: inner IPv4 endpoints", frame(LinkIPv6, ipv6Packet(4, v4, -1)), 30),
		okCase("ipv4 total length 0 (TSO)", frame(LinkEthernet, eth(etherIPv4, tso)), 3000).with(func(c *decodeCase) { c.notes = tcp.NoteTSO }),
		okCase("TSO cut by snaplen: Len from the wire", snapped(LinkEthernet, eth(etherIPv4, tso), 14+20+32+1000), 3000).with(func(c *decodeCase) {
			c.capd, c.notes = 1000, tcp.NoteTSO|tcp.NoteTruncated
		}),
		okCase("ethernet padding ignored", frame(LinkEthernet, append(eth(etherIPv4, ipv4TCP(simpleTCP(2))), 0, 0, 0, 0, 0, 0)), 2).with(func(c *decodeCase) {
			c.notes = tcp.NotePadding
		}),
		okCase("snaplen truncation", snapped(LinkEthernet, eth(etherIPv4, ipv4TCP(simpleTCP(1000))), 14+20+32+100), 1000).with(func(c *decodeCase) {
			c.capd, c.notes = 100, tcp.NoteTruncated
		}),
		// IP length beyond the packet on the wire: with a valid header
		// checksum the capture's original length is what is wrong (a tool
		// cut the packet), so the IP length holds; with a bad checksum the
		// length field is damaged and the wire decides.
		okCase("IP length beyond the wire, checksum valid: IP length kept", frame(LinkEthernet, eth(etherIPv4, ipv4Spec{lenAdjust: 500}.packet(seg.bytes()))), 530).with(func(c *decodeCase) {
			c.capd, c.notes = 30, tcp.NoteTruncated
		}),
		okCase("IP length beyond the wire, bad checksum: cut to the wire", frame(LinkEthernet, eth(etherIPv4, ipv4Spec{lenAdjust: 500, badChecksum: true}.packet(seg.bytes()))), 30).with(func(c *decodeCase) {
			c.notes = tcp.NoteBadLength
		}),
		okCase("IP length beyond the wire, bad checksum, snapped", snapped(LinkEthernet, eth(etherIPv4, ipv4Spec{lenAdjust: 500, badChecksum: true}.packet(seg.bytes())), 14+20+32+10), 30).with(func(c *decodeCase) {
			c.capd, c.notes = 10, tcp.NoteBadLength|tcp.NoteTruncated
		}),
		okCase("bad checksum alone changes nothing", frame(LinkEthernet, eth(etherIPv4, ipv4Spec{badChecksum: true}.packet(seg.bytes()))), 30),
		okCase("IPv4 checksum helper", frame(LinkIPv4, v4), 30).with(func(c *decodeCase) {
			c.check = func(t *testing.T, s *tcp.Segment) {
				if !ipv4HeaderChecksumOK(withIPOpts[:32]) || !ipv4HeaderChecksumOK(v4[:20]) || ipv4HeaderChecksumOK(ipv4Spec{badChecksum: true}.packet(nil)) {
					t.Error("ipv4HeaderChecksumOK")
				}
			}
		}),
		okCase("over snaplen", func() *capture.Frame {
			f := frame(LinkIPv4, v4)
			f.OverSnaplen = true
			return f
		}(), 30).with(func(c *decodeCase) { c.notes = tcp.NoteOverSnaplen }),
	})
}

func TestDecodeLinks(t *testing.T) {
	seg := simpleTCP(20)
	v4, v6 := ipv4TCP(seg), ipv6TCP(seg)
	ok4 := func(name string, link uint32, data []byte) decodeCase { return okCase(name, frame(link, data), 20) }
	ok6 := func(name string, link uint32, data []byte) decodeCase {
		return okCase(name, frame(link, data), 20).with(func(c *decodeCase) { c.v6 = true })
	}
	vlan := func(n uint8, ids ...uint16) func(*decodeCase) {
		return func(c *decodeCase) { c.vlan.N = n; copy(c.vlan.IDs[:], ids) }
	}
	mpls := func(label uint32, bos bool) []byte {
		v := label<<12 | 64
		if bos {
			v |= 1 << 8
		}
		return binary.BigEndian.AppendUint32(nil, v)
	}
	pppoe := func(proto uint16, ip []byte) []byte {
		h := []byte{0x11, 0, 0x12, 0x34, 0, 0, byte(proto >> 8), byte(proto)}
		binary.BigEndian.PutUint16(h[4:], uint16(len(ip)+2))
		return append(h, ip...)
	}
	snap := func(etype uint16, ip []byte) []byte {
		return cat([]byte{0xAA, 0xAA, 0x03, 0, 0, 0, byte(etype >> 8), byte(etype)}, ip)
	}
	dot3 := func(llc []byte, trailer int) []byte {
		b := cat(macDst, macSrc, []byte{byte(len(llc) >> 8), byte(len(llc))}, llc)
		return append(b, make([]byte, trailer)...)
	}
	sll := func(proto uint16, ip []byte) []byte {
		h := []byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 2, 0, 0, byte(proto >> 8), byte(proto)}
		return append(h, ip...)
	}
	sll2 := func(proto uint16, ip []byte) []byte {
		h := make([]byte, 20)
		binary.BigEndian.PutUint16(h, proto)
		binary.BigEndian.PutUint32(h[4:], 3) // ifindex
		binary.BigEndian.PutUint16(h[8:], 1) // ARPHRD_ETHER
		h[10], h[11] = 4, 6                  // outgoing, address length
		return append(h, ip...)
	}
	null := func(fam uint32, be bool, ip []byte) []byte {
		h := binary.LittleEndian.AppendUint32(nil, fam)
		if be {
			h = binary.BigEndian.AppendUint32(nil, fam)
		}
		return append(h, ip...)
	}
	tlv := func(typ uint16, v []byte) []byte {
		b := binary.LittleEndian.AppendUint16(nil, uint16(4+len(v)))
		b = binary.LittleEndian.AppendUint16(b, typ)
		b = append(b, v...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	nflog := func(fam byte, ip []byte) []byte {
		return cat([]byte{fam, 0, 0, 5},
			tlv(1, []byte{0x08, 0x00, 3, 0}), // NFULA_PACKET_HDR
			tlv(10, []byte("pfx\x00x")),      // NFULA_PREFIX (odd length: padded)
			tlv(9, ip),                       // NFULA_PAYLOAD
			tlv(11, []byte{0, 0, 0, 1}))      // NFULA_UID after the payload
	}
	fddi := cat([]byte{0x50}, macDst, macSrc, snap(etherIPv4, v4))
	ipoib := cat(make([]byte, 40), []byte{0x86, 0xDD, 0, 0}, v6)
	arp := eth(0x0806, make([]byte, 28))

	cases := []decodeCase{
		ok4("ethernet", LinkEthernet, eth(etherIPv4, v4)),
		ok6("ethernet ipv6", LinkEthernet, eth(etherIPv6, v6)),
		ok4("802.1Q", LinkEthernet, eth(etherIPv4, v4, [2]uint16{etherVLAN, 0xA000 | 100})).with(vlan(1, 100)),
		ok4("802.1Q priority tag (VLAN 0)", LinkEthernet, eth(etherIPv4, v4, [2]uint16{etherVLAN, 0x6000})).with(vlan(1, 0)),
		ok6("QinQ 802.1ad outer first", LinkEthernet, eth(etherIPv6, v6, [2]uint16{etherQinQ, 10}, [2]uint16{etherVLAN, 20})).with(vlan(2, 10, 20)),
		ok4("QinQ 0x9100", LinkEthernet, eth(etherIPv4, v4, [2]uint16{etherQinQ2, 4095}, [2]uint16{etherVLAN, 1})).with(vlan(2, 4095, 1)),
		ok4("three tags keep outer and innermost", LinkEthernet, eth(etherIPv4, v4, [2]uint16{etherQinQ, 1}, [2]uint16{etherVLAN, 2}, [2]uint16{etherVLAN, 3})).with(vlan(2, 1, 3)),
		ok4("MPLS two labels", LinkEthernet, eth(etherMPLS, cat(mpls(100, false), mpls(200, true), v4))),
		ok6("MPLS multicast under VLAN", LinkEthernet, eth(etherMPLSm, cat(mpls(16, true), v6), [2]uint16{etherVLAN, 5})).with(vlan(1, 5)),
		ok4("PPPoE session", LinkEthernet, append(eth(etherPPPoES, pppoe(0x0021, v4)), 0, 0, 0)),
		ok6("PPPoE session IPv6", LinkEthernet, eth(etherPPPoES, pppoe(0x0057, v6))),
		skipCase("PPPoE LCP", frame(LinkEthernet, eth(etherPPPoES, pppoe(0xC021, make([]byte, 10)))), SkipNotIP),
		ok4("802.3 LLC/SNAP", LinkEthernet, dot3(snap(etherIPv4, v4), 0)),
		ok4("802.3 LLC/SNAP with trailer", LinkEthernet, dot3(snap(etherIPv4, v4), 6)),
		skipCase("802.3 LLC STP", frame(LinkEthernet, dot3([]byte{0x42, 0x42, 0x03, 0, 0, 0}, 30)), SkipNotIP),
		ok4("Linux SLL", LinkLinuxSLL, sll(etherIPv4, v4)),
		ok4("Linux SLL VLAN", LinkLinuxSLL, sll(etherVLAN, cat([]byte{0, 42, 0x08, 0x00}, v4))).with(vlan(1, 42)),
		ok6("Linux SLL2", LinkLinuxSLL2, sll2(etherIPv6, v6)),
		ok4("Linux SLL ETH_P_802_2 with SNAP", LinkLinuxSLL, sll(4, snap(etherIPv4, v4))),
		skipCase("Linux SLL ETH_P_802_3", frame(LinkLinuxSLL, sll(1, make([]byte, 40))), SkipNotIP),
		skipCase("Linux SLL2 ETH_P_CAN", frame(LinkLinuxSLL2, sll2(0x000C, make([]byte, 16))), SkipNotIP),
		ok4("NFLOG payload cut by snaplen", LinkNFLOG, nil).with(func(c *decodeCase) {
			data := cat([]byte{2, 0, 0, 5}, tlv(1, []byte{8, 0, 3, 0}), tlv(9, v4))
			c.f = snapped(LinkNFLOG, data, len(data)-10)
			c.capd, c.notes = 10, tcp.NoteTruncated
		}),
		ok4("NULL AF_INET little-endian", LinkNull, null(2, false, v4)),
		ok4("NULL AF_INET big-endian", LinkNull, null(2, true, v4)),
		ok4("LOOP AF_INET", LinkLoop, null(2, true, v4)),
		ok6("LOOP AF_INET6 OpenBSD", LinkLoop, null(24, true, v6)),
		skipCase("NULL unknown family", frame(LinkNull, null(7, false, v4)), SkipNotIP),
		ok4("raw 101 IPv4", LinkRaw, v4),
		ok6("raw 101 IPv6", LinkRaw, v6),
		ok4("raw DLT 12", LinkRawDLT, v4),
		ok6("raw DLT 14", LinkRawDLT14, v6),
		ok4("raw IPv4 228", LinkIPv4, v4),
		ok6("raw IPv6 229", LinkIPv6, v6),
		skipCase("raw version 5", frame(LinkRaw, cat([]byte{0x50}, v4[1:])), SkipNotIP),
		ok4("NFLOG IPv4", LinkNFLOG, nflog(2, v4)),
		ok6("NFLOG IPv6", LinkNFLOG, nflog(10, v6)),
		ok4("NFLOG unspecified family", LinkNFLOG, nflog(0, v4)),
		skipCase("NFLOG without payload", frame(LinkNFLOG, cat([]byte{2, 0, 0, 5}, tlv(1, []byte{8, 0, 3, 0}))), SkipNotIP),
		ok4("FDDI", LinkFDDI, fddi),
		ok6("IPoIB", LinkIPoIB, ipoib),
		skipCase("ARP", frame(LinkEthernet, arp), SkipNotIP),
		skipCase("LLDP", frame(LinkEthernet, eth(0x88CC, make([]byte, 40))), SkipNotIP),
		skipCase("unknown link type", frame(147, v4), SkipUnsupported),
	}
	// BSD loopback: AF_INET6 is 10 (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD),
	// 30 (Darwin), written in the capturing host's byte order.
	for _, fam := range []uint32{10, 24, 28, 30} {
		for _, be := range []bool{false, true} {
			name := "NULL AF_INET6 " + strconv.Itoa(int(fam)) + map[bool]string{false: " LE", true: " BE"}[be]
			cases = append(cases, ok6(name, LinkNull, null(fam, be, v6)))
		}
	}
	runDecodeCases(t, cases)
}

func TestDecodeSkips(t *testing.T) {
	full := eth(etherIPv4, ipv4TCP(simpleTCP(100))) // TCP header 32 bytes
	badOff := ipv4TCP(simpleTCP(10))
	badOff[20+12] = 3 << 4
	shortIP := ipv4Spec{totalLen: 20 + 10}.packet(simpleTCP(10).bytes())
	ihl4 := ipv4TCP(simpleTCP(10))
	ihl4[0] = 0x44
	udp := ipv4Spec{proto: 17}.packet(make([]byte, 16))
	icmp6 := ipv6Packet(58, make([]byte, 8), -1)
	frag := ipv4Spec{proto: 17, mf: true, id: 9}.packet(make([]byte, 16))
	v6frag := ipv6Packet(44, cat([]byte{17, 0, 0, 1, 0, 0, 0, 9}, make([]byte, 16)), -1)
	cases := []decodeCase{
		skipCase("TCP header cut by snaplen", snapped(LinkEthernet, full, 14+20+10), SkipTruncated),
		skipCase("TCP options cut by snaplen", snapped(LinkEthernet, full, 14+20+25), SkipTruncated),
		skipCase("IP header cut by snaplen", snapped(LinkEthernet, full, 14+12), SkipTruncated),
		skipCase("ethernet header cut by snaplen", snapped(LinkEthernet, full, 10), SkipTruncated),
		skipCase("ethernet header only", snapped(LinkEthernet, full, 14), SkipTruncated),
		skipCase("runt ethernet frame captured whole", frame(LinkEthernet, full[:10]), SkipMalformed),
		skipCase("IP length shorter than TCP header", frame(LinkIPv4, shortIP), SkipMalformed),
		skipCase("TCP data offset < 5", frame(LinkIPv4, badOff), SkipMalformed),
		skipCase("IPv4 IHL < 5", frame(LinkIPv4, ihl4), SkipMalformed),
		skipCase("version 0 on an IPv4 link", frame(LinkIPv4, make([]byte, 40)), SkipMalformed),
		skipCase("empty raw frame", frame(LinkRaw, nil), SkipTruncated),
		skipCase("UDP", frame(LinkEthernet, eth(etherIPv4, udp)), SkipNotTCP),
		skipCase("ICMPv6", frame(LinkEthernet, eth(etherIPv6, icmp6)), SkipNotTCP),
		skipCase("UDP fragment not held", frame(LinkIPv4, frag), SkipNotTCP),
		skipCase("IPv6 UDP fragment not held", frame(LinkIPv6, v6frag), SkipNotTCP),
	}
	runDecodeCases(t, cases)
}

func TestUnsupportedLinksCounted(t *testing.T) {
	d := NewDecoder()
	var s tcp.Segment
	for range 3 {
		if got := d.Decode(frame(147, ipv4TCP(simpleTCP(1))), &s); got != SkipUnsupported {
			t.Fatalf("Decode = %v", got)
		}
	}
	d.Decode(frame(9999, nil), &s)
	if d.UnsupportedLinks[147] != 3 || d.UnsupportedLinks[9999] != 1 || len(d.UnsupportedLinks) != 2 {
		t.Errorf("UnsupportedLinks %v", d.UnsupportedLinks)
	}
}

// TestDecodeGarbage feeds random and mutated frames on every link type: Decode
// must never panic and keep its invariants.
func TestDecodeGarbage(t *testing.T) {
	links := []uint32{LinkNull, LinkEthernet, LinkFDDI, LinkRawDLT, LinkRawDLT14, LinkRaw, LinkLoop,
		LinkLinuxSLL, LinkIPoIB, LinkNFLOG, LinkIPv4, LinkIPv6, LinkLinuxSLL2}
	seeds := seedFrames()
	rng := rand.New(rand.NewPCG(1, 2))
	d := NewDecoder()
	var s tcp.Segment
	counts := [NumSkips]int{}
	for i := range 20000 {
		var f capture.Frame
		if i%2 == 0 {
			b := make([]byte, rng.IntN(120))
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
			f = capture.Frame{LinkType: links[rng.IntN(len(links))], Data: b}
		} else {
			sf := seeds[rng.IntN(len(seeds))]
			b := append([]byte(nil), sf.data...)
			for range 1 + rng.IntN(4) {
				if len(b) > 0 {
					b[rng.IntN(len(b))] = byte(rng.Uint32())
				}
			}
			if len(b) > 0 && rng.IntN(3) == 0 {
				b = b[:rng.IntN(len(b))]
			}
			f = capture.Frame{LinkType: uint32(sf.link), Data: b}
		}
		f.CapLen, f.OrigLen, f.TS = len(f.Data), len(f.Data)+rng.IntN(2)*100, int64(i)*1e6
		skip := d.Decode(&f, &s)
		counts[skip]++
		if skip == OK && (len(s.Payload) > s.Len || s.Len < 0) {
			t.Fatalf("frame %x: len(Payload) %d Len %d", f.Data, len(s.Payload), s.Len)
		}
	}
	if counts[OK] == 0 || counts[SkipMalformed] == 0 {
		t.Errorf("garbage did not exercise the decoder: %v", counts)
	}
}

func TestFlagsAndVLANStrings(t *testing.T) {
	if got := (tcp.SYN | tcp.ACK).String(); got != "S.A......" {
		t.Errorf("String %q", got)
	}
	if got := (tcp.FIN | tcp.PSH | tcp.ECE | tcp.CWR | tcp.AE).String(); got != "...P.FECN" {
		t.Errorf("String %q", got)
	}
	if got := (tcp.SYN | tcp.ACK | tcp.AE).Names(); got != "SYN,ACK,AE" {
		t.Errorf("Names %q", got)
	}
	if !(tcp.SYN | tcp.ACK).Has(tcp.ACK) || (tcp.SYN).Has(tcp.SYN|tcp.ACK) {
		t.Error("Has")
	}
	for _, c := range []struct {
		v    tcp.VLANs
		want string
	}{{tcp.VLANs{}, ""}, {tcp.VLANs{N: 1}, "0"}, {tcp.VLANs{N: 1, IDs: [2]uint16{100}}, "100"}, {tcp.VLANs{N: 2, IDs: [2]uint16{10, 4095}}, "10.4095"}} {
		if got := c.v.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.v, got, c.want)
		}
	}
	for sk := OK; sk < numSkips; sk++ {
		if sk.String() == "unknown" || sk.Key() == "unknown" {
			t.Errorf("Skip %d has no name", sk)
		}
	}
}
