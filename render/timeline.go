package render

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	json "github.com/goccy/go-json"

	"github.com/fatih/color"

	"github.com/tcptrace/tcptrace/report"
)

// TimelineOptions control the ladder.
type TimelineOptions struct {
	Color   bool
	Width   int  // total width in columns (at least 60)
	Abs     bool // absolute times (UTC) instead of seconds since the first packet
	NoFold  bool // show every plain data segment
	Explain bool // print the rows' explanations
}

// foldMin is the shortest run of plain segments folded into one line.
const foldMin = 5

// item is a row or a fold of plain rows.
type item struct {
	row  *report.Row
	fold []report.Row
}

// plain reports whether a row is ordinary data or ACK traffic: no SYN, FIN
// or RST, no state change, no anomaly.
func plain(r *report.Row) bool {
	return len(r.Transitions) == 0 && len(r.Anomalies) == 0 &&
		!strings.Contains(r.Flags, "SYN") && !strings.Contains(r.Flags, "FIN") && !strings.Contains(r.Flags, "RST")
}

func items(rows []report.Row, fold bool) []item {
	var out []item
	for i := 0; i < len(rows); {
		j := i
		for fold && j < len(rows) && plain(&rows[j]) {
			j++
		}
		// Keep the first and last plain rows visible; fold what is between.
		if j-i >= foldMin+2 {
			out = append(out, item{row: &rows[i]}, item{fold: rows[i+1 : j-1]}, item{row: &rows[j-1]})
			i = j
			continue
		}
		if j == i {
			j = i + 1
		}
		for k := i; k < j; k++ {
			out = append(out, item{row: &rows[k]})
		}
		i = j
	}
	return out
}

// foldSummary sums up folded rows.
type foldSummary struct {
	First, Last          int64
	DataSegs, ACKs       int
	BytesClient, BytesSv int64
	Seconds              float64
}

func summarize(rows []report.Row) foldSummary {
	s := foldSummary{First: rows[0].Frame, Last: rows[len(rows)-1].Frame, Seconds: float64(rows[len(rows)-1].TS-rows[0].TS) / 1e9}
	for _, r := range rows {
		if r.Len > 0 {
			s.DataSegs++
			if r.Dir == "client" {
				s.BytesClient += int64(r.Len)
			} else {
				s.BytesSv += int64(r.Len)
			}
		} else {
			s.ACKs++
		}
	}
	return s
}

