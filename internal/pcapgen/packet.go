package pcapgen

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
)

// IP protocol numbers used by the builders.
const (
	ProtoTCP      = 6  // TCP
	ProtoIPv6Frag = 44 // IPv6 fragment extension header
)

// TCPFlags is the TCP flag byte (CWR..FIN).
type TCPFlags uint8

// TCP flags.
const (
	FIN TCPFlags = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
	ECE
	CWR
)

var flagNames = [...]string{"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"}

// String lists the set flags, e.g. "SYN|ACK".
func (f TCPFlags) String() string {
	var parts []string
	for i, n := range flagNames {
		if f&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "|")
}

// TCP option kinds.
const (
	OptEOL       = 0
	OptNOP       = 1
	OptMSS       = 2
	OptWScale    = 3
	OptSACKPerm  = 4
	OptSACK      = 5
	OptTimestamp = 8
	OptTFO       = 34
)

// TCPOption is one TCP option. EOL and NOP are one byte on the wire; every
// other kind is written as kind, length (2+len(Data)) and Data.
type TCPOption struct {
	Kind uint8
	Data []byte
}

// WireLen is the option's length on the wire.
func (o TCPOption) WireLen() int {
	if o.Kind == OptEOL || o.Kind == OptNOP {
		return 1
	}
	return 2 + len(o.Data)
}

func (o TCPOption) appendTo(b []byte) []byte {
	if o.Kind == OptEOL || o.Kind == OptNOP {
		return append(b, o.Kind)
	}
	b = append(b, o.Kind, byte(2+len(o.Data)))
	return append(b, o.Data...)
}

// NOPOption is a one-byte no-operation option (alignment).
func NOPOption() TCPOption { return TCPOption{Kind: OptNOP} }

// EOLOption is the one-byte end-of-options-list option.
func EOLOption() TCPOption { return TCPOption{Kind: OptEOL} }

// MSSOption announces a maximum segment size.
func MSSOption(mss uint16) TCPOption {
	return TCPOption{Kind: OptMSS, Data: binary.BigEndian.AppendUint16(nil, mss)}
}

// WScaleOption announces a window scale shift count.
func WScaleOption(shift uint8) TCPOption {
	return TCPOption{Kind: OptWScale, Data: []byte{shift}}
}

// SACKPermOption is the SACK-permitted option.
func SACKPermOption() TCPOption { return TCPOption{Kind: OptSACKPerm, Data: []byte{}} }

// SACKBlock is one selective acknowledgment block [Left, Right).
type SACKBlock struct{ Left, Right uint32 }

// SACKOption carries up to four SACK blocks (three beside timestamps).
func SACKOption(blocks ...SACKBlock) TCPOption {
	d := make([]byte, 0, 8*len(blocks))
	for _, b := range blocks {
		d = binary.BigEndian.AppendUint32(d, b.Left)
		d = binary.BigEndian.AppendUint32(d, b.Right)
	}
	return TCPOption{Kind: OptSACK, Data: d}
}

// TimestampOption is the RFC 7323 timestamps option. In a Conn, a timestamp
// option with nil Data (TCPOption{Kind: OptTimestamp}) is filled in from the
// connection's clocks when the segment is sent.
func TimestampOption(val, ecr uint32) TCPOption {
	d := binary.BigEndian.AppendUint32(nil, val)
	return TCPOption{Kind: OptTimestamp, Data: binary.BigEndian.AppendUint32(d, ecr)}
}

// TFOOption is the TCP Fast Open option (kind 34); an empty cookie is a
// cookie request.
func TFOOption(cookie []byte) TCPOption {
	return TCPOption{Kind: OptTFO, Data: append([]byte{}, cookie...)}
}

// RawOption is an option of any kind, written as kind, length, data.
func RawOption(kind uint8, data []byte) TCPOption {
	return TCPOption{Kind: kind, Data: append([]byte{}, data...)}
}

// TCP is a TCP segment: header fields, options and payload.
type TCP struct {
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	Flags            TCPFlags
	Window           uint16
	Urgent           uint16
	Options          []TCPOption // padded with EOL (zero) bytes to a multiple of 4
	Payload          []byte
}

// HeaderLen is the TCP header length including padded options.
func (t *TCP) HeaderLen() int {
	n := 0
	for _, o := range t.Options {
		n += o.WireLen()
	}
	return 20 + (n+3)&^3
}

// Marshal serialises the segment with its checksum computed over the
// pseudo-header of src and dst (both IPv4 or both IPv6). It panics when the
// options do not fit in 40 bytes or the addresses are of mixed families.
func (t *TCP) Marshal(src, dst netip.Addr) []byte {
	hl := t.HeaderLen()
	if hl > 60 {
		panic(fmt.Sprintf("pcapgen: TCP options take %d bytes, more than 40", hl-20))
	}
	b := make([]byte, 20, hl+len(t.Payload))
	binary.BigEndian.PutUint16(b[0:], t.SrcPort)
	binary.BigEndian.PutUint16(b[2:], t.DstPort)
	binary.BigEndian.PutUint32(b[4:], t.Seq)
	binary.BigEndian.PutUint32(b[8:], t.Ack)
	b[12] = byte(hl/4) << 4
	b[13] = byte(t.Flags)
	binary.BigEndian.PutUint16(b[14:], t.Window)
	binary.BigEndian.PutUint16(b[18:], t.Urgent)
	for _, o := range t.Options {
		b = o.appendTo(b)
	}
	for len(b) < hl {
		b = append(b, OptEOL)
	}
	b = append(b, t.Payload...)
	sum := pseudoHeaderSum(src, dst, ProtoTCP, len(b))
	binary.BigEndian.PutUint16(b[16:], foldChecksum(sumBytes(sum, b)))
	return b
}

