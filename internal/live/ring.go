package live

import (
	"encoding/binary"
	"fmt"
)

// The layout of a TPACKET_V3 ring (linux/if_packet.h), in host byte order
// except sll_protocol. It is read as bytes so that it can be tested
// without a kernel, and every offset the kernel gives is checked.
const (
	// struct tpacket_block_desc: version, offset_to_priv, then
	// struct tpacket_hdr_v1.
	blkStatus  = 8  // block_status
	blkNumPkts = 12 // num_pkts
	blkFirst   = 16 // offset_to_first_pkt
	blkLen     = 20 // blk_len
	blkTSFirst = 32 // ts_first_pkt: when the kernel opened the block
	blkHdrLen  = 48 // the header, padded

	// struct tpacket3_hdr.
	pktNext     = 0  // tp_next_offset
	pktSec      = 4  // tp_sec
	pktNsec     = 8  // tp_nsec
	pktSnaplen  = 12 // tp_snaplen
	pktLen      = 16 // tp_len
	pktStatus   = 20 // tp_status
	pktMac      = 24 // tp_mac (u16)
	pktNet      = 26 // tp_net (u16)
	pktVlanTCI  = 32 // hv1.tp_vlan_tci (u32)
	pktVlanTPID = 36 // hv1.tp_vlan_tpid (u16)
	pktHdrLen   = 48 // TPACKET_ALIGN(sizeof(struct tpacket3_hdr)); the sockaddr_ll follows

	// struct sockaddr_ll, after the packet header.
	sllProtocol = 2  // __be16
	sllIfindex  = 4  // int
	sllHatype   = 8  // unsigned short
	sllPkttype  = 10 // unsigned char
	sllHalen    = 11
	sllAddr     = 12
	sllSize     = 20

	sll2HdrLen = 20 // LINKTYPE_LINUX_SLL2 header
	vlanLen    = 4

	// tp_status bits (linux/if_packet.h).
	statusUser      = 1 << 0
	statusLosing    = 1 << 2
	statusVlanValid = 1 << 4
	statusTPIDValid = 1 << 6
	statusGSOTCP    = 1 << 8

	pkttypeOutgoing = 4   // PACKET_OUTGOING
	hatypeEther     = 1   // ARPHRD_ETHER
	hatypeLoopback  = 772 // ARPHRD_LOOPBACK
	etherVLAN       = 0x8100
)

var ne = binary.NativeEndian

// packet is one packet header of a ring block.
type packet struct {
	next     uint32 // offset of the next packet from this one (0 on the last)
	ts       int64  // ns since the epoch
	snaplen  uint32 // bytes captured at mac
	length   uint32 // tp_len: length on the wire (from mac for SOCK_RAW, from the network header for SOCK_DGRAM)
	status   uint32
	mac, net uint16 // offsets of the link and network headers from the packet header
	vlanTCI  uint16
	vlanTPID uint16
	protocol uint16 // sll_protocol, an EtherType
	ifindex  int32
	hatype   uint16
	pkttype  uint8
	halen    uint8
	addr     [8]byte
	data     []byte // snaplen bytes at mac
}

// blockInfo reads a block header: its status, packet count and the offset
// of its first packet.
func blockInfo(blk []byte) (status, n, first uint32, err error) {
	if len(blk) < blkHdrLen {
		return 0, 0, 0, fmt.Errorf("ring block of %d bytes", len(blk))
	}
	status = ne.Uint32(blk[blkStatus:])
	n = ne.Uint32(blk[blkNumPkts:])
	first = ne.Uint32(blk[blkFirst:])
	if n > 0 && (first < blkHdrLen || uint64(first)+pktHdrLen+sllSize > uint64(len(blk))) {
		return status, n, first, fmt.Errorf("ring block: first packet at %d outside the block of %d bytes", first, len(blk))
	}
	return status, n, first, nil
}

// packetTS reads the timestamp of the packet at off (already checked by
// parsePacket or blockInfo).
func packetTS(blk []byte, off int) int64 {
	return int64(ne.Uint32(blk[off+pktSec:]))*1e9 + int64(ne.Uint32(blk[off+pktNsec:]))
}

