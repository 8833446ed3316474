package bpf

import (
	"math/rand/v2"
	"testing"
)

// checkOptimizer compares the optimized program of an expression with the
// program as generated, before optimization, on generated packets.
func checkOptimizer(t *testing.T, expr string, packets int) {
	t.Helper()
	for _, l := range linkTypes {
		opt, err := compile(expr, l.lt, 0, true)
		if err != nil {
			continue
		}
		raw, err := compile(expr, l.lt, 0, false)
		if err != nil {
			continue // too long before optimization
		}
		if pkt, a, b, bad := differ(l.lt, expr, opt, raw, packets); bad {
			t.Errorf("%s: %q: optimized %d, unoptimized %d on a %s packet:\n% x\n%s", l.name, expr, a, b, pkt.desc, pkt.data, sideBySide(opt, raw))
		}
	}
}

// TestOptimizer: for the corpus and random expressions, the optimizer
// keeps every verdict (packets too short for a load aside). This needs no
// tcpdump.
func TestOptimizer(t *testing.T) {
	for _, e := range readCorpus(t) {
		checkOptimizer(t, e.expr, 500)
	}
	n := 2000
	if testing.Short() {
		n = 200
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < n; i++ {
		checkOptimizer(t, randomExpr(r, 4), 300)
	}
}
