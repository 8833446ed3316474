package zeek

import (
	"encoding/binary"

	"github.com/tcptrace/tcptrace/tcp"
)

// TCPChecksumOK reports whether the segment's TCP checksum is right, computed
// over the IPv4 or IPv6 pseudo-header, the TCP header (rebuilt from the
// decoded fields and the raw option bytes) and the payload. Like Zeek, it
// cannot judge a segment whose payload was not entirely captured and reports
// true for it. The three reserved header bits are not kept by the decoder and
// are taken as zero.
func TCPChecksumOK(s *tcp.Segment) bool {
	if len(s.Payload) < s.Len {
		return true
	}
	hdrLen := 20 + len(s.Opts.Raw)
	tcpLen := uint32(hdrLen + s.Len)
	var sum uint32
	add := func(b []byte) {
		for len(b) >= 2 {
			sum += uint32(binary.BigEndian.Uint16(b))
			b = b[2:]
		}
		if len(b) == 1 {
			sum += uint32(b[0]) << 8
		}
	}
	src, dst := s.Src.Addr(), s.Dst.Addr()
	if s.IPv6 || !src.Is4() {
		a, b := src.As16(), dst.As16()
		add(a[:])
		add(b[:])
		sum += tcpLen>>16 + tcpLen&0xffff
	} else {
		a, b := src.As4(), dst.As4()
		add(a[:])
		add(b[:])
		sum += tcpLen & 0xffff
	}
	sum += 6 // protocol
	var h [20]byte
	binary.BigEndian.PutUint16(h[0:], s.Src.Port())
	binary.BigEndian.PutUint16(h[2:], s.Dst.Port())
	binary.BigEndian.PutUint32(h[4:], uint32(s.Seq))
	binary.BigEndian.PutUint32(h[8:], uint32(s.Ack))
	h[12] = byte(hdrLen/4) << 4
	if s.Flags&tcp.AE != 0 {
		h[12] |= 1
	}
	for i, f := range [...]tcp.Flags{tcp.FIN, tcp.SYN, tcp.RST, tcp.PSH, tcp.ACK, tcp.URG, tcp.ECE, tcp.CWR} {
		if s.Flags&f != 0 {
			h[13] |= 1 << i
		}
	}
	binary.BigEndian.PutUint16(h[14:], s.Window)
	binary.BigEndian.PutUint16(h[16:], s.Checksum)
	binary.BigEndian.PutUint16(h[18:], s.Urgent)
	add(h[:])
	add(s.Opts.Raw)
	add(s.Payload[:s.Len])
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return sum == 0xffff
}
