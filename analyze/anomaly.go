package analyze

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"sort"
	"strings"
	"unsafe"

	"github.com/tcptrace/tcptrace/analyze/wsflags"
	"github.com/tcptrace/tcptrace/analyze/zeek"
	"github.com/tcptrace/tcptrace/report"
	"github.com/tcptrace/tcptrace/seqnum"
	"github.com/tcptrace/tcptrace/statemachine"
	"github.com/tcptrace/tcptrace/tcp"
)

// anomKind names an anomaly. The names are stable: JSON output and tests compare
// kinds, never prose. Wireshark's tcp.analysis.* flags keep Wireshark's names.
type anomKind string

// severity of an anomaly, Wireshark's scale.
type severity string

const (
	sevChat  severity = "chat"
	sevNote  severity = "note"
	sevWarn  severity = "warn"
	sevError severity = "error"
)

// Checks no other tool makes (Wireshark-named kinds: wiresharkFlags, docs/wireshark-flags.md).
const (
	kAckUnsentData   anomKind = "ack_unsent_data"            // an ACK for bytes the peer had not yet sent
	kDataAfterFIN    anomKind = "data_after_fin"             // data beyond the sender's own FIN
	kAfterRST        anomKind = "after_rst"                  // a segment after the connection was reset
	kOutsideWindow   anomKind = "outside_window"             // data beyond the receiver's advertised window
	kWindowShrink    anomKind = "window_shrink"              // the right edge of the window moved back
	kSYNNewISN       anomKind = "syn_new_isn"                // a SYN with a new ISN on a live connection
	kFINChangedSeq   anomKind = "fin_changed_seq"            // a FIN again, at a different sequence number
	kFINInvalidSeq   anomKind = "fin_invalid_seq"            // a FIN in sequence space already used (ignored by any stack)
	kRSTInWindow     anomKind = "rst_in_window"              // a RST inside the window but not exact: challenge ACK expected (RFC 5961)
	kRSTOutOfWindow  anomKind = "rst_out_of_window"          // a RST the receiver ignores
	kBadChecksum     anomKind = "bad_checksum"               // TCP checksum wrong (only with --checksum; offload is normal)
	kTTLChange       anomKind = "ttl_change"                 // the sender's IP TTL/hop limit changed
	kIPIDBreak       anomKind = "ipid_break"                 // the sender's IPv4 ID left its sequence
	kDuplicateFrame  anomKind = "duplicate_frame"            // the same segment twice in a row (SPAN/hardware duplicate)
	kZeroWindowProbe anomKind = "zero_window_probe"          // also raised for Linux's probe at snd.una-1 (tshark: keep_alive)
	kConflictRetx    anomKind = "conflicting_retransmission" // a retransmission whose bytes differ from the original
)

// severities is the severity of every anomaly kind, in one table: the
// checks no other tool makes, and Wireshark's tcp.analysis flags (keyed by
// their names, wsflags.Flag.Name) with Wireshark's severities.
// zero_window_probe is both Wireshark's flag and the name tcptrace gives
// Linux's probe at snd.una-1 (KZeroWindowProbe): one kind, one severity.
var severities = map[anomKind]severity{
	// tcptrace's own checks.
	kAckUnsentData: sevError, kDataAfterFIN: sevWarn, kAfterRST: sevNote, kOutsideWindow: sevWarn,
	kWindowShrink: sevWarn, kSYNNewISN: sevWarn, kFINChangedSeq: sevWarn, kFINInvalidSeq: sevWarn,
	kRSTInWindow: sevWarn, kRSTOutOfWindow: sevWarn, kBadChecksum: sevNote, kTTLChange: sevNote,
	kIPIDBreak: sevNote, kDuplicateFrame: sevNote, kConflictRetx: sevError,

	// Wireshark's flags.
	kZeroWindowProbe: sevNote, "zero_window": sevWarn, "lost_segment": sevWarn, "keep_alive": sevNote,
	"window_update": sevChat, "window_full": sevWarn, "keep_alive_ack": sevNote, "zero_window_probe_ack": sevNote,
	"duplicate_ack": sevNote, "ack_lost_segment": sevWarn, "spurious_retransmission": sevNote,
	"fast_retransmission": sevNote, "out_of_order": sevWarn, "retransmission": sevNote, "reused_ports": sevNote,
}

