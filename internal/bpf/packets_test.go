package bpf

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
)

// testPacket is a frame of some link type with the metadata the kernel
// would give the filter.
type testPacket struct {
	data []byte
	meta Meta
	desc string
}

// pools are the field values packets are made of: the constants of the
// programs under test and of the expression, their neighbours, and a few
// others, so that every test of a program is seen both true and false.
type pools struct {
	v4     []uint32
	v6     [][16]byte
	ports  []uint16
	vids   []uint16
	protos []uint8
	ether  []uint16
}

func newPools(expr string, progs ...[]Instruction) *pools {
	p := &pools{
		v4:     []uint32{0, 0xffffffff, 0x0a000001, 0xc0a80101},
		ports:  []uint16{0, 1, 22, 53, 80, 443, 1024, 65535},
		vids:   []uint16{0, 1, 10, 20, 100, 4095},
		protos: []uint8{6, 6, 6, 17, 17, 132, 1, 44, 0, 58, 50, 255},
		ether:  []uint16{0x0800, 0x0800, 0x0800, 0x86dd, 0x86dd, 0x86dd, 0x0806, 0x8035, 0x8100, 0x88a8, 0x9100, 0x8847, 0x05dc, 0x1234},
	}
	addV6 := func(a [16]byte) { p.v6 = append(p.v6, a) }
	addV6([16]byte{15: 1})
	addV6([16]byte{0: 0x20, 1: 0x01, 2: 0x0d, 3: 0xb8, 15: 1})
	for _, prog := range progs {
		for _, ins := range prog {
			if class(ins.Code) != classJMP && !(class(ins.Code) == classALU && op(ins.Code) == aluAND) {
				continue
			}
			k := ins.K
			p.v4 = append(p.v4, k, k+1, k-1, k^0x80000000)
			if k <= 0xffff {
				p.ports = append(p.ports, uint16(k), uint16(k+1), uint16(k-1))
			}
			if k <= 0xfff {
				p.vids = append(p.vids, uint16(k), uint16(k+1)&0xfff)
			}
			if k <= 0xff {
				p.protos = append(p.protos, uint8(k))
			}
			if k > 0x600 && k <= 0xffff {
				p.ether = append(p.ether, uint16(k))
			}
		}
	}
	if n, err := parse(expr); err == nil && n != nil {
		p.fromNode(n)
	}
	return p
}

func (p *pools) fromNode(n node) {
	switch n := n.(type) {
	case andNode:
		p.fromNode(n.a)
		p.fromNode(n.b)
	case orNode:
		p.fromNode(n.a)
		p.fromNode(n.b)
	case notNode:
		p.fromNode(n.a)
	case hostNode:
		if !n.v6 {
			// The address, host bits set, the last network bit flipped.
			a, m := n.addr[0], n.mask[0]
			p.v4 = append(p.v4, a, a|^m, a|(^m&0x5a5a5a5a), a^(m&-m), a+1)
			return
		}
		var a [16]byte
		for w := 0; w < 4; w++ {
			binary.BigEndian.PutUint32(a[4*w:], n.addr[w])
		}
		p.v6 = append(p.v6, a)
		// Host bits set, the last network bit flipped, the last byte off.
		b, c, d := a, a, a
		for w := 0; w < 4; w++ {
			binary.BigEndian.PutUint32(b[4*w:], n.addr[w]|^n.mask[w]&0x13579bdf)
		}
		for w := 3; w >= 0; w-- {
			if m := n.mask[w]; m != 0 {
				binary.BigEndian.PutUint32(c[4*w:], n.addr[w]^(m&-m))
				break
			}
		}
		d[15] ^= 1
		p.v6 = append(p.v6, b, c, d)
	case portNode:
		for _, v := range []uint16{n.lo, n.hi, n.lo - 1, n.hi + 1, n.lo/2 + n.hi/2} {
			p.ports = append(p.ports, v)
		}
	case vlanNode:
		if n.id >= 0 {
			id := uint16(n.id)
			p.vids = append(p.vids, id, id, (id+1)&0xfff, (id-1)&0xfff)
		}
	}
}

func pick[T any](r *rand.Rand, l []T) T { return l[r.IntN(len(l))] }

func (p *pools) v4addr(r *rand.Rand) uint32 {
	if r.IntN(8) == 0 {
		return r.Uint32()
	}
	return pick(r, p.v4)
}

func (p *pools) v6addr(r *rand.Rand) [16]byte {
	var a [16]byte
	switch r.IntN(8) {
	case 0:
		for i := range a {
			a[i] = byte(r.Uint32())
		}
	case 1:
		// words of different addresses mixed
		for w := 0; w < 4; w++ {
			b := pick(r, p.v6)
			copy(a[4*w:4*w+4], b[4*w:4*w+4])
		}
	case 2:
		// an IPv4 constant as the last word
		a = pick(r, p.v6)
		binary.BigEndian.PutUint32(a[12:], pick(r, p.v4))
	default:
		a = pick(r, p.v6)
	}
	return a
}

func (p *pools) port(r *rand.Rand) uint16 {
	if r.IntN(8) == 0 {
		return uint16(r.Uint32())
	}
	return pick(r, p.ports)
}

