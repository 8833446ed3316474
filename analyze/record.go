package analyze

// The report side of the engine: a finished connection's records (record),
// its state summary, and the report model at the end (Report).

import (
	"sort"
	"strconv"
	"time"

	"github.com/tcptrace/tcptrace/internal/decode"
	"github.com/tcptrace/tcptrace/report"
	"github.com/tcptrace/tcptrace/statemachine"
	"github.com/tcptrace/tcptrace/tcp"
)

// connRecord is a connection record and the parts it points to, in one
// allocation (a record is written whole and let go whole).
type connRecord struct {
	rc    report.Conn
	hs    report.Handshake
	cl    report.Close
	mss   report.Dir
	ws    report.WScale
	reasm report.Reassembly
	rtt   [3]float64 // the handshake's legs, the connection's RTT
}

// record builds the report records of a finished connection.
func (t *tableSide) record(c *Conn) (*report.Conn, []*report.Anomaly) {
	cr := &connRecord{}
	rc := &cr.rc
	*rc = report.Conn{
		Type:        "conn",
		ID:          c.ID,
		Client:      c.Client.String(),
		Server:      c.Server.String(),
		VLAN:        c.vlans[tcp.Client].String(),
		RoleBy:      report.Role(c.roleBy.String()),
		FirstFrame:  c.FirstFrame,
		LastFrame:   c.LastFrame,
		Start:       formatTS(c.firstTS),
		StartNS:     c.firstTS,
		LastNS:      c.lastTS,
		FirstIdx:    int(c.firstFile),
		LastIdx:     int(c.lastFile),
		Duration:    float64(c.lastTS-c.firstTS) / 1e9,
		Packets:     report.Dir{Client: c.Packets[tcp.Client], Server: c.Packets[tcp.Server]},
		Bytes:       report.Dir{Client: c.nbytes[tcp.Client], Server: c.nbytes[tcp.Server]},
		SYN:         report.Dir{Client: int64(c.syns[tcp.Client]), Server: int64(c.syns[tcp.Server])},
		FIN:         report.Dir{Client: int64(c.fins[tcp.Client]), Server: int64(c.fins[tcp.Server])},
		RST:         report.Dir{Client: int64(c.rsts[tcp.Client]), Server: int64(c.rsts[tcp.Server])},
		Truncated:   c.truncated,
		Reused:      c.reused,
		Evicted:     c.evictedEarly,
		CaptureLoss: c.captureLoss,
		AnomDropped: c.anomDropped,
		Frames:      c.frames,
	}
	fillState(cr, c, t.clk.clock, int64(t.cfg.Idle), t.cfg.Lean)
	rc.Reassembly, rc.Gaps = reasmReport(c, &cr.reasm)
	if len(c.timeline) > 0 {
		rc.Rows = c.timeline
		for i := range rc.Rows {
			rc.Rows[i].Time = formatTS(rc.Rows[i].TS)
			rc.Rows[i].Rel = float64(rc.Rows[i].TS-c.firstTS) / 1e9
		}
	}
	if t.cfg.Lean {
		rc.RTTms = connRTT(rc, c.stats.RTT, &cr.rtt[2])
	} else {
		st := c.stats.Result(t.clk.clock)
		rc.Stats = &report.DirPair{Client: st.Dir[tcp.Client], Server: st.Dir[tcp.Server]}
		rc.RTTms = connRTT(rc, func(d tcp.Dir) (int64, float64) { return st.Dir[d].RTTSamples, st.Dir[d].RTTAvgMs }, &cr.rtt[2])
	}
	diagnose(c, rc)
	if c.Packets[tcp.Client] == 0 {
		rc.VLAN = c.vlans[tcp.Server].String()
	} else if c.Packets[tcp.Server] > 0 && c.vlans[tcp.Server] != c.vlans[tcp.Client] {
		rc.ServerVLAN = c.vlans[tcp.Server].String()
		if rc.ServerVLAN == "" {
			rc.ServerVLAN = "none"
		}
		if rc.VLAN == "" {
			rc.VLAN = "none"
		}
	}
	for k, n := range c.anomCount {
		if rc.Anomalies == nil {
			rc.Anomalies = map[string]int64{}
		}
		rc.Anomalies[string(k)] = n
	}
	var anoms []*report.Anomaly
	for _, a := range c.anomalies {
		detail := a.Detail
		if c.captureLoss && (a.Kind == "lost_segment" || a.Kind == "ack_lost_segment") {
			// The capture itself lost packets: not evidence of the network's.
			detail += " (the capture dropped packets while this connection was open: incomplete capture, not necessarily a network loss)"
		}
		anoms = append(anoms, &report.Anomaly{
			Type: "anomaly", Conn: c.ID, Frame: a.Frame, Time: formatTS(a.TS), TS: a.TS, Kind: string(a.Kind),
			Severity: string(a.Severity), Dir: a.Dir.String(), Related: a.Related, Detail: detail, Copies: a.Copies, FileIdx: a.File,
		})
	}
	return rc, anoms
}