// anomaly is one deviation, with the frame that shows it.
type anomaly struct {
	Kind     anomKind
	Severity severity
	Dir      tcp.Dir // direction of the segment
	Frame    int64
	File     int
	TS       int64
	Related  []int64 // other frames involved
	Detail   string
	Copies   *report.Copies // conflicting_retransmission: the two copies and which looks forged
}

// checker runs the checks of one connection. It keeps a few values per
// direction, never per packet, and reads each direction's sequence space
// from the state machine (c.SM.H[d], and pre from before the step) rather
// than keeping its own copy: docs/architecture.md says where a new check
// goes and which facts it reads.
type checker struct {
	prev    [2]sig
	edge    [2]seqnum.Value // right edge advertised by each direction (ack + scaled window)
	edgeSet [2]bool
	lastAck [2]seqnum.Value
	// recentSeq: the sequence numbers of the last data segments of each
	// direction (up to recentN, a ring once full), for conflicting
	// retransmissions; recent the rest of each (length, frame, payload, TTL
	// and IP ID), at the same index: the scan reads recentSeq only, 4 bytes
	// a segment. They grow as data flows and keep their arrays when the
	// block is recycled, so that a connection's state is not 2 KB larger
	// for rings it rarely fills.
	recentSeq   [2][]seqnum.Value
	recent      [2][]recentSeg
	recentI     [2]int  // the next slot: len(recent[d]) until it is full
	conflict    anomaly // a conflicting retransmission found by conflicting, reported by flushConflict
	conflictSet bool    // conflict holds one
	maxWin      [2]uint32
	ackSet      [2]bool
	pendAck     [2]seqnum.Value // an ACK beyond everything the peer was seen to send
	pendFrame   [2]int64
	pendFile    [2]int
	pendTS      [2]int64
	resetAt     int64 // frame of the first RST that ended the connection
	checksums   bool
	stable      bool // payload bytes outlive the run (Table.stablePayload)
}

// sig is what duplicate compares of the previous segment of a direction.
type sig struct {
	seq, ack seqnum.Value
	n        int
	flags    tcp.Flags
	win      uint16
	ipid     uint32
	tsval    uint32
	ts       int64
	frame    int64 // 0: none yet
	pay      *byte // the captured payload, when the input's bytes outlive the run
	plen     int   // captured payload bytes
	phash    uint64
}

// scale returns the window shift that applies to windows sent by dir, and
// whether it is known (both SYNs seen; docs/principles.md#window-scale).
func scale(c *Conn, d tcp.Dir) (int, bool) {
	return statemachine.Scale(&c.SM.H[d], &c.SM.H[d.Peer()])
}

// raiseFunc reports an anomaly of the given kind on the segment being
// checked, with the frames it relates to.
type raiseFunc func(kind anomKind, detail string, related ...int64)

// check runs the own checks on segment s of direction d, after the state
// machine has stepped (evs are its events); pre holds what the checks need
// from before that step (the sender's FIN, highest sequence numbers, the
// receiver's window). The checks run in this order, which is the order of
// their anomalies: what the state machine saw, data after the sender's FIN,
// the sender's IP pattern on RSTs, the checksum; then, on segments that are
// neither SYN nor RST, conflicting retransmissions, the windows and the
// ACKs of data not yet sent.
func (k *checker) check(c *Conn, d tcp.Dir, s *tcp.Segment, evs []statemachine.Event, pre preState, add func(anomaly)) {
	raise := func(kind anomKind, detail string, related ...int64) {
		add(anomaly{Kind: kind, Severity: severities[kind], Dir: d, Frame: s.Frame, File: s.File, TS: s.TS, Related: related, Detail: detail})
	}
	rst := s.Flags&tcp.RST != 0
	syn := s.Flags&tcp.SYN != 0

	k.stateEvents(c, d, s, evs, raise)
	dataAfterFIN(s, pre, raise)
	k.ipPattern(c, d, s, pre, raise)
	if k.checksums && !zeek.TCPChecksumOK(s) {
		raise(kBadChecksum, "TCP checksum does not match (normal for the sender's own packets with checksum offload)")
	}
	if syn || rst {
		return
	}
	k.conflicting(c, d, s)
	k.outsideWindow(d, s, pre, raise)
	k.ackField(c, d, s, raise)
	k.settlePendingAck(c, d, s, add)
}

