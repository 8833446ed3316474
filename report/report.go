// Package report is tcptrace's report model: plain data with JSON tags, built
// by the analysis engine and read by the renderers. It imports nothing of
// gopacket or the state machine, so renderers stay independent of them.
// The JSON schema is documented in docs/json.md; keep the two in step.
package report

// Dir holds a value per direction: client→server and server→client.
//
// In JSON a side that is 0 is absent, and a pair whose sides are both 0 is
// absent where the field is marked omitzero (IsZero).
type Dir struct {
	Client int64 `json:"client,omitzero"`
	Server int64 `json:"server,omitzero"`
}

// IsZero reports whether both sides are 0 (encoding/json's omitzero).
func (d Dir) IsZero() bool { return d.Client == 0 && d.Server == 0 }

// Role says how a connection's client was chosen: "syn" (the SYN's sender),
// "syn-ack", "port" or "first-packet". In JSON the usual case, "syn", is
// absent: only the roles chosen some other way are written.
type Role string

// IsZero reports whether the role is the default one (encoding/json's
// omitzero): chosen by the SYN, or not set.
func (r Role) IsZero() bool { return r == "" || r == "syn" }

// AnomalyBefore is the order of anomaly records: capture time, then file,
// frame and kind.
func AnomalyBefore(a, b *Anomaly) bool {
	if a.TS != b.TS {
		return a.TS < b.TS
	}
	if a.FileIdx != b.FileIdx {
		return a.FileIdx < b.FileIdx
	}
	if a.Frame != b.Frame {
		return a.Frame < b.Frame
	}
	return a.Kind < b.Kind
}

// Conn is one TCP connection.
type Conn struct {
	Type       string  `json:"type"` // always "conn"
	ID         int     `json:"id"`
	Client     string  `json:"client"` // ip:port, IPv6 as [addr]:port
	Server     string  `json:"server"`
	VLAN       string  `json:"vlan,omitempty"`        // "10", or "10.20" for QinQ (outer.inner)
	ServerVLAN string  `json:"vlan_server,omitempty"` // the server's VLAN when the directions differ ("none" = untagged)
	RoleBy     Role    `json:"role_by,omitzero"`      // how the client was chosen: syn (absent in JSON), syn-ack, port, first-packet
	FirstFile  string  `json:"first_file,omitempty"`
	FirstFrame int64   `json:"first_frame"`
	LastFile   string  `json:"last_file,omitempty"`
	LastFrame  int64   `json:"last_frame,omitempty"` // absent in JSON for a connection of one segment (render.JSONRecord)
	Start      string  `json:"start"`                // RFC 3339 UTC, nanoseconds
	Duration   float64 `json:"duration,omitzero"`    // seconds from first to last packet; absent when 0
	Packets    Dir     `json:"packets"`
	Bytes      Dir     `json:"bytes,omitzero"` // TCP payload bytes (from the IP length: counts bytes lost to snaplen); absent when 0 both ways, as syn, fin and rst
	SYN        Dir     `json:"syn,omitzero"`   // SYN segments (with or without ACK)
	FIN        Dir     `json:"fin,omitzero"`
	RST        Dir     `json:"rst,omitzero"`
	State      string  `json:"state"` // one-line summary: "<handshake>, <close>[ by <side>]"

	Handshake   *Handshake       `json:"handshake,omitempty"`
	Close       *Close           `json:"close,omitempty"`
	ClosedBy    string           `json:"closed_by,omitempty"`
	ClientState string           `json:"client_state,omitempty"` // final RFC 9293 state of each endpoint
	ServerState string           `json:"server_state,omitempty"`
	ConnState   string           `json:"conn_state,omitempty"` // Zeek's conn_state
	History     string           `json:"history,omitempty"`    // Zeek's history (upper case = Zeek's originator)
	ZeekFlipped bool             `json:"zeek_flipped,omitempty"`
	Anomalies   map[string]int64 `json:"anomalies,omitempty"` // count per anomaly kind
	RTTms       *float64         `json:"rtt_ms,omitempty"`    // handshake RTT (SYN → ACK at the capture point), else the average of the per-ACK samples
	Stats       *DirPair         `json:"stats,omitempty"`     // per-direction statistics (tcptrace -l)
	Transitions []Transition     `json:"transitions,omitempty"`
	Resets      []Reset          `json:"resets,omitempty"`
	Reassembly  *Reassembly      `json:"reassembly,omitzero"`               // the reassembled byte streams (absent when neither side sent a byte or a FIN)
	Gaps        []Gap            `json:"gaps,omitempty"`                    // the first gaps of both streams (reassembly has the counts)
	Truncated   int64            `json:"truncated_packets,omitempty"`       // packets whose payload the snaplen cut
	Reused      bool             `json:"reused_tuple,omitempty"`            // an earlier connection used the same tuple
	AnomDropped int64            `json:"anomaly_records_dropped,omitempty"` // anomalies counted but not listed (beyond 10,000 records per connection)
	Evicted     bool             `json:"evicted_early,omitempty"`           // finished early: the connection table was full (its later segments start a new connection)
	CaptureLoss bool             `json:"incomplete_capture,omitempty"`      // tcptrace live: the kernel dropped packets while it was open; missing segments may be the capture's, not the network's

	// Zeek is the rest of Zeek's conn.log row for the connection Zeek
	// would log (render.ZeekLog); not in JSON.
	Zeek ZeekConn `json:"-"`

	// Rows is the connection's timeline (tcptrace timeline), one per segment.
	Rows []Row `json:"-"`
	// Frames lists every frame of the connection (analyze.Config.Frames:
	// --write-pcap, --wireshark-filter).
	Frames *FrameList `json:"-"`

	// Sort keys and file indices, not rendered.
	StartNS  int64 `json:"-"`
	LastNS   int64 `json:"-"`
	FirstIdx int   `json:"-"`
	LastIdx  int   `json:"-"`
}

