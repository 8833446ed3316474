// Package zeek computes, for one TCP connection of tcptrace's connection
// table, what Zeek would log for it in conn.log: the conn_state (S0, S1, SF,
// REJ, S2, S3, RSTO, RSTR, RSTOS0, RSTRH, SH, SHR, OTH) and the history
// string, in Zeek's originator/responder frame, so that tcptrace output can
// be joined with a Zeek conn.log. docs/zeek.md states the rules in words.
//
// The Tracker replays Zeek's TCP analysis (zeek/zeek
// src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc, TCP_Endpoint.cc,
// TCP_Reassembler.cc, Reassem.cc, Conn.cc and
// scripts/base/protocols/conn/main.zeek) on the segments of one connection:
// the per-endpoint states (INACTIVE, SYN_SENT, SYN_ACK_SENT, PARTIAL,
// ESTABLISHED, CLOSED, RESET), the history letters with their repetition
// rules (a d i q once per direction; s h f r again when the relative sequence
// number differs; c g t w at 1, 10, 100, ... occurrences), the role flips
// ('^'), content gaps from Zeek's reassembler, and the connection lifetime:
// Zeek removes a connection after its close, reset, attempt or inactivity
// timers and starts a new one for later packets of the same tuple, and a SYN
// with a new sequence number on a live tuple is a new connection
// (IsReuse). One tcptrace connection can therefore be several Zeek
// connections; Spans lists them all, Result returns the main one.
//
// Sequence numbers are compared here with Zeek's own 32-bit arithmetic, not
// with package seqnum, on purpose: the goal is to reproduce Zeek's results,
// including its quirks.
//
// Where the replay is knowingly approximate:
//   - Zeek's timers live in one global queue advanced by every packet of the
//     trace; the Tracker sees one connection, so a due timer runs at its own
//     due time, checked when the connection's next segment arrives. Zeek's
//     per-packet limit on expired timers (max_timer_expires) is not modelled.
//   - Zeek defers closing an endpoint while reassembled data is pending;
//     the Tracker closes at once. Only the removal time can differ.
//   - The partial-close timer is not armed (Zeek arms it only when a
//     connection_partial_close handler exists; the shipped scripts have none).
//   - The flip of a connection that begins with a SYN-ACK followed by an ACK
//     or data segment (zeek/zeek#2191) is modelled from Zeek's test
//     baselines: the history reads "^h..." as if the roles had been flipped
//     when the connection was created.
//   - Orienting a connection whose first packet is not a SYN uses Zeek's
//     likely_server_ports, which depends on the loaded scripts: see Config.
//   - Zeek's default connection key ignores VLAN tags; tcptrace's
//     analyze.Table keeps the same tuple on two VLANs apart.
package zeek

import (
	"regexp"

	"github.com/tcptrace/tcptrace/tcp"
)

// Result is Zeek's view of a connection.
type Result struct {
	// ConnState is Zeek's conn_state ("S0", "SF", "REJ", ...).
	ConnState string
	// History is Zeek's history string, in Zeek's orig/resp frame.
	History string
	// OrigIsClient reports whether Zeek's originator is tcptrace's client
	// (direction 0 of the connection). False when Zeek chose the other side,
	// e.g. a mid-stream capture whose first packet came from the server, or
	// after a '^' flip.
	OrigIsClient bool
}

// Span is one Zeek connection within a tcptrace connection.
type Span struct {
	Result
	// First and Last are the timestamps (ns) of the first and last segment
	// that Zeek filed into this connection; Packets counts those segments,
	// including the ones Zeek dropped for a bad checksum.
	First, Last int64
	Packets     int
	// OrigPkts and RespPkts count the packets of Zeek's originator and
	// responder (conn.log orig_pkts, resp_pkts): Packets without the ones
	// dropped for a bad checksum.
	OrigPkts, RespPkts int
	// OrigIPBytes and RespIPBytes sum the IP datagram lengths of those
	// packets (tcp.Segment.IPLen; conn.log orig_ip_bytes, resp_ip_bytes).
	OrigIPBytes, RespIPBytes uint64
	// OrigBytes and RespBytes are each side's payload size taken from
	// sequence numbers (TCP_Endpoint::Size; conn.log orig_bytes,
	// resp_bytes); MissedBytes sums the content gaps Zeek reports for both
	// sides (content_gap events; conn.log missed_bytes).
	OrigBytes, RespBytes, MissedBytes uint64
	// OrigState and RespState are Zeek's final endpoint states (the numeric
	// codes of the TCP_INACTIVE ... TCP_RESET constants, 0..6).
	OrigState, RespState int
	// Removed is true when Zeek's timers (or a connection reuse) ended this
	// connection before the end of the input.
	Removed bool
}

