// Package filter compiles a pcap-filter-like expression into a predicate on
// decoded TCP segments, e.g. "host 10.0.0.1 and (port 443 or port 8443)".
//
// Grammar (a subset of pcap-filter(7) that makes sense for TCP segments):
//
//	expr      = term { ("or" | "||") term }
//	term      = factor { ("and" | "&&") factor }
//	factor    = ("not" | "!") factor | "(" expr ")" | primitive | value
//	primitive = [ "src" | "dst" ] ( "host" ADDR | "net" CIDR | "port" N | "portrange" N-M )
//	          | "vlan" [ N ] | "ip" | "ip6" | "tcp"
//	value     = ADDR | N | CIDR   (repeats the previous primitive's qualifiers:
//	                               "port 80 or 443", "host a or b")
//
// "src" and "dst" refer to the segment's sender and receiver; without them
// either end matches, so a filter selects both directions of a connection.
package filter

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/tcptrace/tcptrace/tcp"
)

// Filter is a compiled expression.
type Filter struct {
	src  string
	root node
}

// String returns the expression as given.
func (f *Filter) String() string { return f.src }

// Match reports whether the segment satisfies the filter. A nil filter
// matches everything.
func (f *Filter) Match(s *tcp.Segment) bool {
	if f == nil || f.root == nil {
		return true
	}
	return f.root.match(s)
}

type node interface{ match(*tcp.Segment) bool }

type orNode struct{ a, b node }
type andNode struct{ a, b node }
type notNode struct{ a node }

func (n orNode) match(s *tcp.Segment) bool  { return n.a.match(s) || n.b.match(s) }
func (n andNode) match(s *tcp.Segment) bool { return n.a.match(s) && n.b.match(s) }
func (n notNode) match(s *tcp.Segment) bool { return !n.a.match(s) }

type dirSel uint8

const (
	either dirSel = iota
	srcOnly
	dstOnly
)

func (d dirSel) test(s *tcp.Segment, f func(netip.AddrPort) bool) bool {
	switch d {
	case srcOnly:
		return f(s.Src)
	case dstOnly:
		return f(s.Dst)
	}
	return f(s.Src) || f(s.Dst)
}

type hostNode struct {
	dir  dirSel
	addr netip.Addr
}

func (n hostNode) match(s *tcp.Segment) bool {
	return n.dir.test(s, func(ap netip.AddrPort) bool { return ap.Addr().Unmap() == n.addr })
}

type netNode struct {
	dir    dirSel
	prefix netip.Prefix
}

func (n netNode) match(s *tcp.Segment) bool {
	return n.dir.test(s, func(ap netip.AddrPort) bool { return n.prefix.Contains(ap.Addr().Unmap()) })
}

type portNode struct {
	dir    dirSel
	lo, hi uint16
}

func (n portNode) match(s *tcp.Segment) bool {
	return n.dir.test(s, func(ap netip.AddrPort) bool { p := ap.Port(); return p >= n.lo && p <= n.hi })
}

type vlanNode struct {
	id  int // -1: any tag
	set bool
}

func (n vlanNode) match(s *tcp.Segment) bool {
	if s.VLAN.N == 0 {
		return false
	}
	if n.id < 0 {
		return true
	}
	for i := 0; i < int(s.VLAN.N); i++ {
		if int(s.VLAN.IDs[i]) == n.id {
			return true
		}
	}
	return false
}

type familyNode struct{ v6 bool }

func (n familyNode) match(s *tcp.Segment) bool { return s.IPv6 == n.v6 }

type trueNode struct{}

func (trueNode) match(*tcp.Segment) bool { return true }

// Error is a syntax error with the byte position where it was found.
type Error struct {
	Expr string
	Pos  int
	Msg  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("filter %q: %s at position %d", e.Expr, e.Msg, e.Pos+1)
}

type token struct {
	text string
	pos  int
}

func lex(s string) []token {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == '!':
			toks = append(toks, token{string(c), i})
			i++
		case c == '&' || c == '|':
			if i+1 < len(s) && s[i+1] == c {
				toks = append(toks, token{s[i : i+2], i})
				i += 2
			} else {
				toks = append(toks, token{string(c), i})
				i++
			}
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r()!&|", rune(s[j])) {
				j++
			}
			toks = append(toks, token{s[i:j], i})
			i = j
		}
	}
	return toks
}

type parser struct {
	expr string
	toks []token
	i    int
	// the last primitive's qualifiers, for bare values ("port 80 or 443")
	lastDir  dirSel
	lastKind string
	depth    int
}

