package decode

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/seqnum"
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

// ipv6Unsized decodes an IPv6 packet whose payload length is 0 and whose next
// header is not hop-by-hop: like tcpdump, presume a TSO/GSO send and take the
// length from the packet on the wire.
func (d *Decoder) ipv6Unsized(f *capture.Frame, s *tcp.Segment, ipdata []byte) Skip {
	if layers.IPProtocol(ipdata[6]) != layers.IPProtocolTCP {
		return SkipNotTCP
	}
	th := ipdata[40:]
	if len(th) < 20 || int(th[12]>>4)*4 > len(th) {
		if len(th) >= 20 && th[12]>>4 < 5 {
			return SkipMalformed
		}
		return shortSkip(f)
	}
	if err := d.tcp.DecodeFromBytes(th, gopacket.NilDecodeFeedback); err != nil {
		return SkipMalformed
	}
	s.IPv6 = true
	s.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(ipdata[8:24])), d.tcp.srcPort)
	s.Dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(ipdata[24:40])), d.tcp.dstPort)
	s.TTL = ipdata[7]
	s.Notes |= tcp.NoteTSO
	ipEnd := max(len(ipdata), wireEnd(f, ipdata))
	s.Len = ipEnd - 40 - len(d.tcp.contents)
	fillTCP(&d.tcp, s)
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

// fillTCP copies the TCP header fields and options into s.
func fillTCP(t *tcpLayer, s *tcp.Segment) {
	s.Seq = seqnum.Value(t.seq)
	s.Ack = seqnum.Value(t.ack)
	s.Flags = t.flags
	s.Window = t.window
	s.Urgent = t.urgent
	s.Checksum = t.checksum
	s.Payload = t.payload
	if len(t.contents) > 20 {
		s.Opts.Raw = t.contents[20:]
	}
	parseOptions(s.Opts.Raw, &s.Opts)
}

// tcpLayer decodes the TCP header for the DecodingLayerParser. Unlike
// layers.TCP it leaves the options to parseOptions, which walks them once and
// without allocating (layers.TCP parses them too, and allocates a struct for
// every MPTCP option).
type tcpLayer struct {
	srcPort, dstPort         uint16
	seq, ack                 uint32
	flags                    tcp.Flags
	window, checksum, urgent uint16
	contents, payload        []byte
}

var (
	errShortTCP   = errors.New("TCP header truncated")
	errTCPDataOff = errors.New("TCP data offset < 5")
	tcpLayerClass = gopacket.LayerClass(layers.LayerTypeTCP)
	tcpNextLayer  = gopacket.LayerTypePayload
	_             = gopacket.DecodingLayer(&tcpLayer{})
	_             = gopacket.DecodingLayer(&ipv6Ext{})
)

func (t *tcpLayer) CanDecode() gopacket.LayerClass    { return tcpLayerClass }
func (t *tcpLayer) NextLayerType() gopacket.LayerType { return tcpNextLayer }
func (t *tcpLayer) LayerPayload() []byte              { return t.payload }

func (t *tcpLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 20 {
		df.SetTruncated()
		return errShortTCP
	}
	off := int(data[12]>>4) * 4
	if off < 20 {
		return errTCPDataOff
	}
	if off > len(data) {
		df.SetTruncated()
		return errShortTCP
	}
	t.srcPort = binary.BigEndian.Uint16(data[0:2])
	t.dstPort = binary.BigEndian.Uint16(data[2:4])
	t.seq = binary.BigEndian.Uint32(data[4:8])
	t.ack = binary.BigEndian.Uint32(data[8:12])
	// The flag byte maps onto FIN…CWR bit for bit; AE (formerly NS) is the
	// low bit of the data offset byte.
	t.flags = tcp.Flags(data[13])
	if data[12]&1 != 0 {
		t.flags |= tcp.AE
	}
	t.window = binary.BigEndian.Uint16(data[14:16])
	t.checksum = binary.BigEndian.Uint16(data[16:18])
	t.urgent = binary.BigEndian.Uint16(data[18:20])
	t.contents, t.payload = data[:off], data[off:]
	return nil
}