// stateEvents reports a segment after the RST that ended the connection
// (anything but another RST), then what the state machine observed on this
// segment: RSTs the receiver would not accept, a SYN with a new ISN, a FIN
// moved or at a sequence number already used. It remembers the first RST
// that ended the connection.
func (k *checker) stateEvents(c *Conn, d tcp.Dir, s *tcp.Segment, evs []statemachine.Event, raise raiseFunc) {
	if k.resetAt != 0 && s.Flags&tcp.RST == 0 {
		raise(kAfterRST, fmt.Sprintf("segment after the RST of frame %d", k.resetAt), k.resetAt)
	}
	for _, e := range evs {
		switch e.Kind {
		case statemachine.EvRSTAccepted, statemachine.EvRSTUnchecked:
			if k.resetAt == 0 {
				k.resetAt = s.Frame
			}
		case statemachine.EvRSTChallenge:
			r := c.SM.Resets[len(c.SM.Resets)-1]
			raise(kRSTInWindow, fmt.Sprintf("RST seq %d is %d bytes past rcv.nxt %d, inside the %d-byte window: the receiver must answer with a challenge ACK",
				uint32(r.Seq), seqnum.Diff(r.Expected, r.Seq), uint32(r.Expected), r.Window))
		case statemachine.EvRSTIgnored:
			r := c.SM.Resets[len(c.SM.Resets)-1]
			switch r.ReceiverState {
			case statemachine.Listen:
				raise(kRSTOutOfWindow, "RST to a listening endpoint: ignored (RFC 9293 §3.10.7.2)")
			case statemachine.SynSent:
				raise(kRSTOutOfWindow, fmt.Sprintf("RST answering a SYN without acknowledging it (ack %d, expected %d): ignored (RFC 9293 §3.10.7.3)", uint32(r.Ack), uint32(r.Expected)))
			default:
				raise(kRSTOutOfWindow, fmt.Sprintf("RST seq %d is outside the receiver's window (rcv.nxt %d): ignored", uint32(r.Seq), uint32(r.Expected)))
			}
		case statemachine.EvSYNNewISN:
			raise(kSYNNewISN, fmt.Sprintf("SYN with ISN %d on a live connection whose ISN was %d (frame %d)", uint32(s.Seq), uint32(c.SM.H[d].ISN), e.Related), e.Related)
		case statemachine.EvFINMoved:
			raise(kFINChangedSeq, fmt.Sprintf("FIN at a different sequence number than the FIN of frame %d", e.Related), e.Related)
		case statemachine.EvFINInvalid:
			raise(kFINInvalidSeq, "FIN at a sequence number already used: no stack accepts it")
		}
	}
}

// dataAfterFIN reports data beyond the sender's own FIN (a second FIN
// further along is fin_changed_seq).
func dataAfterFIN(s *tcp.Segment, pre preState, raise raiseFunc) {
	if pre.finSeen && s.Flags&tcp.RST == 0 && s.Len > 0 {
		end := s.Seq.Add(seqnum.Size(s.Len))
		if pre.finSeq.LessThan(end) {
			raise(kDataAfterFIN, fmt.Sprintf("data up to seq %d after the FIN at %d (frame %d)", uint32(end), uint32(pre.finSeq), pre.finFrame), pre.finFrame)
		}
	}
}