// ZeekConn is what Zeek's conn.log says of a connection beyond conn_state
// and history, in Zeek's originator/responder frame: the numbers of the
// Zeek connection that conn_state and history describe (one tcptrace
// connection can be several Zeek connections, docs/zeek.md). Zeek counts
// the packets it saw of that connection, so a SPAN duplicate, which
// tcptrace keeps from Zeek's replay, is not among them.
type ZeekConn struct {
	First, Last              int64  // ns since the epoch: its first and last packet
	OrigPkts, RespPkts       int64  // packets per side
	OrigIPBytes, RespIPBytes uint64 // their IP datagrams' lengths
	OrigBytes, RespBytes     uint64 // payload bytes per side, from sequence numbers
	MissedBytes              uint64 // bytes in content gaps, both sides
}

// Handshake says how the connection began.
type Handshake struct {
	Class         string    `json:"class"`
	SynFrame      int64     `json:"syn_frame,omitempty"`
	SynAckFrame   int64     `json:"synack_frame,omitempty"`
	AckFrame      int64     `json:"ack_frame,omitempty"`
	SynRetrans    int       `json:"syn_retransmissions,omitempty"`
	Backoff       []float64 `json:"syn_backoff,omitempty"` // seconds between successive SYNs
	RTTClient     *float64  `json:"rtt_client,omitempty"`  // SYN → SYN-ACK at the capture point (s)
	RTTServer     *float64  `json:"rtt_server,omitempty"`  // SYN-ACK → ACK at the capture point (s)
	MSS           *Dir      `json:"mss,omitzero"`
	WScale        *WScale   `json:"wscale,omitzero"` // absent when neither SYN offered it and neither was seen
	SACKPermitted bool      `json:"sack_permitted,omitempty"`
	Timestamps    bool      `json:"timestamps,omitempty"`
	TFO           bool      `json:"tfo,omitempty"`
	SynData       int       `json:"syn_data,omitempty"`
	ECN           bool      `json:"ecn,omitempty"`
}

// WScale is the window-scale shift each side offered (-1 = none) and whether
// scaling is known (both SYNs seen).
type WScale struct {
	Client int  `json:"client"`
	Server int  `json:"server"`
	Known  bool `json:"known"`
}

