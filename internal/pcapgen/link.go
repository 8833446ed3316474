package pcapgen

import (
	"encoding/binary"
	"fmt"
	"net"
)

// Link types (LINKTYPE_* values of pcap and pcapng).
const (
	LinkTypeNull      = 0   // BSD loopback
	LinkTypeEthernet  = 1   // Ethernet II
	LinkTypeRaw       = 101 // raw IPv4 or IPv6
	LinkTypeLinuxSLL  = 113 // Linux cooked capture v1
	LinkTypeIPv4      = 228 // raw IPv4
	LinkTypeIPv6      = 229 // raw IPv6
	LinkTypeLinuxSLL2 = 276 // Linux cooked capture v2
)

// EtherTypes.
const (
	EtherTypeIPv4 = 0x0800
	EtherTypeIPv6 = 0x86DD
	EtherTypeVLAN = 0x8100 // 802.1Q C-tag
	EtherTypeQinQ = 0x88A8 // 802.1ad S-tag
)

// Address families written in BSD loopback (LINKTYPE_NULL) headers.
const (
	AFInet        = 2  // AF_INET everywhere
	AFInet6Darwin = 30 // AF_INET6 on macOS, where loopback captures come from
)

// Encap is how IP packets are wrapped into frames.
type Encap uint8

// Encapsulations.
const (
	EncapEthernet Encap = iota // Ethernet II, with optional VLAN tags
	EncapRaw                   // no link header (LINKTYPE_RAW, _IPV4, _IPV6)
	EncapNull                  // 4-byte address family, little-endian host order
	EncapSLL                   // 16-byte Linux cooked header
	EncapSLL2                  // 20-byte Linux cooked v2 header
)

// LinkType is the usual link type for the encapsulation (LINKTYPE_RAW for
// EncapRaw).
func (e Encap) LinkType() uint32 {
	switch e {
	case EncapEthernet:
		return LinkTypeEthernet
	case EncapRaw:
		return LinkTypeRaw
	case EncapNull:
		return LinkTypeNull
	case EncapSLL:
		return LinkTypeLinuxSLL
	case EncapSLL2:
		return LinkTypeLinuxSLL2
	}
	panic(fmt.Sprintf("pcapgen: unknown encapsulation %d", e))
}

// Link wraps IP packets into link-layer frames.
type Link struct {
	Encap    Encap
	Src, Dst net.HardwareAddr // Ethernet; SLL and SLL2 record Src
	// VLAN tags, outermost first. One tag is an 802.1Q tag; with more, the
	// outer ones are 802.1ad S-tags (0x88A8) and the innermost is 802.1Q.
	VLAN     []uint16
	Outgoing bool   // SLL/SLL2 packet type 4 (sent by us) instead of 0 (to us)
	Pad      bool   // pad Ethernet frames to the 60-byte minimum, as receivers see them
	IfIndex  uint32 // SLL2 interface index
}

// Wrap returns the frame carrying the IP packet ip (whose first nibble gives
// its version).
func (l *Link) Wrap(ip []byte) []byte {
	v6 := len(ip) > 0 && ip[0]>>4 == 6
	proto := uint16(EtherTypeIPv4)
	if v6 {
		proto = EtherTypeIPv6
	}
	switch l.Encap {
	case EncapEthernet:
		f := EthernetFrame(l.Dst, l.Src, l.VLAN, proto, ip)
		if l.Pad && len(f) < 60 {
			f = append(f, make([]byte, 60-len(f))...)
		}
		return f
	case EncapRaw:
		return append([]byte{}, ip...)
	case EncapNull:
		fam := uint32(AFInet)
		if v6 {
			fam = AFInet6Darwin
		}
		return append(binary.LittleEndian.AppendUint32(nil, fam), ip...)
	case EncapSLL:
		h := make([]byte, 16, 16+len(ip))
		if l.Outgoing {
			binary.BigEndian.PutUint16(h[0:], 4)
		}
		binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
		binary.BigEndian.PutUint16(h[4:], uint16(len(l.Src)))
		copy(h[6:14], l.Src)
		binary.BigEndian.PutUint16(h[14:], proto)
		return append(h, ip...)
	case EncapSLL2:
		h := make([]byte, 20, 20+len(ip))
		binary.BigEndian.PutUint16(h[0:], proto)
		binary.BigEndian.PutUint32(h[4:], l.IfIndex)
		binary.BigEndian.PutUint16(h[8:], 1) // ARPHRD_ETHER
		if l.Outgoing {
			h[10] = 4
		}
		h[11] = byte(len(l.Src))
		copy(h[12:20], l.Src)
		return append(h, ip...)
	}
	panic(fmt.Sprintf("pcapgen: unknown encapsulation %d", l.Encap))
}

// EthernetFrame builds an Ethernet II frame: destination, source, VLAN tags
// (outermost first, see Link.VLAN), EtherType and payload. No FCS.
func EthernetFrame(dst, src net.HardwareAddr, vlans []uint16, etherType uint16, payload []byte) []byte {
	b := make([]byte, 12, 14+4*len(vlans)+len(payload))
	copy(b[0:6], dst)
	copy(b[6:12], src)
	for i, v := range vlans {
		tpid := uint16(EtherTypeQinQ)
		if i == len(vlans)-1 {
			tpid = EtherTypeVLAN
		}
		b = binary.BigEndian.AppendUint16(b, tpid)
		b = binary.BigEndian.AppendUint16(b, v&0x0fff)
	}
	b = binary.BigEndian.AppendUint16(b, etherType)
	return append(b, payload...)
}
