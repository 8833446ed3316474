// Package wsflags computes Wireshark's per-frame TCP analysis flags
// (tcp.analysis.*) with the conditions and precedence of Wireshark 4.0's
// tcp_analyze_sequence_number (../shared/TCP-REFERENCE.md §1), so that users
// can cross-check tcptrace in the tool they know. Pure: no I/O, no clock.
package wsflags

import (
	"time"

	"github.com/tcptrace/tcptrace/seqnum"
	"github.com/tcptrace/tcptrace/tcp"
)

// Flag is one tcp.analysis flag.
type Flag uint16

const (
	Retransmission Flag = 1 << iota
	FastRetransmission
	SpuriousRetransmission
	OutOfOrder
	LostSegment
	AckLostSegment
	DuplicateAck
	ZeroWindow
	ZeroWindowProbe
	ZeroWindowProbeAck
	WindowFull
	WindowUpdate
	KeepAlive
	KeepAliveAck
	numFlags = iota
)

var names = [...]string{
	"retransmission", "fast_retransmission", "spurious_retransmission", "out_of_order",
	"lost_segment", "ack_lost_segment", "duplicate_ack", "zero_window", "zero_window_probe",
	"zero_window_probe_ack", "window_full", "window_update", "keep_alive", "keep_alive_ack",
}

// Name is the flag's stable name (Wireshark's tcp.analysis field name).
func (f Flag) Name() string {
	for i := range names {
		if f == 1<<i {
			return names[i]
		}
	}
	return "unknown"
}

// Each calls fn for every flag set in f, in a fixed order.
func (f Flag) Each(fn func(Flag)) {
	for i := 0; i < numFlags; i++ {
		if f&(1<<i) != 0 {
			fn(1 << i)
		}
	}
}

// Config holds Wireshark's thresholds.
type Config struct {
	OutOfOrder time.Duration // when the handshake RTT is unknown (Wireshark: 3 ms)
	FastRetx   time.Duration // after the last duplicate ACK (Wireshark: 20 ms)
}

// DefaultConfig returns Wireshark's defaults.
func DefaultConfig() Config {
	return Config{OutOfOrder: 3 * time.Millisecond, FastRetx: 20 * time.Millisecond}
}

type dir struct {
	nextseq     seqnum.Value
	nextseqSet  bool
	nextseqTime int64
	maxToAck    seqnum.Value
	maxToAckSet bool
	lastack     seqnum.Value
	lastackSet  bool
	lastackTime int64
	dupacks     int
	lastNonDup  int64
	window      uint32 // scaled when the scale is known
	windowSet   bool
	scale       int // -1 unknown (no SYN seen), else the shift
	lastFlags   Flag
	synSeen     bool
}

// Result is what one segment shows.
type Result struct {
	Flags     Flag
	DupAckNum int   // for DuplicateAck: 1, 2, 3 …
	DupAckOf  int64 // frame of the ACK it duplicates
}

// Analyzer tracks one connection.
type Analyzer struct {
	cfg Config
	d   [2]dir
	// handshake timing for the out-of-order threshold (Wireshark uses the
	// SYN → ACK time when the handshake was seen).
	synTS, rtt int64
}

// New returns an analyzer for one connection.
func New(cfg Config) *Analyzer {
	a := &Analyzer{}
	a.Init(cfg)
	return a
}

// Init makes a a new analyzer with the given configuration, in place.
func (a *Analyzer) Init(cfg Config) {
	*a = Analyzer{cfg: cfg}
	a.d[0].scale, a.d[1].scale = -1, -1
}