// IsZero reports whether w says nothing: no side offered a shift and the
// scale is not known (then it is absent from JSON).
func (w *WScale) IsZero() bool { return w == nil || (w.Client < 0 && w.Server < 0 && !w.Known) }

// Close says how the connection ended.
type Close struct {
	Class         string  `json:"class"`
	FirstFIN      int64   `json:"first_fin_frame,omitempty"`
	FirstFINBy    string  `json:"first_fin_by,omitempty"` // client or server: who sent the first FIN (closed_by may name the RST's sender)
	SecondFIN     int64   `json:"second_fin_frame,omitempty"`
	LastACK       int64   `json:"last_ack_frame,omitempty"`
	ResetFrame    int64   `json:"rst_frame,omitempty"`
	ResetBy       string  `json:"rst_by,omitempty"`
	HalfCloseData int64   `json:"half_close_bytes,omitempty"`
	HalfCloseDur  float64 `json:"half_close_duration,omitempty"`
	IdleFor       float64 `json:"idle_before_end,omitempty"`
}

// DirPair holds the statistics of both directions: what the client sent and
// what the server sent.
type DirPair struct {
	Client DirStats `json:"client"`
	Server DirStats `json:"server"`
}

// Anomaly is one deviation found on one frame.
type Anomaly struct {
	Type     string  `json:"type"` // always "anomaly"
	Conn     int     `json:"conn"`
	File     string  `json:"file,omitempty"` // input file, when several are analyzed
	Frame    int64   `json:"frame"`
	Time     string  `json:"time"`
	Kind     string  `json:"kind"`
	Severity string  `json:"severity"` // chat, note, warn, error (Wireshark's scale)
	Dir      string  `json:"dir"`      // client or server: who sent the frame
	Related  []int64 `json:"related,omitempty"`
	Detail   string  `json:"detail"`
	Copies   *Copies `json:"copies,omitempty"` // conflicting_retransmission: the two copies, and which looks forged

	TS      int64 `json:"-"`
	FileIdx int   `json:"-"`
}

// Copies are the two copies of bytes that differ (conflicting_retransmission)
// and the judgment of which one looks forged: the copy whose IP TTL / hop
// limit, or IPv4 ID, is unlike the sender's other packets in that direction.
type Copies struct {
	Offset     int64  `json:"offset"`               // stream offset of the first byte where they differ
	Len        int64  `json:"len"`                  // bytes from there to the last one that differs
	Kept       int64  `json:"kept"`                 // the frame that arrived first: the receiver kept its bytes
	Dropped    int64  `json:"dropped"`              // the later copy
	KeptTTL    uint8  `json:"kept_ttl"`             // their TTL / hop limit
	DroppedTTL uint8  `json:"dropped_ttl"`          //
	SenderTTL  uint8  `json:"sender_ttl,omitempty"` // the TTL of most of the sender's other packets (absent: none, or no majority)
	Forged     int64  `json:"forged,omitempty"`     // the copy that looks forged (kept or dropped); absent: cannot tell
	Why        string `json:"why"`                  // the evidence ("ttl 46, sender's other packets 57; ip id …"), or why neither copy stands out
}

// Transition is one endpoint's state change and the frame that caused it.
type Transition struct {
	Frame    int64  `json:"frame"`
	Endpoint string `json:"endpoint"` // client or server
	From     string `json:"from"`
	To       string `json:"to"`
}

