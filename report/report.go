// Package report is tcptrace's report model: plain data with JSON tags, built
// by the analysis engine and read by the renderers. It imports nothing of
// gopacket or the state machine, so renderers stay independent of them.
// The JSON schema is documented in docs/json.md; keep the two in step.
package report

// Dir holds a value per direction: client→server and server→client.
type Dir struct {
	Client int64 `json:"client"`
	Server int64 `json:"server"`
}

// Conn is one TCP connection.
type Conn struct {
	Type       string  `json:"type"` // always "conn"
	ID         int     `json:"id"`
	Client     string  `json:"client"` // ip:port, IPv6 as [addr]:port
	Server     string  `json:"server"`
	VLAN       string  `json:"vlan,omitempty"`        // "10", or "10.20" for QinQ (outer.inner)
	ServerVLAN string  `json:"vlan_server,omitempty"` // the server's VLAN when the directions differ ("none" = untagged)
	RoleBy     string  `json:"role_by"`               // how the client was chosen: syn, syn-ack, port, first-packet
	FirstFile  string  `json:"first_file,omitempty"`
	FirstFrame int64   `json:"first_frame"`
	LastFile   string  `json:"last_file,omitempty"`
	LastFrame  int64   `json:"last_frame"`
	Start      string  `json:"start"`    // RFC 3339 UTC, nanoseconds
	Duration   float64 `json:"duration"` // seconds from first to last packet
	Packets    Dir     `json:"packets"`
	Bytes      Dir     `json:"bytes"` // TCP payload bytes (from the IP length: counts bytes lost to snaplen)
	SYN        Dir     `json:"syn"`   // SYN segments (with or without ACK)
	FIN        Dir     `json:"fin"`
	RST        Dir     `json:"rst"`
	State      string  `json:"state"`
	Truncated  int64   `json:"truncated_packets,omitempty"` // packets whose payload the snaplen cut
	Reused     bool    `json:"reused_tuple,omitempty"`      // an earlier connection used the same tuple

	// Sort keys, not rendered.
	StartNS int64 `json:"-"`
}

// Summary closes every report.
type Summary struct {
	Type           string           `json:"type"` // always "summary"
	Files          []string         `json:"files"`
	Frames         int64            `json:"frames"`
	TCPSegments    int64            `json:"tcp_segments"`
	Connections    int              `json:"connections"`
	Skipped        map[string]int64 `json:"skipped"`                          // frames without a TCP segment, by reason
	UnsupportedLTs map[string]int64 `json:"unsupported_link_types,omitempty"` // LINKTYPE number → frames
	Truncated      int64            `json:"truncated_segments"`               // TCP segments with payload cut by the snaplen
	OverSnaplen    int64            `json:"over_snaplen_records,omitempty"`
	Fragments      *Fragments       `json:"ip_fragments,omitempty"`
	Errors         []string         `json:"errors,omitempty"` // input damage, one line each
	First          string           `json:"first_packet,omitempty"`
	Last           string           `json:"last_packet,omitempty"`
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
	Conns   []*Conn
	Summary Summary
}
