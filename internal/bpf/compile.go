package bpf

import "fmt"

// DefaultSnaplen is tcpdump's default snapshot length, the accepting
// return value of its programs ("ret #262144").
const DefaultSnaplen = 262144

// Compile compiles a capture filter to a classic BPF program for packets of
// the given link type (LinkTypeEthernet, LinkTypeLinuxSLL2, LinkTypeRaw):
// the program tcpdump -dd prints for it, or one that accepts exactly the
// same packets. The program returns snaplen for an accepted packet (0 or
// less: DefaultSnaplen, as tcpdump -s 0; more is an error) and 0 for a
// rejected one. An empty expression accepts every packet.
//
// A filter that does not compile gives an *Error with the byte offset and
// the token of the problem; a valid pcap-filter(7) expression outside the
// supported subset gives an *Error with Unsupported set, naming what is
// not supported.
func Compile(expr string, linkType uint32, snaplen int) ([]Instruction, error) {
	return compile(expr, linkType, snaplen, true)
}

// compile is Compile, optionally without the optimizer (for tests: the
// program as generated, the reference of the optimized one).
func compile(expr string, linkType uint32, snaplen int, opt bool) ([]Instruction, error) {
	switch linkType {
	case LinkTypeEthernet, LinkTypeLinuxSLL2, LinkTypeRaw:
	default:
		return nil, fmt.Errorf("bpf: link type %d is not supported (only Ethernet 1, raw IP 101, Linux SLL2 276)", linkType)
	}
	if snaplen > DefaultSnaplen {
		return nil, fmt.Errorf("bpf: invalid snaplen %d (must be <= %d)", snaplen, DefaultSnaplen)
	}
	if snaplen <= 0 {
		snaplen = DefaultSnaplen
	}
	n, err := parse(expr)
	if err != nil {
		return nil, err
	}
	g := newGen(linkType, uint32(snaplen))
	root, err := g.generate(n)
	if err != nil {
		return nil, err
	}
	if opt {
		root = optimize(root)
	}
	if !accepts(root) {
		return nil, &Error{Pos: -1, Msg: "expression rejects all packets"}
	}
	prog, err := emit(root)
	if err != nil {
		return nil, &Error{Pos: -1, Msg: err.Error()}
	}
	if err := Validate(prog); err != nil {
		return nil, fmt.Errorf("bpf: internal error: %q compiled to an invalid program: %v", expr, err)
	}
	return prog, nil
}

// accepts: some path of the program returns a non-zero value.
func accepts(root *block) bool {
	seen := map[*block]bool{}
	var walk func(b *block) bool
	walk = func(b *block) bool {
		if seen[b] {
			return false
		}
		seen[b] = true
		if b.isLeaf() {
			return b.k != 0
		}
		return walk(b.jt) || walk(b.jf)
	}
	return walk(root)
}
