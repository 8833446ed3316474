package decode

import (
	"encoding/binary"

	"github.com/tcptrace/tcptrace/tcp"
)

// Link types (LINKTYPE_* values of pcap/pcapng, https://www.tcpdump.org/linktypes.html).
const (
	LinkNull      = 0   // BSD loopback: 4-byte address family in host byte order
	LinkEthernet  = 1   // Ethernet II / 802.3
	LinkFDDI      = 10  // FDDI
	LinkRawDLT    = 12  // DLT_RAW on most platforms
	LinkRawDLT14  = 14  // DLT_RAW on OpenBSD
	LinkRaw       = 101 // LINKTYPE_RAW
	LinkLoop      = 108 // OpenBSD loopback: family in network byte order
	LinkLinuxSLL  = 113 // Linux cooked capture v1
	LinkIPoIB     = 242 // IP over InfiniBand
	LinkNFLOG     = 239 // Linux netfilter NFLOG
	LinkIPv4      = 228 // raw IPv4
	LinkIPv6      = 229 // raw IPv6
	LinkLinuxSLL2 = 276 // Linux cooked capture v2
)

// netProto says what a link layer carries.
type netProto uint8

const (
	netNone netProto = iota // not IP (ARP, LLDP, STP, …)
	netIPv4
	netIPv6
	netUnknownLink // link type not supported
	netShort       // frame too short for its link header
)

const (
	etherIPv4   = 0x0800
	etherIPv6   = 0x86DD
	etherVLAN   = 0x8100
	etherQinQ   = 0x88A8
	etherQinQ2  = 0x9100
	etherMPLS   = 0x8847
	etherMPLSm  = 0x8848
	etherPPPoES = 0x8864
)

// peelLink finds the network-layer packet inside a frame. It returns what the
// frame carries, the payload starting at the IP header, and fills vl with the
// VLAN tags met on the way.
func peelLink(linkType uint32, data []byte, vl *tcp.VLANs) (netProto, []byte) {
	switch linkType {
	case LinkEthernet:
		if len(data) < 14 {
			return netShort, nil
		}
		return ethertype(binary.BigEndian.Uint16(data[12:14]), data[14:], vl, true)
	case LinkRaw, LinkRawDLT, LinkRawDLT14:
		return byVersion(data)
	case LinkIPv4:
		return netIPv4, data
	case LinkIPv6:
		return netIPv6, data
	case LinkNull, LinkLoop:
		if len(data) < 4 {
			return netShort, nil
		}
		var fam uint32
		if linkType == LinkLoop {
			fam = binary.BigEndian.Uint32(data)
		} else {
			// Host byte order of the machine that wrote the file: the family is
			// small, so whichever reading is small is the right one.
			fam = binary.LittleEndian.Uint32(data)
			if fam > 0xFFFF {
				fam = binary.BigEndian.Uint32(data)
			}
		}
		switch fam {
		case 2: // AF_INET everywhere
			return netIPv4, data[4:]
		case 10, 24, 28, 30: // AF_INET6: Linux, NetBSD/OpenBSD, FreeBSD, Darwin
			return netIPv6, data[4:]
		}
		return netNone, nil
	case LinkLinuxSLL:
		if len(data) < 16 {
			return netShort, nil
		}
		return sllProtocol(binary.BigEndian.Uint16(data[14:16]), data[16:], vl)
	case LinkLinuxSLL2:
		if len(data) < 20 {
			return netShort, nil
		}
		return sllProtocol(binary.BigEndian.Uint16(data[0:2]), data[20:], vl)
	case LinkFDDI:
		// frame control (1), destination (6), source (6), then 802.2 LLC.
		if len(data) < 13 {
			return netShort, nil
		}
		return llc(data[13:], vl)
	case LinkIPoIB:
		// libpcap's LINKTYPE_IPOIB pseudo-header: destination and source
		// hardware addresses (20 bytes each), then the RFC 4391 header:
		// 2-byte EtherType and 2 reserved bytes.
		if len(data) < 44 {
			return netShort, nil
		}
		return ethertype(binary.BigEndian.Uint16(data[40:42]), data[44:], vl, false)
	case LinkNFLOG:
		return nflog(data)
	}
	return netUnknownLink, nil
}

// sllProtocol dispatches on the protocol field of a Linux cooked header: an
// EtherType, or below 1536 one of the kernel's ETH_P_* pseudo-protocols, of
// which only ETH_P_802_2 (4: an 802.2 LLC header follows) can carry IP. It is
// never an 802.3 length.
func sllProtocol(proto uint16, data []byte, vl *tcp.VLANs) (netProto, []byte) {
	if proto < 1536 {
		if proto == 4 {
			return llc(data, vl)
		}
		return netNone, nil
	}
	return ethertype(proto, data, vl, false)
}