// Step analyzes one segment sent in direction d (0 or 1).
func (a *Analyzer) Step(d tcp.Dir, s *tcp.Segment) Result {
	fwd, rev := &a.d[d], &a.d[d.Peer()]
	fl := s.Flags
	sfr := fl&(tcp.SYN|tcp.FIN|tcp.RST) != 0
	seglen := seqnum.Size(s.Len)
	seq, ack := s.Seq, s.Ack
	t := s.TS
	var r Result
	var f Flag

	// Window scaling: known once both SYNs were seen (RFC 7323).
	if fl&tcp.SYN != 0 {
		fwd.synSeen = true
		if s.Opts.HasWScale {
			fwd.scale = min(int(s.Opts.WScale), 14)
		} else {
			fwd.scale = 0
		}
		if fl&tcp.ACK == 0 {
			a.synTS = t
		}
	}
	if fl&tcp.ACK != 0 && fl&tcp.SYN == 0 && a.synTS != 0 && a.rtt == 0 && rev.synSeen && fwd.synSeen {
		a.rtt = t - a.synTS
	}
	win := uint32(s.Window)
	if fl&tcp.SYN == 0 && fwd.scale >= 0 && rev.scale >= 0 {
		if fwd.scale > 0 && rev.scale > 0 {
			win <<= uint(fwd.scale)
		}
	}

	zwp := false
	// ZERO WINDOW PROBE
	if seglen == 1 && fwd.nextseqSet && seq == fwd.nextseq && rev.windowSet && rev.window == 0 {
		f |= ZeroWindowProbe
		zwp = true
		goto finishedFwd
	}
	// ZERO WINDOW
	if win == 0 && !sfr {
		f |= ZeroWindow
	}
	// LOST SEGMENT (previous segment not captured)
	if fwd.nextseqSet && fwd.nextseq.LessThan(seq) && fl&tcp.RST == 0 {
		f |= LostSegment
	}
	// KEEP ALIVE
	if seglen <= 1 && !sfr && fwd.nextseqSet && fwd.nextseq-1 == seq {
		f |= KeepAlive
	}
	// WINDOW UPDATE
	if seglen == 0 && win != 0 && fwd.windowSet && win != fwd.window && fwd.nextseqSet && seq == fwd.nextseq &&
		fwd.lastackSet && ack == fwd.lastack && !sfr {
		f |= WindowUpdate
	}
	// WINDOW FULL
	if seglen > 0 && rev.scale >= 0 && fwd.scale >= 0 && rev.lastackSet && rev.windowSet &&
		seq.Add(seglen) == rev.lastack.Add(seqnum.Size(rev.window)) && !sfr {
		f |= WindowFull
	}
	// KEEP ALIVE ACK
	if seglen == 0 && win != 0 && fwd.windowSet && win == fwd.window && fwd.nextseqSet && seq == fwd.nextseq &&
		fwd.lastackSet && ack == fwd.lastack && rev.lastFlags&KeepAlive != 0 && !sfr {
		f |= KeepAliveAck
		goto finishedFwd
	}
	// ZERO WINDOW PROBE ACK
	if seglen == 0 && win == 0 && fwd.windowSet && win == fwd.window && fwd.nextseqSet && seq == fwd.nextseq &&
		fwd.lastackSet && ack == fwd.lastack && rev.lastFlags&ZeroWindowProbe != 0 && !sfr {
		f |= ZeroWindowProbeAck
		goto finishedFwd
	}
	// DUPLICATE ACK
	if seglen == 0 && win != 0 && fwd.windowSet && win == fwd.window && fwd.nextseqSet && seq == fwd.nextseq &&
		fwd.lastackSet && ack == fwd.lastack && !sfr {
		fwd.dupacks++
		f |= DuplicateAck
		r.DupAckNum, r.DupAckOf = fwd.dupacks, fwd.lastNonDup
	}

finishedFwd:
	// Only a new acknowledgment number restarts the duplicate-ACK count
	// (Wireshark: "If the ack number changed we must reset the dupack
	// counters"). A window update, a keep-alive or a data segment that
	// repeats the ACK leaves it as it is, so dup ACK, dup ACK, window
	// update, retransmission is still a fast retransmission.
	if !fwd.lastackSet || ack != fwd.lastack {
		fwd.dupacks = 0
		fwd.lastNonDup = s.Frame
	}
	// ACKED LOST PACKET
	if rev.maxToAckSet && fl&tcp.ACK != 0 && rev.maxToAck.LessThan(ack) {
		f |= AckLostSegment
		rev.maxToAck = rev.nextseq
	}

	// RETRANSMISSION family, when the segment carries sequence space below
	// what this side already sent.
	if (seglen > 0 || fl&(tcp.SYN|tcp.FIN) != 0) && fwd.nextseqSet && seq.LessThan(fwd.nextseq) && f&KeepAlive == 0 {
		switch {
		// Wireshark marks spurious and fast retransmissions as
		// retransmissions too (both tcp.analysis fields are set).
		case seglen > 0 && rev.lastackSet && seq.Add(seglen).LessThanEq(rev.lastack):
			f |= SpuriousRetransmission | Retransmission
		case rev.dupacks >= 2 && rev.lastackSet && rev.lastack == seq && t < rev.lastackTime+int64(a.cfg.FastRetx):
			f |= FastRetransmission | Retransmission
		default:
			thr := int64(a.cfg.OutOfOrder)
			if a.rtt > 0 {
				thr = a.rtt
			}
			// The SYN and FIN count: a repeated FIN ends where nextseq is.
			end := seq.Add(s.LogicalLen())
			if t < fwd.nextseqTime+thr && fwd.nextseq != end {
				f |= OutOfOrder
			} else {
				f |= Retransmission
			}
		}
	}

	// Sequence bookkeeping.
	next := seq.Add(seglen)
	if fl&(tcp.SYN|tcp.FIN) != 0 {
		next++
	}
	// A RST's sequence number does not move the stream on (Wireshark lets
	// it, and then calls the data after an ignored RST retransmissions).
	if !zwp && fl&tcp.RST == 0 && (!fwd.nextseqSet || fwd.nextseq.LessThan(next)) {
		fwd.nextseq, fwd.nextseqSet, fwd.nextseqTime = next, true, t
	}
	if !zwp && (!fwd.maxToAckSet || seq == fwd.maxToAck) {
		fwd.maxToAck, fwd.maxToAckSet = fwd.nextseq, true
	}
	if fl&tcp.ACK != 0 {
		fwd.lastack, fwd.lastackSet, fwd.lastackTime = ack, true, t
	}
	fwd.window, fwd.windowSet = win, true
	fwd.lastFlags = f
	r.Flags = f
	return r
}