// Reset is one RST segment checked against its receiver (RFC 5961).
type Reset struct {
	Frame         int64  `json:"frame"`
	Sender        string `json:"sender"`
	SenderState   string `json:"sender_state"`
	ReceiverState string `json:"receiver_state"`
	Verdict       string `json:"verdict"` // accepted, in_window (challenge ACK expected), out_of_window, unchecked
	Seq           uint32 `json:"seq"`
	Expected      uint32 `json:"expected_seq"`
	Window        uint32 `json:"window,omitempty"`
	WindowKnown   bool   `json:"window_known"`
	ChallengeACK  int64  `json:"challenge_ack_frame,omitempty"`
	Len           int    `json:"len,omitempty"`
	NoAck         bool   `json:"-"` // a bare RST, without ACK (no socket's own abort: those carry ACK)

	// The diagnosis (tcptrace resets).
	Time           string     `json:"time,omitempty"`
	Accepted       string     `json:"accepted,omitempty"` // exact, in-window, out-of-window, unknown
	Cause          string     `json:"cause,omitempty"`    // refused, abort, reset-after-close, half-open, idle-timeout-suspect, retransmission-timeout, middlebox-suspect, unknown
	Detail         string     `json:"detail,omitempty"`
	LinuxReason    string     `json:"linux_reason,omitempty"`    // the sk_rst_reason a Linux sender would have logged, inferred from the wire (empty: the wire cannot tell)
	KernelReason   string     `json:"kernel_reason,omitempty"`   // the sk_rst_reason the kernel itself logged (tcp_send_reset), when its events were read
	KernelState    string     `json:"kernel_state,omitempty"`    // the sending socket's state in that event (TCP_LISTEN, TCP_CLOSE, UNKNOWN…)
	KernelAccepted *bool      `json:"kernel_accepted,omitempty"` // the receiving kernel's word, when it was traced: it accepted the RST (tcp_receive_reset), or did not (RFC 5961: ignored, or answered with a challenge ACK)
	FollowsFrame   int64      `json:"follows_frame,omitempty"`   // a follow-up RST: the frame of the sender's first RST, whose cause it shares
	Signals        []Signal   `json:"signals,omitempty"`         // the evidence for and against a third party (forged RST)
	Evidence       []Evidence `json:"evidence,omitempty"`
	AppSees        string     `json:"app_sees,omitempty"`        // whose application saw what
	Unacked        *Dir       `json:"unacked,omitzero"`          // bytes each side had sent that the other had not acknowledged
	SinceData      *Seconds   `json:"since_data_s,omitempty"`    // seconds since each side's last data (-1: none)
	LastDataFrames *Dir       `json:"last_data_frames,omitzero"` // frame of each side's last data (0: none)
	Recent         []SegBrief `json:"recent,omitempty"`          // the last segments up to the RST
	TS             int64      `json:"-"`
}

// Signal is one piece of evidence about who really sent a RST: a header
// field unlike the claimed sender's own packets, a timing that it could not
// have met, a sequence number it would not have used, or its own packets
// after the RST. Forged (true) counts towards middlebox-suspect; an
// observation that speaks for the claimed sender has Forged false.
type Signal struct {
	Name   string `json:"name"`  // ttl, ip_id, df, window, options, timing, seq_change, ack_change, data_after_rst, unacceptable, ...
	Value  string `json:"value"` // what was seen, with the sender's usual value: "ttl 46, sender's other packets 49"
	Forged bool   `json:"forged"`
	Frame  int64  `json:"frame,omitempty"` // the frame that shows it, when another than the RST
}

// Evidence is one frame that supports a claim.
type Evidence struct {
	Frame int64  `json:"frame"`
	What  string `json:"what"`
}

// Seconds holds a duration per direction, in seconds.
type Seconds struct {
	Client float64 `json:"client"`
	Server float64 `json:"server"`
}

// SegBrief is one segment, briefly.
type SegBrief struct {
	Frame  int64  `json:"frame"`
	Sender string `json:"sender"`
	Flags  string `json:"flags"`
	Len    int    `json:"len"`
	Time   string `json:"time"`
	TS     int64  `json:"-"`
}