// Endpoint states, numbered like Zeek's TCP_INACTIVE ... TCP_RESET.
const (
	StateInactive    = 0
	StateSYNSent     = 1
	StateSYNACKSent  = 2
	StatePartial     = 3
	StateEstablished = 4
	StateClosed      = 5
	StateReset       = 6
)

// Config holds the Zeek settings that change conn_state or history.
type Config struct {
	// LikelyServerPort reports whether a TCP port is in Zeek's
	// likely_server_ports (used to orient connections whose first packet is
	// not a SYN). Nil means DefaultLikelyServerPort (Zeek's default,
	// non-bare, script set).
	LikelyServerPort func(port uint16) bool
	// ExcessiveDataWithoutAcks is tcp_excessive_data_without_further_acks in
	// bytes (Zeek's default 10 MiB); 0 disables the check.
	ExcessiveDataWithoutAcks uint64
	// NoResetTimer: no connection_reset handler is loaded, so Zeek does not
	// arm its reset timer after a RST that follows a FIN (bare mode).
	NoResetTimer bool
}

// DefaultConfig returns Zeek's defaults.
func DefaultConfig() Config {
	return Config{ExcessiveDataWithoutAcks: 10 * 1024 * 1024}
}

// Zeek's timing constants (init-bare.zeek), in nanoseconds.
const (
	sec                    = int64(1e9)
	tcpSYNTimeout          = 5 * sec
	tcpSessionTimer        = 6 * sec
	tcpConnectionLinger    = 5 * sec
	tcpAttemptDelay        = 5 * sec
	tcpCloseDelay          = 5 * sec
	tcpResetDelay          = 5 * sec
	tcpInactivityTimeout   = 300 * sec
	udpInactivityTimeout   = 60 * sec
	tcpMaxInitialWindow    = 16384
	tcpMaxAboveHoleNoAcks  = 16384
	tooLargeSeqDelta       = 1048576
	firstOrig, firstResp   = 1, 2
	defaultTimerCapacity   = 8
	defaultBlockCapacity   = 4
	historyInitialCapacity = 16
)

// History masks (TCP_Endpoint::HistoryMasks); the responder's are shifted
// left by 16.
const (
	histSYN      = 0x1
	histFIN      = 0x2
	histRST      = 0x4
	histFINRST   = 0x8
	histData     = 0x10
	histACK      = 0x20
	histMultiFlg = 0x40
)

// Tracker replays Zeek's TCP analysis over the segments of one tcptrace
// connection. It is not safe for concurrent use.
type Tracker struct {
	cfg   Config
	live  bool
	c     conn
	spans []Span
	hbuf  []byte // recycled history buffer
	// tbuf, bbuf: recycled timer and reassembly-block buffers (Init keeps
	// them from the connection before, reset starts with them).
	tbuf []timer
	bbuf [2][]block
}

// NewTracker returns a Tracker with Zeek's default configuration.
func NewTracker() *Tracker { return NewTrackerWith(DefaultConfig()) }

// NewTrackerWith returns a Tracker with the given configuration.
func NewTrackerWith(cfg Config) *Tracker {
	t := &Tracker{}
	t.Init(cfg)
	return t
}

// Init makes t a new tracker with the given configuration, in place (a
// recycled tracker keeps its buffers).
func (t *Tracker) Init(cfg Config) {
	if cfg.LikelyServerPort == nil {
		cfg.LikelyServerPort = DefaultLikelyServerPort
	}
	tbuf, bbuf := t.tbuf, t.bbuf
	if t.c.timers != nil {
		tbuf = t.c.timers
	}
	for i := range bbuf {
		if b := t.c.ep[i].r.blocks; b != nil {
			bbuf[i] = b
		}
	}
	*t = Tracker{cfg: cfg, hbuf: t.hbuf[:0], tbuf: tbuf[:0], bbuf: [2][]block{bbuf[0][:0], bbuf[1][:0]}}
}

// Step feeds one segment of the connection; dir is tcptrace's direction
// (0 when the client sent it). Segments must come in capture order.
func (t *Tracker) Step(dir tcp.Dir, s *tcp.Segment) { t.StepChecked(dir, s, false) }