// Compile parses an expression. An empty expression matches everything.
func Compile(expr string) (*Filter, error) {
	p := &parser{expr: expr, toks: lex(expr)}
	if len(p.toks) == 0 {
		return &Filter{src: expr, root: trueNode{}}, nil
	}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, p.errf("unexpected %q", p.toks[p.i].text)
	}
	return &Filter{src: expr, root: n}, nil
}

func (p *parser) peek() string {
	if p.i < len(p.toks) {
		return strings.ToLower(p.toks[p.i].text)
	}
	return ""
}

func (p *parser) errf(format string, a ...any) error {
	pos := len(p.expr)
	if p.i < len(p.toks) {
		pos = p.toks[p.i].pos
	}
	return &Error{Expr: p.expr, Pos: pos, Msg: fmt.Sprintf(format, a...)}
}

func (p *parser) parseOr() (node, error) {
	a, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.peek() == "or" || p.peek() == "||" {
		p.i++
		b, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		a = orNode{a, b}
	}
	return a, nil
}

func (p *parser) parseAnd() (node, error) {
	a, err := p.parseFactor()
	if err != nil {
		return nil, err
	}
	for p.peek() == "and" || p.peek() == "&&" {
		p.i++
		b, err := p.parseFactor()
		if err != nil {
			return nil, err
		}
		a = andNode{a, b}
	}
	return a, nil
}

const maxDepth = 100

func (p *parser) parseFactor() (node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errf("expression nested too deeply")
	}
	switch t := p.peek(); t {
	case "":
		return nil, p.errf("expression ends too early")
	case "not", "!":
		p.i++
		a, err := p.parseFactor()
		if err != nil {
			return nil, err
		}
		return notNode{a}, nil
	case "(":
		p.i++
		a, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, p.errf("missing )")
		}
		p.i++
		return a, nil
	}
	return p.parsePrimitive()
}

func (p *parser) parsePrimitive() (node, error) {
	dir := either
	switch p.peek() {
	case "src":
		dir = srcOnly
		p.i++
	case "dst":
		dir = dstOnly
		p.i++
	}
	kind := p.peek()
	switch kind {
	case "host", "net", "port", "portrange":
		p.i++
	case "vlan":
		p.i++
		if _, err := strconv.Atoi(p.peek()); err == nil && p.peek() != "" {
			id, _ := strconv.Atoi(p.peek())
			if id < 0 || id > 4095 {
				return nil, p.errf("VLAN ID %d out of range 0-4095", id)
			}
			p.i++
			return vlanNode{id: id}, nil
		}
		return vlanNode{id: -1}, nil
	case "ip":
		p.i++
		return familyNode{false}, nil
	case "ip6":
		p.i++
		return familyNode{true}, nil
	case "tcp":
		p.i++
		return trueNode{}, nil
	case "", ")", "and", "or", "&&", "||":
		return nil, p.errf("expected a primitive (host, net, port, portrange, vlan, ip, ip6, tcp)")
	default:
		if dir != either {
			// "src 10.0.0.1" means "src host 10.0.0.1".
			kind = "host"
			if strings.Contains(p.peek(), "/") {
				kind = "net"
			}
		} else if p.lastKind != "" {
			kind, dir = p.lastKind, p.lastDir // "port 80 or 443"
		} else {
			return nil, p.errf("unknown keyword %q", p.toks[p.i].text)
		}
	}
	if p.i >= len(p.toks) {
		return nil, p.errf("%s needs a value", kind)
	}
	val := p.toks[p.i].text
	p.lastKind, p.lastDir = kind, dir
	switch kind {
	case "host":
		a, err := netip.ParseAddr(val)
		if err != nil {
			return nil, p.errf("bad address %q", val)
		}
		p.i++
		return hostNode{dir, a.Unmap()}, nil
	case "net":
		pr, err := netip.ParsePrefix(val)
		if err != nil {
			return nil, p.errf("bad network %q (want CIDR such as 10.0.0.0/8)", val)
		}
		p.i++
		return netNode{dir, pr.Masked()}, nil
	case "port":
		n, err := strconv.ParseUint(val, 10, 16)
		if err != nil {
			return nil, p.errf("bad port %q", val)
		}
		p.i++
		return portNode{dir, uint16(n), uint16(n)}, nil
	default: // portrange
		lo, hi, ok := strings.Cut(val, "-")
		a, err1 := strconv.ParseUint(lo, 10, 16)
		b, err2 := strconv.ParseUint(hi, 10, 16)
		if !ok || err1 != nil || err2 != nil || a > b {
			return nil, p.errf("bad port range %q (want N-M)", val)
		}
		p.i++
		return portNode{dir, uint16(a), uint16(b)}, nil
	}
}
