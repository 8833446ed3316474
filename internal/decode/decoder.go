package decode

import (
	"encoding/binary"

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

	parserOnly bool // tests: no plainIPv4TCP, every packet through the parser
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
//
// The steps: the link layer is peeled off (linkLayer); the IP version picks
// the layer parser (an IPv6 packet with payload length 0 and no hop-by-hop
// header is decoded apart, by ipv6Unsized); the parser decodes the IP
// headers and the TCP header. A frame without a TCP header is classified by
// notTCP (fragments go to the defragmenter). Otherwise the innermost IP
// header fills in the addresses and IP fields and says where the datagram
// ends (ipv4Fields, ipv6Fields), and tcpSegment the TCP header and the
// payload within that end.
func (d *Decoder) Decode(f *capture.Frame, s *tcp.Segment) Skip {
	*s = tcp.Segment{Frame: f.N, File: f.File, TS: f.TS}
	if f.OverSnaplen {
		s.Notes |= tcp.NoteOverSnaplen
	}
	ipdata, skip := d.linkLayer(f, s)
	if skip != OK {
		return skip
	}
	// Guard the version nibble: an IPv4 link type carrying IPv6 and the like.
	switch ipdata[0] >> 4 {
	case 4:
		if !d.parserOnly && d.plainIPv4TCP(ipdata) {
			return d.tcpSegment(s, ipdata, d.ipv4Fields(f, s, ipdata))
		}
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
	got := d.decodedLayers()
	if !got.tcp {
		return d.notTCP(f, s, ipdata, got, err)
	}
	var ipEnd int // declared end of the IP datagram, as an offset in ipdata
	if got.ip6 && (!got.ip4 || lastIPIs6(d.decoded)) {
		ipEnd = d.ipv6Fields(s, ipdata, got.frag6)
	} else {
		ipEnd = d.ipv4Fields(f, s, ipdata)
	}
	return d.tcpSegment(s, ipdata, ipEnd)
}

// linkLayer peels the link layer off f (VLAN tags go to s) and returns the
// IP packet it carries, or why there is none.
func (d *Decoder) linkLayer(f *capture.Frame, s *tcp.Segment) ([]byte, Skip) {
	proto, ipdata := peelLink(f.LinkType, f.Data, &s.VLAN)
	switch proto {
	case netIPv4, netIPv6:
	case netUnknownLink:
		d.UnsupportedLinks[f.LinkType]++
		return nil, SkipUnsupported
	case netShort:
		return nil, shortSkip(f)
	default:
		return nil, SkipNotIP
	}
	if len(ipdata) == 0 {
		return nil, shortSkip(f)
	}
	return ipdata, OK
}

// layerSet says which layers the parser decoded in a frame.
type layerSet struct {
	ip4, ip6, frag6, tcp bool
}

func (d *Decoder) decodedLayers() layerSet {
	var got layerSet
	for _, lt := range d.decoded {
		switch lt {
		case layers.LayerTypeIPv4:
			got.ip4 = true
		case layers.LayerTypeIPv6:
			got.ip6 = true
		case layers.LayerTypeIPv6Fragment:
			got.frag6 = true
		case layers.LayerTypeTCP:
			got.tcp = true
		}
	}
	return got
}

// notTCP classifies a frame in which the parser found no TCP header (err is
// the parser's error): a header cut short or invalid, an IP fragment (handed
// to the defragmenter, which may complete a TCP segment in s), IP carrying
// something else, or no IP at all.
func (d *Decoder) notTCP(f *capture.Frame, s *tcp.Segment, ipdata []byte, got layerSet, err error) Skip {
	if err != nil {
		if d.parser.Truncated {
			return shortSkip(f)
		}
		return SkipMalformed
	}
	if got.ip4 && (d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0) {
		return d.fragment4(s)
	}
	if got.ip6 && got.frag6 && (d.frag.FragmentOffset != 0 || d.frag.MoreFragments) {
		return d.fragment6(s, ipdata)
	}
	if got.ip4 || got.ip6 {
		return SkipNotTCP
	}
	return SkipNotIP
}

// tcpSegment fills s from the decoded TCP header: the payload length is what
// lies between the TCP header and the IP datagram's declared end (ipEnd, an
// offset in ipdata); bytes captured beyond that end are padding, and a
// payload shorter than that length was cut by the snaplen.
func (d *Decoder) tcpSegment(s *tcp.Segment, ipdata []byte, ipEnd int) Skip {
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

// plainIPv4TCP decodes the common case without the parser's generic walk:
// an IPv4 header without options, neither a fragment nor cut short nor of
// length 0 (TSO), carrying a TCP header that decodes. It leaves the IPv4
// layer, the TCP layer and the list of decoded layers exactly as the parser
// would (layers.IPv4.DecodeFromBytes, then tcpLayer.DecodeFromBytes on its
// payload), and reports false, having changed nothing the parser does not
// set again, for every other packet: those take the parser.
func (d *Decoder) plainIPv4TCP(data []byte) bool {
	if len(data) < 20 || data[0] != 0x45 { // version 4, 20-byte header
		return false
	}
	length := int(binary.BigEndian.Uint16(data[2:4]))
	if length <= 20 || length > len(data) {
		return false // no payload, TSO's 0, or cut short: the parser's rules
	}
	ff := binary.BigEndian.Uint16(data[6:8])
	if ff&0x3fff != 0 || layers.IPProtocol(data[9]) != layers.IPProtocolTCP {
		return false // a fragment (MF or an offset), or not TCP
	}
	data = data[:length]
	if d.tcp.DecodeFromBytes(data[20:], gopacket.NilDecodeFeedback) != nil {
		return false // tcpLayer writes nothing when it fails
	}
	ip := &d.ip4
	ip.Version, ip.IHL, ip.TOS, ip.Length = 4, 5, data[1], uint16(length)
	ip.Id = binary.BigEndian.Uint16(data[4:6])
	ip.Flags, ip.FragOffset = layers.IPv4Flag(ff>>13), ff&0x1fff
	ip.TTL, ip.Protocol = data[8], layers.IPProtocolTCP
	ip.Checksum = binary.BigEndian.Uint16(data[10:12])
	ip.SrcIP, ip.DstIP = data[12:16], data[16:20]
	ip.Options, ip.Padding = ip.Options[:0], nil
	ip.Contents, ip.Payload = data[:20], data[20:]
	d.decoded = append(d.decoded[:0], layers.LayerTypeIPv4, layers.LayerTypeTCP)
	d.parser = d.p4
	d.parser.Truncated = false
	return true
}