// Option is one TCP option as it appears on the wire.
type Option struct {
	Kind uint8
	Len  int    // total length including kind and length bytes (1 for EOL/NOP)
	Data []byte // option data (after kind and length)
}

// Option kinds (IANA "TCP Option Kind Numbers").
const (
	OptEOL       = 0
	OptNOP       = 1
	OptMSS       = 2
	OptWScale    = 3
	OptSACKPerm  = 4
	OptSACK      = 5
	OptTimestamp = 8
	OptMD5       = 19
	OptUTO       = 28
	OptAO        = 29
	OptMPTCP     = 30
	OptTFO       = 34
	OptExp1      = 253
	OptExp2      = 254
)

// EachOption walks an option area in order, calling fn for every option,
// known or not. It stops at EOL (which it reports) or at the first option
// whose length is invalid, and returns false in that case.
func EachOption(raw []byte, fn func(o Option)) bool {
	for len(raw) > 0 {
		k := raw[0]
		if k == OptEOL {
			fn(Option{Kind: k, Len: 1})
			return true
		}
		if k == OptNOP {
			fn(Option{Kind: k, Len: 1})
			raw = raw[1:]
			continue
		}
		if len(raw) < 2 || raw[1] < 2 || int(raw[1]) > len(raw) {
			return false
		}
		l := int(raw[1])
		fn(Option{Kind: k, Len: l, Data: raw[2:l]})
		raw = raw[l:]
	}
	return true
}

// parseOptions fills o from the raw option area.
func parseOptions(raw []byte, o *tcp.Options) {
	if len(raw) == 0 {
		return
	}
	ok := EachOption(raw, func(op Option) {
		switch op.Kind {
		case OptEOL, OptNOP:
		case OptMSS:
			if len(op.Data) == 2 {
				o.MSS, o.HasMSS = binary.BigEndian.Uint16(op.Data), true
			} else {
				o.Malformed = true
			}
		case OptWScale:
			if len(op.Data) == 1 {
				o.WScale, o.HasWScale = op.Data[0], true
			} else {
				o.Malformed = true
			}
		case OptSACKPerm:
			o.SACKPerm = true
		case OptSACK:
			o.SACKOpt = true
			if len(op.Data)%8 != 0 {
				o.Malformed = true
			}
			for i := 0; i+8 <= len(op.Data) && int(o.NSACK) < len(o.SACK); i += 8 {
				o.SACK[o.NSACK] = tcp.SACKBlock{
					Left:  seqnum.Value(binary.BigEndian.Uint32(op.Data[i:])),
					Right: seqnum.Value(binary.BigEndian.Uint32(op.Data[i+4:])),
				}
				o.NSACK++
			}
		case OptTimestamp:
			if len(op.Data) == 8 {
				o.HasTS = true
				o.TSVal = binary.BigEndian.Uint32(op.Data)
				o.TSEcr = binary.BigEndian.Uint32(op.Data[4:])
			} else {
				o.Malformed = true
			}
		case OptTFO:
			o.TFO, o.TFOCookie = true, len(op.Data)
		case OptExp2, OptExp1:
			// RFC 6994 experimental options: 0xF989 is the TFO experiment.
			if len(op.Data) >= 2 && binary.BigEndian.Uint16(op.Data) == 0xF989 {
				o.TFO, o.TFOCookie = true, len(op.Data)-2
			} else {
				o.Unknown = true
			}
		case OptMPTCP:
			o.MPTCP = true
		default:
			o.Unknown = true
		}
	})
	if !ok {
		o.Malformed = true
	}
}

// ip6Layer decodes the IPv6 fixed header and the hop-by-hop options header
// that may follow it (RFC 8200 §4.3), the only place for a Jumbo Payload
// option (RFC 2675). Unlike layers.IPv6 it does not allocate for hop-by-hop
// options. The payload is bounded by the payload (or jumbo) length; a
// shorter capture is reported as truncated.
type ip6Layer struct {
	src, dst []byte // 16 bytes each, aliasing the packet
	hopLimit uint8
	length   uint16            // payload length field
	jumbo    uint32            // Jumbo Payload length (when length is 0)
	next     layers.IPProtocol // the header after the fixed and hop-by-hop headers
	contents []byte            // the fixed header
	payload  []byte            // after the hop-by-hop header, within the payload length
}

