package render

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/tcptrace/tcptrace/report"
)

// worstN is how many connections the "worst connections" list shows.
const worstN = 10

// kindFrames is how many first frames the anomaly overview names per kind.
const kindFrames = 5

// Overview writes, after the connection table, one line per anomaly kind
// (count, connections affected, the first frames) and the connections in
// the most trouble, each number naming frames to open in Wireshark. It is
// OverviewAcc over the report's connections.
func Overview(w io.Writer, r *report.Report, o Options) error {
	acc := NewOverview()
	forEachConn(r, acc.Add)
	return acc.Write(w, o)
}

// forEachConn hands every connection of a report to fn, in ID order, with
// its anomalies in capture order: what a stream of the same run delivers,
// in another order.
func forEachConn(r *report.Report, fn func(*report.Conn, []*report.Anomaly)) {
	byConn := map[int][]*report.Anomaly{}
	for _, a := range r.Anomalies {
		byConn[a.Conn] = append(byConn[a.Conn], a)
	}
	for _, c := range r.Conns {
		fn(c, byConn[c.ID])
	}
}

// OverviewAcc computes the overview as connections stream by (Add), in any
// order, keeping per anomaly kind its counts and first frames, and the
// worstN connections in the most trouble: nothing per connection. Write
// gives what Overview gives on the report of the same connections.
type OverviewAcc struct {
	kinds map[string]*kindSum
	worst []scored // at most worstN, best first
}

type kindSum struct {
	kind, sev string
	n, conns  int
	first     []*report.Anomaly // the kindFrames first, in capture order
}

// scored is a connection in trouble: what the worst list shows of it.
type scored struct {
	id                    int
	client, server, state string
	score                 float64
	why                   []string
	frames                []int64
}

// NewOverview returns an empty accumulator.
func NewOverview() *OverviewAcc { return &OverviewAcc{kinds: map[string]*kindSum{}} }

// Add counts one finished connection and its anomalies (in capture order,
// as the engine delivers them).
func (acc *OverviewAcc) Add(c *report.Conn, anoms []*report.Anomaly) {
	var seen []string // the kinds this connection has, counted once each
	var firstFrames []int64
	for _, a := range anoms {
		k := acc.kinds[a.Kind]
		if k == nil {
			k = &kindSum{kind: a.Kind, sev: a.Severity}
			acc.kinds[a.Kind] = k
		}
		k.n++
		if !containsString(seen, a.Kind) {
			seen = append(seen, a.Kind)
			k.conns++
		}
		k.keepFirst(a)
		if a.Severity != "note" && len(firstFrames) < 3 {
			firstFrames = append(firstFrames, a.Frame)
		}
	}

	p := troubleOf(c, anoms)
	s := scored{id: c.ID, score: p.score()}
	if s.score <= 0 || !acc.wouldKeep(s) {
		return
	}
	if n := len(c.Resets); n > 0 {
		s.why = append(s.why, fmt.Sprintf("%d RST (%s, frame %d)", n, c.Resets[0].Cause, c.Resets[0].Frame))
	}
	if p.rexmtBytes > 0 {
		s.why = append(s.why, sizeWords(p.rexmtBytes)+" retransmitted")
	}
	if p.gapBytes > 0 {
		why := sizeWords(p.gapBytes) + " never captured"
		if len(c.Gaps) > 0 && c.Gaps[0].Frame > 0 {
			why += fmt.Sprintf(" (frame %d)", c.Gaps[0].Frame)
		}
		s.why = append(s.why, why)
	}
	if p.zeroWin > 0 {
		s.why = append(s.why, fmt.Sprintf("%d zero windows", p.zeroWin))
	}
	if len(c.Resets) > 0 {
		s.frames = append(s.frames, c.Resets[0].Frame)
	}
	for _, f := range firstFrames {
		if len(s.frames) < 3 && (len(s.frames) == 0 || s.frames[0] != f) {
			s.frames = append(s.frames, f)
		}
	}
	s.client, s.server, s.state = c.Client, c.Server, c.State
	i := sort.Search(len(acc.worst), func(i int) bool { return worse(acc.worst[i], s) })
	if len(acc.worst) < worstN {
		acc.worst = append(acc.worst, scored{})
	}
	copy(acc.worst[i+1:], acc.worst[i:])
	acc.worst[i] = s
}

// trouble is what makes a connection worth a look, by the measures of
// the worst-connections list.
type trouble struct {
	rsts                 int
	rexmtBytes, gapBytes int64
	zeroWin              int
}

