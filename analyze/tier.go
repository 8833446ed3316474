package analyze

import (
	"math"

	"github.com/tcptrace/tcptrace/seqnum"
	"github.com/tcptrace/tcptrace/tcp"
)

// Connections in two tiers. Most connections of a SYN flood or a port scan
// are one SYN, or a SYN and its RST: the whole state of the analyses (the
// state machine, reassembly, the checks, the reset diagnosis, the three
// emulations: about 6 KB, connBlock) would be allocated for nothing. A
// connection whose segments so far are only SYNs and RSTs without payload
// starts embryonic: the table keeps its identity, counters and bookkeeping
// and those few segments in compact form (heldSeg), and nothing else.
//
// It grows into its whole state (grow) when a segment comes that cannot be
// held (data, a FIN, a bare ACK, a fourth segment) and when it is finished:
// grow replays the held segments through the analyses exactly as Table.Add
// would have, in order, so that the records and their anomalies are the
// same as if the connection had had its whole state from the start. What
// the analyses read besides the segment is the connection's identity (set
// at creation) and never its counters or its last time (which are ahead of
// a replayed segment); a held segment has no payload, so reassembly, which
// reads the last time for a conflict, has nothing to say of it.
//
// Only the analysis of `analyze` and `resets` is tiered (Table.streaming):
// the timeline needs each row as its segment comes, taps need the
// connection at once, and --checksum needs the bytes.

// maxHeld is how many segments an embryonic connection holds: a SYN, its
// retransmission or the SYN-ACK, and a RST.
const maxHeld = 3

// heldSeg is a segment kept in compact form (64 bytes): every field of
// tcp.Segment that a held segment can carry (no payload, no SACK blocks)
// and that the tiered analyses read. Its options are kept parsed; their
// raw bytes are not, as only the checksum verification (--checksum, which
// is not tiered) reads them. A checksum field is not kept either, for the
// same reason, and IPv6 is the address family.
type heldSeg struct {
	frame, ts    int64
	file         int32
	seq, ack     seqnum.Value
	ipid         uint32
	tsVal, tsEcr uint32
	window       uint16
	urgent       uint16
	flags        tcp.Flags
	mss          uint16
	opts         heldOpts
	vlan         tcp.VLANs
	dir          tcp.Dir
	ttl          uint8
	wscale       uint8
	tfoCookie    uint8
	df           bool
	notes        tcp.Note
	ipLen        uint16 // headers only: a held segment has no payload
}

// heldOpts are the flags of tcp.Options.
type heldOpts uint16

const (
	hoMSS heldOpts = 1 << iota
	hoWScale
	hoSACKPerm
	hoTS
	hoSACKOpt
	hoTFO
	hoMPTCP
	hoUnknown
	hoMalformed
)

// holdable reports whether an embryonic connection can hold s: a SYN or a
// RST without payload, FIN or SACK blocks.
func holdable(s *tcp.Segment) bool {
	return s.Len == 0 && len(s.Payload) == 0 && s.Flags&tcp.FIN == 0 && s.Flags&(tcp.SYN|tcp.RST) != 0 &&
		s.Opts.NSACK == 0 && s.Opts.TFOCookie >= 0 && s.Opts.TFOCookie <= math.MaxUint8 &&
		s.File >= 0 && s.File <= math.MaxInt32 && s.IPLen <= math.MaxUint16
}

// hold keeps segment s of direction d (holdable).
func (c *Conn) hold(d tcp.Dir, s *tcp.Segment) {
	o := &s.Opts
	var f heldOpts
	for _, b := range [...]struct {
		set bool
		f   heldOpts
	}{{o.HasMSS, hoMSS}, {o.HasWScale, hoWScale}, {o.SACKPerm, hoSACKPerm}, {o.HasTS, hoTS}, {o.SACKOpt, hoSACKOpt},
		{o.TFO, hoTFO}, {o.MPTCP, hoMPTCP}, {o.Unknown, hoUnknown}, {o.Malformed, hoMalformed}} {
		if b.set {
			f |= b.f
		}
	}
	c.held = append(c.held, heldSeg{frame: s.Frame, ts: s.TS, file: int32(s.File), seq: s.Seq, ack: s.Ack, ipid: s.IPID,
		tsVal: o.TSVal, tsEcr: o.TSEcr, window: s.Window, urgent: s.Urgent, flags: s.Flags, mss: o.MSS, opts: f,
		vlan: s.VLAN, dir: d, ttl: s.TTL, wscale: o.WScale, tfoCookie: uint8(o.TFOCookie), df: s.DF, notes: s.Notes, ipLen: uint16(s.IPLen)})
}

