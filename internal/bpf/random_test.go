package bpf

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
)

var randomN = flag.Int("random", 0, "compare `N` random expressions with a live tcpdump (needs tcpdump and root)")

// randomExpr makes an expression of the supported subset (and sometimes
// a little outside it), with values from small pools so that tests
// repeat, as in real filters.
func randomExpr(r *rand.Rand, depth int) string {
	v4 := []string{"10.0.0.1", "10.0.0.2", "192.168.1.1", "10.1", "10"}
	nets := []string{"10.0.0.0/8", "10.0.0.0/24", "192.168.0.0/16", "0.0.0.0/1", "10.0.0.0 mask 255.255.0.0"}
	v6 := []string{"2001:db8::1", "::1", "fe80::1"}
	nets6 := []string{"2001:db8::/32", "2001:db8::/33", "fe80::/10", "::/1"}
	ports := []string{"22", "80", "443", "0", "65535"}
	ranges := []string{"1-1023", "80-80", "8000-8080"}
	dirs := []string{"", "", "src ", "dst ", "src or dst ", "src and dst "}
	if depth <= 0 || r.IntN(3) == 0 {
		d := dirs[r.IntN(len(dirs))]
		switch r.IntN(14) {
		case 0:
			return "tcp"
		case 1:
			return "ip"
		case 2:
			return "ip6"
		case 3:
			return "vlan"
		case 4:
			return fmt.Sprintf("vlan %d", []int{0, 10, 20}[r.IntN(3)])
		case 5:
			return d + "host " + pick(r, v4)
		case 6:
			return d + "host " + pick(r, v6)
		case 7:
			return d + "net " + pick(r, nets)
		case 8:
			return d + "net " + pick(r, nets6)
		case 9:
			return pick(r, []string{"", "tcp "}) + d + "port " + pick(r, ports)
		case 10:
			return pick(r, []string{"", "tcp "}) + d + "portrange " + pick(r, ranges)
		case 11:
			return pick(r, []string{"ip ", "ip6 "}) + d + "host " + pick(r, append(v4, v6...))
		case 12:
			// a primitive and a repeated bare value
			return d + "port " + pick(r, ports) + pick(r, []string{" or ", " and ", " and not "}) + pick(r, ports)
		default:
			return d + "host " + pick(r, v4) + pick(r, []string{" or ", " and not "}) + pick(r, v4)
		}
	}
	switch r.IntN(5) {
	case 0:
		return "not " + randomExpr(r, depth-1)
	case 1:
		return "(" + randomExpr(r, depth-1) + ")"
	case 2:
		return randomExpr(r, depth-1) + " or " + randomExpr(r, depth-1)
	default:
		return randomExpr(r, depth-1) + pick(r, []string{" and ", " && "}) + randomExpr(r, depth-1)
	}
}

// TestRandomAgainstTcpdump compiles random expressions with Compile and
// with tcpdump: both must refuse, or give identical or equivalent
// programs. It runs only with -random N.
func TestRandomAgainstTcpdump(t *testing.T) {
	if *randomN == 0 {
		t.Skip("run with -random N to compare N random expressions with tcpdump")
	}
	if _, err := exec.LookPath("tcpdump"); err != nil || os.Geteuid() != 0 {
		t.Skip("needs tcpdump and root")
	}
	r := rand.New(rand.NewPCG(uint64(os.Getpid()), 1))
	counts := map[string]int{}
	result := func(args []string, expr string, unoptimized bool) tcpdumpResult {
		out := runTcpdump(args, corpusEntry{expr: expr, unoptimized: unoptimized})
		if msg, ok := strings.CutPrefix(out, "error: "); ok {
			return tcpdumpResult{err: strings.TrimSpace(msg)}
		}
		prog, err := parseDD(out)
		if err != nil {
			t.Fatal(err)
		}
		return tcpdumpResult{prog: prog}
	}
	for i := 0; i < *randomN; i++ {
		expr := randomExpr(r, 4)
		for _, l := range linkTypes {
			prog, err := Compile(expr, l.lt, 0)
			opt, unopt := result(l.args, expr, false), result(l.args, expr, true)
			status, problem := judge(l.lt, expr, prog, err, opt, unopt, 3000)
			switch {
			case status == "":
				t.Errorf("%s: %q: %s", l.name, expr, problem)
			case problem != "":
				t.Logf("%s: %q: %s", l.name, expr, problem)
			case status == "equivalent":
				t.Logf("%s: equivalent, not identical: %q (%d vs %d instructions)", l.name, expr, len(prog), len(opt.prog))
			}
			counts[status]++
		}
	}
	t.Logf("%v", counts)
}