// ipPattern checks the IP-level pattern of the sender on RSTs: a RST whose
// TTL or IP ID does not follow the sender's previous segment (whatever its
// flags: pre.prevTTL and prevIPID, from the reset diagnosis's record of it)
// may come from a middlebox (evidence for the reset diagnosis). On other
// segments hosts with a global IP ID counter make jumps normal.
func (k *checker) ipPattern(c *Conn, d tcp.Dir, s *tcp.Segment, pre preState, raise raiseFunc) {
	if !pre.prevSeen || s.Flags&tcp.RST == 0 {
		return
	}
	if s.TTL != pre.prevTTL {
		raise(kTTLChange, fmt.Sprintf("RST with TTL %d, the sender's other segments had %d", s.TTL, pre.prevTTL))
	}
	// Only against a sender whose IDs follow a counter (its habits so
	// far): random IDs jump by nature.
	if !s.IPv6 && pre.prevIPID != 0 && s.IPID != 0 && c.diag.hab[d].ipidPolicy() == ipidIncrementing {
		// Either way by more than 2048: reordering moves IDs a little
		// back, a stack's own counter does not jump that far.
		if fwd := uint16(s.IPID - pre.prevIPID); fwd > 2048 && fwd < 65536-2048 {
			raise(kIPIDBreak, fmt.Sprintf("RST with IP ID %d, the sender's previous segment had %d", s.IPID, pre.prevIPID))
		}
	}
}

// outsideWindow reports data beyond the receiver's right edge. A one-byte
// segment into a zero window is a probe; beyond the edge by more than the
// largest window the receiver ever offered means the capture missed its
// later ACKs, not that the sender overran the window.
func (k *checker) outsideWindow(d tcp.Dir, s *tcp.Segment, pre preState, raise raiseFunc) {
	peer := d.Peer()
	if s.Len == 0 || !k.edgeSet[peer] {
		return
	}
	end := s.Seq.Add(seqnum.Size(s.Len))
	probe := s.Len == 1 && pre.peerWindow == 0
	over := seqnum.Diff(k.edge[peer], end)
	if k.edge[peer].LessThan(end) && !probe && over <= int64(k.maxWin[peer]) {
		raise(kOutsideWindow, fmt.Sprintf("data up to seq %d, %d bytes beyond the receiver's window edge %d",
			uint32(end), seqnum.Diff(k.edge[peer], end), uint32(k.edge[peer])))
	}
}

// ackField follows the acknowledgement and window of a segment with ACK:
// the right edge it advertises (reporting edges moving back, once the
// window scale is known), and an ACK beyond all the peer was seen to send,
// held as pending (settlePendingAck). An ACK older than one already seen
// from this direction was reordered on its way: its window is out of date,
// and it is skipped.
func (k *checker) ackField(c *Conn, d tcp.Dir, s *tcp.Segment, raise raiseFunc) {
	current := !k.ackSet[d] || k.lastAck[d].LessThanEq(s.Ack)
	if s.Flags&tcp.ACK == 0 || !current {
		return
	}
	k.lastAck[d], k.ackSet[d] = s.Ack, true
	if sh, ok := scale(c, d); ok {
		edge := s.Ack.Add(seqnum.Size(uint32(s.Window) << sh))
		if w := uint32(s.Window) << sh; w > k.maxWin[d] {
			k.maxWin[d] = w
		}
		// A step back smaller than one unit of the scale is rounding.
		if k.edgeSet[d] && edge.LessThan(k.edge[d]) && seqnum.Diff(edge, k.edge[d]) >= int64(1)<<sh {
			raise(kWindowShrink, fmt.Sprintf("window right edge moved back %d bytes, to %d", seqnum.Diff(edge, k.edge[d]), uint32(edge)))
		}
		if !k.edgeSet[d] || k.edge[d].LessThan(edge) || edge.LessThan(k.edge[d]) {
			k.edge[d], k.edgeSet[d] = edge, true
		}
	}
	// An ACK beyond all the peer was seen to send: capture loss, unless the
	// peer sends those bytes afterwards (then they were acknowledged
	// before they existed).
	peer := d.Peer()
	ph := &c.SM.H[peer]
	if sent, ok := c.stats.SndMax(peer); ok && sent.LessThan(s.Ack) && !ph.FinSeen && k.pendFrame[d] == 0 {
		k.pendAck[d], k.pendFrame[d], k.pendFile[d], k.pendTS[d] = s.Ack, s.Frame, s.File, s.TS
	}
}

