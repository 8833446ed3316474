package decode

import (
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/tcp"
)

// Skip says why a frame produced no TCP segment (OK when it did).
type Skip uint8

const (
	OK              Skip = iota
	SkipUnsupported      // link type not supported
	SkipNotIP            // link layer carries something other than IP (ARP, LLDP…)
	SkipNotTCP           // IP, but not TCP (UDP, ICMP…)
	SkipFragment         // an IP fragment held until its datagram is complete
	SkipTruncated        // link, IP or TCP header not entirely captured (snaplen)
	SkipMalformed        // a header is invalid, or longer than the whole captured packet
	numSkips
)

// NumSkips is the number of Skip values, for arrays indexed by Skip.
const NumSkips = int(numSkips)

func (s Skip) String() string {
	switch s {
	case OK:
		return "tcp"
	case SkipUnsupported:
		return "unsupported link type"
	case SkipNotIP:
		return "not IP"
	case SkipNotTCP:
		return "not TCP"
	case SkipFragment:
		return "IP fragment (held for reassembly)"
	case SkipTruncated:
		return "truncated header"
	case SkipMalformed:
		return "malformed header"
	}
	return "unknown"
}

// Key is the machine name of a Skip, used in JSON and CSV.
func (s Skip) Key() string {
	switch s {
	case OK:
		return "tcp"
	case SkipUnsupported:
		return "unsupported_link"
	case SkipNotIP:
		return "not_ip"
	case SkipNotTCP:
		return "not_tcp"
	case SkipFragment:
		return "ip_fragment"
	case SkipTruncated:
		return "truncated"
	case SkipMalformed:
		return "malformed"
	}
	return "unknown"
}

// Decoder decodes frames into segments. It is not safe for concurrent use;
// each worker owns one. Its layers are reused for every frame (zero copy).
type Decoder struct {
	ip4  layers.IPv4
	ip6  ip6Layer
	ext  ipv6Ext
	frag layers.IPv6Fragment
	tcp  tcpLayer

	p4, p6  *gopacket.DecodingLayerParser
	parser  *gopacket.DecodingLayerParser // p4 or p6 for the current frame
	decoded []gopacket.LayerType
	defrag  *Defragmenter

	// UnsupportedLinks counts frames per link type that could not be decoded.
	UnsupportedLinks map[uint32]int
}

// NewDecoder returns a decoder with an IP defragmenter of default limits.
func NewDecoder() *Decoder {
	d := &Decoder{UnsupportedLinks: map[uint32]int{}, defrag: NewDefragmenter(DefragLimits{})}
	d.p4 = gopacket.NewDecodingLayerParser(layers.LayerTypeIPv4, &d.ip4, &d.ip6, &d.ext, &d.frag, &d.tcp)
	d.p6 = gopacket.NewDecodingLayerParser(layers.LayerTypeIPv6, &d.ip4, &d.ip6, &d.ext, &d.frag, &d.tcp)
	d.p4.IgnoreUnsupported = true
	d.p6.IgnoreUnsupported = true
	d.decoded = make([]gopacket.LayerType, 0, 8)
	return d
}

// Defrag exposes the defragmenter's statistics.
func (d *Decoder) Defrag() *Defragmenter { return d.defrag }

