// Package pcapgen writes realistic, fully deterministic TCP captures for
// tests and benchmarks: the project's own scenario captures in
// testdata/pcaps come from here (no third-party capture is copied).
//
// It has three layers:
//
//   - writers: PcapWriter (classic pcap, µs or ns, either byte order) and
//     PcapngWriter (several interfaces, per-interface timestamp resolution);
//   - frame builders: TCP (flags, options, payload), IPv4 (ID, TTL, options)
//     and IPv6 headers with valid checksums, Link encapsulations (Ethernet
//     with 802.1Q/QinQ tags, raw IP, BSD loopback, Linux SLL and SLL2),
//     FragmentIPv4, FragmentIPv6 and MarkTSO;
//   - Conn, a conversation builder tracking sequence numbers, timestamps,
//     IP IDs and time, whose frames go to a Capture that several
//     connections may share (they interleave by time).
//
// Scenarios lists the captures; WriteAll writes them, and
// `go test ./internal/pcapgen -update` rewrites testdata/pcaps (the test
// TestScenariosUpToDate fails when they are stale). Every scenario starts on
// 2026-01-01 UTC; clients are in 10.0.0.0/8 or 2001:db8::/64, servers in the
// documentation ranges. The scenarios:
//
//   - handshake-data-close.pcap: IPv4 three-way handshake with MSS,
//     SACK-permitted, timestamps and window scale, an HTTP request, a
//     3-segment response, then the four-way close (FIN, ACK, FIN, ACK).
//   - ipv6.pcap: the same exchange over IPv6, plus a second, overlapping
//     IPv6 connection to port 443.
//   - vlan.pcap: the same 4-tuple in three overlapping connections with
//     distinct ISNs: on VLAN 10, on VLAN 20, and QinQ (S-tag 100, C-tag 10).
//   - fragments.pcap: an IPv4 connection whose two response segments are
//     carried in 512-byte IPv4 fragments (the second set last fragment
//     first), and an IPv6 connection with a segment in two fragments.
//   - tso.pcap: one host (10.0.0.1) serving a download with TSO (20 KB
//     super-packets with IPv4 total length 0, captured on the sender) and
//     receiving one with GRO (20 KB segments with true IP lengths).
//   - snaplen.pcap: the handshake-data-close traffic captured with snaplen
//     96, so payloads are truncated.
//   - port-reuse.pcap: one 4-tuple used by three successive connections
//     with new ISNs; the first two close with FIN and are followed by a
//     retransmitted FIN and trailing ACKs that belong to the old connection;
//     the third stays open.
//   - midstream.pcap: a capture starting mid-connection (no SYN) between
//     10.0.0.7:51000 and port 443, data both ways, server sequence numbers
//     wrapping past 2^32, then a FIN close started by the server.
//   - reset.pcap: a refused connection (SYN answered by RST/ACK) and a
//     transfer the client aborts with RST/ACK, then a bare RST answering
//     data still in flight.
//   - retransmit-sack.pcap: a lost response segment, dup ACKs with SACK
//     blocks and the fast retransmission; and a TCP Fast Open connection
//     (cookie and request on the SYN, IPv4 router-alert option on client
//     packets, an unknown TCP option kind 79).
//   - multi-iface.pcapng: two interfaces, Ethernet with µs timestamps and
//     raw IPv4 (LINKTYPE_RAW) with ns timestamps, one connection on each.
//   - linktype-sll.pcap: a small connection in Linux cooked frames
//     (LINKTYPE_LINUX_SLL, 113).
//   - linktype-sll2.pcap: the same in Linux cooked v2 frames
//     (LINKTYPE_LINUX_SLL2, 276).
//   - linktype-null.pcap: BSD loopback (LINKTYPE_NULL, 0) in a nanosecond
//     pcap: an IPv4 and an IPv6 (AF_INET6 = 30) connection on localhost.
//   - linktype-raw6.pcap: a small IPv6 connection without link header
//     (LINKTYPE_IPV6, 229).
package pcapgen
