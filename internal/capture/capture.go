// Package capture reads frames from capture files (pcap, pcapng, gzip-compressed
// either way, or standard input) and numbers them exactly as Wireshark's
// frame.number does: 1-based over every record of a file, whatever it carries.
package capture

import (
	"fmt"
)

// Frame is one captured record. Data aliases the reader's buffer: it is valid
// only until the next call to Next on the same Source (zero copy).
type Frame struct {
	N        int64  // 1-based frame number within its file (Wireshark's frame.number)
	File     int    // index of the input this frame came from (0 for a single file)
	TS       int64  // capture time, nanoseconds since the Unix epoch (UTC)
	LinkType uint32 // LINKTYPE_* of the record (per interface in pcapng)
	Iface    int    // pcapng interface index (0 for pcap)
	CapLen   int    // bytes present in Data
	OrigLen  int    // length of the packet on the wire
	Offset   int64  // byte offset of the record header in the (decompressed) file
	Data     []byte

	// OverSnaplen reports a record longer than the snapshot length declared
	// by its file (pcap) or interface (pcapng). Such records are delivered
	// whole when they stay within libpcap's maximum (262144 bytes); the
	// analyzer counts them.
	OverSnaplen bool

	// DropsBefore is set by live sources (internal/live): how many packets
	// the kernel dropped on this frame's interface, for lack of room in its
	// capture ring, just before this frame. 0 for files.
	DropsBefore uint64
}

// Source yields frames in file order. Next returns io.EOF at the clean end of
// input and an *Error when the input is damaged; frames read before the damage
// have been returned already and remain valid results.
type Source interface {
	Next() (*Frame, error)
	// Name is the file name as the user gave it ("-" for standard input).
	Name() string
	// Size is the input's size in bytes when known (0 otherwise), and Pos how many
	// bytes of it have been consumed: together they drive progress display.
	Size() int64
	Pos() int64
	Close() error
}

// IsStable reports whether src's frames stay valid after the next call to
// Next (until Close), so that a consumer may keep them without copying: true
// for files read through a memory mapping.
func IsStable(src Source) bool {
	s, ok := src.(interface{ Stable() bool })
	return ok && s.Stable()
}

// ErrKind classifies damage so the CLI can map it to an exit code.
type ErrKind int

const (
	ErrOpen       ErrKind = iota + 1 // file missing or unreadable
	ErrNotCapture                    // not a pcap/pcapng file (bad magic)
	ErrTruncated                     // input ends inside a header or record
	ErrCorrupt                       // a block or record is malformed
)

func (k ErrKind) String() string {
	switch k {
	case ErrOpen:
		return "cannot open"
	case ErrNotCapture:
		return "not a capture file"
	case ErrTruncated:
		return "truncated"
	case ErrCorrupt:
		return "corrupt"
	}
	return "error"
}

// Error describes damaged or unreadable input: which file, which frame (the
// number the next record would have had) and at which byte offset.
type Error struct {
	File   string
	Kind   ErrKind
	Frame  int64 // frame number of the damaged record (0 when not applicable)
	Offset int64 // byte offset in the (decompressed) input, -1 when unknown
	Msg    string
}

func (e *Error) Error() string {
	s := e.File + ": " + e.Kind.String()
	if e.Frame > 0 {
		s += fmt.Sprintf(" at frame %d", e.Frame)
	}
	if e.Offset >= 0 {
		s += fmt.Sprintf(" (byte offset %d)", e.Offset)
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s
}
