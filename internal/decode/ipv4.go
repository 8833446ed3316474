package decode

// The IPv4 layer: the fields of the innermost IPv4 header (decoded by
// gopacket's layers.IPv4) and the datagram's declared end.

import (
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket/layers"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/tcp"
)

// ipv4Fields fills the addresses (with the TCP ports) and IP fields of s from
// the decoded IPv4 header, and returns the datagram's declared end as an
// offset in ipdata: its total length, or, when that is 0 (TSO/GSO) or longer
// than the packet on the wire with a failing header checksum, the end of
// the packet on the wire.
func (d *Decoder) ipv4Fields(f *capture.Frame, s *tcp.Segment, ipdata []byte) (ipEnd int) {
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
		s.IPLen = uint32(ipEnd - start)
		return ipEnd
	}
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
	s.IPLen = uint32(ipEnd - start)
	return ipEnd
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