// resolveFiles sets the file names of a record when there are several
// inputs.
func resolveFiles(rc *report.Conn, anoms []*report.Anomaly, files []string) {
	if len(files) <= 1 {
		return
	}
	rc.FirstFile, rc.LastFile = files[rc.FirstIdx], files[rc.LastIdx]
	for _, a := range anoms {
		a.File = files[a.FileIdx]
	}
	for i := range rc.Rows {
		rc.Rows[i].File = files[rc.Rows[i].FileIdx]
	}
	for i := range rc.Gaps {
		if rc.Gaps[i].Frame > 0 {
			rc.Gaps[i].File = files[rc.Gaps[i].FileIdx]
		}
	}
}

// sortAnomalies orders anomalies by capture time, then file, frame and kind.
func sortAnomalies(as []*report.Anomaly) {
	sort.SliceStable(as, func(i, j int) bool { return report.AnomalyBefore(as[i], as[j]) })
}

// Report builds the report model. files are the input names, by index.
// It finishes the connections still open first, as of the input's end.
func (e *Engine) Report(files []string) *report.Report {
	e.out.atEnd, e.out.lastTS = true, e.rd.lastTS
	tables := []*tableSide{e.tbl}
	if e.sh != nil {
		e.sh.finishAll(max(e.sh.clk.clock, e.rd.lastTS))
		tables = tables[:0]
		for _, sub := range e.sh.subs {
			tables = append(tables, sub.tableSide)
		}
	} else {
		e.tbl.clk.clock = max(e.tbl.clk.clock, e.rd.lastTS)
		e.tbl.finishAll()
	}
	peak := e.tbl.table.globalPool().Peak()
	if e.sh != nil {
		peak = e.sh.peak
	}
	created, evicted := 0, 0
	var rs report.ReasmSummary
	for _, t := range tables {
		created += t.table.created()
		evicted += t.table.evicted
		rs.Delivered += t.reasm.Delivered
		rs.OutOfOrder += t.reasm.OutOfOrder
		rs.Duplicate += t.reasm.Duplicate
		rs.GapBytes += t.reasm.GapBytes
		rs.Gaps += t.reasm.Gaps
		rs.BudgetFlushes += t.table.globalPool().Flushes
	}
	r := &report.Report{Conns: e.out.done, Anomalies: e.out.anoms}
	for _, rc := range r.Conns {
		resolveFiles(rc, nil, files)
		idleToEnd(rc, e.rd.lastTS)
	}
	if len(files) > 1 {
		for _, a := range r.Anomalies {
			a.File = files[a.FileIdx]
		}
	}
	sortAnomalies(r.Anomalies)
	sort.SliceStable(r.Conns, func(i, j int) bool { return r.Conns[i].ID < r.Conns[j].ID })
	s := &r.Summary
	s.Type = "summary"
	s.Files = append([]string{}, files...)
	if i := e.intr; i != nil {
		s.Interrupted, s.Signal, s.LastFrame, s.LastFile = true, i.Signal, i.LastFrame, i.LastFile
	}
	s.Frames = e.rd.frames
	s.TCPSegments = e.rd.tcp
	s.Connections = len(r.Conns) + e.out.emitted
	if e.sel.active() {
		s.Selected, s.ConnsTotal = true, created
	}
	s.Skipped = map[string]int64{}
	for i, n := range e.rd.skipped {
		if n > 0 {
			s.Skipped[decode.Skip(i).Key()] = n
		}
	}
	for lt, n := range e.rd.dec.UnsupportedLinks {
		if s.UnsupportedLTs == nil {
			s.UnsupportedLTs = map[string]int64{}
		}
		s.UnsupportedLTs[strconv.Itoa(int(lt))] = int64(n)
	}
	s.Truncated = e.rd.truncated
	s.OverSnaplen = e.rd.overSnaplen
	if st := e.rd.dec.Defrag().Stats; st.Fragments > 0 {
		s.Fragments = &report.Fragments{
			Fragments: st.Fragments, Completed: st.Completed, Pending: e.rd.dec.Defrag().Pending(),
			Evicted: st.Evicted, TimedOut: st.TimedOut, Overlaps: st.Overlaps, Conflicts: st.Conflicts,
		}
	}
	rs.PeakBuffered = peak
	rs.ConnBudget, rs.GlobalBudget = e.cfg.ConnBudget, e.cfg.GlobalBudget
	s.Reassembly = &rs
	s.ConnsEvicted = evicted
	if s.ConnsEvicted > 0 {
		s.MaxConns = e.cfg.MaxConns
	}
	for _, err := range e.errs {
		s.Errors = append(s.Errors, err.Error())
	}
	if e.rd.frames > 0 {
		s.First, s.Last = formatTS(e.rd.firstTS), formatTS(e.rd.lastTS)
	}
	return r
}

