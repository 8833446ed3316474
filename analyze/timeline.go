package analyze

import (
	"fmt"
	"strings"

	"github.com/tcptrace/tcptrace/report"
	"github.com/tcptrace/tcptrace/seqnum"
	"github.com/tcptrace/tcptrace/statemachine"
	"github.com/tcptrace/tcptrace/tcp"
)

// rowState is what a connection keeps to write its timeline rows (only
// when Config.Rows is set).
type rowState struct {
	base    [2]seqnum.Value // sequence number that is relative 0 for each side
	hasBase [2]bool
	// unacked data segments of each side, for the cumulative-ACK and
	// delayed-ACK explanations: end sequence number and time.
	pend    [2][]pendSeg
	finRow  [2]bool // a FIN row of this side was explained
	closing bool    // one FIN was explained already
}

type pendSeg struct {
	end   seqnum.Value
	ts    int64
	frame int64
}

// snap is taken before a segment is processed, to tell what it changed.
type rowSnap struct {
	trans, anoms int
	ooo          int64
	states       [2]statemachine.State
}

func (c *Conn) rowBefore(d tcp.Dir) rowSnap {
	return rowSnap{trans: len(c.SM.Transitions), anoms: len(c.anomalies), ooo: c.stream[d].Stats.OutOfOrder,
		states: [2]statemachine.State{c.SM.H[0].State, c.SM.H[1].State}}
}

// rowAfter appends the timeline row of segment s (direction d).
func (c *Conn) rowAfter(d tcp.Dir, s *tcp.Segment, b rowSnap, explain bool) {
	rs := &c.rows
	base := rs.base[d]
	if !rs.hasBase[d] {
		base = s.Seq
		if s.Flags&tcp.RST == 0 {
			// A RST reads as relative 0 but does not set the relative zero:
			// it may be forged or stale, and the sender's own segments that
			// follow must read as usual.
			rs.base[d], rs.hasBase[d] = s.Seq, true
		}
	}
	row := report.Row{
		Frame: s.Frame, FileIdx: s.File, TS: s.TS, Dir: d.String(), Flags: flagWords(s.Flags),
		Seq: uint32(base.Size(s.Seq)), Len: s.Len, Win: uint32(s.Window),
	}
	if sh, ok := scale(c, d); ok && s.Flags&tcp.SYN == 0 {
		row.Win <<= uint(sh)
	}
	if s.Flags&tcp.ACK != 0 {
		row.HasAck = true
		if rs.hasBase[d.Peer()] {
			row.Ack = uint32(rs.base[d.Peer()].Size(s.Ack))
		} else {
			row.Ack = uint32(s.Ack)
		}
	}
	for _, b := range s.Opts.SACK[:min(int(s.Opts.NSACK), len(s.Opts.SACK))] {
		l, r := uint32(b.Left), uint32(b.Right)
		if rs.hasBase[d.Peer()] {
			l, r = uint32(rs.base[d.Peer()].Size(b.Left)), uint32(rs.base[d.Peer()].Size(b.Right))
		}
		row.SACK = append(row.SACK, [2]uint32{l, r})
	}
	for _, t := range c.SM.Transitions[b.trans:] {
		row.Transitions = append(row.Transitions, report.Transition{
			Frame: t.Frame, Endpoint: t.Endpoint.String(), From: t.From.String(), To: t.To.String(),
		})
	}
	for _, a := range c.anomalies[b.anoms:] {
		row.Anomalies = append(row.Anomalies, report.RowAnomaly{Kind: string(a.Kind), Severity: string(a.Severity), Detail: a.Detail})
	}
	if explain {
		row.Explain = c.explain(d, s, b, &row)
	}
	// Bookkeeping for the ACK explanations.
	if s.Len > 0 && s.Flags&tcp.RST == 0 {
		if len(rs.pend[d]) < 64 {
			rs.pend[d] = append(rs.pend[d], pendSeg{end: s.Seq.Add(seqnum.Size(s.Len)), ts: s.TS, frame: s.Frame})
		}
	}
	c.timeline = append(c.timeline, row)
}

