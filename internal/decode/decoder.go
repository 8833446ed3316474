package decode

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/internal/seqnum"
)

// Skip says why a frame produced no TCP segment (OK when it did).
type Skip uint8

const (
	OK              Skip = iota
	SkipUnsupported      // link type not supported
	SkipNotIP            // link layer carries something other than IP (ARP, LLDP…)
	SkipNotTCP           // IP, but not TCP (UDP, ICMP…)
	SkipFragment         // an IP fragment held until its datagram is complete
	SkipTruncated        // link, IP or TCP header not entirely captured
	SkipMalformed        // a header is invalid
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
	ip6  layers.IPv6
	ext  ipv6Ext
	frag layers.IPv6Fragment
	tcp  layers.TCP

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
func (d *Decoder) Decode(f *capture.Frame, s *Segment) Skip {
	*s = Segment{Frame: f.N, File: f.File, TS: f.TS}
	if f.OverSnaplen {
		s.Notes |= NoteOverSnaplen
	}
	proto, ipdata := peelLink(f.LinkType, f.Data, &s.VLAN)
	switch proto {
	case netIPv4, netIPv6:
	case netUnknownLink:
		d.UnsupportedLinks[f.LinkType]++
		return SkipUnsupported
	case netShort:
		return SkipTruncated
	default:
		return SkipNotIP
	}
	if len(ipdata) == 0 {
		return SkipTruncated
	}
	// Guard the version nibble: an IPv4 link type carrying IPv6 and the like.
	switch ipdata[0] >> 4 {
	case 4:
		d.parser = d.p4
	case 6:
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
				return SkipTruncated
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
		s.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(d.ip6.SrcIP)), uint16(d.tcp.SrcPort))
		s.Dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(d.ip6.DstIP)), uint16(d.tcp.DstPort))
		s.TTL = d.ip6.HopLimit
		start := cap(ipdata) - cap(d.ip6.Contents)
		if d.ip6.Length == 0 && d.ip6.HopByHop != nil {
			jl, ok := jumboLength(&d.ip6)
			if !ok {
				return SkipMalformed
			}
			s.Notes |= NoteJumbo
			ipEnd = start + 40 + int(jl)
		} else {
			ipEnd = start + 40 + int(d.ip6.Length)
		}
		if haveFrag6 {
			s.IPID = d.frag.Identification
		}
	} else {
		s.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(d.ip4.SrcIP.To4())), uint16(d.tcp.SrcPort))
		s.Dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(d.ip4.DstIP.To4())), uint16(d.tcp.DstPort))
		s.TTL = d.ip4.TTL
		s.IPID = uint32(d.ip4.Id)
		start := cap(ipdata) - cap(d.ip4.Contents)
		raw := ipdata[start:]
		if binary.BigEndian.Uint16(raw[2:4]) == 0 {
			// TSO/GSO: the stack had not filled in the length yet. The
			// datagram is everything captured (no padding on such frames).
			s.Notes |= NoteTSO
			ipEnd = len(ipdata)
		} else {
			ipEnd = start + int(binary.BigEndian.Uint16(raw[2:4]))
		}
	}
	tcpOff := cap(ipdata) - cap(d.tcp.Contents)
	s.Len = ipEnd - tcpOff - len(d.tcp.Contents)
	if s.Len < 0 {
		return SkipMalformed
	}
	if len(ipdata) > ipEnd {
		s.Notes |= NotePadding
	}
	fillTCP(&d.tcp, s)
	if len(s.Payload) > s.Len {
		s.Payload = s.Payload[:s.Len]
	}
	if len(s.Payload) < s.Len {
		s.Notes |= NoteTruncated
	}
	return OK
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

// jumboLength returns the RFC 2675 Jumbo Payload length of a hop-by-hop header.
func jumboLength(ip6 *layers.IPv6) (uint32, bool) {
	for _, o := range ip6.HopByHop.Options {
		if o.OptionType == layers.IPv6HopByHopOptionJumbogram && len(o.OptionData) == 4 {
			return binary.BigEndian.Uint32(o.OptionData), true
		}
	}
	return 0, false
}

// fillTCP copies the TCP header fields and options into s.
func fillTCP(t *layers.TCP, s *Segment) {
	s.Seq = seqnum.Value(t.Seq)
	s.Ack = seqnum.Value(t.Ack)
	var fl Flags
	if t.FIN {
		fl |= FIN
	}
	if t.SYN {
		fl |= SYN
	}
	if t.RST {
		fl |= RST
	}
	if t.PSH {
		fl |= PSH
	}
	if t.ACK {
		fl |= ACK
	}
	if t.URG {
		fl |= URG
	}
	if t.ECE {
		fl |= ECE
	}
	if t.CWR {
		fl |= CWR
	}
	if t.NS {
		fl |= AE
	}
	s.Flags = fl
	s.Window = t.Window
	s.Urgent = t.Urgent
	s.Checksum = t.Checksum
	s.Payload = t.Payload
	if len(t.Contents) > 20 {
		s.Opts.Raw = t.Contents[20:]
	}
	parseOptions(s.Opts.Raw, &s.Opts)
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
func parseOptions(raw []byte, o *Options) {
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
				o.SACK[o.NSACK] = SACKBlock{
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

// ipv6Ext decodes the IPv6 extension headers that share the generic format
// (Destination Options, Routing): next header, length in 8-octet units beyond
// the first 8. Hop-by-hop is decoded by layers.IPv6 itself.
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
