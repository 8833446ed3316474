package bpf

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Error is a filter that does not compile: a syntax error, a bad value
// (a port over 65535, host bits in a network) or an expression outside the
// supported subset. Pos is the byte offset of Token in the expression;
// at the end of the expression Token is "". An error about the whole
// expression ("expression rejects all packets") has Pos -1.
type Error struct {
	Pos   int
	Token string
	Msg   string
	// Unsupported: the expression is valid for tcpdump but not supported
	// here; Msg names what, Hint may say what to write instead.
	Unsupported bool
	Hint        string
}

func (e *Error) Error() string {
	if e.Pos < 0 {
		return e.Msg
	}
	if e.Unsupported {
		s := fmt.Sprintf("not supported: %s (at %d)", e.Msg, e.Pos)
		if e.Hint != "" {
			s += "; " + e.Hint
		}
		return s
	}
	tok := fmt.Sprintf("%q", e.Token)
	if e.Token == "" {
		tok = "end of expression"
	}
	return fmt.Sprintf("syntax error at %d (%s): %s", e.Pos, tok, e.Msg)
}

// Qualifiers of a primitive (pcap-filter(7): type, dir, proto).
type proto uint8

const (
	protoDefault proto = iota
	protoIP
	protoIP6
	protoTCP
)

type dir uint8

const (
	dirDefault dir = iota // src or dst
	dirSrc
	dirDst
	dirOr  // "src or dst"
	dirAnd // "src and dst"
)

type addrKind uint8

const (
	addrUndef   addrKind = iota // no qualifier yet: a bare value is an error
	addrDefault                 // "src 10.0.0.1": a host
	addrHost
	addrNet
	addrPort
	addrPortrange
)

type qual struct {
	proto proto
	dir   dir
	addr  addrKind
}

// The syntax tree. Every leaf keeps the position of its value for the
// errors code generation may still give (vlan on a link type without).
type node interface{ position() int }

type (
	andNode struct{ a, b node }
	orNode  struct{ a, b node }
	notNode struct{ a node }
	// host and net: an IPv4 address with a mask (gen_host) or an IPv6
	// one (gen_host6).
	hostNode struct {
		pos   int
		proto proto
		dir   dir
		v6    bool
		addr  [4]uint32 // IPv4: addr[0]
		mask  [4]uint32
	}
	portNode struct {
		pos     int
		proto   proto // protoDefault (TCP, UDP and SCTP) or protoTCP
		dir     dir
		lo, hi  uint16
		isRange bool // portrange: tested with >= and <=, also for a single port
	}
	// ip, ip6, tcp as primitives.
	protoNode struct {
		pos   int
		proto proto
	}
	vlanNode struct {
		pos int
		id  int // -1: any tag
	}
)

func (n andNode) position() int   { return n.a.position() }
func (n orNode) position() int    { return n.a.position() }
func (n notNode) position() int   { return n.a.position() }
func (n hostNode) position() int  { return n.pos }
func (n portNode) position() int  { return n.pos }
func (n protoNode) position() int { return n.pos }
func (n vlanNode) position() int  { return n.pos }

type parser struct {
	toks  []token
	i     int
	q     qual // the qualifiers a bare value takes ($<blk>0.q in libpcap's grammar)
	depth int
}

const (
	maxDepth  = 200   // nesting of parentheses and negations
	maxTokens = 10000 // words of an expression (tcpdump has no limit; the kernel's 4096 instructions come first)
)

// parse turns an expression into a syntax tree; nil for an empty one.
func parse(expr string) (node, error) {
	p := &parser{toks: lex(expr)}
	if len(p.toks) > maxTokens {
		return nil, &Error{Pos: p.toks[maxTokens].pos, Token: p.toks[maxTokens].text,
			Msg: fmt.Sprintf("the expression is too long (over %d words)", maxTokens)}
	}
	if p.tok().kind == tEOF {
		return nil, nil
	}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.tok().kind != tEOF {
		return nil, p.unexpected("and, or, or the end of the expression")
	}
	return n, nil
}

func (p *parser) tok() token { return p.toks[p.i] }