// formatTS renders a capture time as RFC 3339 in UTC with microseconds or
// nanoseconds as needed.
func formatTS(ns int64) string {
	// time.Format("2006-01-02T15:04:05.000000000Z") by hand: it is called
	// for every record and anomaly, and parsing the layout each time was
	// a tenth of building a record. Years of int64 nanoseconds have 4 digits.
	t := time.Unix(0, ns).UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b := []byte("0000-00-00T00:00:00.000000000Z")
	put := func(at, width, v int) {
		for i := at + width - 1; i >= at; i-- {
			b[i] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, 4, y)
	put(5, 2, int(mo))
	put(8, 2, d)
	put(11, 2, h)
	put(14, 2, mi)
	put(17, 2, s)
	put(20, 9, t.Nanosecond())
	return string(b)
}

// fillState adds the state machine's verdict to a connection record (lean:
// without the transitions, see Config.Lean).
func fillState(cr *connRecord, c *Conn, end, idle int64, lean bool) {
	rc := &cr.rc
	sm := c.SM.Finish(c.lastTS, end, idle)
	h := sm.Handshake
	rh := &cr.hs
	*rh = report.Handshake{
		Class: h.Class, SynFrame: h.SynFrame, SynAckFrame: h.SynAckFrame, AckFrame: h.AckFrame,
		SynRetrans: h.SynRetrans, Backoff: h.Backoff, SACKPermitted: h.SACKPermitted,
		Timestamps: h.Timestamps, TFO: h.TFO, SynData: h.SynData, ECN: h.ECN,
	}
	if h.RTTClient >= 0 {
		cr.rtt[0] = h.RTTClient
		rh.RTTClient = &cr.rtt[0]
	}
	if h.RTTServer >= 0 {
		cr.rtt[1] = h.RTTServer
		rh.RTTServer = &cr.rtt[1]
	}
	if h.MSS[0] != 0 || h.MSS[1] != 0 {
		cr.mss = report.Dir{Client: int64(h.MSS[0]), Server: int64(h.MSS[1])}
		rh.MSS = &cr.mss
	}
	if h.Class != statemachine.HSNotCaptured {
		cr.ws = report.WScale{Client: h.WScale[0], Server: h.WScale[1], Known: h.ScaleKnown}
		rh.WScale = &cr.ws
	}
	rc.Handshake = rh
	cl := sm.Close
	cr.cl = report.Close{
		Class: cl.Class, FirstFIN: cl.FirstFIN, FirstFINBy: cl.FirstFINBy, SecondFIN: cl.SecondFIN, LastACK: cl.LastACK,
		ResetFrame: cl.ResetFrame, ResetBy: cl.ResetBy, HalfCloseData: cl.HalfCloseData,
		HalfCloseDur: cl.HalfCloseDur, IdleFor: cl.IdleFor,
	}
	rc.Close = &cr.cl
	rc.ClosedBy = cl.ClosedBy
	z := c.zeek.Main()
	rc.ConnState, rc.History, rc.ZeekFlipped = z.ConnState, z.History, !z.OrigIsClient
	rc.Zeek = report.ZeekConn{First: z.First, Last: z.Last, OrigPkts: int64(z.OrigPkts), RespPkts: int64(z.RespPkts),
		OrigIPBytes: z.OrigIPBytes, RespIPBytes: z.RespIPBytes,
		OrigBytes: z.OrigBytes, RespBytes: z.RespBytes, MissedBytes: z.MissedBytes}
	rc.ClientState, rc.ServerState = sm.ClientState.String(), sm.ServerState.String()
	if cl.ClosedBy != "" {
		rc.State = h.Class + ", " + cl.Class + " by " + cl.ClosedBy
	} else {
		rc.State = h.Class + ", " + cl.Class
	}
	if !lean {
		rc.Transitions = make([]report.Transition, 0, len(c.SM.Transitions))
		for _, t := range c.SM.Transitions {
			rc.Transitions = append(rc.Transitions, report.Transition{
				Frame: t.Frame, Endpoint: t.Endpoint.String(), From: t.From.String(), To: t.To.String(),
			})
		}
	}
	for _, r := range c.SM.Resets {
		verdict, accepted := verdictNames(r.Verdict)
		rc.Resets = append(rc.Resets, report.Reset{
			Frame: r.Frame, Time: formatTS(r.TS), TS: r.TS, Accepted: accepted,
			Sender: r.Sender.String(), SenderState: r.SenderState.String(),
			ReceiverState: r.ReceiverState.String(), Verdict: verdict, Seq: uint32(r.Seq),
			Expected: uint32(r.Expected), Window: r.Window, WindowKnown: r.WindowKnown,
			ChallengeACK: r.ChallengeSeen, Len: r.Len, NoAck: !r.HasAck,
		})
	}
}

// connRTT is the connection's round-trip time in ms: the handshake (both legs
// at the capture point), else the average of the per-ACK samples of the
// direction that has more of them (rtt: each direction's samples and their
// average, as in its statistics), in v.
func connRTT(rc *report.Conn, rtt func(tcp.Dir) (samples int64, avgMs float64), v *float64) *float64 {
	if h := rc.Handshake; h != nil && h.RTTClient != nil && h.RTTServer != nil {
		*v = (*h.RTTClient + *h.RTTServer) * 1000
		return v
	}
	na, a := rtt(tcp.Client)
	if nb, b := rtt(tcp.Server); nb > na {
		na, a = nb, b
	}
	if na > 0 {
		*v = a
		return v
	}
	return nil
}

// verdictNames names a RST verdict twice: as the conn record's `verdict`
// and as the reset record's `accepted` (docs/json.md).
func verdictNames(k statemachine.EventKind) (verdict, accepted string) {
	switch k {
	case statemachine.EvRSTAccepted:
		return "accepted", "exact"
	case statemachine.EvRSTChallenge:
		return "in_window", "in-window"
	case statemachine.EvRSTIgnored:
		return "out_of_window", "out-of-window"
	}
	return "unchecked", "unknown"
}
