package filter

import (
	"net/netip"
	"testing"

	"github.com/tcptrace/tcptrace/tcp"
)

func seg(src, dst string, vlan ...uint16) *tcp.Segment {
	s := &tcp.Segment{Src: netip.MustParseAddrPort(src), Dst: netip.MustParseAddrPort(dst)}
	s.IPv6 = s.Src.Addr().Is6()
	for _, v := range vlan {
		s.VLAN.IDs[s.VLAN.N] = v
		s.VLAN.N++
	}
	return s
}

func TestMatch(t *testing.T) {
	a := seg("10.0.0.1:40000", "192.0.2.10:443")
	b := seg("192.0.2.10:443", "10.0.0.1:40000")
	v6 := seg("[2001:db8::1]:5000", "[2001:db8::2]:80")
	tagged := seg("10.0.0.1:1", "10.0.0.2:2", 10, 20)
	tests := []struct {
		expr string
		s    *tcp.Segment
		want bool
	}{
		{"", a, true},
		{"tcp", a, true},
		{"host 10.0.0.1", a, true},
		{"host 10.0.0.1", b, true},
		{"src host 10.0.0.1", b, false},
		{"dst host 10.0.0.1", b, true},
		{"src 10.0.0.1", a, true},
		{"port 443", a, true},
		{"port 80 or 443", a, true},
		{"port 80 or 8080", a, false},
		{"src port 443", a, false},
		{"dst port 443", a, true},
		{"portrange 400-500", a, true},
		{"net 10.0.0.0/8", a, true},
		{"net 172.16.0.0/12", a, false},
		{"host 10.0.0.1 and port 443", b, true},
		{"host 10.0.0.1 && !port 443", b, false},
		{"not (port 443 or port 80)", v6, false},
		{"not (port 443 or port 8080)", v6, true},
		{"ip6", v6, true},
		{"ip", v6, false},
		{"ip and port 443", a, true},
		{"vlan", tagged, true},
		{"vlan 20", tagged, true},
		{"vlan 30", tagged, false},
		{"vlan", a, false},
		{"host 2001:db8::2 and port 80", v6, true},
		{"HOST 10.0.0.1 AND PORT 443", a, true},
	}
	for _, tt := range tests {
		f, err := Compile(tt.expr)
		if err != nil {
			t.Errorf("Compile(%q): %v", tt.expr, err)
			continue
		}
		if got := f.Match(tt.s); got != tt.want {
			t.Errorf("%q on %s→%s = %v, want %v", tt.expr, tt.s.Src, tt.s.Dst, got, tt.want)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, expr := range []string{"host", "host 999.1.1.1", "port x", "port 70000", "(port 1", "port 1)", "and", "frob 1",
		"portrange 5-1", "net 10.0.0.1", "vlan 5000", "port 1 or", "not", "10.0.0.1"} {
		if _, err := Compile(expr); err == nil {
			t.Errorf("Compile(%q) succeeded, want an error", expr)
		} else if _, ok := err.(*Error); !ok {
			t.Errorf("Compile(%q): error %T, want *Error", expr, err)
		}
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{"host 10.0.0.1 and port 443", "not (port 80 or 443)", "src net 10.0.0.0/8", "vlan 10 && ip6", "((((", "port 1 or or"} {
		f.Add(s)
	}
	probe := seg("10.0.0.1:40000", "192.0.2.10:443", 10)
	f.Fuzz(func(t *testing.T, expr string) {
		fl, err := Compile(expr)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		fl.Match(probe)
	})
}