func (p *parser) peek(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func errAt(t token, format string, a ...any) *Error {
	return &Error{Pos: t.pos, Token: t.text, Msg: fmt.Sprintf(format, a...)}
}

func unsupportedAt(t token, what, hint string) *Error {
	return &Error{Pos: t.pos, Token: t.text, Msg: what, Hint: hint, Unsupported: true}
}

const supportedList = "capture filters support host, net, port, portrange, src, dst, tcp, ip, ip6, vlan, and, or, not"

// unexpected reports the current token, saying what was expected; a token
// outside the supported subset is reported as such.
func (p *parser) unexpected(expected string) *Error {
	t := p.tok()
	switch t.kind {
	case tKeyword:
		if w := unsupportedKeywords[t.text]; w != "" {
			return unsupportedAt(t, w, supportedList)
		}
	case tPunct:
		return unsupportedAt(t, fmt.Sprintf("arithmetic and byte comparisons (%q)", t.text), supportedList)
	case tEID:
		return unsupportedAt(t, fmt.Sprintf("Ethernet addresses (%s)", t.text), supportedList)
	case tBad:
		if strings.Contains(t.text, ":") {
			return errAt(t, "invalid IPv6 address %s", t.text)
		}
		return errAt(t, "unexpected %q", t.text)
	}
	return errAt(t, "expected %s", expected)
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return errAt(p.tok(), "expression nested too deeply")
	}
	return nil
}

// prefixLen reads "/LEN" of a network.
func (p *parser) prefixLen() (uint32, error) {
	p.next()
	l := p.tok()
	if l.kind != tNum {
		return 0, p.unexpected("a prefix length")
	}
	p.next()
	if l.err != "" {
		return 0, errAt(l, "%s", l.err)
	}
	return l.num, nil
}

// join is "left and right" or "left or right".
func join(isAnd bool, left, right node) node {
	if isAnd {
		return andNode{left, right}
	}
	return orNode{left, right}
}

// expr: term { ("and" | "or") (term | id) }. "and" and "or" have the same
// precedence and associate to the left, as in pcap-filter(7).
func (p *parser) expr() (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	left, err := p.term()
	if err != nil {
		return nil, err
	}
	for p.tok().kind == tAnd || p.tok().kind == tOr {
		isAnd := p.next().kind == tAnd
		var right node
		if p.startsID() {
			right, err = p.id(p.q)
		} else {
			right, err = p.term()
		}
		if err != nil {
			return nil, err
		}
		left = join(isAnd, left, right)
	}
	return left, nil
}

// startsID: after "and"/"or", a bare value (possibly negated or in
// parentheses) repeats the previous qualifiers ("port 80 or 443").
func (p *parser) startsID() bool {
	for j := p.i; j < len(p.toks); j++ {
		switch p.toks[j].kind {
		case tNot, tLParen:
			continue
		case tNum, tHID, tHID6, tID, tEID:
			return true
		}
		return false
	}
	return false
}

// term: ("not" | "!") term | "(" expr ")" | primitive
func (p *parser) term() (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	switch t := p.tok(); t.kind {
	case tNot:
		p.next()
		a, err := p.term()
		if err != nil {
			return nil, err
		}
		return notNode{a}, nil
	case tLParen:
		saved := p.q
		p.next()
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		if p.tok().kind != tRParen {
			return nil, p.unexpected("and, or, or )")
		}
		p.next()
		p.q = saved
		return e, nil
	case tKeyword:
		return p.primitive()
	case tEOF:
		return nil, errAt(t, "expected a primitive (host, net, port, portrange, tcp, ip, ip6, vlan)")
	case tID:
		if l := strings.ToLower(t.text); supportedKeywords[l] || unsupportedKeywords[l] != "" || l == "and" || l == "or" || l == "not" {
			return nil, errAt(t, "keywords are lower case: %s", l)
		}
	case tNum, tHID, tHID6:
		return nil, errAt(t, "a value needs a qualifier first (host, net, port, portrange)")
	}
	return nil, p.unexpected("a primitive (host, net, port, portrange, tcp, ip, ip6, vlan)")
}

