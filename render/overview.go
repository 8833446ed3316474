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

// Overview writes, after the connection table, one line per anomaly kind
// (count, connections affected, the first frames) and the connections in
// the most trouble, each number naming frames to open in Wireshark.
func Overview(w io.Writer, r *report.Report, o Options) error {
	title := func(s string) { fmt.Fprintln(w, paint(o.Color, boldColor, s)) }
	type kindSum struct {
		kind, sev string
		n         int
		conns     map[int]bool
		frames    []int64
	}
	kinds := map[string]*kindSum{}
	for _, a := range r.Anomalies {
		k := kinds[a.Kind]
		if k == nil {
			k = &kindSum{kind: a.Kind, sev: a.Severity, conns: map[int]bool{}}
			kinds[a.Kind] = k
		}
		k.n++
		k.conns[a.Conn] = true
		if len(k.frames) < 5 {
			k.frames = append(k.frames, a.Frame)
		}
	}
	if len(kinds) > 0 {
		list := make([]*kindSum, 0, len(kinds))
		for _, k := range kinds {
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
		tbl := newTable(w)
		tbl.Header("kind", "severity", "count", "connections", "first frames")
		for _, k := range list {
			fr := make([]string, len(k.frames))
			for i, f := range k.frames {
				fr[i] = fmt.Sprint(f)
			}
			if err := tbl.Append(k.kind, k.sev, fmt.Sprint(k.n), fmt.Sprint(len(k.conns)), strings.Join(fr, ", ")); err != nil {
				return err
			}
		}
		if err := tbl.Render(); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}

	type scored struct {
		c      *report.Conn
		score  float64
		why    []string
		frames []int64
	}
	var worst []scored
	firstFrames := map[int][]int64{}
	zeroWin := map[int]int{}
	for _, a := range r.Anomalies {
		if a.Severity != "note" && len(firstFrames[a.Conn]) < 3 {
			firstFrames[a.Conn] = append(firstFrames[a.Conn], a.Frame)
		}
		if a.Kind == "zero_window" {
			zeroWin[a.Conn]++
		}
	}
	for _, c := range r.Conns {
		s := scored{c: c}
		if n := len(c.Resets); n > 0 {
			s.score += 50 * float64(n)
			s.why = append(s.why, fmt.Sprintf("%d RST (%s, frame %d)", n, c.Resets[0].Cause, c.Resets[0].Frame))
		}
		if st := c.Stats; st != nil {
			if rb := st.Client.RexmtBytes + st.Server.RexmtBytes; rb > 0 {
				s.score += float64(rb) / 1000
				s.why = append(s.why, sizeWords(rb)+" retransmitted")
			}
		}
		if ra := c.Reassembly; ra != nil {
			if gb := ra.Client.GapBytes + ra.Server.GapBytes - ra.Client.Snaplen - ra.Server.Snaplen; gb > 0 {
				s.score += float64(gb) / 500
				why := sizeWords(gb) + " never captured"
				if len(c.Gaps) > 0 && c.Gaps[0].Frame > 0 {
					why += fmt.Sprintf(" (frame %d)", c.Gaps[0].Frame)
				}
				s.why = append(s.why, why)
			}
		}
		if z := zeroWin[c.ID]; z > 0 {
			s.score += 20 * float64(z)
			s.why = append(s.why, fmt.Sprintf("%d zero windows", z))
		}
		if s.score > 0 {
			if len(c.Resets) > 0 {
				s.frames = append(s.frames, c.Resets[0].Frame)
			}
			for _, f := range firstFrames[c.ID] {
				if len(s.frames) < 3 && (len(s.frames) == 0 || s.frames[0] != f) {
					s.frames = append(s.frames, f)
				}
			}
			worst = append(worst, s)
		}
	}
	if len(worst) == 0 {
		return nil
	}
	sort.SliceStable(worst, func(i, j int) bool { return worst[i].score > worst[j].score })
	title("Worst connections")
	tbl := newTable(w)
	tbl.Header("id", "client → server", "state", "trouble", "first frames")
	for _, s := range worst[:min(worstN, len(worst))] {
		fr := make([]string, len(s.frames))
		for i, f := range s.frames {
			fr[i] = fmt.Sprint(f)
		}
		if err := tbl.Append(fmt.Sprint(s.c.ID), s.c.Client+" → "+s.c.Server, s.c.State, strings.Join(s.why, ", "), strings.Join(fr, ", ")); err != nil {
			return err
		}
	}
	if err := tbl.Render(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return nil
}
