package bpf

// Code generation: the syntax tree becomes a graph of blocks, built the
// way libpcap's gencode.c builds it (the same tests, in the same order,
// with the same offsets), so that after optimization the program is the
// one tcpdump prints, or one that accepts the same packets.

// Link types (https://www.tcpdump.org/linktypes.html).
const (
	LinkTypeEthernet  = 1   // LINKTYPE_ETHERNET: also loopback and veth on Linux
	LinkTypeRaw       = 101 // LINKTYPE_RAW: the packet starts with its IPv4 or IPv6 header
	LinkTypeLinuxSLL2 = 276 // LINKTYPE_LINUX_SLL2: Linux "any", 20-byte cooked header
)

// EtherTypes and IP protocols the primitives test.
const (
	etherIP     = 0x0800
	etherARP    = 0x0806
	etherRARP   = 0x8035
	etherIPv6   = 0x86dd
	ether8021Q  = 0x8100
	ether8021AD = 0x88a8
	etherQinQ   = 0x9100

	ipprotoTCP  = 6
	ipprotoUDP  = 17
	ipprotoSCTP = 132
	ipprotoFrag = 44 // IPv6 fragment header
)

// block is a node of the program graph: straight-line statements, then a
// conditional jump to jt or jf (or, for a leaf, a return).
type block struct {
	id    int
	stmts []Instruction // loads, stores, ALU, tax/txa: no jumps, no returns
	code  uint16        // jeq/jgt/jge/jset with a constant, ja (jt == jf), or ret #k
	k     uint32
	jt    *block
	jf    *block
	// opaque blocks belong to the VLAN ID test, which libpcap generates
	// as one block with jumps inside: no branch is threaded into them and
	// their tests give no facts.
	opaque bool

	// scratch of the optimizer
	in    vals
	out   vals
	live  uint32 // registers live on entry (bit per atom)
	preds []*block
	// the stores of each scratch register that reach the block's entry
	// and exit (block ids, -1 for the program's entry)
	reachIn, reachOut [memWords][]int
	// the facts known on the true and false edges
	factsT, factsF *facts
}

func (b *block) isLeaf() bool { return class(b.code) == classRET }

// frag is a partly built program: a head block and the edges still to be
// patched, for when the fragment is true and when it is false. A constant
// fragment (always true or false) has no head.
type frag struct {
	head  *block
	t, f  []**block
	konst int8 // +1 always true, -1 always false, 0 a real test
}

var (
	fragTrue  = frag{konst: 1}
	fragFalse = frag{konst: -1}
)

func patch(exits []**block, to *block) {
	for _, e := range exits {
		*e = to
	}
}

// and evaluates a, then b when a is true.
func and(a, b frag) frag {
	switch {
	case a.konst < 0:
		return a
	case a.konst > 0:
		return b
	case b.konst > 0:
		return a
	case b.konst < 0:
		// a is still evaluated, for what it stores (the VLAN offsets).
		return frag{head: a.head, f: append(append([]**block{}, a.t...), a.f...)}
	}
	patch(a.t, b.head)
	return frag{head: a.head, t: b.t, f: append(append([]**block{}, a.f...), b.f...)}
}

// or evaluates a, then b when a is false.
func or(a, b frag) frag {
	switch {
	case a.konst > 0:
		return a
	case a.konst < 0:
		return b
	case b.konst < 0:
		return a
	case b.konst > 0:
		return frag{head: a.head, t: append(append([]**block{}, a.t...), a.f...)}
	}
	patch(a.f, b.head)
	return frag{head: a.head, t: append(append([]**block{}, a.t...), b.t...), f: b.f}
}

func not(a frag) frag {
	a.t, a.f = a.f, a.t
	a.konst = -a.konst
	return a
}

// offset is libpcap's bpf_abs_offset: a constant part, plus the value of
// scratch register reg when variable (after "vlan", whose tag may be in
// the packet or in the metadata).
type offset struct {
	constant uint32
	variable bool
	reg      uint32
}