// sumBytes adds b to a running one's-complement sum (big-endian 16-bit words).
func sumBytes(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

func foldChecksum(sum uint32) uint16 {
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// Checksum is the Internet checksum of b.
func Checksum(b []byte) uint16 { return foldChecksum(sumBytes(0, b)) }

func pseudoHeaderSum(src, dst netip.Addr, proto uint8, length int) uint32 {
	if src.Is4() != dst.Is4() || !src.IsValid() || !dst.IsValid() {
		panic(fmt.Sprintf("pcapgen: bad address pair %v, %v", src, dst))
	}
	var sum uint32
	if src.Is4() {
		s, d := src.As4(), dst.As4()
		sum = sumBytes(sum, s[:])
		sum = sumBytes(sum, d[:])
		return sum + uint32(proto) + uint32(length)
	}
	s, d := src.As16(), dst.As16()
	sum = sumBytes(sum, s[:])
	sum = sumBytes(sum, d[:])
	return sum + uint32(length>>16) + uint32(length&0xffff) + uint32(proto)
}

// TransportChecksumOK reports whether a TCP (or UDP) segment carried between
// src and dst has a valid checksum.
func TransportChecksumOK(src, dst netip.Addr, proto uint8, seg []byte) bool {
	return foldChecksum(sumBytes(pseudoHeaderSum(src, dst, proto, len(seg)), seg)) == 0
}

// IPv4 is an IPv4 header.
type IPv4 struct {
	Src, Dst   netip.Addr
	TOS        uint8
	ID         uint16
	DF, MF     bool
	FragOffset int // in bytes; a multiple of 8
	TTL        uint8
	Protocol   uint8
	Options    []byte // raw options, padded with zero (EOL) bytes to a multiple of 4
	// TotalLength overrides the total length field when non-nil (TSO
	// captures show 0 there).
	TotalLength *uint16
}

// Marshal serialises the header with a correct header checksum, followed by
// payload. It panics when the options do not fit in 40 bytes.
func (h *IPv4) Marshal(payload []byte) []byte {
	ol := (len(h.Options) + 3) &^ 3
	if ol > 40 {
		panic(fmt.Sprintf("pcapgen: IPv4 options take %d bytes, more than 40", ol))
	}
	if !h.Src.Is4() || !h.Dst.Is4() {
		panic(fmt.Sprintf("pcapgen: IPv4 header with addresses %v, %v", h.Src, h.Dst))
	}
	hl := 20 + ol
	b := make([]byte, hl, hl+len(payload))
	b[0] = 0x40 | byte(hl/4)
	b[1] = h.TOS
	total := uint16(hl + len(payload))
	if h.TotalLength != nil {
		total = *h.TotalLength
	}
	binary.BigEndian.PutUint16(b[2:], total)
	binary.BigEndian.PutUint16(b[4:], h.ID)
	ff := uint16(h.FragOffset/8) & 0x1fff
	if h.DF {
		ff |= 0x4000
	}
	if h.MF {
		ff |= 0x2000
	}
	binary.BigEndian.PutUint16(b[6:], ff)
	b[8] = h.TTL
	b[9] = h.Protocol
	s, d := h.Src.As4(), h.Dst.As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	copy(b[20:], h.Options)
	binary.BigEndian.PutUint16(b[10:], Checksum(b))
	return append(b, payload...)
}

// IPv6 is a fixed IPv6 header.
type IPv6 struct {
	Src, Dst     netip.Addr
	TrafficClass uint8
	FlowLabel    uint32
	NextHeader   uint8
	HopLimit     uint8
}

// Marshal serialises the header followed by payload.
func (h *IPv6) Marshal(payload []byte) []byte {
	if !h.Src.Is6() || !h.Dst.Is6() || h.Src.Is4In6() || h.Dst.Is4In6() {
		panic(fmt.Sprintf("pcapgen: IPv6 header with addresses %v, %v", h.Src, h.Dst))
	}
	b := make([]byte, 40, 40+len(payload))
	binary.BigEndian.PutUint32(b[0:], 6<<28|uint32(h.TrafficClass)<<20|h.FlowLabel&0xfffff)
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)))
	b[6] = h.NextHeader
	b[7] = h.HopLimit
	s, d := h.Src.As16(), h.Dst.As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	return append(b, payload...)
}

// Packet is a TCP segment inside an IPv4 or IPv6 packet; the family follows
// Src and Dst.
type Packet struct {
	Src, Dst  netip.Addr
	TTL       uint8 // hop limit for IPv6; 0 means 64
	ID        uint16
	DF        bool
	TOS       uint8 // traffic class for IPv6
	FlowLabel uint32
	IPOptions []byte // IPv4 only
	TCP       TCP
}

// Marshal serialises the IP packet with valid checksums.
func (p *Packet) Marshal() []byte {
	ttl := p.TTL
	if ttl == 0 {
		ttl = 64
	}
	seg := p.TCP.Marshal(p.Src, p.Dst)
	if p.Src.Is4() {
		h := IPv4{Src: p.Src, Dst: p.Dst, TOS: p.TOS, ID: p.ID, DF: p.DF, TTL: ttl, Protocol: ProtoTCP, Options: p.IPOptions}
		return h.Marshal(seg)
	}
	h := IPv6{Src: p.Src, Dst: p.Dst, TrafficClass: p.TOS, FlowLabel: p.FlowLabel, NextHeader: ProtoTCP, HopLimit: ttl}
	return h.Marshal(seg)
}