// primitive: [proto] [dir] [type] value | proto | "vlan" [N]
func (p *parser) primitive() (node, error) {
	start := p.tok()
	if start.text == "vlan" {
		p.next()
		id := -1
		if t := p.tok(); t.kind == tNum {
			p.next()
			if t.err != "" {
				return nil, errAt(t, "%s", t.err)
			}
			if t.num > 0xfff {
				return nil, errAt(t, "VLAN tag %d greater than maximum 4095", t.num)
			}
			id = int(t.num)
		}
		p.q = qual{}
		return vlanNode{pos: start.pos, id: id}, nil
	}
	var q qual
	hasProto, hasDir := false, false
	switch start.text {
	case "ip":
		q.proto, hasProto = protoIP, true
		p.next()
	case "ip6":
		q.proto, hasProto = protoIP6, true
		p.next()
	case "tcp":
		q.proto, hasProto = protoTCP, true
		p.next()
	}
	if t := p.tok(); t.kind == tKeyword && (t.text == "src" || t.text == "dst") {
		p.next()
		hasDir = true
		q.dir = dirSrc
		if t.text == "dst" {
			q.dir = dirDst
		}
		if c := p.tok(); c.kind == tAnd || c.kind == tOr {
			if o := p.peek(1); o.kind == tKeyword && (o.text == "src" || o.text == "dst") && o.text != t.text {
				p.next()
				p.next()
				q.dir = dirOr
				if c.kind == tAnd {
					q.dir = dirAnd
				}
			}
		}
	}
	t := p.tok()
	if t.kind == tKeyword {
		switch t.text {
		case "host":
			q.addr = addrHost
		case "net":
			q.addr = addrNet
		case "port":
			q.addr = addrPort
		case "portrange":
			q.addr = addrPortrange
		}
	}
	switch {
	case q.addr != addrUndef:
		p.next()
	case hasDir:
		q.addr = addrDefault
	case hasProto:
		// "tcp", "ip", "ip6" alone; nothing may repeat their qualifiers.
		if t.kind == tKeyword && unsupportedKeywords[t.text] != "" {
			return nil, p.unexpected("")
		}
		if t.kind == tPunct {
			return nil, p.unexpected("")
		}
		p.q = qual{}
		return protoNode{pos: start.pos, proto: q.proto}, nil
	default:
		return nil, p.unexpected("a primitive (host, net, port, portrange, tcp, ip, ip6, vlan)")
	}
	p.q = q
	return p.id(q)
}

// id: value | ("not" | "!") id | "(" pid ")"
func (p *parser) id(q qual) (node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	switch t := p.tok(); t.kind {
	case tNot:
		p.next()
		a, err := p.id(q)
		if err != nil {
			return nil, err
		}
		return notNode{a}, nil
	case tLParen:
		p.next()
		n, err := p.pid(q)
		if err != nil {
			return nil, err
		}
		if p.tok().kind != tRParen {
			return nil, p.unexpected("and, or, or )")
		}
		p.next()
		return n, nil
	}
	return p.value(q)
}

// pid: the inside of "host a and (b or c)": values joined by and/or, all
// with the qualifiers of the value before the parenthesis.
func (p *parser) pid(q qual) (node, error) {
	left, err := p.id(q)
	if err != nil {
		return nil, err
	}
	for p.tok().kind == tAnd || p.tok().kind == tOr {
		isAnd := p.next().kind == tAnd
		right, err := p.id(q)
		if err != nil {
			return nil, err
		}
		left = join(isAnd, left, right)
	}
	return left, nil
}

