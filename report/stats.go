package report

// DirStats is one direction's statistics (the sender's point of view: "sent"
// packets and bytes, the RTT of its data, the window it advertised).
// Durations are in milliseconds, rates in bytes per second.
type DirStats struct {
	Packets       int64 `json:"total_packets"`
	RSTs          int64 `json:"resets"`
	AckPkts       int64 `json:"ack_pkts"`        // packets with ACK set
	PureAcks      int64 `json:"pure_acks"`       // ACK, no data, no SYN/FIN/RST
	SACKPkts      int64 `json:"sack_pkts"`       // ACKs carrying SACK blocks
	DSACKPkts     int64 `json:"dsack_pkts"`      // of which D-SACK (RFC 2883)
	MaxSACKBlocks int   `json:"max_sack_blocks"` // most blocks in one ACK
	UniqueBytes   int64 `json:"unique_bytes"`    // data bytes not sent before
	DataPkts      int64 `json:"data_pkts"`
	DataBytes     int64 `json:"data_bytes"`
	// RexmtPkts and RexmtBytes count retransmitted sequence space, SYN and
	// FIN included as tcptrace does.
	RexmtPkts      int64 `json:"rexmt_pkts"`
	RexmtBytes     int64 `json:"rexmt_bytes"`
	ZWndProbePkts  int64 `json:"zwnd_probe_pkts"` // sent while the peer's window was 0
	ZWndProbeBytes int64 `json:"zwnd_probe_bytes"`
	OutOfOrderPkts int64 `json:"out_of_order_pkts"`
	PushedPkts     int64 `json:"pushed_pkts"` // data packets with PSH
	SYNs           int64 `json:"syn_pkts"`
	FINs           int64 `json:"fin_pkts"`
	UrgentPkts     int64 `json:"urgent_pkts"`
	UrgentBytes    int64 `json:"urgent_bytes"` // sum of urgent pointers
	HWDups         int64 `json:"hw_dups"`      // same IPv4 ID and seq as one of the last 8

	WScaleReq      bool    `json:"req_window_scale"` // sent a window-scale option
	TimestampsReq  bool    `json:"req_timestamps"`   // sent a timestamp option
	SACKReq        bool    `json:"req_sack"`         // sent SACK-permitted
	AdvWindowScale int     `json:"adv_window_scale"` // shift in use (0 unless both asked; >14 taken as 14)
	MSS            int     `json:"mss_requested"`    // last MSS option sent, 0 if none
	SegSizeMin     int64   `json:"seg_size_min"`
	SegSizeMax     int64   `json:"seg_size_max"`
	SegSizeAvg     float64 `json:"seg_size_avg"`

	// Advertised window, scaled once both sides asked for scaling (the SYN's
	// own unscaled window is then forgotten, as in tcptrace). WinAvg is over
	// the packets since the first scaled window once both directions have
	// sent one, else over all packets (tcptrace's rule).
	WinMin        int64   `json:"win_min"`
	WinMax        int64   `json:"win_max"`
	WinAvg        float64 `json:"win_avg"`
	ZeroWinAdv    int64   `json:"zero_win_adv"`
	InitWinBytes  int64   `json:"initial_window_bytes"` // data sent before the first ACK of data
	InitWinPkts   int64   `json:"initial_window_pkts"`
	MaxInFlight   int64   `json:"max_bytes_in_flight"` // highest seq sent − highest ACK seen
	HasStreamLen  bool    `json:"has_stream_length"`   // SYN and FIN seen
	StreamLength  int64   `json:"stream_length"`       // FIN (or last seq on RST) − SYN − 1
	MissedData    int64   `json:"missed_data"`         // StreamLength − UniqueBytes
	TruncBytes    int64   `json:"truncated_bytes"`     // payload not captured (snaplen)
	TruncPkts     int64   `json:"truncated_pkts"`
	DataXmitSec   float64 `json:"data_xmit_time_s"` // first to last data packet
	IdleMaxMs     float64 `json:"idle_max_ms"`
	ThroughputBps float64 `json:"throughput_bps"` // data bytes (with retransmissions) / connection duration
	GoodputBps    float64 `json:"goodput_bps"`    // unique bytes / duration (tcptrace's "throughput")

	// RTT of this direction's data: from a segment to the ACK that covers
	// exactly its end, never from a retransmitted segment (Karn), nor from one
	// ACKed after an earlier segment was retransmitted (post-loss).
	RTTSamples     int64   `json:"rtt_samples"`
	RTTMinMs       float64 `json:"rtt_min_ms"`
	RTTAvgMs       float64 `json:"rtt_avg_ms"`
	RTTMaxMs       float64 `json:"rtt_max_ms"`
	RTTStdevMs     float64 `json:"rtt_stdev_ms"`
	HandshakeRTT   bool    `json:"has_handshake_rtt"`
	HandshakeRTTMs float64 `json:"handshake_rtt_ms"` // client: SYN→SYN-ACK; server: SYN-ACK→ACK
	AmbiguousAcks  int64   `json:"ambiguous_acks"`   // ACKs of retransmitted segments (no sample)
	PostLossAcks   int64   `json:"post_loss_acks"`
	CumAcked       int64   `json:"segs_cum_acked"` // segments ACKed only cumulatively
	DupAcks        int64   `json:"dup_acks"`       // duplicate ACKs received for this data
	TripleDupAcks  int64   `json:"triple_dup_acks"`
	// RTT from timestamp echoes: a TSval of this direction to the first
	// packet of the peer echoing it.
	TSRTTSamples int64   `json:"ts_rtt_samples"`
	TSRTTMinMs   float64 `json:"ts_rtt_min_ms"`
	TSRTTAvgMs   float64 `json:"ts_rtt_avg_ms"`
	TSRTTMaxMs   float64 `json:"ts_rtt_max_ms"`
	// Retransmissions: the most times one segment was sent again, and the
	// time from the previous transmission to each retransmission (RTO).
	MaxRetrans   int     `json:"max_retrans"`
	RetransCount int64   `json:"retrans_time_samples"`
	RetransMinMs float64 `json:"retrans_time_min_ms"`
	RetransAvgMs float64 `json:"retrans_time_avg_ms"`
	RetransMaxMs float64 `json:"retrans_time_max_ms"`

	SegmentsEvicted int64 `json:"segments_evicted"` // records lost to the memory bound
}
