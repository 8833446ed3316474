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
//   - anomalies.pcap: one connection per anomaly only tcptrace reports (client
//     ports 470xx): data after FIN, segment after RST, SYN with a new ISN, SPAN
//     duplicate, out-of-window RST, FIN at a new sequence number.
//   - handshakes.pcap: one connection per handshake class, client ports
//     41001-41011 to 192.0.2.20:80: complete; simultaneous open (bare SYNs
//     cross, then SYN-ACKs); SYN retransmitted after 1 s and 2 s, then
//     answered; three SYNs (0, 1, 3 s) never answered; refused (RST/ACK
//     acknowledging the SYN); SYN-ACK without the SYN; SYN-ACK captured
//     before the SYN; SYN and SYN-ACK only; mid-stream (no handshake); the
//     client resetting its own attempt (SYN, then RST); ECN negotiation
//     (SYN with ECE+CWR, SYN-ACK with ECE) with TFO data on the SYN.
//   - closes.pcap: one connection per close class, client ports
//     42001-42008 to 198.51.100.30:80: four-way; three-way (the second FIN
//     carries the ACK); simultaneous (the FINs cross, then both ACKs);
//     half-close with the response sent after the client's FIN; half-closed
//     at the end of the capture; open at the end; idle (silent for 400 s
//     before the end); a FIN, more data from the peer, then the RST of the
//     closed side.
//   - resets.pcap: RST cases, client ports 43001-43007 to 192.0.2.30:80:
//     the server's RST at exactly rcv.nxt; the client's abort (RST/ACK
//     right after unacknowledged data); a RST inside the window but not
//     exact, answered by a challenge ACK; a RST far outside the window,
//     then a FIN close; a RST from the closed server answering a delayed
//     duplicate after the four-way close (captured at the server); FIN+RST
//     in one segment; a RST carrying diagnostic text.
//   - wrap.pcap: client and server ISNs a little below 2^32, so both
//     sequence spaces wrap during the transfer, then a four-way close.
//   - reset-causes.pcap: a RST answering the first segment after 90 s of
//     idle (49001), a RST after four transmissions of the same request with
//     backoff (49002), a RST from a server with no trace of the connection
//     (49003).
//   - reset-patterns.pcap: forged RSTs (TTL 46, their own IP IDs) racing a
//     handshake, with a wrong ACK that SYN-SENT drops (50001) and with the
//     right one (50002); a server with random IP IDs aborting (50003); a RST
//     after two minutes of silence (50004) and one 5 s after acknowledged
//     data (50008); a request and FIN retransmitted with backoff, then a RST
//     (50005); a closed port refusing a SYN and its two retries (50006); a
//     host talking to itself (50007).
//   - injected-data.pcap: data injection: a forged response (TTL 46, IP ID
//     0xbeef) delivered before the real one, whose first segment partly
//     overlaps it with other bytes (51001); the same range sent twice by
//     the server itself with other bytes, nothing to tell the copies apart
//     (51002); a forged copy arriving after the real one (51003).
//   - streams.pcap: stream reassembly: server responses reordered and
//     duplicated (48001), a segment lost before the capture point and
//     acknowledged (48002), a retransmission with different bytes (48003),
//     a loss the capture ends on (48004).
//   - early-fin.pcap: the server's FIN captured before its last data
//     segment (reordered on the way), then the client's ACK and FIN.
//   - span-duplicates.pcap: SPAN duplicates, client ports 54001-54004 to
//     198.51.100.60:80: the SYN, SYN-ACK, request, last response segment,
//     an ACK and the client's FIN each captured twice 1 µs apart; a
//     retransmission after 200 ms (captured at the server) and its copy;
//     the response's headers (IP ID and timestamps too) repeated 40 µs
//     later over other bytes (injected data, no copy); the client's RST
//     copied.
//   - dupack-window-update.pcap: Wireshark's duplicate-ACK count, client
//     ports 55001-55004 to 198.51.100.70:80, the server's first response
//     segment lost before the capture point in each: two dup ACKs, a window
//     update, the retransmission (fast for Wireshark); two dup ACKs, a data
//     segment with the same ACK, the retransmission (fast); two dup ACKs and
//     the retransmission 25 ms later (plain); two holes, the ACK moving on
//     to the second and one dup ACK of it before its retransmission (plain).
//   - fin-then-reset.pcap: client ports 56001-56003 to 198.51.100.80:80:
//     the client's request and FIN answered by the server's RST; the
//     server's response and FIN answered by the client's RST; the client's
//     FIN, acknowledged, then the client's own RST.
//   - port-reuse-timewait.pcap: captured at the server; the server closes
//     first (four-way), the client's FIN is retransmitted and acknowledged
//     again, then within a second the client's new SYN with a higher ISN
//     on the same 4-tuple (TIME-WAIT reuse), completed and closed.
package pcapgen