// value: a number, an IPv4 address (possibly short, with /len or mask
// M), an IPv6 address (with /len), or a port range N-M, read with the
// qualifiers q as libpcap's gen_ncode, gen_mcode, gen_mcode6 and gen_scode do.
func (p *parser) value(q qual) (node, error) {
	t := p.tok()
	if q.addr == addrUndef {
		switch t.kind {
		case tNum, tHID, tHID6, tID, tEID:
			return nil, errAt(t, "a value needs a qualifier first (host, net, port, portrange)")
		}
		return nil, p.unexpected("a value")
	}
	switch t.kind {
	case tNum:
		p.next()
		if t.err != "" {
			return nil, errAt(t, "%s", t.err)
		}
		return numValue(t, q)
	case tHID:
		p.next()
		switch p.tok().kind {
		case tSlash:
			n, err := p.prefixLen()
			if err != nil {
				return nil, err
			}
			return v4Net(t, q, n, nil)
		case tKeyword:
			if p.tok().text == "mask" {
				p.next()
				m := p.tok()
				if m.kind != tHID {
					return nil, p.unexpected("a network mask such as 255.255.0.0")
				}
				p.next()
				return v4Net(t, q, 0, &m)
			}
		}
		return hidValue(t, q)
	case tHID6:
		p.next()
		masklen := uint32(128)
		if p.tok().kind == tSlash {
			n, err := p.prefixLen()
			if err != nil {
				return nil, err
			}
			masklen = n
		} else if p.tok().kind == tKeyword && p.tok().text == "mask" {
			return nil, errAt(p.tok(), "mask syntax is for IPv4 networks; use %s/LEN", t.text)
		}
		return v6Value(t, q, masklen)
	case tID:
		p.next()
		return nameValue(t, q)
	}
	switch q.addr {
	case addrNet:
		return nil, p.unexpected("a network such as 10.0.0.0/8")
	case addrPort:
		return nil, p.unexpected("a port number")
	case addrPortrange:
		return nil, p.unexpected("a port range such as 8000-8080")
	}
	return nil, p.unexpected("an address")
}

// hostOrNet builds a host/net node after the checks of gen_host.
func hostOrNet(t token, q qual, addr, mask uint32) (node, error) {
	kind := "host"
	if q.addr == addrNet {
		kind = "net"
	}
	switch q.proto {
	case protoIP6:
		return nil, errAt(t, "'ip6' modifier applied to ip host")
	case protoTCP:
		return nil, errAt(t, "'tcp' modifier applied to %s", kind)
	}
	return hostNode{pos: t.pos, proto: q.proto, dir: q.dir, addr: [4]uint32{addr}, mask: [4]uint32{mask}}, nil
}

