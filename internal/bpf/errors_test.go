package bpf

import (
	"errors"
	"strings"
	"testing"
)

func TestErrors(t *testing.T) {
	tests := []struct {
		expr string
		lt   uint32
		want string
	}{
		{"port 80 and foo", LinkTypeEthernet, `not supported: port names ("foo") (at 12); give a port number`},
		{"udp", LinkTypeEthernet, "not supported: udp (at 0); " + supportedList},
		{"tcp and udp port 53", LinkTypeEthernet, "not supported: udp (at 8); " + supportedList},
		{"tcp[13] & 2 != 0", LinkTypeEthernet, `not supported: arithmetic and byte comparisons ("[") (at 3); ` + supportedList},
		{"ether host 00:11:22:33:44:55", LinkTypeEthernet, "not supported: ether (at 0); " + supportedList},
		{"host 00:11:22:33:44:55", LinkTypeEthernet, "not supported: Ethernet addresses (00:11:22:33:44:55) (at 5); " + supportedList},
		{"less 100", LinkTypeEthernet, "not supported: less (at 0); " + supportedList},
		{"ip proto 6", LinkTypeEthernet, "not supported: proto (at 3); " + supportedList},
		{"host localhost", LinkTypeEthernet, `not supported: host names ("localhost") (at 5); give an IPv4 or IPv6 address`},
		{"portrange ftp-http", LinkTypeEthernet, `not supported: port names ("ftp-http") (at 10); give port numbers, such as portrange 8000-8080`},
		{"tcp and vlan", LinkTypeLinuxSLL2, "not supported: vlan on Linux cooked v2 (at 8); tcpdump has no VLAN support there either"},
		{"vlan", LinkTypeRaw, "not supported: vlan on Raw IP (at 0); tcpdump has no VLAN support there either"},
		{"host", LinkTypeEthernet, "syntax error at 4 (end of expression): expected an address"},
		{"port", LinkTypeEthernet, "syntax error at 4 (end of expression): expected a port number"},
		{"src net and port 1", LinkTypeEthernet, `syntax error at 8 ("and"): expected a network such as 10.0.0.0/8`},
		{"port 65536", LinkTypeEthernet, `syntax error at 5 ("65536"): illegal port number 65536 > 65535`},
		{"portrange 1-70000", LinkTypeEthernet, `syntax error at 10 ("1-70000"): illegal port number 70000 > 65535`},
		{"port 099", LinkTypeEthernet, `syntax error at 5 ("099"): number 099 contains non-octal digit`},
		{"(port 80", LinkTypeEthernet, "syntax error at 8 (end of expression): expected and, or, or )"},
		{"port 80)", LinkTypeEthernet, `syntax error at 7 (")"): expected and, or, or the end of the expression`},
		{"host 10.0.0.1 10.0.0.2", LinkTypeEthernet, `syntax error at 14 ("10.0.0.2"): expected and, or, or the end of the expression`},
		{"net 10.0.0.1/8", LinkTypeEthernet, `syntax error at 4 ("10.0.0.1"): non-network bits set in "10.0.0.1/8"`},
		{"net 10.0.0.0/33", LinkTypeEthernet, `syntax error at 4 ("10.0.0.0"): mask length must be <= 32`},
		{"net 2001:db8::1/32", LinkTypeEthernet, `syntax error at 4 ("2001:db8::1"): non-network bits set in "2001:db8::1/32"`},
		{"host 2001:db8::/32", LinkTypeEthernet, `syntax error at 5 ("2001:db8::"): Mask syntax for networks only`},
		{"host 2001:db8::g", LinkTypeEthernet, `syntax error at 5 ("2001:db8::g"): invalid IPv6 address 2001:db8::g`},
		{"host 256.1.1.1", LinkTypeEthernet, `syntax error at 5 ("256.1.1.1"): invalid IPv4 address '256.1.1.1'`},
		{"vlan 4096", LinkTypeEthernet, `syntax error at 5 ("4096"): VLAN tag 4096 greater than maximum 4095`},
		{"ip6 host 10.0.0.1", LinkTypeEthernet, `syntax error at 9 ("10.0.0.1"): 'ip6' modifier applied to ip host`},
		{"ip port 80", LinkTypeEthernet, `syntax error at 8 ("80"): illegal qualifier of 'port'`},
		{"tcp host 10.0.0.1", LinkTypeEthernet, `syntax error at 9 ("10.0.0.1"): 'tcp' modifier applied to host`},
		{"10.0.0.1", LinkTypeEthernet, `syntax error at 0 ("10.0.0.1"): a value needs a qualifier first (host, net, port, portrange)`},
		{"vlan 10 or 20", LinkTypeEthernet, `syntax error at 11 ("20"): a value needs a qualifier first (host, net, port, portrange)`},
		{"and", LinkTypeEthernet, `syntax error at 0 ("and"): expected a primitive (host, net, port, portrange, tcp, ip, ip6, vlan)`},
		{"host 10.0.0.1 and", LinkTypeEthernet, "syntax error at 17 (end of expression): expected a primitive (host, net, port, portrange, tcp, ip, ip6, vlan)"},
		{"HOST 10.0.0.1", LinkTypeEthernet, `syntax error at 0 ("HOST"): keywords are lower case: host`},
		{"foo", LinkTypeEthernet, `syntax error at 0 ("foo"): expected a primitive (host, net, port, portrange, tcp, ip, ip6, vlan)`},
		{"ip and ip6", LinkTypeEthernet, "expression rejects all packets"},
		{"port 80", 105, "bpf: link type 105 is not supported (only Ethernet 1, raw IP 101, Linux SLL2 276)"},
	}
	for _, tt := range tests {
		_, err := Compile(tt.expr, tt.lt, 0)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Compile(%q, %d):\n got %v\nwant %s", tt.expr, tt.lt, err, tt.want)
		}
	}
}