// settlePendingAck settles the other direction's pending ACK on a data
// segment: new bytes (beyond all this side had sent) starting below the ACK
// were acknowledged before they existed, reported on the ACK's frame
// (ack_unsent_data). Any data segment from this side ends the wait,
// reported or not.
func (k *checker) settlePendingAck(c *Conn, d tcp.Dir, s *tcp.Segment, add func(anomaly)) {
	peer := d.Peer()
	f := k.pendFrame[peer]
	if f == 0 || s.Len == 0 {
		return
	}
	if sent, ok := c.stats.SndMax(d); ok && sent.LessThanEq(s.Seq) && s.Seq.LessThan(k.pendAck[peer]) {
		add(anomaly{Kind: kAckUnsentData, Severity: severities[kAckUnsentData], Dir: peer, Frame: f, File: k.pendFile[peer], TS: k.pendTS[peer], Related: []int64{s.Frame},
			Detail: fmt.Sprintf("ACK %d acknowledged bytes first sent afterwards, in frame %d (seq %d)", uint32(k.pendAck[peer]), s.Frame, uint32(s.Seq))})
	}
	k.pendFrame[peer] = 0
}

// duplicate reports whether s (direction d) is a copy of the previous
// segment of its direction, the same frame delivered twice by a SPAN port or
// a NIC, and which frame it copies; otherwise it remembers s. A copy has the
// same header fields, IP ID, TSval and captured payload bytes, within 1 ms:
// no stack retransmits that fast (the minimum RTO is 200 ms on Linux).
// Identical pure ACKs are normal (duplicate ACKs) unless their non-zero IP ID
// repeats too. Equal headers over different bytes are no copy: that is a
// conflicting retransmission (injected data), checked and counted as one.
//
// A copy is one packet on the wire seen twice: the table reports it as
// duplicate_frame and keeps it out of everything that counts what the
// endpoints sent (Table.Add).
func (k *checker) duplicate(d tcp.Dir, s *tcp.Segment) (of int64, dup bool) {
	p := &k.prev[d]
	var pay *byte
	var h uint64
	if len(s.Payload) > 0 {
		// With a stable input the bytes are kept by reference; otherwise a
		// hash of every payload is kept (conflicting reuses it).
		if k.stable {
			pay = &s.Payload[0]
		} else {
			h = maphash.Bytes(payloadSeed, s.Payload)
		}
	}
	if p.frame != 0 && p.seq == s.Seq && p.ack == s.Ack && p.n == s.Len && p.flags == s.Flags && p.win == s.Window &&
		p.ipid == s.IPID && p.tsval == s.Opts.TSVal && s.TS-p.ts < 1e6 &&
		(s.Len > 0 || s.Flags&(tcp.SYN|tcp.FIN) != 0 || s.IPID != 0) &&
		p.plen == len(s.Payload) && (p.plen == 0 || (pay != nil && bytes.Equal(unsafe.Slice(p.pay, p.plen), s.Payload)) || (pay == nil && p.phash == h)) {
		return p.frame, true
	}
	*p = sig{seq: s.Seq, ack: s.Ack, n: s.Len, flags: s.Flags, win: s.Window, ipid: s.IPID, tsval: s.Opts.TSVal, ts: s.TS,
		frame: s.Frame, pay: pay, plen: len(s.Payload), phash: h}
	return 0, false
}

// recentN data segments per direction are remembered to compare
// retransmissions with their originals (bounded: memory never follows the
// number of packets). Partial overlaps, and exact ones with the bytes the
// receiver kept, are compared by stream reassembly (its history); this
// catches exact copies of older or larger segments than the history holds.
const recentN = 32

// recentFirst is the room the rings of recent segments start with.
const recentFirst = 8

type recentSeg struct {
	n     int32
	ttl   uint8
	ipid  uint16
	frame int64
	hash  uint64 // of the payload, when it is not kept (p == nil)
	p     *byte  // the payload's n bytes, when the input's bytes outlive the run
}

// payloadSeed keys the payload hashes of one run; only their equality is
// used, so output does not depend on it.
var payloadSeed = maphash.MakeSeed()