func portNodeFor(t token, q qual, lo, hi uint32) (node, error) {
	what := "port"
	if q.addr == addrPortrange {
		what = "portrange"
	}
	if q.proto != protoDefault && q.proto != protoTCP {
		return nil, errAt(t, "illegal qualifier of '%s'", what)
	}
	for _, v := range []uint32{lo, hi} {
		if v > 65535 {
			return nil, errAt(t, "illegal port number %d > 65535", v)
		}
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	return portNode{pos: t.pos, proto: q.proto, dir: q.dir, lo: uint16(lo), hi: uint16(hi), isRange: q.addr == addrPortrange}, nil
}

// numValue: gen_ncode with a number.
func numValue(t token, q qual) (node, error) {
	v := t.num
	switch q.addr {
	case addrPort, addrPortrange:
		return portNodeFor(t, q, v, v)
	case addrNet:
		// A short network number is promoted: net 10 is 10.0.0.0/8.
		mask := uint32(0xffffffff)
		for v != 0 && v&0xff000000 == 0 {
			v <<= 8
			mask <<= 8
		}
		return hostOrNet(t, q, v, mask)
	}
	return hostOrNet(t, q, v, 0xffffffff)
}

// atoin is libpcap's __pcap_atoin: a dotted address of 1 to 4 decimal
// bytes, and its length in bits.
func atoin(s string) (uint32, uint, bool) {
	var addr uint32
	var n uint
	for _, part := range strings.Split(s, ".") {
		if part == "" || len(part) > 3 {
			return 0, 0, false
		}
		v, err := strconv.ParseUint(part, 10, 32)
		if err != nil || v > 255 {
			return 0, 0, false
		}
		addr = addr<<8 | uint32(v)
		n += 8
	}
	return addr, n, true
}

// hidValue: a dotted IPv4 address alone (gen_ncode with a string). A short
// one is promoted: host 10.1 is 10.1.0.0/16, as in tcpdump.
func hidValue(t token, q qual) (node, error) {
	switch q.addr {
	case addrPort:
		return nil, errAt(t, "'port' modifier applied to ip host")
	case addrPortrange:
		return nil, errAt(t, "'portrange' modifier applied to ip host")
	}
	v, vlen, ok := atoin(t.text)
	if !ok {
		return nil, errAt(t, "invalid IPv4 address '%s'", t.text)
	}
	v <<= 32 - vlen
	mask := uint32(0xffffffff) << (32 - vlen)
	return hostOrNet(t, q, v, mask)
}

// v4Net: gen_mcode, ADDR/LEN or ADDR mask MASK.
func v4Net(t token, q qual, masklen uint32, maskTok *token) (node, error) {
	n, nlen, ok := atoin(t.text)
	if !ok {
		return nil, errAt(t, "invalid IPv4 address '%s'", t.text)
	}
	n <<= 32 - nlen
	var m uint32
	if maskTok != nil {
		mv, mlen, ok := atoin(maskTok.text)
		if !ok {
			return nil, errAt(*maskTok, "invalid IPv4 address '%s'", maskTok.text)
		}
		m = mv << (32 - mlen)
		if n&^m != 0 {
			return nil, errAt(t, "non-network bits set in \"%s mask %s\"", t.text, maskTok.text)
		}
	} else {
		if masklen > 32 {
			return nil, errAt(t, "mask length must be <= 32")
		}
		if masklen > 0 {
			m = 0xffffffff << (32 - masklen)
		}
		if n&^m != 0 {
			return nil, errAt(t, "non-network bits set in \"%s/%d\"", t.text, masklen)
		}
	}
	if q.addr != addrNet {
		return nil, errAt(t, "Mask syntax for networks only")
	}
	return hostOrNet(t, q, n, m)
}

// v6Value: gen_mcode6.
func v6Value(t token, q qual, masklen uint32) (node, error) {
	a, err := netip.ParseAddr(t.text)
	if err != nil || !a.Is6() {
		return nil, errAt(t, "invalid ip6 address %s", t.text)
	}
	if masklen > 128 {
		return nil, errAt(t, "mask length must be <= 128")
	}
	b := a.As16()
	var mb [16]byte
	for i := 0; i < int(masklen); i++ {
		mb[i/8] |= 0x80 >> (i % 8)
	}
	var n hostNode
	for w := 0; w < 4; w++ {
		n.addr[w] = uint32(b[4*w])<<24 | uint32(b[4*w+1])<<16 | uint32(b[4*w+2])<<8 | uint32(b[4*w+3])
		n.mask[w] = uint32(mb[4*w])<<24 | uint32(mb[4*w+1])<<16 | uint32(mb[4*w+2])<<8 | uint32(mb[4*w+3])
		if n.addr[w]&^n.mask[w] != 0 {
			return nil, errAt(t, "non-network bits set in \"%s/%d\"", t.text, masklen)
		}
	}
	switch q.addr {
	case addrDefault, addrHost:
		if masklen != 128 {
			return nil, errAt(t, "Mask syntax for networks only")
		}
	case addrNet:
	default:
		return nil, errAt(t, "invalid qualifier against IPv6 address")
	}
	kind := "host"
	if q.addr == addrNet {
		kind = "net"
	}
	switch q.proto {
	case protoIP:
		return nil, errAt(t, "'ip' modifier applied to ip6 %s", kind)
	case protoTCP:
		return nil, errAt(t, "'tcp' modifier applied to ip6 %s", kind)
	}
	n.pos, n.proto, n.dir, n.v6 = t.pos, q.proto, q.dir, true
	return n, nil
}

// nameValue: gen_scode. Only the numeric port range N-M is supported;
// names need a resolver (hosts, networks, services) and are refused.
func nameValue(t token, q qual) (node, error) {
	switch q.addr {
	case addrPortrange:
		if lo, hi, ok := strings.Cut(t.text, "-"); ok {
			a, err1 := strconv.ParseUint(lo, 10, 32)
			b, err2 := strconv.ParseUint(hi, 10, 32)
			if err1 == nil && err2 == nil {
				return portNodeFor(t, q, uint32(a), uint32(b))
			}
		}
		return nil, unsupportedAt(t, fmt.Sprintf("port names (%q)", t.text), "give port numbers, such as portrange 8000-8080")
	case addrPort:
		return nil, unsupportedAt(t, fmt.Sprintf("port names (%q)", t.text), "give a port number")
	case addrNet:
		return nil, unsupportedAt(t, fmt.Sprintf("network names (%q)", t.text), "give a network such as 10.0.0.0/8")
	}
	return nil, unsupportedAt(t, fmt.Sprintf("host names (%q)", t.text), "give an IPv4 or IPv6 address")
}