// transport appends a TCP-like header: ports, then filler.
func (p *pools) transport(r *rand.Rand, b []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, p.port(r))
	b = binary.BigEndian.AppendUint16(b, p.port(r))
	for i := 0; i < 16; i++ {
		b = append(b, byte(r.Uint32()))
	}
	return b
}

// network appends a packet of the given EtherType.
func (p *pools) network(r *rand.Rand, etherType uint16, b []byte) ([]byte, string) {
	switch etherType {
	case 0x0800:
		ihl := 5
		switch r.IntN(8) {
		case 0:
			ihl = 6 + r.IntN(10)
		case 1:
			ihl = r.IntN(16)
		}
		frag := uint16(0)
		switch r.IntN(6) {
		case 0:
			frag = 0x2000 // MF, offset 0: a first fragment
		case 1:
			frag = uint16(1 + r.IntN(0x1fff))
		case 2:
			frag = 0x4000 // DF
		case 3:
			frag = 0x2000 | uint16(1+r.IntN(0x1fff))
		}
		proto := pick(r, p.protos)
		start := len(b)
		b = append(b, byte(0x40|ihl), 0, 0, 0, 0, 0)
		b = binary.BigEndian.AppendUint16(b, frag)
		b = append(b, 64, proto, 0, 0)
		b = binary.BigEndian.AppendUint32(b, p.v4addr(r))
		b = binary.BigEndian.AppendUint32(b, p.v4addr(r))
		for len(b)-start < ihl*4 {
			b = append(b, 1) // NOP options
		}
		b = p.transport(r, b)
		binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
		return b, fmt.Sprintf("IPv4 ihl %d frag %#x proto %d", ihl, frag, proto)
	case 0x86dd:
		nh := pick(r, p.protos)
		b = append(b, 0x60, 0, 0, 0, 0, 0, nh, 64)
		src, dst := p.v6addr(r), p.v6addr(r)
		b = append(b, src[:]...)
		b = append(b, dst[:]...)
		desc := fmt.Sprintf("IPv6 nh %d", nh)
		if nh == 44 {
			inner := pick(r, p.protos)
			b = append(b, inner, 0, 0, 0, 0, 0, 0, 0)
			desc += fmt.Sprintf(" then %d", inner)
		}
		return p.transport(r, b), desc
	case 0x0806, 0x8035:
		b = append(b, 0, 1, 8, 0, 6, 4, 0, byte(1+r.IntN(4)))
		b = append(b, 2, 0, 0, 0, 0, 1)
		b = binary.BigEndian.AppendUint32(b, p.v4addr(r))
		b = append(b, 0, 0, 0, 0, 0, 0)
		b = binary.BigEndian.AppendUint32(b, p.v4addr(r))
		return b, "ARP"
	}
	for i := 0; i < 60; i++ {
		b = append(b, byte(r.Uint32()))
	}
	return b, fmt.Sprintf("EtherType %#x", etherType)
}

// packets makes n packets of a link type, the same for the same seed.
func (p *pools) packets(linkType uint32, n int, seed string) []testPacket {
	h := fnv.New64a()
	h.Write([]byte(seed))
	r := rand.New(rand.NewPCG(h.Sum64(), uint64(linkType)))
	var out []testPacket
	for i := 0; i < n; i++ {
		var b []byte
		var meta Meta
		var desc string
		et := pick(r, p.ether)
		switch linkType {
		case LinkTypeEthernet:
			b = append(b, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
			if r.IntN(3) == 0 {
				meta.VLANTagged = true
				meta.VLANTCI = pick(r, p.vids) | uint16(r.IntN(8))<<13
				desc += fmt.Sprintf("stripped tag %d, ", meta.VLANTCI&0xfff)
			}
			for tags := r.IntN(4) - 1; tags > 0; tags-- {
				tpid := pick(r, []uint16{0x8100, 0x88a8, 0x9100})
				vid := pick(r, p.vids)
				b = binary.BigEndian.AppendUint16(b, tpid)
				b = binary.BigEndian.AppendUint16(b, vid)
				desc += fmt.Sprintf("tag %#x/%d, ", tpid, vid)
			}
			b = binary.BigEndian.AppendUint16(b, et)
		case LinkTypeLinuxSLL2:
			b = binary.BigEndian.AppendUint16(b, et)
			b = append(b, 0, 0, 0, 0, 0, 2, 0, 1, byte(r.IntN(5)), 6, 0, 1, 2, 3, 4, 5, 0, 0)
			meta.Protocol = et
			meta.Ifindex = 2
			meta.PktType = b[10]
			meta.Hatype = 1
		case LinkTypeRaw:
			et = pick(r, []uint16{0x0800, 0x0800, 0x86dd, 0x86dd, 0x0806, 0x1234})
			meta.Protocol = et
		}
		b, d := p.network(r, et, b)
		desc += d
		if r.IntN(8) == 0 {
			cut := r.IntN(len(b) + 1)
			b = b[:cut]
			desc += fmt.Sprintf(", cut at %d", cut)
		}
		out = append(out, testPacket{data: b, meta: meta, desc: desc})
	}
	return out
}