// StepChecked is Step for a segment whose TCP checksum is known to be bad
// (see TCPChecksumOK) when badChecksum is set: Zeek, unless run with -C,
// records 'C'/'c' in the history and otherwise ignores the packet.
func (t *Tracker) StepChecked(dir tcp.Dir, s *tcp.Segment, badChecksum bool) {
	p := packet{
		dir:      dir,
		flags:    s.Flags,
		seq:      uint32(s.Seq),
		ack:      uint32(s.Ack),
		len:      s.Len,
		captured: len(s.Payload),
		window:   s.Window,
		ts:       s.TS,
		srcPort:  s.Src.Port(),
		dstPort:  s.Dst.Port(),
		ipLen:    s.IPLen,
	}
	if t.live {
		t.advance(p.ts)
	}
	if t.live && t.c.isReuse(&p) {
		t.finish(true)
	}
	if !t.live {
		t.start(&p)
	}
	c := &t.c
	c.packets++
	c.last = p.ts
	if badChecksum {
		e := &c.ep[p.dir]
		c.scaled(e, &e.chk, 'C')
		return
	}
	c.pkts[p.dir]++ // conn.log's packet counts leave out what Zeek ignored
	c.ipBytes[p.dir] += uint64(p.ipLen)
	if c.flipPending(&p) {
		// Zeek flips a connection that began with a SYN-ACK as soon as an
		// ACK or data segment follows it (zeek/zeek#2191): the result is as
		// if the SYN-ACK's receiver had been the originator from the start.
		first, n, pkts, ipBytes := c.firstPkt, c.packets, c.pkts, c.ipBytes
		t.reset(&first, true)
		c.process(&first)
		c.packets, c.pkts, c.ipBytes, c.last = n, pkts, ipBytes, p.ts
	}
	c.process(&p)
}

// Result returns Zeek's view of the connection: of the Zeek connections this
// tcptrace connection became (see Spans), the one with the most segments
// (the earliest on a tie). The zero Result when no segment was seen.
func (t *Tracker) Result() Result { return t.Main().Result }

// Main returns the Zeek connection Result reports: of the Zeek connections
// this tcptrace connection became (see Spans), the one with the most
// segments (the earliest on a tie). The zero Span when no segment was seen.
func (t *Tracker) Main() Span {
	// Spans' order, without building its slice.
	best := -1
	for i := range t.spans {
		if best < 0 || t.spans[i].Packets > t.spans[best].Packets {
			best = i
		}
	}
	if t.live {
		if live := t.c.span(false); best < 0 || live.Packets > t.spans[best].Packets {
			return live
		}
	}
	if best < 0 {
		return Span{}
	}
	return t.spans[best]
}

// Spans returns every Zeek connection of this tcptrace connection in order,
// the live one last. Zeek splits a connection when its timers remove it (5 s
// after a close or reset, 5 s after an unanswered SYN, after 1 or 5 minutes
// of inactivity) and when a SYN with a new sequence number arrives.
func (t *Tracker) Spans() []Span {
	out := make([]Span, 0, len(t.spans)+1)
	out = append(out, t.spans...)
	if t.live {
		out = append(out, t.c.span(false))
	}
	return out
}

// start creates a new Zeek connection for p (IPBasedAnalyzer::NewConn).
func (t *Tracker) start(p *packet) {
	flip := false
	if p.flags&tcp.SYN == 0 || p.flags&tcp.ACK != 0 {
		// TCPAnalyzer::WantConnection: orient a partial connection by ports.
		if t.cfg.LikelyServerPort(p.srcPort) {
			if t.cfg.LikelyServerPort(p.dstPort) {
				flip = p.flags&tcp.SYN == 0 && p.srcPort < p.dstPort
			} else {
				flip = true
			}
		}
	}
	t.reset(p, flip)
	c := &t.c
	c.firstPkt = *p
	c.synAckFirst = !flip && p.flags&(tcp.SYN|tcp.ACK) == tcp.SYN|tcp.ACK
	t.live = true
}