type gen struct {
	linkType uint32
	snaplen  uint32
	blocks   []*block

	offLinkType offset // the EtherType (EN10MB, SLL2)
	offLinkPl   offset // the network header
	offLinkHdr  offset // the link-layer header (RAW: the IP header)

	vlanDepth   int
	vlanOffsets bool // scratch registers hold the VLAN offsets: initialize them
	nextReg     uint32
}

func newGen(linkType, snaplen uint32) *gen {
	g := &gen{linkType: linkType, snaplen: snaplen}
	switch linkType {
	case LinkTypeEthernet:
		g.offLinkType = offset{constant: 12}
		g.offLinkPl = offset{constant: 14}
	case LinkTypeLinuxSLL2:
		g.offLinkType = offset{constant: 0}
		g.offLinkPl = offset{constant: 20}
	case LinkTypeRaw:
		g.offLinkPl = offset{constant: 0}
	}
	return g
}

func (g *gen) newBlock(stmts []Instruction, code uint16, k uint32) *block {
	b := &block{id: len(g.blocks), stmts: stmts, code: code, k: k}
	g.blocks = append(g.blocks, b)
	return b
}

// test makes a one-block fragment: stmts, then "jump if A op k".
func (g *gen) test(stmts []Instruction, jop uint16, k uint32) frag {
	b := g.newBlock(stmts, classJMP|jop|srcK, k)
	return frag{head: b, t: []**block{&b.jt}, f: []**block{&b.jf}}
}

func stmt(code uint16, k uint32) Instruction { return Instruction{Code: code, K: k} }

// load is gen_load_absoffsetrel: A = the size bytes at off + k.
func (g *gen) load(off offset, k uint32, sz uint16) []Instruction {
	if off.variable {
		return []Instruction{stmt(classLDX|modeMEM, off.reg), stmt(classLD|modeIND|sz, off.constant+k)}
	}
	return []Instruction{stmt(classLD|modeABS|sz, off.constant+k)}
}

// cmp is gen_mcmp: the masked value at off+k equals v. A mask of 0 makes a
// constant; a comparison with 0 under a mask is a jset, as libpcap's
// optimizer makes it.
func (g *gen) cmp(stmts []Instruction, mask, v uint32) frag {
	switch {
	case mask == 0:
		if v == 0 {
			return fragTrue
		}
		return fragFalse
	case mask == 0xffffffff:
		return g.test(stmts, jmpJEQ, v)
	case v == 0:
		return not(g.test(stmts, jmpJSET, mask))
	case v&^mask != 0:
		return fragFalse
	}
	return g.test(append(stmts, stmt(classALU|aluAND|srcK, mask)), jmpJEQ, v)
}

// linktype is gen_linktype: the packet's EtherType is etherType.
func (g *gen) linktype(etherType uint32) frag {
	if g.linkType == LinkTypeRaw {
		switch etherType {
		case etherIP:
			return g.cmp(g.load(g.offLinkHdr, 0, sizeB), 0xf0, 0x40)
		case etherIPv6:
			return g.cmp(g.load(g.offLinkHdr, 0, sizeB), 0xf0, 0x60)
		}
		return fragFalse
	}
	return g.test(g.load(g.offLinkType, 0, sizeH), jmpJEQ, etherType)
}

// nl is a load from the network header (OR_LINKPL).
func (g *gen) nl(k uint32, sz uint16) []Instruction { return g.load(g.offLinkPl, k, sz) }

// loadXIPHdrLen is gen_loadx_iphdrlen: X = the IPv4 header length (plus
// the variable part of the network header's offset).
func (g *gen) loadXIPHdrLen() []Instruction {
	if g.offLinkPl.variable {
		return []Instruction{
			stmt(classLDX|modeMEM, g.offLinkPl.reg),
			stmt(classLD|modeIND|sizeB, g.offLinkPl.constant),
			stmt(classALU|aluAND|srcK, 0xf),
			stmt(classALU|aluLSH|srcK, 2),
			stmt(classALU|aluADD|srcX, 0),
			stmt(classMISC|miscTAX, 0),
		}
	}
	return []Instruction{stmt(classLDX|modeMSH|sizeB, g.offLinkPl.constant)}
}

