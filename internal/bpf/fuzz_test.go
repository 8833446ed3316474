package bpf

import (
	"errors"
	"strings"
	"testing"
)

// FuzzCompile: Compile never panics; its errors are *Error at a place of
// the expression; its programs pass the kernel's checks, run without
// panicking, give the verdicts of the unoptimized program, and the SLL2
// ones convert for a cooked socket.
func FuzzCompile(f *testing.F) {
	for _, e := range readCorpus(f) {
		f.Add(e.expr)
	}
	for _, s := range []string{"((((", "port 1 or or", "host 10.0.0.1 and (10.0.0.2 or not (10.0.0.3", "vlan and vlan and vlan and vlan 1",
		"not not not ! ! tcp", "net 10.1.2 mask 255.255", "tcp[0:2]", "\\host", "port 0x", "portrange -1-2", "host ::ffff:1.2.3.4/120"} {
		f.Add(s)
	}
	pkts := newPools("", nil).packets(LinkTypeEthernet, 50, "fuzz")
	f.Fuzz(func(t *testing.T, expr string) {
		if len(expr) > 2000 {
			return // long expressions are slow to optimize, not more interesting
		}
		for _, lt := range []uint32{LinkTypeEthernet, LinkTypeLinuxSLL2, LinkTypeRaw} {
			prog, err := Compile(expr, lt, 0)
			if err != nil {
				var cerr *Error
				if !errors.As(err, &cerr) {
					t.Fatalf("%q: error %T: %v", expr, err, err)
				}
				if cerr.Pos > len(expr) || cerr.Pos >= 0 && !strings.HasPrefix(expr[cerr.Pos:], cerr.Token) {
					t.Fatalf("%q: error at %d with token %q", expr, cerr.Pos, cerr.Token)
				}
				continue
			}
			if err := Validate(prog); err != nil {
				t.Fatalf("%q: %v\n%s", expr, err, Disassemble(prog))
			}
			if last := prog[len(prog)-1]; class(last.Code) != classRET {
				t.Fatalf("%q: the program ends in %s", expr, last)
			}
			for _, p := range pkts {
				Run(prog, p.data, p.meta)
			}
			if raw, err := compile(expr, lt, 0, false); err == nil {
				if pkt, a, b, bad := differ(lt, expr, prog, raw, 100); bad {
					t.Fatalf("%q: optimized %d, unoptimized %d on a %s packet:\n% x\n%s", expr, a, b, pkt.desc, pkt.data, sideBySide(prog, raw))
				}
			}
			if lt == LinkTypeLinuxSLL2 {
				if _, err := ForCookedSocket(prog); err != nil {
					t.Fatalf("%q: %v", expr, err)
				}
			}
		}
	})
}
