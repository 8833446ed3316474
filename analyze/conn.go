package analyze

import (
	"net/netip"

	"github.com/tcptrace/tcptrace/analyze/stats"
	"github.com/tcptrace/tcptrace/analyze/wsflags"
	"github.com/tcptrace/tcptrace/analyze/zeek"
	"github.com/tcptrace/tcptrace/reassembly"
	"github.com/tcptrace/tcptrace/report"
	"github.com/tcptrace/tcptrace/seqnum"
	"github.com/tcptrace/tcptrace/statemachine"
	"github.com/tcptrace/tcptrace/tcp"
)

// Conn is the engine's state for one connection, in named parts (their
// fields are promoted: c.ID, c.SM):
//
//   - identity: which connection it is and who plays which role;
//   - extent: its first and last segment;
//   - counters: what each direction sent, as counted on the wire;
//   - marks: what the engine noted about it (filter match, early eviction,
//     capture loss);
//   - connState: what the analyses keep (their replays, the byte streams,
//     the findings, the timeline), allocated when first needed: nil while
//     the connection is embryonic, only a few SYNs and RSTs kept in compact
//     form in held until it grows (tier.go);
//   - bk: the table's bookkeeping, which is not the connection's state.
//
// Every part belongs to the goroutine of the table that holds the
// connection.
type Conn struct {
	identity
	extent
	counters
	marks
	*connState
	held []heldSeg // an embryonic connection's segments, in order (tier.go)
	bk   tableBook
}

// connState is what the analyses keep of a connection.
type connState struct {
	blk *connBlock // the allocation it lives in
	replays
	byteStreams
	findings
	timelineRows
}

// identity is which connection this is.
type identity struct {
	ID             int
	Client, Server netip.AddrPort
	// vlans: the VLAN tags per direction. They differ when the two
	// directions of one connection cross the capture point on different
	// VLANs (asymmetric routing, router on a stick); then both keys lead to
	// this connection.
	vlans  [2]tcp.VLANs
	key    connKey  // the key it was created with
	extra  *connKey // the other key that leads to it (joinOtherVLAN), if any
	roleBy role     // how the roles were decided
	reused bool     // a new connection on the tuple of an earlier one
}

// extent is where the connection begins and ends in the input.
type extent struct {
	firstFile, lastFile   int32
	FirstFrame, LastFrame int64
	firstTS, lastTS       int64
}

// counters are what each direction sent.
type counters struct {
	Packets, nbytes  [2]int64
	syns, fins, rsts [2]uint32
	truncated        int64
	isn              [2]seqnum.Value
	isnSet           [2]bool
	synAck           bool // the server sent a SYN-ACK
}

// marks are what the engine noted about the connection.
type marks struct {
	matched bool // a segment matched the user's filter (or there is none)
	// evictedEarly: finished because the table was full (Config.MaxConns),
	// not because it ended or went idle.
	evictedEarly bool
	// captureLoss: a live capture's kernel dropped packets while this
	// connection was open (Engine.CaptureLoss).
	captureLoss bool
	// frames: its frames, with Config.Frames (frames.go).
	frames *report.FrameList
}

// replays are the analyses each segment goes through (Table.Add says in
// which order). All but SM are nil with Config.StreamsOnly.
type replays struct {
	SM    *statemachine.Conn // the replay of both endpoints
	zeek  *zeek.Tracker      // Zeek's conn_state and history for the same packets
	stats *stats.Conn        // tcptrace-style per-direction statistics and RTT
	ws    *wsflags.Analyzer  // Wireshark's tcp.analysis flags
	chk   *checker           // the checks of anomaly.go
	diag  *diag              // what the diagnosis of resets needs
	ip    [2]ipHabits        // each direction's TTLs and IP IDs (which copy of a conflict looks forged)
}

// byteStreams are the reassembled byte streams.
type byteStreams struct {
	stream [2]*reassembly.Stream // the reassembled byte stream of each direction
	budget reassembly.Budget
	sh     streams            // the streams' handler
	tap    reassembly.Handler // Config.Tap's handler, fed after sh
	gaps   []dirGap           // the first gaps, in stream order per direction
	// confFrame: the later copy of the last conflicting_retransmission of
	// each direction (one anomaly per copy).
	confFrame [2]int64
}

// findings are what the analysis concluded about the connection.
type findings struct {
	anomalies []anomaly          // in frame order
	anomCount map[anomKind]int64 // per kind
	// anomDropped counts anomalies beyond maxAnomalyRecords, counted but not kept.
	anomDropped int64
}

// timelineRows are the timeline's (Config.Rows).
type timelineRows struct {
	rows     rowState // what the next row needs to know of the ones before
	timeline []report.Row
}

// tableBook is the table's bookkeeping of a connection.
type tableBook struct {
	prev, next *Conn // in Table.lru, least recently active first, while live
	// sameTuple: the next older live connection of the same tuple (on
	// another VLAN) in Table.live's chain.
	sameTuple *Conn
	live      bool // in the table
	odd       bool // in Table.odd: last touched with a time older than the newest
	latest    bool // the latest connection created on its tuple (joinOtherVLAN)
	// done, when doneSet: an embryonic connection's held segments leave
	// both endpoints done (statemachine.Conn.Done). Table.done sets it when
	// Sweep first asks; a segment held since unsets it.
	done, doneSet bool
}

// Dir returns the direction of s within c.
func (c *Conn) Dir(s *tcp.Segment) tcp.Dir {
	if s.Src == c.Client {
		return tcp.Client
	}
	return tcp.Server
}

// Matched reports whether one of the connection's segments so far matched
// the selection's filter (Selection.Filter; always, without one).
func (c *Conn) Matched() bool { return c.matched }

// Closed reports whether the connection ended: FINs both ways or a RST.
func (c *Conn) Closed() bool {
	return (c.fins[tcp.Client] > 0 && c.fins[tcp.Server] > 0) || c.rsts[tcp.Client]+c.rsts[tcp.Server] > 0
}