// tranIPv4 loads the 16 bits at k in the transport header of IPv4.
func (g *gen) tranIPv4(k uint32) []Instruction {
	return append(g.loadXIPHdrLen(), stmt(classLD|modeIND|sizeH, g.offLinkPl.constant+k))
}

// tranIPv6 loads the 16 bits at k after a fixed IPv6 header.
func (g *gen) tranIPv6(k uint32) []Instruction { return g.nl(40+k, sizeH) }

// both generates a and b and combines them (and, or).
func (g *gen) both(a, b node, combine func(frag, frag) frag) (frag, error) {
	fa, err := g.node(a)
	if err != nil {
		return fa, err
	}
	fb, err := g.node(b)
	if err != nil {
		return fb, err
	}
	return combine(fa, fb), nil
}

func (g *gen) node(n node) (frag, error) {
	switch n := n.(type) {
	case andNode:
		return g.both(n.a, n.b, and)
	case orNode:
		return g.both(n.a, n.b, or)
	case notNode:
		a, err := g.node(n.a)
		return not(a), err
	case protoNode:
		switch n.proto {
		case protoIP:
			return g.linktype(etherIP), nil
		case protoIP6:
			return g.linktype(etherIPv6), nil
		}
		return or(g.ipProto(ipprotoTCP), g.ip6Proto(ipprotoTCP)), nil
	case hostNode:
		if n.v6 {
			return g.hostop6(n, n.dir), nil
		}
		return g.host(n), nil
	case portNode:
		return g.port(n), nil
	case vlanNode:
		return g.vlan(n)
	}
	return fragFalse, nil
}

// ipProto: IPv4 with protocol p (gen_proto with Q_IP).
func (g *gen) ipProto(p uint32) frag {
	return and(g.linktype(etherIP), g.cmp(g.nl(9, sizeB), 0xffffffff, p))
}

// ip6Proto: IPv6 with next header p, directly or after a fragment header
// (gen_proto with Q_IPV6).
func (g *gen) ip6Proto(p uint32) frag {
	b0 := g.linktype(etherIPv6)
	direct := g.cmp(g.nl(6, sizeB), 0xffffffff, p)
	frag := g.cmp(g.nl(6, sizeB), 0xffffffff, ipprotoFrag)
	after := g.cmp(g.nl(40, sizeB), 0xffffffff, p)
	return and(b0, or(direct, and(frag, after)))
}

// host is gen_host for IPv4: IP, and ARP and RARP unless "ip host".
func (g *gen) host(n hostNode) frag {
	b := g.hostop(n, n.dir, etherIP, 12, 16)
	if n.proto == protoDefault {
		b = or(b, g.hostop(n, n.dir, etherARP, 14, 24))
		b = or(b, g.hostop(n, n.dir, etherRARP, 14, 24))
	}
	return b
}

func (g *gen) hostop(n hostNode, d dir, etherType, srcOff, dstOff uint32) frag {
	switch d {
	case dirAnd:
		return and(g.hostop(n, dirSrc, etherType, srcOff, dstOff), g.hostop(n, dirDst, etherType, srcOff, dstOff))
	case dirDefault, dirOr:
		return or(g.hostop(n, dirSrc, etherType, srcOff, dstOff), g.hostop(n, dirDst, etherType, srcOff, dstOff))
	}
	off := srcOff
	if d == dirDst {
		off = dstOff
	}
	return and(g.linktype(etherType), g.cmp(g.nl(off, sizeW), n.mask[0], n.addr[0]))
}