// reset initializes the connection state for first packet p.
func (t *Tracker) reset(p *packet, flip bool) {
	c := &t.c
	hist := c.history[:0]
	if hist == nil {
		hist = t.hbuf[:0]
		if hist == nil {
			hist = make([]byte, 0, historyInitialCapacity)
		}
	}
	timers := c.timers[:0]
	if timers == nil {
		timers = t.tbuf[:0]
		if timers == nil {
			timers = make([]timer, 0, defaultTimerCapacity)
		}
	}
	var blocks [2][]block
	for i := range blocks {
		blocks[i] = c.ep[i].r.blocks[:0]
		if blocks[i] == nil {
			blocks[i] = t.bbuf[i][:0]
			if blocks[i] == nil {
				blocks[i] = make([]block, 0, defaultBlockCapacity)
			}
		}
	}
	*c = conn{
		cfg:     &t.cfg,
		orig:    p.dir,
		history: hist,
		timers:  timers,
		active:  true,
		first:   p.ts,
		last:    p.ts,
	}
	for _, i := range tcp.Dirs {
		e := &c.ep[i]
		e.isOrig = i == c.orig
		e.chk.thresh, e.rxmt.thresh, e.win0.thresh, e.gap.thresh = 1, 1, 1, 1
		e.r = reassembler{lastReassem: 1, trimSeq: 1, blocks: blocks[i]}
	}
	if flip {
		c.orig = c.orig.Peer()
		c.ep[0].isOrig, c.ep[1].isOrig = !c.ep[0].isOrig, !c.ep[1].isOrig
		c.history = append(c.history, '^')
	}
	c.lastTime = p.ts
	// The TCP adapter's expire timer and the session's first inactivity
	// timeout (TCPAnalyzer::MakeSessionAdapter uses the UDP one until the
	// handshake completes).
	c.addTimer(p.ts+tcpSYNTimeout, timerExpire)
	c.setInactivityTimeout(udpInactivityTimeout)
}

// finish closes the live Zeek connection and records it.
func (t *Tracker) finish(removed bool) {
	t.spans = append(t.spans, t.c.span(removed))
	t.hbuf = t.c.history[:0]
	t.c.history = nil
	t.live = false
}

// advance fires the connection's timers due at or before now, as Zeek does
// before processing a packet with that timestamp. A timer runs at its own
// due time: the first packet after it in a busy trace.
func (t *Tracker) advance(now int64) {
	c := &t.c
	for t.live {
		i := -1
		for j := range c.timers {
			if c.timers[j].at <= now && (i < 0 || c.timers[j].at < c.timers[i].at) {
				i = j
			}
		}
		if i < 0 {
			return
		}
		tm := c.timers[i]
		c.timers = append(c.timers[:i], c.timers[i+1:]...)
		if c.fire(tm) {
			t.finish(true)
		}
	}
}

var rstos0 = regexp.MustCompile(`^\^?S[^HAFGIQ]*R.*$`)

// connState is Conn::conn_state from scripts/base/protocols/conn/main.zeek.
func (c *conn) connState() string {
	o, r := &c.ep[c.orig], &c.ep[c.orig.Peer()]
	os, rs := o.state, r.state
	oInactive := os == StateInactive || os == StatePartial
	rInactive := rs == StateInactive || rs == StatePartial
	switch {
	case rs == StateReset:
		if os == StateSYNSent || os == StateSYNACKSent ||
			(os == StateReset && o.size(r) == 0 && r.size(o) == 0) {
			return "REJ"
		}
		if oInactive {
			return "RSTRH"
		}
		return "RSTR"
	case os == StateReset:
		if rInactive {
			if rstos0.Match(c.history) {
				return "RSTOS0"
			}
			return "OTH"
		}
		return "RSTO"
	case rs == StateClosed && os == StateClosed:
		return "SF"
	case os == StateClosed:
		if rInactive {
			return "SH"
		}
		return "S2"
	case rs == StateClosed:
		if oInactive {
			return "SHR"
		}
		return "S3"
	case os == StateSYNSent && rs == StateInactive:
		return "S0"
	case os == StateEstablished && rs == StateEstablished:
		return "S1"
	}
	return "OTH"
}

func (c *conn) span(removed bool) Span {
	o, r := &c.ep[c.orig], &c.ep[c.orig.Peer()]
	return Span{
		OrigPkts:    c.pkts[c.orig],
		RespPkts:    c.pkts[c.orig.Peer()],
		OrigIPBytes: c.ipBytes[c.orig],
		RespIPBytes: c.ipBytes[c.orig.Peer()],
		OrigBytes:   o.size(r),
		RespBytes:   r.size(o),
		MissedBytes: c.missed,
		Result: Result{
			ConnState:    c.connState(),
			History:      string(c.history),
			OrigIsClient: c.orig == tcp.Client,
		},
		First:     c.first,
		Last:      c.last,
		Packets:   c.packets,
		OrigState: int(c.ep[c.orig].state),
		RespState: int(c.ep[c.orig.Peer()].state),
		Removed:   removed,
	}
}
