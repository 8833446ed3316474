package decode

import (
	"encoding/binary"
	"net/netip"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/tcp"
)

// Hand-built frames for the unit tests, the fuzz seeds and the benchmark.

var (
	cli4 = netip.MustParseAddr("192.0.2.1")
	srv4 = netip.MustParseAddr("198.51.100.2")
	cli6 = netip.MustParseAddr("2001:db8::1")
	srv6 = netip.MustParseAddr("2001:db8::2")
)

// tcpSpec describes a TCP segment to build.
type tcpSpec struct {
	sport, dport uint16
	seq, ack     uint32
	flags        tcp.Flags
	win, urg     uint16
	opts         []byte // raw option area, padded with EOL to a multiple of 4
	payload      []byte
}

func (t tcpSpec) bytes() []byte {
	opts := append([]byte(nil), t.opts...)
	for len(opts)%4 != 0 {
		opts = append(opts, OptEOL)
	}
	h := make([]byte, 20+len(opts), 20+len(opts)+len(t.payload))
	binary.BigEndian.PutUint16(h[0:], t.sport)
	binary.BigEndian.PutUint16(h[2:], t.dport)
	binary.BigEndian.PutUint32(h[4:], t.seq)
	binary.BigEndian.PutUint32(h[8:], t.ack)
	h[12] = byte(len(h)/4) << 4
	if t.flags&tcp.AE != 0 {
		h[12] |= 1
	}
	h[13] = byte(t.flags & 0xFF)
	binary.BigEndian.PutUint16(h[14:], t.win)
	binary.BigEndian.PutUint16(h[16:], 0xBEEF)
	binary.BigEndian.PutUint16(h[18:], t.urg)
	copy(h[20:], opts)
	return append(h, t.payload...)
}

