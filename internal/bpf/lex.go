package bpf

import (
	"net/netip"
	"strings"
)

type tokKind uint8

const (
	tEOF     tokKind = iota
	tLParen          // (
	tRParen          // )
	tNot             // not, !
	tAnd             // and, &&
	tOr              // or, ||
	tSlash           // /
	tKeyword         // a keyword of pcap-filter(7); text says which
	tNum             // a number: decimal, 0x hex or 0 octal
	tHID             // a dotted IPv4 address, possibly short: 10.1
	tHID6            // an IPv6 address
	tEID             // an Ethernet address
	tID              // any other word: a host, network or port name, a port range N-M
	tPunct           // an operator of pcap-filter's arithmetic: + - * [ ] < > = & | ^ % :
	tBad             // a byte no token starts with
)

type token struct {
	kind tokKind
	text string // as written
	pos  int    // byte offset in the expression
	num  uint32 // tNum: the value
	err  string // tNum: why the number is not one (non-octal digit, overflow)
}

// keywords of pcap-filter(7). The supported ones are handled by the
// parser; every other one gives a "not supported" error naming it.
var supportedKeywords = map[string]bool{
	"host": true, "net": true, "mask": true, "port": true, "portrange": true,
	"src": true, "dst": true, "ip": true, "ip6": true, "tcp": true, "vlan": true,
}

var unsupportedKeywords = map[string]string{}

func init() {
	for _, w := range strings.Fields(`link ether ppp slip fddi tr wlan arp rarp sctp udp icmp igmp igrp pim
		vrrp carp radio icmp6 ah esp atalk aarp decnet lat sca moprc mopdl iso esis es-is isis is-is l1 l2
		iih lsp snp csnp psnp clnp stp ipx netbeui proto protochain gateway type subtype direction dir
		address1 addr1 address2 addr2 address3 addr3 address4 addr4 ra ta less greater byte broadcast
		multicast len length inbound outbound ifindex mpls pppoed pppoes geneve lane llc metac bcc oam
		oamf4 oamf4ec oamf4sc sc ilmic vpi vci connectmsg metaconnect on ifname rset ruleset rnr rulenum
		srnr subrulenum reason action fisu lssu lsu msu hfisu hlssu hmsu sio opc dpc sls hsio hopc hdpc
		hsls icmptype icmpcode icmp6type icmp6code`) {
		unsupportedKeywords[w] = w
	}
}

func isWordStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ':'
}

func isWordByte(c byte) bool {
	return isWordStart(c) || c == '.' || c == '-' || c == '_'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// lex splits an expression into tokens as libpcap's scanner does, closely
// enough for the supported subset: keywords are lower case (HOST is a
// host name, as in tcpdump), numbers are decimal, 0x hex or 0 octal.
func lex(s string) []token {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{kind: tLParen, text: "(", pos: i})
			i++
		case c == ')':
			toks = append(toks, token{kind: tRParen, text: ")", pos: i})
			i++
		case c == '!' && (i+1 >= len(s) || s[i+1] != '='):
			toks = append(toks, token{kind: tNot, text: "!", pos: i})
			i++
		case c == '&' && i+1 < len(s) && s[i+1] == '&':
			toks = append(toks, token{kind: tAnd, text: "&&", pos: i})
			i += 2
		case c == '|' && i+1 < len(s) && s[i+1] == '|':
			toks = append(toks, token{kind: tOr, text: "||", pos: i})
			i += 2
		case c == '/':
			toks = append(toks, token{kind: tSlash, text: "/", pos: i})
			i++
		case c == '\\':
			// libpcap: a backslash quotes a name (\ip is the host "ip").
			j := i + 1
			for j < len(s) && !strings.ContainsRune(" !()\n\t", rune(s[j])) {
				j++
			}
			toks = append(toks, token{kind: tID, text: s[i:j], pos: i})
			i = j
		case isWordStart(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			toks = append(toks, classify(s[i:j], i))
			i = j
		case strings.IndexByte("+-*[]<>=&|^%!", c) >= 0:
			toks = append(toks, token{kind: tPunct, text: s[i : i+1], pos: i})
			i++
		default:
			toks = append(toks, token{kind: tBad, text: s[i : i+1], pos: i})
			i++
		}
	}
	return append(toks, token{kind: tEOF, pos: len(s)})
}

func classify(w string, pos int) token {
	t := token{text: w, pos: pos}
	switch {
	case w == "and":
		t.kind = tAnd
	case w == "or":
		t.kind = tOr
	case w == "not":
		t.kind = tNot
	case supportedKeywords[w] || unsupportedKeywords[w] != "":
		t.kind = tKeyword
	case isMAC(w):
		t.kind = tEID
	case isNumber(w):
		t.kind = tNum
		t.num, t.err = parseNumber(w)
	case isHID(w):
		t.kind = tHID
	case strings.Contains(w, ":"):
		if a, err := netip.ParseAddr(w); err == nil && a.Is6() && a.Zone() == "" {
			t.kind = tHID6
		} else {
			t.kind = tBad
		}
	default:
		t.kind = tID
	}
	return t
}

// isNumber: libpcap's {N}, [0-9]+ or 0x[0-9a-f]+.
func isNumber(w string) bool {
	if len(w) > 2 && w[0] == '0' && (w[1] == 'x' || w[1] == 'X') {
		for i := 2; i < len(w); i++ {
			if !isHex(w[i]) {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return w != ""
}

// parseNumber follows libpcap's stou: 0x hex, a leading 0 octal, else
// decimal, at most 32 bits.
func parseNumber(w string) (uint32, string) {
	base, digits := uint64(10), w
	switch {
	case len(w) > 2 && w[0] == '0' && (w[1] == 'x' || w[1] == 'X'):
		base, digits = 16, w[2:]
	case len(w) > 1 && w[0] == '0':
		base, digits = 8, w[1:]
	}
	var n uint64
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		default:
			d = uint64(c-'A') + 10
		}
		if d >= base {
			return 0, "number " + w + " contains non-octal digit"
		}
		n = n*base + d
		if n > 0xffffffff {
			return 0, "number " + w + " overflows 32 bits"
		}
	}
	return uint32(n), ""
}

// isHID: libpcap's N.N, N.N.N or N.N.N.N.
func isHID(w string) bool {
	parts := strings.Split(w, ".")
	if len(parts) < 2 || len(parts) > 4 {
		return false
	}
	for _, p := range parts {
		if !isNumber(p) {
			return false
		}
	}
	return true
}

// isMAC: libpcap's Ethernet address forms (xx:xx:xx:xx:xx:xx with ':', '-'
// or '.', xxxx.xxxx.xxxx, and 12 hex digits).
func isMAC(w string) bool {
	for _, sep := range []string{":", "-", "."} {
		parts := strings.Split(w, sep)
		if len(parts) != 6 {
			continue
		}
		ok := true
		for _, p := range parts {
			if len(p) < 1 || len(p) > 2 || !isHex(p[0]) || !isHex(p[len(p)-1]) {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	hexN := func(s string, n int) bool {
		if len(s) != n {
			return false
		}
		for i := 0; i < n; i++ {
			if !isHex(s[i]) {
				return false
			}
		}
		return true
	}
	if parts := strings.Split(w, "."); len(parts) == 3 && hexN(parts[0], 4) && hexN(parts[1], 4) && hexN(parts[2], 4) {
		return true
	}
	return hexN(w, 12)
}
