package pcapgen

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// FragmentIPv4 splits the IPv4 packet pkt into fragments carrying at most
// fragPayload bytes of its payload each (rounded down to a multiple of 8).
// Every option goes into the first fragment; later ones keep only the options
// with the copied bit. The DF flag is cleared. With outOfOrder the fragments
// come back last first. A packet that fits is returned whole, in one piece.
func FragmentIPv4(pkt []byte, fragPayload int, outOfOrder bool) ([][]byte, error) {
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		return nil, errors.New("pcapgen: not an IPv4 packet")
	}
	hl := int(pkt[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(pkt[2:]))
	if hl < 20 || total < hl || total > len(pkt) {
		return nil, fmt.Errorf("pcapgen: bad IPv4 lengths (header %d, total %d, have %d)", hl, total, len(pkt))
	}
	ff := binary.BigEndian.Uint16(pkt[6:])
	if ff&0x2000 != 0 || ff&0x1fff != 0 {
		return nil, errors.New("pcapgen: packet is already a fragment")
	}
	step := fragPayload &^ 7
	if step < 8 {
		return nil, fmt.Errorf("pcapgen: fragment payload %d is below 8 bytes", fragPayload)
	}
	payload := pkt[hl:total]
	if len(payload) <= step {
		return [][]byte{append([]byte{}, pkt[:total]...)}, nil
	}
	var later []byte // options copied into every fragment
	opts := pkt[20:hl]
	for i := 0; i < len(opts); {
		kind := opts[i]
		if kind == 0 {
			break
		}
		if kind == 1 {
			i++
			continue
		}
		if i+1 >= len(opts) || opts[i+1] < 2 || i+int(opts[i+1]) > len(opts) {
			return nil, errors.New("pcapgen: malformed IPv4 options")
		}
		n := int(opts[i+1])
		if kind&0x80 != 0 {
			later = append(later, opts[i:i+n]...)
		}
		i += n
	}
	var frags [][]byte
	for off := 0; off < len(payload); off += step {
		end := min(off+step, len(payload))
		h := IPv4{
			TOS:        pkt[1],
			ID:         binary.BigEndian.Uint16(pkt[4:]),
			MF:         end < len(payload),
			FragOffset: off,
			TTL:        pkt[8],
			Protocol:   pkt[9],
			Options:    opts,
		}
		h.Src, h.Dst = addr4(pkt[12:16]), addr4(pkt[16:20])
		if off > 0 {
			h.Options = later
		}
		frags = append(frags, h.Marshal(payload[off:end]))
	}
	if outOfOrder {
		slices.Reverse(frags)
	}
	return frags, nil
}

// FragmentIPv6 splits the IPv6 packet pkt (a fixed header directly followed
// by the upper-layer header) into fragments with a fragment extension header
// of identification id, carrying at most fragPayload bytes (rounded down to a
// multiple of 8) each. With outOfOrder the fragments come back last first. A
// packet that fits is returned whole, in one piece.
func FragmentIPv6(pkt []byte, fragPayload int, id uint32, outOfOrder bool) ([][]byte, error) {
	if len(pkt) < 40 || pkt[0]>>4 != 6 {
		return nil, errors.New("pcapgen: not an IPv6 packet")
	}
	plen := int(binary.BigEndian.Uint16(pkt[4:]))
	if 40+plen > len(pkt) {
		return nil, fmt.Errorf("pcapgen: IPv6 payload length %d beyond the %d bytes given", plen, len(pkt)-40)
	}
	step := fragPayload &^ 7
	if step < 8 {
		return nil, fmt.Errorf("pcapgen: fragment payload %d is below 8 bytes", fragPayload)
	}
	payload := pkt[40 : 40+plen]
	if len(payload) <= step {
		return [][]byte{append([]byte{}, pkt[:40+plen]...)}, nil
	}
	next := pkt[6]
	var frags [][]byte
	for off := 0; off < len(payload); off += step {
		end := min(off+step, len(payload))
		f := make([]byte, 48, 48+end-off)
		copy(f, pkt[:40])
		binary.BigEndian.PutUint16(f[4:], uint16(8+end-off))
		f[6] = ProtoIPv6Frag
		f[40] = next
		mo := uint16(off) // offset in 8-octet units, shifted left by 3
		if end < len(payload) {
			mo |= 1
		}
		binary.BigEndian.PutUint16(f[42:], mo)
		binary.BigEndian.PutUint32(f[44:], id)
		frags = append(frags, append(f, payload[off:end]...))
	}
	if outOfOrder {
		slices.Reverse(frags)
	}
	return frags, nil
}

// MarkTSO returns a copy of the IPv4 packet pkt as a capture on a sender
// using TCP segmentation offload shows it: total length field 0 (and the
// header checksum recomputed). The TCP checksum is left complete.
func MarkTSO(pkt []byte) ([]byte, error) {
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		return nil, errors.New("pcapgen: TSO marking needs an IPv4 packet")
	}
	hl := int(pkt[0]&0x0f) * 4
	if hl < 20 || hl > len(pkt) {
		return nil, errors.New("pcapgen: bad IPv4 header length")
	}
	out := append([]byte{}, pkt...)
	binary.BigEndian.PutUint16(out[2:], 0)
	binary.BigEndian.PutUint16(out[10:], 0)
	binary.BigEndian.PutUint16(out[10:], Checksum(out[:hl]))
	return out, nil
}