// Summary closes every report.
type Summary struct {
	Type           string           `json:"type"` // always "summary"
	Files          []string         `json:"files"`
	Frames         int64            `json:"frames"`
	TCPSegments    int64            `json:"tcp_segments"`
	Connections    int              `json:"connections"`
	Selected       bool             `json:"selected,omitempty"`               // --filter or --conn restricted the connections shown
	ConnsTotal     int              `json:"connections_total,omitempty"`      // all connections found, when a selection is active
	Skipped        map[string]int64 `json:"skipped"`                          // frames without a TCP segment, by reason
	UnsupportedLTs map[string]int64 `json:"unsupported_link_types,omitempty"` // LINKTYPE number → frames
	Truncated      int64            `json:"truncated_segments"`               // TCP segments with payload cut by the snaplen
	OverSnaplen    int64            `json:"over_snaplen_records,omitempty"`
	Fragments      *Fragments       `json:"ip_fragments,omitempty"`
	KernelEvents   *KernelEvents    `json:"kernel_events,omitempty"` // --kernel-events: the join of the kernel's record to the capture
	Live           *Live            `json:"live,omitempty"`          // tcptrace live: the interfaces and what the kernel dropped
	Reassembly     *ReasmSummary    `json:"reassembly,omitempty"`
	ConnsEvicted   int              `json:"connections_evicted,omitempty"` // finished early because the table was full (max_connections)
	MaxConns       int              `json:"max_connections,omitempty"`     // the cap on connections held at once
	Errors         []string         `json:"errors,omitempty"`              // input damage, one line each
	First          string           `json:"first_packet,omitempty"`
	Last           string           `json:"last_packet,omitempty"`

	// Interrupted: SIGINT or SIGTERM stopped the reading. What was read
	// is reported whole, connections still open then as open (as at the
	// end of a capture); LastFrame (of LastFile) is the last frame read.
	Interrupted bool   `json:"interrupted,omitempty"`
	Signal      string `json:"signal,omitempty"` // SIGINT or SIGTERM
	LastFrame   int64  `json:"last_frame,omitempty"`
	LastFile    string `json:"last_file,omitempty"`
}

// ReasmSummary summarises stream reassembly over all connections.
type ReasmSummary struct {
	Delivered     int64 `json:"delivered"`
	OutOfOrder    int64 `json:"out_of_order"`
	Duplicate     int64 `json:"duplicate"`
	GapBytes      int64 `json:"gap_bytes"`
	Gaps          int64 `json:"gaps"`
	BudgetFlushes int64 `json:"budget_flushes"`
	PeakBuffered  int64 `json:"peak_buffered"` // most bytes held out of order at once, all connections
	ConnBudget    int64 `json:"conn_budget"`   // the limits in force
	GlobalBudget  int64 `json:"global_budget"`
}

// Fragments summarises IP reassembly.
type Fragments struct {
	Fragments int `json:"fragments"`
	Completed int `json:"reassembled"`
	Pending   int `json:"incomplete"`
	Evicted   int `json:"evicted"`
	TimedOut  int `json:"timed_out"`
	Overlaps  int `json:"overlaps"`
	Conflicts int `json:"conflicts"`
}

// Report is the whole result of an analysis.
type Report struct {
	Conns     []*Conn
	Anomalies []*Anomaly // in capture order
	Summary   Summary
}

// Live describes a live capture (tcptrace live).
type Live struct {
	Interfaces  []LiveIface `json:"interfaces"`
	Filter      string      `json:"filter,omitempty"`       // the capture filter (-f), compiled to BPF in the kernel
	Snaplen     int         `json:"snaplen"`                // bytes kept of each packet
	Stopped     string      `json:"stopped"`                // why the capture ended: interrupt, count, duration, error
	SuperFrames int64       `json:"super_frames,omitempty"` // GRO/TSO packets larger than the MTU, analyzed as they are
	KernelTrace string      `json:"kernel_trace"`           // "on", or why the kernel's word was off
	Written     string      `json:"written,omitempty"`      // -w: the pcapng file everything captured went to
	Dropped     int64       `json:"dropped"`                // packets the kernel dropped before tcptrace read them, all interfaces
	DropConns   int         `json:"incomplete_connections"` // connections open while the kernel dropped packets
}

// LiveIface is one interface of a live capture and its kernel counters
// (PACKET_STATISTICS).
type LiveIface struct {
	Name     string `json:"name"`
	Received int64  `json:"received"` // packets the kernel passed to the socket (after the filter)
	Dropped  int64  `json:"dropped"`  // ... and dropped for want of room in the ring
}