// hostop6 is gen_hostop6: the EtherType, then the four words in order.
func (g *gen) hostop6(n hostNode, d dir) frag {
	switch d {
	case dirAnd:
		return and(g.hostop6(n, dirSrc), g.hostop6(n, dirDst))
	case dirDefault, dirOr:
		return or(g.hostop6(n, dirSrc), g.hostop6(n, dirDst))
	}
	off := uint32(8)
	if d == dirDst {
		off = 24
	}
	// Generated in libpcap's order (the last word first), and'ed so that
	// the first word is tested first.
	words := g.cmp(g.nl(off+12, sizeW), n.mask[3], n.addr[3])
	for w := 2; w >= 0; w-- {
		words = and(g.cmp(g.nl(off+uint32(4*w), sizeW), n.mask[w], n.addr[w]), words)
	}
	return and(g.linktype(etherIPv6), words)
}

// port is gen_ncode's port and portrange: IPv6 first, then IPv4.
func (g *gen) port(n portNode) frag {
	b := g.portIPv4(n)
	return or(g.portIPv6(n), b)
}

// protos lists the transport protocols of a port primitive, in the order
// libpcap tests them: SCTP, TCP, UDP.
func protos(p proto) []uint32 {
	if p == protoTCP {
		return []uint32{ipprotoTCP}
	}
	return []uint32{ipprotoSCTP, ipprotoTCP, ipprotoUDP}
}

func (g *gen) portIPv4(n portNode) frag { return g.portFamily(n, etherIP, g.portop) }

func (g *gen) portIPv6(n portNode) frag { return g.portFamily(n, etherIPv6, g.portop6) }

// portFamily is gen_port / gen_port6: the link-layer type, then the port
// test for the protocol given, or tcp or udp, then sctp or that (libpcap's
// order, so that programs stay comparable with tcpdump's).
func (g *gen) portFamily(n portNode, ether uint32, op func(portNode, uint32) frag) frag {
	b0 := g.linktype(ether)
	var b1 frag
	if ps := protos(n.proto); len(ps) == 1 {
		b1 = op(n, ps[0])
	} else {
		tcp := op(n, ipprotoTCP)
		udp := op(n, ipprotoUDP)
		b1 = or(tcp, udp)
		sctp := op(n, ipprotoSCTP)
		b1 = or(sctp, b1)
	}
	return and(b0, b1)
}

// portop: protocol p, not a fragment other than the first (the jset
// #0x1fff on the fragment offset), and the ports.
func (g *gen) portop(n portNode, p uint32) frag {
	tmp := g.cmp(g.nl(9, sizeB), 0xffffffff, p)
	b0 := and(tmp, not(g.test(g.nl(6, sizeH), jmpJSET, 0x1fff)))
	return and(b0, g.ports(n, n.dir, g.tranIPv4))
}

func (g *gen) portop6(n portNode, p uint32) frag {
	b0 := g.cmp(g.nl(6, sizeB), 0xffffffff, p)
	return and(b0, g.ports(n, n.dir, g.tranIPv6))
}

// ports tests the source (offset 0) and/or destination (2) port.
func (g *gen) ports(n portNode, d dir, load func(uint32) []Instruction) frag {
	switch d {
	case dirAnd:
		src := g.ports(n, dirSrc, load)
		return and(src, g.ports(n, dirDst, load))
	case dirDefault, dirOr:
		src := g.ports(n, dirSrc, load)
		return or(src, g.ports(n, dirDst, load))
	}
	off := uint32(0)
	if d == dirDst {
		off = 2
	}
	if n.isRange {
		ge := g.test(load(off), jmpJGE, uint32(n.lo))
		le := not(g.test(load(off), jmpJGT, uint32(n.hi)))
		return and(ge, le)
	}
	return g.test(load(off), jmpJEQ, uint32(n.lo))
}