// segment rebuilds the held segment h of c into s.
func (h *heldSeg) segment(c *Conn, s *tcp.Segment) {
	*s = tcp.Segment{Frame: h.frame, File: int(h.file), TS: h.ts, VLAN: h.vlan, Seq: h.seq, Ack: h.ack,
		Flags: h.flags, Window: h.window, Urgent: h.urgent, TTL: h.ttl, IPID: h.ipid, DF: h.df, Notes: h.notes, IPLen: uint32(h.ipLen)}
	if h.dir == tcp.Client {
		s.Src, s.Dst = c.Client, c.Server
	} else {
		s.Src, s.Dst = c.Server, c.Client
	}
	s.IPv6 = !s.Src.Addr().Is4()
	f := h.opts
	s.Opts = tcp.Options{MSS: h.mss, WScale: h.wscale, TSVal: h.tsVal, TSEcr: h.tsEcr, TFOCookie: int(h.tfoCookie),
		HasMSS: f&hoMSS != 0, HasWScale: f&hoWScale != 0, SACKPerm: f&hoSACKPerm != 0, HasTS: f&hoTS != 0,
		SACKOpt: f&hoSACKOpt != 0, TFO: f&hoTFO != 0, MPTCP: f&hoMPTCP != 0, Unknown: f&hoUnknown != 0,
		Malformed: f&hoMalformed != 0}
}

// grow gives an embryonic connection its whole state and replays its held
// segments through the analyses.
func (t *Table) grow(c *Conn) {
	t.attach(c)
	var s tcp.Segment
	for i := range c.held {
		h := &c.held[i]
		h.segment(c, &s)
		t.analyze(c, h.dir, &s)
	}
	c.held = c.held[:0]
}

// heldDone replays an embryonic connection's segments through a scratch
// state machine and reports whether both endpoints are done with it
// (statemachine.Conn.Done): what Sweep asks of a connection.
func (t *Table) heldDone(c *Conn) bool {
	t.scratch.Init()
	var s tcp.Segment
	for i := range c.held {
		h := &c.held[i]
		h.segment(c, &s)
		t.scratch.Step(h.dir, &s)
	}
	return t.scratch.Done()
}

// done reports whether both endpoints of c are done with it (Sweep lets it
// go once it has been silent for Config.Linger). An embryonic connection's
// held segments are replayed for it (heldDone) when Sweep first asks after
// a segment was held, not at every segment held: most connections grow
// before any sweep asks.
func (t *Table) done(c *Conn) bool {
	if c.connState == nil {
		if !c.bk.doneSet {
			c.bk.done, c.bk.doneSet = t.heldDone(c), true
		}
		return c.bk.done
	}
	return c.SM.Done()
}

// connList is the table's list of live connections, least recently active
// first, linked through their bookkeeping (no allocation per connection).
type connList struct {
	head, tail *Conn
	n          int
}

// moveToBack makes c the last (most recently active), adding it when it is
// not in the list.
func (l *connList) moveToBack(c *Conn) {
	if l.tail == c {
		return
	}
	if c.bk.prev != nil || l.head == c {
		l.remove(c)
	}
	c.bk.prev, c.bk.next = l.tail, nil
	if l.tail != nil {
		l.tail.bk.next = c
	} else {
		l.head = c
	}
	l.tail = c
	l.n++
}

// remove takes c out of the list (if it is in it).
func (l *connList) remove(c *Conn) {
	if c.bk.prev == nil && l.head != c {
		return
	}
	if c.bk.prev != nil {
		c.bk.prev.bk.next = c.bk.next
	} else {
		l.head = c.bk.next
	}
	if c.bk.next != nil {
		c.bk.next.bk.prev = c.bk.prev
	} else {
		l.tail = c.bk.prev
	}
	c.bk.prev, c.bk.next = nil, nil
	l.n--
}