// explain says in plain words which TCP rule a row shows.
func (c *Conn) explain(d tcp.Dir, s *tcp.Segment, b rowSnap, row *report.Row) []string {
	rs := &c.rows
	me, peer := d.String(), d.Peer().String()
	var out []string
	add := func(f string, a ...any) { out = append(out, fmt.Sprintf(f, a...)) }
	fl := s.Flags
	switch {
	case fl&tcp.RST != 0:
		add("RST: the %s aborts the connection at once, without the FIN exchange; data not yet delivered is thrown away. Sent in %s, it means %s.",
			me, b.states[d], rstMeaning(b.states[d]))
		for _, r := range c.SM.Resets {
			if r.Frame == s.Frame {
				add("The %s %s (RFC 5961: only a RST at exactly the next expected sequence number resets; one elsewhere in the window gets a challenge ACK).",
					peer, map[statemachine.EventKind]string{
						statemachine.EvRSTAccepted:  "accepts it: its sequence number is exactly the one it expects",
						statemachine.EvRSTChallenge: "does not reset: the sequence number is in its window but not exact, so it answers with a challenge ACK",
						statemachine.EvRSTIgnored:   "ignores it: the sequence number is outside its window",
						statemachine.EvRSTUnchecked: "cannot be checked from this capture",
					}[r.Verdict])
			}
		}
	case fl&(tcp.SYN|tcp.ACK) == tcp.SYN:
		add("SYN: the %s asks to open a connection and chooses its initial sequence number (shown as relative 0). The SYN itself takes one sequence number, so its first data byte will be seq 1.", me)
	case fl&tcp.SYN != 0:
		add("SYN-ACK: the %s accepts, acknowledges the SYN (ack 1 = the client's ISN + 1) and sends its own ISN, which also takes one sequence number.", me)
	}
	if fl&tcp.SYN == 0 && fl&tcp.RST == 0 && s.Frame == c.SM.HandshakeAck {
		add("This ACK of the SYN-ACK completes the three-way handshake: both sides are now ESTABLISHED and may send data.")
	}
	if s.Len > 0 && fl&tcp.RST == 0 {
		add("%d bytes of data, relative seq %d to %d; the %s will acknowledge them with ack %d.", s.Len, row.Seq, row.Seq+uint32(s.Len)-1, peer, row.Seq+uint32(s.Len))
		if c.stream[d].Stats.OutOfOrder > b.ooo {
			add("These bytes arrived ahead of a hole: the %s holds them back, undelivered, until the missing bytes arrive; its ACK stays at the start of the hole meanwhile.", peer)
		}
	}
	if fl&tcp.ACK != 0 && fl&tcp.SYN == 0 && fl&tcp.RST == 0 {
		// Which of the peer's data segments does this ACK cover?
		p := rs.pend[d.Peer()]
		n := 0
		for n < len(p) && p[n].end.LessThanEq(s.Ack) {
			n++
		}
		if n > 0 {
			last := p[n-1]
			if n > 1 {
				add("ACK %d is cumulative: this one ACK acknowledges all %d data segments of the %s before it (every byte before relative %d).", row.Ack, n, peer, row.Ack)
			} else if delay := s.TS - last.ts; delay >= 30e6 && s.Len == 0 {
				add("A delayed ACK: the %s held it %.0f ms after the data of frame %d, hoping to combine it with data or a second segment (Linux waits up to 40 ms, Windows 200 ms).", me, float64(delay)/1e6, last.frame)
			}
			rs.pend[d.Peer()] = append(p[:0], p[n:]...)
		}
	}
	if fl&tcp.FIN != 0 && fl&tcp.RST == 0 && !rs.finRow[d] {
		rs.finRow[d] = true
		if !rs.closing {
			add("FIN: the %s has no more data to send and closes its direction. The FIN takes one sequence number, so it is acknowledged with ack %d. The other direction stays open: each direction is closed on its own.", me, row.Seq+uint32(s.Len)+1)
		} else {
			add("The second FIN closes the other direction: the %s's application has closed too. Two FINs and two ACKs: that is why a close takes four segments (three when this FIN carries the ACK of the first).", me)
		}
		rs.closing = true
	}
	for _, t := range row.Transitions {
		switch {
		case t.To == "CLOSE-WAIT":
			add("The %s acknowledges the FIN at once, but may keep sending (a half-close); it sends its own FIN only when its application closes.", t.Endpoint)
		case t.To == "TIME-WAIT":
			add("The %s closed first, so it enters TIME-WAIT: it keeps the 4-tuple for 2·MSL (60 s on Linux) so that late segments of this connection die out and its last ACK can be sent again if it was lost.", t.Endpoint)
		}
	}
	for _, a := range row.Anomalies {
		switch a.Kind {
		case "retransmission", "fast_retransmission":
			add("The same bytes again: the %s got no ACK for them in time (a retransmission timeout) or saw duplicate ACKs (fast retransmit).", me)
		case "duplicate_ack":
			add("A duplicate ACK: the %s still waits for the same byte; three in a row make the sender retransmit at once (fast retransmit).", me)
		case "zero_window":
			add("A zero window: the %s's receive buffer is full; the peer must stop sending and probe until the window opens.", me)
		}
	}
	return out
}

func rstMeaning(s statemachine.State) string {
	switch s {
	case statemachine.Listen, statemachine.Closed, statemachine.Unknown:
		return "that nothing here knows this connection (nothing listening, or it was forgotten)"
	case statemachine.SynSent, statemachine.SynReceived:
		return "that the connection attempt is abandoned"
	case statemachine.Established, statemachine.CloseWait:
		return "that the application gave up on an open connection: an abortive close (SO_LINGER 0, a crash, or close() with unread data)"
	}
	return "that an endpoint which had already closed got data it could no longer deliver"
}

// flagWords renders flags as Wireshark's Info column does: "SYN, ACK".
func flagWords(f tcp.Flags) string {
	if f == 0 {
		return "none"
	}
	return strings.ReplaceAll(f.Names(), ",", ", ")
}
