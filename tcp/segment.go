// Package tcp holds what the rest of tcptrace (and a program embedding its
// state machine or reassembler) knows of one TCP segment: its addresses, flags,
// sequence numbers, options and how it was captured (Segment), and which side
// of a connection sent it (Dir). The decoder (internal/decode) fills Segments
// from captured frames; statemachine.Conn.Step, reassembly.Stream.Segment and
// analyze.Table.Add take them.
//
// A program that embeds the state machine or the reassembler fills Segments
// itself, from whatever decoder it has: they read the sequence and
// acknowledgement numbers, Flags, Len and Payload (Len beyond the captured
// Payload is a snaplen cut), the options of SYNs, and Frame and TS to name and
// time their evidence (a reassembly Conflict also reports TTL and IPID). The
// package needs only the standard library and seqnum.
package tcp

import (
	"net/netip"
	"strings"

	"github.com/tcptrace/tcptrace/seqnum"
)

// Flags is the TCP flag byte plus the AE (formerly NS) bit.
type Flags uint16

const (
	FIN Flags = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
	ECE
	CWR
	AE
)

// Has reports whether every flag of f2 is set in f.
func (f Flags) Has(f2 Flags) bool { return f&f2 == f2 }

// String renders the flags fixed-width, one column per flag in the order
// S R A P U F E C N (N for AE), with '.' where a flag is clear: "S.A......".
func (f Flags) String() string {
	const letters = "SRAPUFECN"
	order := [...]Flags{SYN, RST, ACK, PSH, URG, FIN, ECE, CWR, AE}
	var b [9]byte
	for i, fl := range order {
		if f&fl != 0 {
			b[i] = letters[i]
		} else {
			b[i] = '.'
		}
	}
	return string(b[:])
}

// Names renders the set flags as a compact list such as "SYN,ACK".
func (f Flags) Names() string {
	names := [...]string{"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "AE"}
	var parts []string
	for i, n := range names {
		if f&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, ",")
}

// SACKBlock is one SACK range [Left, Right).
type SACKBlock struct{ Left, Right seqnum.Value }

// Options holds the parsed TCP options. Raw keeps the whole option area (zero
// copy: valid only while the frame is) so that every kind, known or not, can be
// walked in order with EachOption.
type Options struct {
	MSS       uint16
	WScale    uint8 // shift count as sent (may be > 14, which is invalid)
	SACKPerm  bool
	HasMSS    bool
	HasWScale bool
	HasTS     bool
	TSVal     uint32
	TSEcr     uint32
	NSACK     uint8 // number of SACK blocks in SACK[:NSACK]
	SACK      [4]SACKBlock
	SACKOpt   bool // a SACK option was present (possibly with no blocks)
	TFO       bool // TCP Fast Open option (kind 34, or experimental 254/0xF989)
	TFOCookie int  // TFO cookie length (0 = cookie request)
	MPTCP     bool // a Multipath TCP option (kind 30) was present; kept raw
	Unknown   bool // an option of a kind not listed above was present
	Malformed bool // the option area was cut short or had a bad length
	Raw       []byte
}

// Note flags facts about how a segment was captured that are normal but worth
// knowing: offloads, truncation, reassembly.
type Note uint8

const (
	NoteTSO         Note = 1 << iota // IPv4 total length 0, or IPv6 payload length 0 without jumbo option: length taken from the wire (TSO/GSO, BIG TCP)
	NoteJumbo                        // IPv6 jumbo payload option
	NoteTruncated                    // payload not entirely captured (snaplen)
	NoteReassembled                  // carried in IP fragments, reassembled
	NotePadding                      // bytes after the IP datagram (Ethernet padding/trailer) ignored
	NoteOverSnaplen                  // the record was longer than the file's snaplen
	NoteBadLength                    // IPv4 length beyond the packet on the wire, with a bad header checksum: Len cut to what the wire carried
)

// Segment is one TCP segment, decoded once. The slices (Payload, Opts.Raw)
// alias the frame's buffer and are valid only while the frame is.
type Segment struct {
	Frame    int64 // 1-based frame number in its file (Wireshark's frame.number)
	File     int   // input index
	TS       int64 // ns since the Unix epoch
	Src, Dst netip.AddrPort
	VLAN     VLANs
	Seq, Ack seqnum.Value
	Flags    Flags
	Window   uint16 // raw window field (unscaled)
	Urgent   uint16
	Checksum uint16
	Len      int    // payload length declared by the IP header (sequence space, TSO- and snaplen-safe)
	Payload  []byte // payload bytes actually captured (len ≤ Len)
	Opts     Options
	TTL      uint8  // IPv4 TTL or IPv6 hop limit
	IPID     uint32 // IPv4 identification (IPv6: fragment id when fragmented, else 0)
	// IPLen is the length of the IP datagram carrying the segment: IPv4's
	// total length, IPv6's payload length + 40 (the length on the wire for
	// a TSO/GSO send that left it 0; header + TCP segment for a datagram
	// reassembled from fragments). Zeek's conn.log sums it (ip_bytes).
	IPLen uint32
	DF    bool // IPv4 Don't Fragment
	IPv6  bool
	Notes Note
}

// Captured is the number of payload bytes present in the capture.
func (s *Segment) Captured() int { return len(s.Payload) }

// LogicalLen is the segment's length in sequence space: payload + 1 for SYN +
// 1 for FIN. The single definition used everywhere.
func (s *Segment) LogicalLen() seqnum.Size {
	n := seqnum.Size(s.Len)
	if s.Flags&SYN != 0 {
		n++
	}
	if s.Flags&FIN != 0 {
		n++
	}
	return n
}

// VLANs is the stack of 802.1Q/802.1ad tags on a frame, outermost first.
type VLANs struct {
	N   uint8
	IDs [2]uint16
}

// String renders "10" or "10.20" (outer.inner), "" when untagged.
func (v VLANs) String() string {
	switch v.N {
	case 0:
		return ""
	case 1:
		return itoa(int(v.IDs[0]))
	}
	return itoa(int(v.IDs[0])) + "." + itoa(int(v.IDs[1]))
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [8]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