func byVersion(data []byte) (netProto, []byte) {
	if len(data) < 1 {
		return netShort, nil
	}
	switch data[0] >> 4 {
	case 4:
		return netIPv4, data
	case 6:
		return netIPv6, data
	}
	return netNone, nil
}

// ethertype dispatches on an EtherType, following VLAN tags, MPLS label stacks
// and PPPoE sessions. lengthOK says a value ≤ 1500 is an 802.3 length field
// followed by LLC.
func ethertype(et uint16, data []byte, vl *tcp.VLANs, lengthOK bool) (netProto, []byte) {
	for range 8 { // bound the number of stacked headers
		switch {
		case et == etherIPv4:
			return netIPv4, data
		case et == etherIPv6:
			return netIPv6, data
		case et == etherVLAN || et == etherQinQ || et == etherQinQ2:
			if len(data) < 4 {
				return netShort, nil
			}
			if vl.N < 2 {
				vl.IDs[vl.N] = binary.BigEndian.Uint16(data[0:2]) & 0x0FFF
				vl.N++
			} else {
				// Deeper stacks: keep the innermost tag in the last slot.
				vl.IDs[1] = binary.BigEndian.Uint16(data[0:2]) & 0x0FFF
			}
			et = binary.BigEndian.Uint16(data[2:4])
			data = data[4:]
		case et == etherMPLS || et == etherMPLSm:
			// Labels until the bottom-of-stack bit, then IP by version nibble.
			for {
				if len(data) < 4 {
					return netShort, nil
				}
				bos := data[2]&1 != 0
				data = data[4:]
				if bos {
					break
				}
			}
			return byVersion(data)
		case et == etherPPPoES:
			// ver/type, code, session id, length, then the PPP protocol.
			if len(data) < 8 {
				return netShort, nil
			}
			n := int(binary.BigEndian.Uint16(data[4:6]))
			proto := binary.BigEndian.Uint16(data[6:8])
			data = data[8:]
			if n >= 2 && n-2 < len(data) {
				data = data[:n-2]
			}
			switch proto {
			case 0x0021:
				return netIPv4, data
			case 0x0057:
				return netIPv6, data
			}
			return netNone, nil
		case et <= 1500 && lengthOK:
			// IEEE 802.3 frame: the field is a length, LLC follows.
			if int(et) < len(data) {
				data = data[:et]
			}
			return llc(data, vl)
		default:
			return netNone, nil
		}
	}
	return netNone, nil
}

// llc decodes an 802.2 LLC header, with SNAP when DSAP=SSAP=0xAA.
func llc(data []byte, vl *tcp.VLANs) (netProto, []byte) {
	if len(data) < 3 {
		return netShort, nil
	}
	dsap, ssap := data[0], data[1]
	if dsap == 0xAA && ssap == 0xAA {
		// SNAP: control (1), OUI (3), EtherType (2).
		if len(data) < 8 {
			return netShort, nil
		}
		return ethertype(binary.BigEndian.Uint16(data[6:8]), data[8:], vl, false)
	}
	if dsap == 0x06 && ssap == 0x06 { // SAP for IP (rare)
		return byVersion(data[3:])
	}
	return netNone, nil
}

// nflog finds the packet payload TLV (NFULA_PAYLOAD = 9) of an NFLOG record.
// TLV lengths are in host byte order; NFLOG is Linux-only and little-endian
// hosts write little-endian lengths, but we check both readings.
func nflog(data []byte) (netProto, []byte) {
	if len(data) < 4 {
		return netShort, nil
	}
	family := data[0]
	p := data[4:]
	for len(p) >= 4 {
		l := int(binary.LittleEndian.Uint16(p[0:2]))
		typ := binary.LittleEndian.Uint16(p[2:4])
		if l < 4 || l > len(p) {
			lb := int(binary.BigEndian.Uint16(p[0:2]))
			tb := binary.BigEndian.Uint16(p[2:4])
			switch {
			case lb >= 4 && lb <= len(p):
				l, typ = lb, tb
			case l >= 4 && typ&0x7FFF == 9:
				// The payload TLV cut by the snaplen: keep what was captured.
				l = len(p)
			case lb >= 4 && tb&0x7FFF == 9:
				l, typ = len(p), tb
			default:
				return netShort, nil
			}
		}
		if typ&0x7FFF == 9 {
			payload := p[4:l]
			switch family {
			case 2:
				return netIPv4, payload
			case 10:
				return netIPv6, payload
			}
			return byVersion(payload)
		}
		adv := (l + 3) &^ 3
		if adv > len(p) {
			break
		}
		p = p[adv:]
	}
	return netNone, nil
}