// conflicting compares a fully captured data segment with the first of the
// recent segments of the same direction that covered exactly the same bytes
// (the copy a receiver kept), and remembers it. A difference is held until
// the segment went through reassembly (flushConflict): reassembly names the
// differing bytes exactly, this only the range.
func (k *checker) conflicting(c *Conn, d tcp.Dir, s *tcp.Segment) {
	if s.Len == 0 || len(s.Payload) != s.Len {
		return
	}
	// With a stable input (a mapped or fully read file) the bytes are kept
	// by reference and compared only for a retransmission of the same
	// range: most payload bytes are then never read at all. Otherwise a
	// hash of every payload is kept.
	var h uint64
	var p *byte
	if k.stable {
		p = &s.Payload[0]
	} else {
		h = k.prev[d].phash // duplicate hashed this segment's payload
	}
	seqs, rs, i0 := k.recentSeq[d], k.recent[d], k.recentI[d]
	m := -1
	for j := i0; j < len(seqs) && m < 0; j++ { // oldest first: i0 is the next slot to reuse (once full)
		if seqs[j] == s.Seq && rs[j].frame != 0 && int(rs[j].n) == s.Len {
			m = j
		}
	}
	for j := 0; j < i0 && m < 0; j++ {
		if seqs[j] == s.Seq && rs[j].frame != 0 && int(rs[j].n) == s.Len {
			m = j
		}
	}
	if m >= 0 {
		r := &rs[m]
		if (p != nil && !bytes.Equal(unsafe.Slice(r.p, r.n), s.Payload)) || (p == nil && r.hash != h) {
			off := c.stream[d].Offset(s.Seq)
			cp := c.judgeCopies(d, copyIP{r.frame, r.ttl, r.ipid}, copyIP{s.Frame, s.TTL, uint16(s.IPID)}, off, int64(s.Len))
			k.conflict = anomaly{Kind: kConflictRetx, Severity: severities[kConflictRetx], Dir: d, Frame: s.Frame, File: s.File, TS: s.TS,
				Related: []int64{r.frame}, Detail: conflictDetail(cp, uint32(s.Seq)), Copies: cp}
			k.conflictSet = true
		}
	}
	seg := recentSeg{n: int32(s.Len), ttl: s.TTL, ipid: uint16(s.IPID), frame: s.Frame, hash: h, p: p}
	if i0 == len(seqs) { // not full yet
		if cap(seqs) == 0 {
			k.recentSeq[d], k.recent[d] = make([]seqnum.Value, 0, recentFirst), make([]recentSeg, 0, recentFirst)
		}
		k.recentSeq[d], k.recent[d] = append(k.recentSeq[d], s.Seq), append(k.recent[d], seg)
	} else {
		seqs[i0], rs[i0] = s.Seq, seg
	}
	k.recentI[d] = (i0 + 1) % recentN
}

// flushConflict reports the conflict conflicting found on the segment just
// filed, unless reassembly reported one for it (more precisely).
func (k *checker) flushConflict(c *Conn) {
	d := k.conflict.Dir
	k.conflictSet = false
	if c.confFrame[d] == k.conflict.Frame {
		return
	}
	c.confFrame[d] = k.conflict.Frame
	c.addAnomaly(k.conflict)
}

// preState is what the checks need from before the state machine stepped.
type preState struct {
	finSeen    bool
	finSeq     seqnum.Value
	finFrame   int64
	max        seqnum.Value // highest sequence sent by the segment's sender so far
	peerMax    seqnum.Value // highest sequence sent by the peer so far
	peerWindow uint16       // the receiver's last advertised window
	// The sender's previous segment's TTL and IP ID (prevSeen: it had
	// one), from the reset diagnosis's record of each direction's last
	// segment (diag.last), the one copy of it.
	prevTTL  uint8
	prevSeen bool
	prevIPID uint32
}