// simpleTCP is a data segment client → server with timestamps.
func simpleTCP(n int) tcpSpec {
	return tcpSpec{
		sport: 40000, dport: 80, seq: 1000, ack: 2000, flags: tcp.ACK | tcp.PSH, win: 501,
		opts:    tsOpt(100, 200),
		payload: pattern(n),
	}
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

// Option builders.
func mssOpt(v uint16) []byte { return []byte{OptMSS, 4, byte(v >> 8), byte(v)} }
func wsOpt(v uint8) []byte   { return []byte{OptWScale, 3, v} }
func sackPermOpt() []byte    { return []byte{OptSACKPerm, 2} }
func tsOpt(val, ecr uint32) []byte {
	b := []byte{OptNOP, OptNOP, OptTimestamp, 10, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[4:], val)
	binary.BigEndian.PutUint32(b[8:], ecr)
	return b
}
func sackOpt(blocks ...uint32) []byte {
	b := []byte{OptNOP, OptNOP, OptSACK, byte(2 + 4*len(blocks))}
	for _, v := range blocks {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}
func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// ipv4Spec describes an IPv4 header.
type ipv4Spec struct {
	src, dst    netip.Addr
	proto       uint8
	id          uint16
	ttl         uint8
	df, mf      bool
	fragOff     int    // in bytes, multiple of 8
	opts        []byte // IP options, padded with NOP... to 4 bytes
	totalLen    int    // 0: computed; -1: write 0 (TSO)
	lenAdjust   int    // added to the computed total length
	version     uint8  // 0: 4
	ihlOverride uint8
	badChecksum bool // leave the header checksum wrong
}

func (ip ipv4Spec) packet(payload []byte) []byte {
	opts := append([]byte(nil), ip.opts...)
	for len(opts)%4 != 0 {
		opts = append(opts, 0)
	}
	hl := 20 + len(opts)
	h := make([]byte, hl, hl+len(payload))
	v := ip.version
	if v == 0 {
		v = 4
	}
	ihl := uint8(hl / 4)
	if ip.ihlOverride != 0 {
		ihl = ip.ihlOverride
	}
	h[0] = v<<4 | ihl
	total := hl + len(payload) + ip.lenAdjust
	switch {
	case ip.totalLen > 0:
		total = ip.totalLen
	case ip.totalLen < 0:
		total = 0
	}
	binary.BigEndian.PutUint16(h[2:], uint16(total))
	binary.BigEndian.PutUint16(h[4:], ip.id)
	ff := uint16(ip.fragOff / 8)
	if ip.df {
		ff |= 0x4000
	}
	if ip.mf {
		ff |= 0x2000
	}
	binary.BigEndian.PutUint16(h[6:], ff)
	h[8] = ip.ttl
	if h[8] == 0 {
		h[8] = 64
	}
	h[9] = ip.proto
	if ip.proto == 0 {
		h[9] = 6
	}
	s, d := ip.src, ip.dst
	if !s.IsValid() {
		s, d = cli4, srv4
	}
	copy(h[12:16], s.AsSlice())
	copy(h[16:20], d.AsSlice())
	copy(h[20:], opts)
	if !ip.badChecksum {
		var sum uint32
		for i := 0; i < hl; i += 2 {
			sum += uint32(h[i])<<8 | uint32(h[i+1])
		}
		for sum > 0xFFFF {
			sum = sum>>16 + sum&0xFFFF
		}
		binary.BigEndian.PutUint16(h[10:], ^uint16(sum))
	} else {
		binary.BigEndian.PutUint16(h[10:], 0xDEAD)
	}
	return append(h, payload...)
}

func ipv4TCP(t tcpSpec) []byte { return ipv4Spec{}.packet(t.bytes()) }

// ipv6Packet builds an IPv6 header; next is the first next-header value and
// payload everything after the fixed header (extension headers included).
func ipv6Packet(next uint8, payload []byte, plen int) []byte {
	h := make([]byte, 40, 40+len(payload))
	h[0] = 0x60
	if plen < 0 {
		plen = len(payload)
	}
	binary.BigEndian.PutUint16(h[4:], uint16(plen))
	h[6] = next
	h[7] = 63
	copy(h[8:24], cli6.AsSlice())
	copy(h[24:40], srv6.AsSlice())
	return append(h, payload...)
}

func ipv6TCP(t tcpSpec) []byte { return ipv6Packet(6, t.bytes(), -1) }

// ext6 builds a generic IPv6 extension header (hop-by-hop, destination
// options) with the given options, padded with PadN to a multiple of 8.
func ext6(next uint8, opts []byte) []byte {
	b := append([]byte{next, 0}, opts...)
	if pad := (8 - len(b)%8) % 8; pad == 1 {
		b = append(b, 0) // Pad1
	} else if pad > 1 {
		b = append(b, 1, byte(pad-2))
		b = append(b, make([]byte, pad-2)...)
	}
	b[1] = byte(len(b)/8 - 1)
	return b
}

var (
	macDst = []byte{0x02, 0, 0, 0, 0, 1}
	macSrc = []byte{0x02, 0, 0, 0, 0, 2}
)

// eth builds an Ethernet II frame; tags are (TPID, TCI) pairs inserted before
// the EtherType.
func eth(etype uint16, payload []byte, tags ...[2]uint16) []byte {
	b := cat(macDst, macSrc)
	for _, t := range tags {
		b = binary.BigEndian.AppendUint16(b, t[0])
		b = binary.BigEndian.AppendUint16(b, t[1])
	}
	b = binary.BigEndian.AppendUint16(b, etype)
	return append(b, payload...)
}

// frame wraps data as captured whole.
func frame(link uint32, data []byte) *capture.Frame {
	return &capture.Frame{N: 1, LinkType: link, Data: data, CapLen: len(data), OrigLen: len(data), TS: 1e9}
}

// snapped returns a frame cut to snap bytes of a packet of len(data) bytes.
func snapped(link uint32, data []byte, snap int) *capture.Frame {
	return &capture.Frame{N: 1, LinkType: link, Data: data[:snap], CapLen: snap, OrigLen: len(data), TS: 1e9}
}