func troubleOf(c *report.Conn, anoms []*report.Anomaly) trouble {
	t := trouble{rsts: len(c.Resets)}
	if st := c.Stats; st != nil {
		t.rexmtBytes = st.Client.RexmtBytes + st.Server.RexmtBytes
	}
	if ra := c.Reassembly; ra != nil {
		t.gapBytes = max(0, ra.Client.GapBytes+ra.Server.GapBytes-ra.Client.Snaplen-ra.Server.Snaplen)
	}
	for _, a := range anoms {
		if a.Kind == "zero_window" {
			t.zeroWin++
		}
	}
	return t
}

// score weighs the measures: a RST 50, a kilobyte retransmitted 1, 500
// bytes never captured 1, a zero window 20.
func (t trouble) score() float64 {
	return 50*float64(t.rsts) + float64(t.rexmtBytes)/1000 + float64(t.gapBytes)/500 + 20*float64(t.zeroWin)
}

// TroubleScore is how much a connection deserves a look, as the "Worst
// connections" list ranks them (0: nothing to see); the HTML report keeps
// the ladders and graphs of the highest.
func TroubleScore(c *report.Conn, anoms []*report.Anomaly) float64 {
	return troubleOf(c, anoms).score()
}

// worse says whether a ranks after b: a lower score, or the same score and
// a higher ID (the list of a report is by score, then by ID).
func worse(a, b scored) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	return a.id > b.id
}

// wouldKeep says whether s enters the worst list.
func (acc *OverviewAcc) wouldKeep(s scored) bool {
	return len(acc.worst) < worstN || worse(acc.worst[len(acc.worst)-1], s)
}

// keepFirst keeps a among the kindFrames first anomalies of its kind, in
// the order of the report (sortAnomalies: time, file, frame, kind).
func (k *kindSum) keepFirst(a *report.Anomaly) {
	if len(k.first) == kindFrames && !report.AnomalyBefore(a, k.first[kindFrames-1]) {
		return
	}
	i := sort.Search(len(k.first), func(i int) bool { return report.AnomalyBefore(a, k.first[i]) })
	if len(k.first) < kindFrames {
		k.first = append(k.first, nil)
	}
	copy(k.first[i+1:], k.first[i:])
	k.first[i] = a
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Write writes the overview of the connections added so far.
func (acc *OverviewAcc) Write(w io.Writer, o Options) error {
	title := func(s string) { fmt.Fprintln(w, paint(o.Color, boldColor, s)) }
	if len(acc.kinds) > 0 {
		list := make([]*kindSum, 0, len(acc.kinds))
		for _, k := range acc.kinds {
			list = append(list, k)
		}
		sevRank := map[string]int{"error": 0, "warn": 1, "note": 2, "chat": 3}
		sort.Slice(list, func(i, j int) bool {
			a, b := list[i], list[j]
			if sevRank[a.sev] != sevRank[b.sev] {
				return sevRank[a.sev] < sevRank[b.sev]
			}
			if a.n != b.n {
				return a.n > b.n
			}
			return a.kind < b.kind
		})
		title("Anomalies")
		var rows [][]string
		for _, k := range list {
			fr := make([]string, len(k.first))
			for i, a := range k.first {
				fr[i] = fmt.Sprint(a.Frame)
			}
			rows = append(rows, []string{k.kind, k.sev, fmt.Sprint(k.n), fmt.Sprint(k.conns), strings.Join(fr, ", ")})
		}
		specs := []*fitSpec{4: {drop: 1}}
		if err := writeTable(w, o.Width, specs, []string{"kind", "severity", "count", "connections", "first frames"}, rows); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}

	if len(acc.worst) == 0 {
		return nil
	}
	title("Worst connections")
	var rows [][]string
	for _, s := range acc.worst {
		fr := make([]string, len(s.frames))
		for i, f := range s.frames {
			fr[i] = fmt.Sprint(f)
		}
		rows = append(rows, []string{fmt.Sprint(s.id), s.client + " → " + s.server, s.state, strings.Join(s.why, ", "), strings.Join(fr, ", ")})
	}
	specs := []*fitSpec{1: {shrink: 21, cut: 3}, 2: {shrink: 16, cut: 2}, 3: {shrink: 14, cut: 1}, 4: {drop: 1}}
	if err := writeTable(w, o.Width, specs, []string{"id", "client → server", "state", "trouble", "first frames"}, rows); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return nil
}
