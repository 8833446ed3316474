// Package wsflags computes Wireshark's per-frame TCP analysis flags
// (tcp.analysis.*) with the conditions and precedence of Wireshark 4.0's
// tcp_analyze_sequence_number (docs/wireshark-flags.md gives each flag's
// condition, the order of the checks and where this package differs), so
// that users can cross-check tcptrace in the tool they know. Pure: no I/O,
// no clock.
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

// Step analyzes one segment sent in direction d. It is a direct port and
// keeps its source's shape: Wireshark 4.0's epan/dissectors/packet-tcp.c,
// tcp_analyze_sequence_number(), its checks in their order
// (docs/wireshark-flags.md names each branch and its condition).
func (a *Analyzer) Step(d tcp.Dir, s *tcp.Segment) Result {
	fwd, rev := &a.d[d], &a.d[d.Peer()]
	fl := s.Flags
	sfr := fl&(tcp.SYN|tcp.FIN|tcp.RST) != 0
	seglen := seqnum.Size(s.Len)
	seq, ack := s.Seq, s.Ack
	t := s.TS
	var r Result
	var f Flag

	// Window scaling: known once both SYNs were seen (RFC 7323). The window
	// field is shifted only when both SYNs offered a shift above 0, and a
	// SYN's own window is never shifted.
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
	// The checks run in Wireshark's order; a goto finishedFwd skips the rest
	// of the duplicate-ACK family. "No S/F/R" below means none of SYN, FIN,
	// RST; "next expected" is fwd.nextseq, the highest seq+len this side sent
	// (SYN and FIN count one; RSTs and zero-window probes do not move it).
	//
	// ZERO WINDOW PROBE: exactly 1 byte of payload at the next expected
	// sequence number while the receiver's last advertised window was 0. Such
	// a probe does not move nextseq on.
	if seglen == 1 && fwd.nextseqSet && seq == fwd.nextseq && rev.windowSet && rev.window == 0 {
		f |= ZeroWindowProbe
		zwp = true
		goto finishedFwd
	}
	// ZERO WINDOW: the sender advertises a window of 0; no S/F/R.
	if win == 0 && !sfr {
		f |= ZeroWindow
	}
	// LOST SEGMENT (previous segment not captured): the segment starts beyond
	// the next expected sequence number, so something before it was not
	// captured; never on a RST.
	if fwd.nextseqSet && fwd.nextseq.LessThan(seq) && fl&tcp.RST == 0 {
		f |= LostSegment
	}
	// KEEP ALIVE: 0 or 1 byte at one below the next expected sequence
	// number; no S/F/R. A keep-alive is never also a retransmission (below).
	if seglen <= 1 && !sfr && fwd.nextseqSet && fwd.nextseq-1 == seq {
		f |= KeepAlive
	}
	// WINDOW UPDATE: no payload, no S/F/R, at the next expected sequence
	// number, the same ACK as this side's previous one, and a non-zero window
	// that differs from this side's previous window.
	if seglen == 0 && win != 0 && fwd.windowSet && win != fwd.window && fwd.nextseqSet && seq == fwd.nextseq &&
		fwd.lastackSet && ack == fwd.lastack && !sfr {
		f |= WindowUpdate
	}
	// WINDOW FULL: payload that ends exactly at the receiver's right window
	// edge (its last ACK + its last window), both window scales known (both
	// SYNs seen); no S/F/R.
	if seglen > 0 && rev.scale >= 0 && fwd.scale >= 0 && rev.lastackSet && rev.windowSet &&
		seq.Add(seglen) == rev.lastack.Add(seqnum.Size(rev.window)) && !sfr {
		f |= WindowFull
	}
	// KEEP ALIVE ACK: what would be a duplicate ACK (below) when the peer's
	// previous segment was a keep-alive; it replaces the duplicate ACK.
	if seglen == 0 && win != 0 && fwd.windowSet && win == fwd.window && fwd.nextseqSet && seq == fwd.nextseq &&
		fwd.lastackSet && ack == fwd.lastack && rev.lastFlags&KeepAlive != 0 && !sfr {
		f |= KeepAliveAck
		goto finishedFwd
	}
	// ZERO WINDOW PROBE ACK: no payload, no S/F/R, at the next expected
	// sequence number, the same ACK as before and a window of 0 again, when
	// the peer's previous segment was a zero-window probe.
	if seglen == 0 && win == 0 && fwd.windowSet && win == fwd.window && fwd.nextseqSet && seq == fwd.nextseq &&
		fwd.lastackSet && ack == fwd.lastack && rev.lastFlags&ZeroWindowProbe != 0 && !sfr {
		f |= ZeroWindowProbeAck
		goto finishedFwd
	}
	// DUPLICATE ACK: no payload, no S/F/R, at the next expected sequence
	// number, with the same ACK and the same non-zero window as this side's
	// previous segment. Numbered 1, 2, 3 … (DupAckNum) since this side's last
	// segment with another ACK number (DupAckOf).
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
	// ACKED LOST PACKET (ack_lost_segment, "ACKed segment that wasn't
	// captured"): ACK set, and the ACK is beyond the highest contiguous
	// sequence number seen from the peer (maxToAck). Reported once per hole:
	// maxToAck then jumps to the peer's nextseq.
	if rev.maxToAckSet && fl&tcp.ACK != 0 && rev.maxToAck.LessThan(ack) {
		f |= AckLostSegment
		rev.maxToAck = rev.nextseq
	}

	// RETRANSMISSION family, when the segment carries sequence space below
	// what this side already sent: payload, SYN or FIN, starting below the
	// next expected sequence number, and not a keep-alive. The first that
	// holds wins: spurious, fast, out of order, plain retransmission.
	if (seglen > 0 || fl&(tcp.SYN|tcp.FIN) != 0) && fwd.nextseqSet && seq.LessThan(fwd.nextseq) && f&KeepAlive == 0 {
		switch {
		// Wireshark marks spurious and fast retransmissions as
		// retransmissions too (both tcp.analysis fields are set).
		//
		// SPURIOUS RETRANSMISSION: payload the peer had already
		// acknowledged (seq+len ≤ the peer's last ACK).
		case seglen > 0 && rev.lastackSet && seq.Add(seglen).LessThanEq(rev.lastack):
			f |= SpuriousRetransmission | Retransmission
		// FAST RETRANSMISSION: the peer sent at least 2 duplicate ACKs,
		// its last ACK is this segment's seq, and this segment comes less
		// than FastRetx (20 ms) after the peer's last ACK.
		case rev.dupacks >= 2 && rev.lastackSet && rev.lastack == seq && t < rev.lastackTime+int64(a.cfg.FastRetx):
			f |= FastRetransmission | Retransmission
		default:
			// OUT OF ORDER: less than the handshake RTT (SYN → first ACK;
			// OutOfOrder, 3 ms, when unknown) after this side's nextseq last
			// advanced, and not ending exactly at nextseq; otherwise a plain
			// RETRANSMISSION.
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
