package decode

// The IPv6 layer: the fixed header with the hop-by-hop options header and
// its Jumbo Payload option (ip6Layer), the other extension headers
// (ipv6Ext), and packets whose payload length is 0 without a jumbogram
// (ipv6Unsized).

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/tcp"
)

// ipv6Fields fills the addresses (with the TCP ports) and IP fields of s from
// the decoded IPv6 header (the identification from the fragment header, if
// any), and returns the datagram's declared end as an offset in ipdata:
// after its payload length, or its Jumbo Payload length.
func (d *Decoder) ipv6Fields(s *tcp.Segment, ipdata []byte, frag6 bool) (ipEnd int) {
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
	if frag6 {
		s.IPID = d.frag.Identification
	}
	s.IPLen = uint32(ipEnd - start)
	return ipEnd
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
	s.IPLen = uint32(ipEnd)
	s.Len = ipEnd - 40 - len(d.tcp.contents)
	fillTCP(&d.tcp, s)
	if len(s.Payload) < s.Len {
		s.Notes |= tcp.NoteTruncated
	}
	return OK
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
	_            = gopacket.DecodingLayer(&ip6Layer{})
	_            = gopacket.DecodingLayer(&ipv6Ext{})
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