// parsePacket reads the packet header at off in blk and checks that its
// data lies inside the block.
func parsePacket(blk []byte, off int) (packet, error) {
	var p packet
	if off < 0 || off+pktHdrLen+sllSize > len(blk) {
		return p, fmt.Errorf("ring packet header at %d outside the block of %d bytes", off, len(blk))
	}
	h := blk[off:]
	p.next = ne.Uint32(h[pktNext:])
	p.ts = packetTS(blk, off)
	p.snaplen = ne.Uint32(h[pktSnaplen:])
	p.length = ne.Uint32(h[pktLen:])
	p.status = ne.Uint32(h[pktStatus:])
	p.mac = ne.Uint16(h[pktMac:])
	p.net = ne.Uint16(h[pktNet:])
	p.vlanTCI = uint16(ne.Uint32(h[pktVlanTCI:]))
	p.vlanTPID = ne.Uint16(h[pktVlanTPID:])
	s := h[pktHdrLen:]
	p.protocol = binary.BigEndian.Uint16(s[sllProtocol:])
	p.ifindex = int32(ne.Uint32(s[sllIfindex:]))
	p.hatype = ne.Uint16(s[sllHatype:])
	p.pkttype = s[sllPkttype]
	p.halen = s[sllHalen]
	copy(p.addr[:], s[sllAddr:sllAddr+8])
	end := uint64(p.mac) + uint64(p.snaplen)
	if p.mac < pktHdrLen+sllSize || end > uint64(len(h)) {
		return p, fmt.Errorf("ring packet data %d+%d outside the block (%d bytes left)", p.mac, p.snaplen, len(h))
	}
	p.data = h[p.mac:end]
	return p, nil
}

// loopbackOutgoing reports the outgoing copy of a loopback packet, which
// AF_PACKET shows besides the incoming one.
func (p *packet) loopbackOutgoing() bool {
	return p.pkttype == pkttypeOutgoing && p.hatype == hatypeLoopback
}

// netLen is the length of the packet from its network header.
func (p *packet) netLen() int {
	return int(p.length) - max(int(p.net)-int(p.mac), 0)
}

// appendFrame appends to dst the frame of p as it was on the wire, at most
// snaplen bytes, and returns it with its original length. cooked frames
// (SOCK_DGRAM: p.data starts at the network header) get an SLL2 header; a
// VLAN tag the kernel stripped is put back.
func appendFrame(dst []byte, p *packet, cooked bool, snaplen int) ([]byte, int) {
	start := len(dst)
	orig := int(p.length)
	tagged := p.status&statusVlanValid != 0
	tpid := uint16(etherVLAN)
	if tagged && p.status&statusTPIDValid != 0 && p.vlanTPID != 0 {
		tpid = p.vlanTPID
	}
	data := p.data
	if cooked {
		inner := p.protocol
		if inbandTag(inner, data) {
			inner = etherVLAN
		}
		proto := inner
		if tagged {
			proto = tpid
		}
		dst = binary.BigEndian.AppendUint16(dst, proto)
		dst = append(dst, 0, 0) // reserved
		dst = binary.BigEndian.AppendUint32(dst, uint32(p.ifindex))
		dst = binary.BigEndian.AppendUint16(dst, p.hatype)
		dst = append(dst, p.pkttype, p.halen)
		var addr [8]byte
		copy(addr[:], p.addr[:min(int(p.halen), 8)])
		dst = append(dst, addr[:]...)
		orig += sll2HdrLen
		if tagged {
			dst = binary.BigEndian.AppendUint16(dst, p.vlanTCI)
			dst = binary.BigEndian.AppendUint16(dst, inner)
			orig += vlanLen
		}
		dst = append(dst, data...)
	} else if tagged && len(data) >= 12 {
		dst = append(dst, data[:12]...)
		dst = binary.BigEndian.AppendUint16(dst, tpid)
		dst = binary.BigEndian.AppendUint16(dst, p.vlanTCI)
		dst = append(dst, data[12:]...)
		orig += vlanLen
	} else {
		dst = append(dst, data...)
	}
	if len(dst)-start > snaplen {
		dst = dst[:start+snaplen]
	}
	return dst, max(orig, len(dst)-start)
}

func isVLANType(et uint16) bool { return et == 0x8100 || et == 0x88a8 || et == 0x9100 }

// inbandTag reports a cooked packet that starts with a VLAN tag although
// its sll_protocol names IPv4 or IPv6: an inner tag of QinQ, left in the
// packet when the kernel stripped the outer one. Kernels with
// vlan_get_protocol_dgram (2024) report the innermost protocol for it, so
// the inner tag's own TPID is lost; 0x8100 is put in its place.
func inbandTag(proto uint16, data []byte) bool {
	var version byte
	switch proto {
	case 0x0800:
		version = 4
	case 0x86dd:
		version = 6
	default:
		return false
	}
	if len(data) < 4 || data[0]>>4 == version {
		return false
	}
	next := binary.BigEndian.Uint16(data[2:])
	return next == proto || isVLANType(next)
}