// vlan is gen_vlan. On Ethernet the outermost tag may have been stripped
// by the kernel into the packet's metadata, or still be in the packet:
// the first "vlan" tests both (SKF_AD_VLAN_TAG_PRESENT, then the
// EtherType) and from then on the network header's offset is variable,
// kept in a scratch register. Every "vlan" moves the offsets of all the
// tests after it by 4 bytes, as in tcpdump.
func (g *gen) vlan(n vlanNode) (frag, error) {
	if g.linkType != LinkTypeEthernet {
		name := "Linux cooked v2"
		if g.linkType == LinkTypeRaw {
			name = "Raw IP"
		}
		return fragFalse, &Error{Pos: n.pos, Token: "vlan", Msg: "vlan on " + name, Hint: "tcpdump has no VLAN support there either", Unsupported: true}
	}
	var b frag
	if g.vlanDepth == 0 && !g.offLinkPl.variable {
		b = g.vlanExtensions(n)
	} else {
		b = g.tpidTest()
		if n.id >= 0 {
			b = and(b, g.cmp(g.nl(0, sizeH), 0x0fff, uint32(n.id)))
		}
		g.offLinkPl.constant += 4
		g.offLinkType.constant += 4
	}
	g.vlanDepth++
	return b, nil
}

func (g *gen) tpidTest() frag {
	b := or(g.linktype(ether8021Q), g.linktype(ether8021AD))
	return or(b, g.linktype(etherQinQ))
}

func (g *gen) allocReg() uint32 {
	r := g.nextReg
	g.nextReg++
	return r
}

func (g *gen) vlanExtensions(n vlanNode) frag {
	present := g.test([]Instruction{stmt(classLD|modeABS|sizeB, skfAdOff+skfAdVlanTagPresent)}, jmpJEQ, 1)
	tpid := g.tpidTest()
	var vidLoad []Instruction
	if n.id >= 0 {
		vidLoad = g.nl(0, sizeH)
	}
	// The tag was in the packet: both offsets move by 4, at run time.
	g.vlanOffsets = true
	var upd []Instruction
	for _, off := range []*offset{&g.offLinkPl, &g.offLinkType} {
		off.variable = true
		off.reg = g.allocReg()
		upd = append(upd, stmt(classLD|modeMEM, off.reg), stmt(classALU|aluADD|srcK, 4), stmt(classST, off.reg))
	}
	tpid.head.stmts = append(upd, tpid.head.stmts...)
	b := or(present, tpid)
	if n.id < 0 {
		return b
	}
	// The ID: from the metadata when the tag was stripped, else from the
	// packet.
	test := g.newBlock([]Instruction{stmt(classLD|modeABS|sizeB, skfAdOff+skfAdVlanTagPresent)}, classJMP|jmpJEQ|srcK, 1)
	meta := g.newBlock([]Instruction{stmt(classLD|modeABS|sizeB, skfAdOff+skfAdVlanTag)}, classJMP|jmpJA, 0)
	pkt := g.newBlock(vidLoad, classJMP|jmpJA, 0)
	vid := g.newBlock([]Instruction{stmt(classALU|aluAND|srcK, 0x0fff)}, classJMP|jmpJEQ|srcK, uint32(n.id))
	test.jt, test.jf = meta, pkt
	meta.jt, meta.jf = vid, vid
	pkt.jt, pkt.jf = vid, vid
	for _, x := range []*block{test, meta, pkt, vid} {
		x.opaque = true
	}
	return and(b, frag{head: test, t: []**block{&vid.jt}, f: []**block{&vid.jf}})
}

// generate builds the program graph of a syntax tree and returns its
// root; nil n accepts everything.
func (g *gen) generate(n node) (*block, error) {
	accept := g.newBlock(nil, classRET|retK, g.snaplen)
	reject := g.newBlock(nil, classRET|retK, 0)
	if n == nil {
		return accept, nil
	}
	f, err := g.node(n)
	if err != nil {
		return nil, err
	}
	switch {
	case f.konst > 0:
		return accept, nil
	case f.konst < 0:
		return reject, nil
	}
	if g.vlanOffsets {
		init := []Instruction{stmt(classLD|modeIMM, 0), stmt(classST, g.offLinkPl.reg), stmt(classST, g.offLinkType.reg)}
		f.head.stmts = append(init, f.head.stmts...)
	}
	patch(f.t, accept)
	patch(f.f, reject)
	return f.head, nil
}