func TestSnaplen(t *testing.T) {
	if _, err := Compile("tcp", LinkTypeEthernet, DefaultSnaplen+1); err == nil || err.Error() != "bpf: invalid snaplen 262145 (must be <= 262144)" {
		t.Errorf("snaplen 262145: %v", err)
	}
	for _, snaplen := range []int{-1, 0, DefaultSnaplen} {
		if p, err := Compile("", LinkTypeEthernet, snaplen); err != nil || len(p) != 1 || p[0].K != DefaultSnaplen {
			t.Errorf("snaplen %d: %v %v", snaplen, p, err)
		}
	}
}

// TestErrorPositions: an error's position and token are where the
// expression has them.
func TestErrorPositions(t *testing.T) {
	for _, e := range readCorpus(t) {
		for _, l := range linkTypes {
			_, err := Compile(e.expr, l.lt, e.snaplen)
			var cerr *Error
			if err == nil {
				continue
			}
			if !errors.As(err, &cerr) {
				t.Errorf("%q: error %T %v, want *Error", e.expr, err, err)
				continue
			}
			if cerr.Pos < 0 {
				continue
			}
			if cerr.Pos > len(e.expr) || !strings.HasPrefix(e.expr[cerr.Pos:], cerr.Token) {
				t.Errorf("%q: error at %d with token %q: not in the expression", e.expr, cerr.Pos, cerr.Token)
			}
		}
	}
}

func TestTooLong(t *testing.T) {
	expr := "port 1" + strings.Repeat(" or 1", 6000)
	_, err := Compile(expr, LinkTypeEthernet, 0)
	if err == nil || !strings.Contains(err.Error(), "too long") {
		t.Errorf("a 12000-word expression: %v", err)
	}
	_, err = Compile(strings.Repeat("(", 300)+"tcp"+strings.Repeat(")", 300), LinkTypeEthernet, 0)
	if err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Errorf("300 parentheses: %v", err)
	}
}