var (
	errShortIPv6 = errors.New("IPv6 header truncated")
	errIPv6HBH   = errors.New("IPv6 hop-by-hop option runs past its header")
	errIPv6Len0  = errors.New("IPv6 payload length 0 without Jumbo Payload option")
	errIPv6Jumbo = errors.New("IPv6 Jumbo Payload option with a non-zero payload length, or shorter than its header")
	ip6Class     = gopacket.LayerClass(layers.LayerTypeIPv6)
)

func (ip *ip6Layer) CanDecode() gopacket.LayerClass    { return ip6Class }
func (ip *ip6Layer) NextLayerType() gopacket.LayerType { return ip.next.LayerType() }
func (ip *ip6Layer) LayerPayload() []byte              { return ip.payload }

func (ip *ip6Layer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 40 {
		df.SetTruncated()
		return errShortIPv6
	}
	ip.length = binary.BigEndian.Uint16(data[4:6])
	ip.next = layers.IPProtocol(data[6])
	ip.hopLimit = data[7]
	ip.src, ip.dst = data[8:24], data[24:40]
	ip.contents, ip.jumbo = data[:40], 0
	rest := data[40:]
	if ip.length != 0 {
		if int(ip.length) <= len(rest) {
			rest = rest[:ip.length]
		} else {
			df.SetTruncated()
		}
	}
	if ip.next != layers.IPProtocolIPv6HopByHop {
		if ip.length == 0 {
			return errIPv6Len0
		}
		ip.payload = rest
		return nil
	}
	if len(rest) < 8 || (int(rest[1])+1)*8 > len(rest) {
		df.SetTruncated()
		return errShortExt
	}
	n := (int(rest[1]) + 1) * 8
	jumbo := false
	for opts := rest[2:n]; len(opts) > 0; {
		if opts[0] == 0 { // Pad1
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 || 2+int(opts[1]) > len(opts) {
			return errIPv6HBH
		}
		if opts[0] == 0xC2 && opts[1] == 4 { // Jumbo Payload
			ip.jumbo, jumbo = binary.BigEndian.Uint32(opts[2:6]), true
		}
		opts = opts[2+int(opts[1]):]
	}
	ip.next = layers.IPProtocol(rest[0])
	switch {
	case ip.length == 0 && !jumbo:
		return errIPv6Len0
	case ip.length == 0:
		if uint64(ip.jumbo) < uint64(n) {
			return errIPv6Jumbo
		}
		if uint64(ip.jumbo) <= uint64(len(rest)) {
			rest = rest[:ip.jumbo]
		} else {
			df.SetTruncated()
		}
	case jumbo:
		return errIPv6Jumbo
	}
	ip.payload = rest[n:]
	return nil
}

// ipv6Ext decodes the IPv6 extension headers that share the generic format
// (Destination Options, Routing): next header, length in 8-octet units beyond
// the first 8. Hop-by-hop is decoded by ip6Layer itself.
type ipv6Ext struct {
	next    layers.IPProtocol
	payload []byte
	typ     gopacket.LayerType
}

var ipv6ExtClass = gopacket.NewLayerClass([]gopacket.LayerType{layers.LayerTypeIPv6Destination, layers.LayerTypeIPv6Routing})

func (e *ipv6Ext) CanDecode() gopacket.LayerClass { return ipv6ExtClass }

func (e *ipv6Ext) NextLayerType() gopacket.LayerType { return e.next.LayerType() }

func (e *ipv6Ext) LayerPayload() []byte { return e.payload }

func (e *ipv6Ext) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		df.SetTruncated()
		return errShortExt
	}
	n := (int(data[1]) + 1) * 8
	if n > len(data) {
		df.SetTruncated()
		return errShortExt
	}
	e.next = layers.IPProtocol(data[0])
	e.payload = data[n:]
	return nil
}

var errShortExt = errors.New("IPv6 extension header truncated")