// KernelEvents says how the kernel's record of its resets (--kernel-events)
// joined the capture.
type KernelEvents struct {
	File       string `json:"file"`
	SendResets int    `json:"send_resets"` // tcp_send_reset events read
	Joined     int    `json:"joined"`      // ... joined to a RST of the capture
	NotLogged  int    `json:"not_logged"`  // RSTs from a traced address, within the trace's time, that the kernel did not log
}

// Reassembly holds the byte counts of each direction's reassembled stream.
type Reassembly struct {
	Client StreamStats `json:"client"`
	Server StreamStats `json:"server"`
}

// IsZero reports whether r says nothing: neither stream had a byte, a gap
// or a FIN (then it is absent from JSON).
func (r *Reassembly) IsZero() bool {
	return r == nil || (r.Client == StreamStats{} && r.Server == StreamStats{})
}

// StreamStats are one direction's reassembly counts (bytes unless named).
type StreamStats struct {
	Delivered     int64 `json:"delivered"`                // captured bytes delivered in order
	OutOfOrder    int64 `json:"out_of_order"`             // bytes that arrived above a hole and waited
	Duplicate     int64 `json:"duplicate"`                // bytes that arrived again after a first copy
	GapBytes      int64 `json:"gap_bytes"`                // bytes never seen (all gap reasons)
	Gaps          int64 `json:"gaps"`                     // number of gaps
	Snaplen       int64 `json:"snaplen_bytes,omitempty"`  // part of gap_bytes: cut by the snaplen
	Conflicts     int64 `json:"conflicts,omitempty"`      // overlaps whose bytes differ from the first copy
	AfterFIN      int64 `json:"after_fin,omitempty"`      // bytes beyond the FIN, ignored
	RSTData       int64 `json:"rst_data,omitempty"`       // bytes carried by RSTs (diagnostic, never delivered)
	BudgetFlushes int64 `json:"budget_flushes,omitempty"` // holes given up to stay within a memory budget
	PeakBuffered  int64 `json:"peak_buffered,omitempty"`  // most bytes held out of order at once (with bookkeeping)
	FIN           bool  `json:"fin"`                      // the FIN was delivered in order
}

// Gap is a range of a stream whose bytes the capture does not hold.
type Gap struct {
	Dir     string `json:"dir"`    // client or server: the sender of the missing bytes
	Offset  int64  `json:"offset"` // stream offset: 0 is the first byte after the SYN
	Len     int64  `json:"len"`
	Reason  string `json:"reason"` // loss, acked_unseen, snaplen, budget
	Frame   int64  `json:"frame,omitempty"`
	File    string `json:"file,omitempty"`
	FileIdx int    `json:"-"`
}

// Row is one segment of a connection's timeline.
type Row struct {
	Frame       int64        `json:"frame"`
	File        string       `json:"file,omitempty"`
	Time        string       `json:"time"`
	Rel         float64      `json:"rel"` // seconds since the connection's first packet
	Dir         string       `json:"dir"` // the sender: client (→) or server (←)
	Flags       string       `json:"flags"`
	Seq         uint32       `json:"seq"` // relative: the sender's ISN is 0 (its first segment's when no SYN was captured)
	Ack         uint32       `json:"ack,omitempty"`
	HasAck      bool         `json:"-"`
	Len         int          `json:"len"`
	Win         uint32       `json:"win"`            // scaled when both SYNs negotiated scaling
	SACK        [][2]uint32  `json:"sack,omitempty"` // SACK blocks [left, right), relative to the data sender's (the peer's) ISN, as ack
	Transitions []Transition `json:"transitions,omitempty"`
	Anomalies   []RowAnomaly `json:"anomalies,omitempty"`
	Explain     []string     `json:"explain,omitempty"`
	TS          int64        `json:"-"`
	FileIdx     int          `json:"-"`
}

// RowAnomaly is an anomaly shown under its row.
type RowAnomaly struct {
	Kind     string `json:"kind"`
	Severity string `json:"severity"`
	Detail   string `json:"detail,omitempty"`
}