func capturePre(c *Conn, d tcp.Dir) preState {
	me, peer := &c.SM.H[d], &c.SM.H[d.Peer()]
	p := preState{finSeen: me.FinSeen, finSeq: me.FinSeq, finFrame: me.FinFrame, max: me.Max, peerMax: peer.Max, peerWindow: peer.Window}
	if g := c.diag; g.hasLast[d] {
		p.prevTTL, p.prevIPID, p.prevSeen = g.last[d].ttl, g.last[d].ipid, true
	}
	return p
}

var wsDetail = map[string]string{
	"zero_window_probe": "zero-window probe", "zero_window": "the sender advertises a zero window",
	"lost_segment": "previous segment not captured", "keep_alive": "keep-alive",
	"window_update": "window update", "window_full": "the data fills the receiver's window",
	"keep_alive_ack": "ACK of a keep-alive", "zero_window_probe_ack": "ACK of a zero-window probe",
	"ack_lost_segment": "ACKs a segment that was not captured", "spurious_retransmission": "spurious retransmission: the data was already acknowledged",
	"fast_retransmission": "fast retransmission (after duplicate ACKs)", "out_of_order": "out-of-order segment",
	"retransmission": "retransmission", "reused_ports": "a new connection on a 4-tuple used before",
}

// duplicateFrame reports segment s (direction d), a copy of frame of
// (checker.duplicate), as duplicate_frame, and nothing else. Wireshark's flag
// analysis still steps over it, so that the flags of later frames stay
// Wireshark's (analyze/wsflags keeps Wireshark's per-frame flags, the
// conformance test compares them with tshark); the flags Wireshark gives
// the copy itself (tshark calls a copied data segment a retransmission and
// a copied ACK a duplicate ACK) are named in the detail, not recorded as
// anomalies of their own: the copy was not sent again, so it counts in no
// retransmission or duplicate-ACK total (docs/json.md).
func (c *Conn) duplicateFrame(d tcp.Dir, s *tcp.Segment, of int64) {
	res := c.ws.Step(d, s)
	detail := fmt.Sprintf("identical to frame %d (SPAN or hardware duplicate): one packet captured twice, counted once", of)
	var ws []string
	res.Flags.Each(func(f wsflags.Flag) { ws = append(ws, f.Name()) })
	if len(ws) > 0 {
		detail += "; Wireshark flags it " + strings.Join(ws, ", ")
	}
	c.addAnomaly(anomaly{Kind: kDuplicateFrame, Severity: severities[kDuplicateFrame], Dir: d, Frame: s.Frame, File: s.File, TS: s.TS,
		Related: []int64{of}, Detail: detail})
}

// wiresharkFlags adds Wireshark's per-frame flags as anomalies, with one
// deliberate difference: Linux probes a zero window at snd.una-1, which
// Wireshark calls a keep-alive; when the receiver's window is zero we call it
// a zero-window probe.
func (c *Conn) wiresharkFlags(d tcp.Dir, s *tcp.Segment, pre preState) {
	res := c.ws.Step(d, s)
	add := func(kind, detail string) {
		c.addAnomaly(anomaly{Kind: anomKind(kind), Severity: severities[anomKind(kind)], Dir: d, Frame: s.Frame, File: s.File, TS: s.TS, Detail: detail})
	}
	if c.reused && s.Frame == c.FirstFrame && s.File == int(c.firstFile) { // its first segment
		add("reused_ports", wsDetail["reused_ports"])
	}
	res.Flags.Each(func(f wsflags.Flag) {
		name := f.Name()
		detail := wsDetail[name]
		switch {
		case f == wsflags.KeepAlive && pre.peerWindow == 0 && c.SM.H[d.Peer()].WinSet:
			name, detail = string(kZeroWindowProbe), "zero-window probe at snd.una-1 (Linux; Wireshark calls it a keep-alive)"
		case f == wsflags.DuplicateAck:
			detail = fmt.Sprintf("duplicate ACK #%d of frame %d", res.DupAckNum, res.DupAckOf)
		}
		add(name, detail)
	})
}

// AnomalyKinds is the name of every anomaly kind, sorted: the values of an
// anomaly record's "kind" and of a connection's "anomalies" keys.
func AnomalyKinds() []string {
	kinds := make([]string, 0, len(severities))
	for k := range severities {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	return kinds
}