// TimelineJSON writes the rows of each connection as records: "type":"row"
// (the fields of report.Row) and, where runs are folded, "type":"fold".
func TimelineJSON(w io.Writer, conns []*report.Conn, o TimelineOptions) error {
	enc := json.NewEncoder(w)
	for _, c := range conns {
		for _, it := range items(c.Rows, !o.NoFold) {
			var err error
			if it.row != nil {
				r := *it.row
				if !o.Explain {
					r.Explain = nil
				}
				err = enc.Encode(struct {
					Type string `json:"type"`
					Conn int    `json:"conn"`
					report.Row
				}{"row", c.ID, r})
			} else {
				s := summarize(it.fold)
				err = enc.Encode(struct {
					Type         string  `json:"type"`
					Conn         int     `json:"conn"`
					FirstFrame   int64   `json:"first_frame"`
					LastFrame    int64   `json:"last_frame"`
					DataSegments int     `json:"data_segments"`
					ACKs         int     `json:"acks"`
					BytesClient  int64   `json:"bytes_client"`
					BytesServer  int64   `json:"bytes_server"`
					Duration     float64 `json:"duration"`
				}{"fold", c.ID, s.First, s.Last, s.DataSegs, s.ACKs, s.BytesClient, s.BytesSv, s.Seconds})
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// Timeline draws each connection as a ladder: the client on the left, the
// server on the right, one row per segment with an arrow in its direction,
// each endpoint's state changes on its own side, anomalies under the row.
func Timeline(w io.Writer, conns []*report.Conn, o TimelineOptions) error {
	width := max(o.Width, 60)
	const left = 21 // "  +0.000000   frame  " up to the ladder
	ladder := width - left
	paint := func(c *color.Color, s string) string { return paint(o.Color, c, s) }
	for ci, c := range conns {
		if ci > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, paint(boldColor, fmt.Sprintf("Connection %d: %s → %s  (%s)", c.ID, c.Client, c.Server, c.State)))
		tcol := "time (s)"
		if o.Abs {
			tcol = "time (UTC)"
		}
		hl := "client " + c.Client
		hr := "server " + c.Server
		fmt.Fprintf(w, "%-12s %6s  %s\n", tcol, "frame", spread(hl, hr, ladder))
		for _, it := range items(c.Rows, !o.NoFold) {
			if it.fold != nil {
				s := summarize(it.fold)
				parts := []string{fmt.Sprintf("%d data segments", s.DataSegs)}
				if s.BytesClient > 0 {
					parts = append(parts, sizeWords(s.BytesClient)+" →")
				}
				if s.BytesSv > 0 {
					parts = append(parts, sizeWords(s.BytesSv)+" ←")
				}
				if s.ACKs > 0 {
					parts = append(parts, fmt.Sprintf("%d ACKs", s.ACKs))
				}
				line := fmt.Sprintf("… %s, frames %d-%d, %.3f s …", strings.Join(parts, ", "), s.First, s.Last, s.Seconds)
				fmt.Fprintf(w, "%-12s %6s  %s\n", "", "", paint(faintColor, center(line, ladder)))
				continue
			}
			r := it.row
			t := fmt.Sprintf("%.6f", r.Rel)
			if o.Abs {
				t = shortTime(r.Time)[11:]
			}
			label := r.Flags
			label += fmt.Sprintf(" seq=%d", r.Seq)
			if r.HasAck {
				label += fmt.Sprintf(" ack=%d", r.Ack)
			}
			label += fmt.Sprintf(" win=%d len=%d", r.Win, r.Len)
			d := 0
			if r.Dir == "server" {
				d = 1
			}
			fmt.Fprintf(w, "%-12s %6d  %s\n", t, r.Frame, paint(dirColors[d], arrow(label, ladder, d == 0)))
			var lt, rt []string
			for _, tr := range r.Transitions {
				s := tr.From + " → " + tr.To
				if tr.Endpoint == "client" {
					lt = append(lt, s)
				} else {
					rt = append(rt, s)
				}
			}
			if len(lt)+len(rt) > 0 {
				fmt.Fprintf(w, "%-12s %6s  %s\n", "", "", paint(boldColor, spread(strings.Join(lt, ", "), strings.Join(rt, ", "), ladder)))
			}
			for _, a := range r.Anomalies {
				s := "! " + a.Kind
				if a.Detail != "" {
					s += ": " + a.Detail
				}
				fmt.Fprintf(w, "%-12s %6s    %s\n", "", "", paint(sevColors[a.Severity], clip(s, ladder-2)))
			}
			if o.Explain {
				for _, e := range r.Explain {
					for i, l := range wrap(e, ladder-4) {
						p := "  ⓘ "
						if i > 0 {
							p = "    "
						}
						fmt.Fprintf(w, "%-12s %6s  %s%s\n", "", "", p, paint(faintColor, l))
					}
				}
			}
		}
	}
	return nil
}

// arrow draws "label ────▶" (toRight) or "◀──── label" in n columns.
func arrow(label string, n int, toRight bool) string {
	label = clip(label, n-4)
	fill := n - utf8.RuneCountInString(label) - 2
	if toRight {
		return label + " " + strings.Repeat("─", fill) + "▶"
	}
	return "◀" + strings.Repeat("─", fill) + " " + label
}

// spread puts a on the left and b on the right of n columns.
func spread(a, b string, n int) string {
	if b == "" {
		return a
	}
	gap := n - utf8.RuneCountInString(a) - utf8.RuneCountInString(b)
	if gap < 1 {
		return a + " " + b
	}
	return a + strings.Repeat(" ", gap) + b
}

func center(s string, n int) string {
	pad := (n - utf8.RuneCountInString(s)) / 2
	if pad < 0 {
		return s
	}
	return strings.Repeat(" ", pad) + s
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n || n < 2 {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// wrap breaks s into lines of at most n columns at spaces.
func wrap(s string, n int) []string {
	var lines []string
	var cur []string
	l := 0
	for _, word := range strings.Fields(s) {
		wl := utf8.RuneCountInString(word)
		if l > 0 && l+1+wl > n {
			lines = append(lines, strings.Join(cur, " "))
			cur, l = nil, 0
		}
		if l > 0 {
			l++
		}
		cur = append(cur, word)
		l += wl
	}
	if len(cur) > 0 {
		lines = append(lines, strings.Join(cur, " "))
	}
	return lines
}

func sizeWords(n int64) string {
	switch {
	case n >= 10<<20:
		return fmt.Sprintf("%.0f MB", float64(n)/1e6)
	case n >= 10_000:
		return fmt.Sprintf("%.0f KB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}
