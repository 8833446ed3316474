// Package bpf compiles tcpdump capture filters to classic BPF, in pure Go,
// for the kernel to run on an AF_PACKET socket (SO_ATTACH_FILTER): the
// filter of `tcptrace live -f EXPR`.
//
// Compile gives, for the supported subset of pcap-filter(7), the program
// tcpdump -dd prints: the code generator builds the tests libpcap builds,
// in the same order and at the same offsets, and the optimizer makes of
// them what libpcap's optimizer makes (with its own implementation). For
// every expression of testdata/corpus.txt on Ethernet, Linux SLL2 and raw
// IP the program is identical instruction for instruction to tcpdump's
// (testdata/*.golden); for any other expression it is identical or accepts
// exactly the packets tcpdump's unoptimized program accepts (a test
// compares random expressions with a live tcpdump: go test -random N).
// Where libpcap's optimizer is wrong (it moves the VLAN offset updates
// across tests in some expressions mixing "vlan" and "or", and fails with
// "no destination found for block-local relative jump" on some "vlan 0"),
// Compile keeps the meaning of the unoptimized program.
//
// # Link types
//
// LinkTypeEthernet (1) is what a Linux AF_PACKET SOCK_RAW socket gives on
// Ethernet, veth and lo; the kernel strips the outermost VLAN tag into the
// packet's metadata, so "vlan" tests SKF_AD_VLAN_TAG_PRESENT and
// SKF_AD_VLAN_TAG first, as tcpdump does on Linux, and then a tag still in
// the packet. LinkTypeLinuxSLL2 (276) is tcpdump -i any's cooked header (20
// bytes, the EtherType at offset 0); ForCookedSocket turns such a program
// into the one for a SOCK_DGRAM packet socket, as libpcap does.
// LinkTypeRaw (101) is a packet starting with its IPv4 or IPv6 header.
//
// # Grammar
//
// The grammar is pcap-filter(7)'s, for these primitives:
//
//	expr      = term { ("and" | "&&" | "or" | "||") (term | value) }
//	term      = ("not" | "!") term | "(" expr ")" | primitive
//	primitive = [proto] [dir] type value
//	          | [proto] dir value             (a host: "src 10.0.0.1")
//	          | "tcp" | "ip" | "ip6"
//	          | "vlan" [number]
//	proto     = "ip" | "ip6" | "tcp"
//	dir       = "src" | "dst" | "src or dst" | "src and dst"
//	type      = "host" | "net" | "port" | "portrange"
//	value     = ("not" | "!") value | "(" value { ("and" | "or") value } ")"
//	          | number | ipv4 ["/" len | "mask" ipv4] | ipv6 ["/" len] | number "-" number
//
// "and" and "or" have the same precedence and associate to the left: "a
// or b and c" is "(a or b) and c". A bare value after "and"/"or" repeats
// the qualifiers of the primitive before it: "port 80 or 443", "host a
// and not b", "host a and (b or c)". Keywords are lower case, as in
// tcpdump (HOST is a host name). Numbers are decimal, 0x hex or 0 octal.
//
// The meaning is tcpdump's, including its surprises:
//
//   - host and net with an IPv4 address also match ARP and RARP packets
//     (sender and target address), unless written "ip host"; an IPv6
//     address matches IPv6 only;
//   - port and portrange match TCP, UDP and SCTP over IPv4 and IPv6 ("tcp
//     port" only TCP); over IPv4 only the first fragment (the jset #0x1fff
//     test on the fragment offset); over IPv6 only without extension
//     headers;
//   - tcp is IPv4 protocol 6, or IPv6 next header 6, directly or after a
//     fragment header;
//   - "net 10" is 10.0.0.0/8, "host 10.1" is 10.1.0.0/16, "host 10" is
//     0.0.0.10;
//   - every "vlan" moves the offsets of all the tests after it by a tag,
//     also across "or" and "not": "vlan or tcp" looks for TCP inside a
//     tag, "not vlan and port 80" reads an untagged packet's port 4 bytes
//     too far (write "port 80 and not vlan").
//
// # Not supported
//
// Compile refuses, with an *Error whose Unsupported is set and which names
// it, everything else of pcap-filter(7): the other protocols (udp, icmp,
// icmp6, arp, rarp, sctp, …) also as qualifiers ("udp port 53"), ether,
// proto and protochain, broadcast and multicast, less, greater, len and
// every arithmetic or byte comparison (tcp[13] & 2 != 0), gateway,
// inbound/outbound, ifindex, mpls, pppoe, geneve, and names: host names,
// network names and port names (give addresses and numbers). "vlan" on a
// link type other than Ethernet is refused as by tcpdump.
//
// A filter that does not parse gives an *Error with the byte offset and
// the token of the problem; a filter that can never match gives
// "expression rejects all packets", as tcpdump does.
package bpf