// Decode decodes f into s. It returns OK when s holds a TCP segment; the
// segment's slices alias f.Data (or the defragmenter's buffer) and are valid
// until the next call.
func (d *Decoder) Decode(f *capture.Frame, s *tcp.Segment) Skip {
	*s = tcp.Segment{Frame: f.N, File: f.File, TS: f.TS}
	if f.OverSnaplen {
		s.Notes |= tcp.NoteOverSnaplen
	}
	proto, ipdata := peelLink(f.LinkType, f.Data, &s.VLAN)
	switch proto {
	case netIPv4, netIPv6:
	case netUnknownLink:
		d.UnsupportedLinks[f.LinkType]++
		return SkipUnsupported
	case netShort:
		return shortSkip(f)
	default:
		return SkipNotIP
	}
	if len(ipdata) == 0 {
		return shortSkip(f)
	}
	// Guard the version nibble: an IPv4 link type carrying IPv6 and the like.
	switch ipdata[0] >> 4 {
	case 4:
		d.parser = d.p4
	case 6:
		if len(ipdata) >= 40 && ipdata[4] == 0 && ipdata[5] == 0 && ipdata[6] != 0 {
			// Payload length 0 without a hop-by-hop header (so no jumbo
			// option): BIG TCP / GSO on kernels that no longer insert the
			// jumbo header, the IPv6 twin of IPv4's total length 0.
			return d.ipv6Unsized(f, s, ipdata)
		}
		d.parser = d.p6
	default:
		return SkipMalformed
	}
	d.parser.Truncated = false
	err := d.parser.DecodeLayers(ipdata, &d.decoded)
	var haveIP4, haveIP6, haveTCP, haveFrag6 bool
	for _, lt := range d.decoded {
		switch lt {
		case layers.LayerTypeIPv4:
			haveIP4 = true
		case layers.LayerTypeIPv6:
			haveIP6 = true
		case layers.LayerTypeIPv6Fragment:
			haveFrag6 = true
		case layers.LayerTypeTCP:
			haveTCP = true
		}
	}
	if !haveTCP {
		if err != nil {
			if d.parser.Truncated {
				return shortSkip(f)
			}
			return SkipMalformed
		}
		if haveIP4 && (d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0) {
			return d.fragment4(s)
		}
		if haveIP6 && haveFrag6 && (d.frag.FragmentOffset != 0 || d.frag.MoreFragments) {
			return d.fragment6(s, ipdata)
		}
		if haveIP4 || haveIP6 {
			return SkipNotTCP
		}
		return SkipNotIP
	}

	// Addresses and IP fields of the innermost IP header.
	var ipEnd int // declared end of the IP datagram, as an offset in ipdata
	if haveIP6 && (!haveIP4 || lastIPIs6(d.decoded)) {
		s.IPv6 = true
		s.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(d.ip6.src)), d.tcp.srcPort)
		s.Dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(d.ip6.dst)), d.tcp.dstPort)
		s.TTL = d.ip6.hopLimit
		start := cap(ipdata) - cap(d.ip6.contents)
		if d.ip6.length == 0 {
			// ip6Layer accepts a zero length only with a Jumbo Payload
			// option, whose length counts the hop-by-hop header too.
			s.Notes |= tcp.NoteJumbo
			ipEnd = start + 40 + int(d.ip6.jumbo)
		} else {
			ipEnd = start + 40 + int(d.ip6.length)
		}
		if haveFrag6 {
			s.IPID = d.frag.Identification
		}
	} else {
		s.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(d.ip4.SrcIP.To4())), d.tcp.srcPort)
		s.Dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(d.ip4.DstIP.To4())), d.tcp.dstPort)
		s.TTL = d.ip4.TTL
		s.IPID = uint32(d.ip4.Id)
		s.DF = d.ip4.Flags&layers.IPv4DontFragment != 0
		start := cap(ipdata) - cap(d.ip4.Contents)
		raw := ipdata[start:]
		if binary.BigEndian.Uint16(raw[2:4]) == 0 {
			// TSO/GSO: the stack had not filled in the length yet. The
			// datagram is everything on the wire (no padding on such
			// frames), which may be more than was captured.
			s.Notes |= tcp.NoteTSO
			ipEnd = len(ipdata)
			if wire := wireEnd(f, ipdata); wire > ipEnd {
				ipEnd = wire
			}
		} else {
			ipEnd = start + int(binary.BigEndian.Uint16(raw[2:4]))
			// A datagram longer than the packet on the wire means either
			// that the tool which cut the packet recorded a wrong original
			// length (the IP length is right then: receivers acknowledge
			// it, as in zeek's tcp/reassembly.pcap), or that the length
			// field is damaged, which only a failing header checksum
			// tells. Then, like tcpdump ("[total length N > length M]
			// (invalid)") and Wireshark, keep what the wire carried rather
			// than count bytes that never existed.
			if wire := wireEnd(f, ipdata); wire >= 0 && ipEnd > wire && !ipv4HeaderChecksumOK(d.ip4.Contents) {
				ipEnd = wire
				s.Notes |= tcp.NoteBadLength
			}
		}
	}
	tcpOff := cap(ipdata) - cap(d.tcp.contents)
	s.Len = ipEnd - tcpOff - len(d.tcp.contents)
	if s.Len < 0 {
		return SkipMalformed
	}
	if len(ipdata) > ipEnd {
		s.Notes |= tcp.NotePadding
	}
	fillTCP(&d.tcp, s)
	if len(s.Payload) > s.Len {
		s.Payload = s.Payload[:s.Len]
	}
	if len(s.Payload) < s.Len {
		s.Notes |= tcp.NoteTruncated
	}
	return OK
}

// shortSkip classifies a header that does not fit in the bytes at hand. When
// the snaplen cut the frame (or its original length is unknown) the header
// was not entirely captured: SkipTruncated. When the frame was captured whole,
// the packet itself is too short for what its headers declare: SkipMalformed.
func shortSkip(f *capture.Frame) Skip {
	if f.OrigLen > 0 && f.OrigLen == len(f.Data) {
		return SkipMalformed
	}
	return SkipTruncated
}

// ipv4HeaderChecksumOK verifies an IPv4 header's checksum (RFC 1071).
func ipv4HeaderChecksumOK(h []byte) bool {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for sum > 0xFFFF {
		sum = sum>>16 + sum&0xFFFF
	}
	return sum == 0xFFFF
}

// wireEnd is the end of the packet on the wire as an offset in ipdata (a
// suffix of f.Data): the captured bytes plus those the snaplen cut. It is -1
// when the frame's original length is unknown or inconsistent.
func wireEnd(f *capture.Frame, ipdata []byte) int {
	if f.OrigLen <= 0 || f.OrigLen < len(f.Data) {
		return -1
	}
	return len(ipdata) + f.OrigLen - len(f.Data)
}

// lastIPIs6 reports whether the innermost IP layer decoded was IPv6.
func lastIPIs6(decoded []gopacket.LayerType) bool {
	for i := len(decoded) - 1; i >= 0; i-- {
		switch decoded[i] {
		case layers.LayerTypeIPv4:
			return false
		case layers.LayerTypeIPv6:
			return true
		}
	}
	return false
}
