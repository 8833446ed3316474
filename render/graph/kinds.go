package graph

import (
	"fmt"
	"math"
	"strings"

	"github.com/tcptrace/tcptrace/report"
)

// The palette: Okabe and Ito's, distinguishable with the common colour
// vision deficiencies, dark enough on white, and every mark also differs by
// shape so that a grey print keeps them apart.
const (
	black      = "#000000"
	green      = "#009E73" // bluish green
	orange     = "#C77C00" // a darker orange than Okabe–Ito's, for thin lines on white
	blue       = "#0072B2"
	sky        = "#56B4E9"
	vermillion = "#D55E00"
	purple     = "#CC79A7" // reddish purple
	grey       = "#6E6E6E"
)

// seriesKind is how a series is drawn.
type seriesKind int

const (
	sBars    seriesKind = iota // vertical bars from lo to hi (thinned per pixel column)
	sStep                      // a step line (thinned per pixel column)
	sLine                      // a polyline through the points
	sPoints                    // dots (merged per pixel)
	sMarks                     // anomaly marks: never thinned
	sLetters                   // SYN, FIN, RST letters: never thinned
)

// series is one class of marks.
type series struct {
	class   string // the SVG class of its elements
	label   string // legend
	kind    seriesKind
	color   string
	fill    bool    // marks and points: filled
	width   float64 // stroke width
	dash    string
	shape   shape   // marks and points
	size    float64 // marks: radius (0: 4)
	letter  string  // letters
	bars    []bar
	pts     []pt
	noRange bool // not counted in the y domain (tsg's window line: capped)
	count   bool // the legend says how many
}

type bar struct {
	t, lo, hi float64
}

type pt struct {
	t, y  float64
	title string
	stack int // marks on one row: the how-manieth (drawn above the first)
}

// items is how many marks or bars the series holds.
func (s *series) items() int {
	if s.kind == sBars {
		return len(s.bars)
	}
	return len(s.pts)
}

// plot is one graph before it is drawn.
type plot struct {
	kind           Kind
	dir            string
	id             int
	title          string
	notes          []string
	xlabel, ylabel string
	x0, x1, y0, y1 float64
	zoom           bool
	yZero          bool                              // the y axis starts at 0
	yCapped        bool                              // tsg: the window line goes above the top
	yfmt           func(v, step, max float64) string // tick labels of the y axis
	series         []*series
}

func (p *plot) in(t float64) bool { return t >= p.x0 && t <= p.x1 }

func (p *plot) add(s *series) *series {
	p.series = append(p.series, s)
	return s
}

// Anomaly roles: which graph of a connection shows an anomaly. A sender's
// anomaly is about the data (or the sequence space) of the segment that
// carries it: it is shown on the graph of that segment's direction, at the
// segment. A receiver's anomaly is about what the segment acknowledges or
// advertises: it is shown on the graph of the other direction, on the ACK
// line. Any other kind (about the packet itself: TTL, IP ID, checksum, RST
// checks, and kinds added later) is shown on both graphs. So every anomaly
// of a connection is on the graph of one of its directions at least.
var senderKinds = map[string]bool{
	"retransmission": true, "fast_retransmission": true, "spurious_retransmission": true,
	"out_of_order": true, "lost_segment": true, "zero_window_probe": true, "keep_alive": true,
	"window_full": true, "data_after_fin": true, "outside_window": true,
	"conflicting_retransmission": true, "fin_changed_seq": true, "fin_invalid_seq": true,
	"syn_new_isn": true,
}

var receiverKinds = map[string]bool{
	"duplicate_ack": true, "zero_window": true, "window_update": true, "window_shrink": true,
	"ack_lost_segment": true, "ack_unsent_data": true, "keep_alive_ack": true,
	"zero_window_probe_ack": true,
}

// Shown reports whether the time-sequence graph of a direction shows an
// anomaly of kind found on a segment of that direction (sender true) or of
// the other one.
func Shown(kind string, sender bool) bool {
	if sender {
		return !receiverKinds[kind]
	}
	return !senderKinds[kind]
}

// markOrder is the order of the anomaly marks in the legend (others follow
// by name).
var markOrder = []string{
	"retransmission", "fast_retransmission", "spurious_retransmission", "out_of_order",
	"lost_segment", "ack_lost_segment", "duplicate_ack", "zero_window", "zero_window_probe",
	"zero_window_probe_ack", "window_full", "window_update", "keep_alive", "keep_alive_ack",
}

// markStyles draw each anomaly kind; the others are grey squares.
var markStyles = map[string]struct {
	shape shape
	color string
	fill  bool
	size  float64 // radius; 0: 4
}{
	"retransmission":             {shCircle, vermillion, false, 0},
	"fast_retransmission":        {shCircle, vermillion, true, 0},
	"spurious_retransmission":    {shDiamond, vermillion, false, 0},
	"out_of_order":               {shDiamond, purple, true, 0},
	"lost_segment":               {shCross, black, false, 0},
	"ack_lost_segment":           {shCross, blue, false, 0},
	"duplicate_ack":              {shPlus, blue, false, 3.5},
	"zero_window":                {shTriDown, vermillion, true, 0},
	"zero_window_probe":          {shTriUp, blue, false, 0},
	"zero_window_probe_ack":      {shTriDown, blue, false, 0},
	"window_full":                {shTriUp, orange, true, 3},
	"window_update":              {shSquare, green, false, 2.5},
	"keep_alive":                 {shCircle, grey, false, 0},
	"keep_alive_ack":             {shCircle, grey, true, 0},
	"conflicting_retransmission": {shSquare, vermillion, true, 0},
	"ack_unsent_data":            {shSquare, black, true, 0},
}

// marks holds one series per anomaly kind, made when first needed.
type marks struct {
	p  *plot
	by map[string]*series
}

func (m *marks) add(kind string, t, y float64, title string, stack int) {
	s := m.by[kind]
	if s == nil {
		st, ok := markStyles[kind]
		if !ok {
			st.shape, st.color = shSquare, grey
		}
		s = &series{class: "mark " + kind, label: kind, kind: sMarks, shape: st.shape, color: st.color, fill: st.fill, width: 1.5, size: st.size, count: true}
		if m.by == nil {
			m.by = map[string]*series{}
		}
		m.by[kind] = s
	}
	s.pts = append(s.pts, pt{t: t, y: y, title: title, stack: stack})
}

// done appends the mark series to the plot in the legend's order.
func (m *marks) done() {
	seen := map[string]bool{}
	for _, k := range markOrder {
		if s := m.by[k]; s != nil {
			m.p.add(s)
			seen[k] = true
		}
	}
	var rest []string
	for k := range m.by {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sortStrings(rest)
	for _, k := range rest {
		m.p.add(m.by[k])
	}
}

func markTitle(r *report.Row, a *report.RowAnomaly) string {
	s := fmt.Sprintf("frame %d, %s s, %s: %s (%s)", r.Frame, num(r.Rel), r.Dir, a.Kind, a.Severity)
	if a.Detail != "" {
		s += ": " + a.Detail
	}
	return s
}

// unwrap turns relative sequence numbers into a line: a transfer past 4 GiB
// keeps climbing. Values are read near the last sequence number of the data
// sender.
type unwrap struct{ ref int64 }

// seq reads the data sender's sequence number v and follows it.
func (u *unwrap) seq(v uint32) float64 {
	u.ref += int64(int32(v - uint32(u.ref)))
	return float64(u.ref)
}

// near reads an acknowledgement or SACK edge v near the sender's position.
func (u *unwrap) near(v uint32) float64 {
	return float64(u.ref + int64(int32(v-uint32(u.ref))))
}

func hasFlag(r *report.Row, f string) bool {
	for w := range strings.SplitSeq(r.Flags, ", ") {
		if w == f {
			return true
		}
	}
	return false
}

// tsg is the time-sequence graph: data segments as bars from seq to
// seq+len, the peer's cumulative ACK and receive window (ack + window) as
// step lines, its SACK blocks as bars, SYN/FIN/RST letters and a mark per
// anomaly.
func (p *plot) tsg(rows []report.Row, dir string) {
	p.ylabel = "relative sequence number (bytes)"
	p.yfmt = byteLabel
	win := p.add(&series{class: "win", label: "receive window (ack + win)", kind: sStep, color: orange, width: 1.3, noRange: true})
	ack := p.add(&series{class: "ack", label: "ACK (cumulative)", kind: sStep, color: green, width: 1.6})
	sack := p.add(&series{class: "sack", label: "SACK block", kind: sBars, color: sky, width: 3, count: true})
	seg := p.add(&series{class: "seg", label: "data segment", kind: sBars, color: black, width: 1.2, count: true})
	syn := p.add(&series{class: "syn", label: "SYN", kind: sLetters, letter: "S", color: green, count: true})
	fin := p.add(&series{class: "fin", label: "FIN", kind: sLetters, letter: "F", color: blue, count: true})
	rst := p.add(&series{class: "rst", label: "RST (either side)", kind: sLetters, letter: "R", color: vermillion, count: true})
	m := &marks{p: p}
	var u unwrap
	seen := false // the sender's first segment: its peer's ACKs count from then
	top, lastAck, hasAck := 0.0, 0.0, false
	for i := range rows {
		r := &rows[i]
		in := p.in(r.Rel)
		if r.Dir == dir {
			seq := u.seq(r.Seq)
			seen = true
			end := seq + float64(r.Len)
			top = max(top, end)
			if !in {
				continue
			}
			if r.Len > 0 {
				seg.bars = append(seg.bars, bar{r.Rel, seq, end})
			}
			title := fmt.Sprintf("frame %d, %s s: %s seq %d len %d", r.Frame, num(r.Rel), r.Flags, r.Seq, r.Len)
			if hasFlag(r, "SYN") {
				syn.pts = append(syn.pts, pt{t: r.Rel, y: seq, title: title})
			}
			if hasFlag(r, "FIN") {
				fin.pts = append(fin.pts, pt{t: r.Rel, y: end, title: title})
			}
			if hasFlag(r, "RST") {
				rst.pts = append(rst.pts, pt{t: r.Rel, y: seq, title: title})
			}
			k := 0
			for j := range r.Anomalies {
				a := &r.Anomalies[j]
				if Shown(a.Kind, true) {
					y := end
					if a.Kind == "lost_segment" {
						y = seq // where the gap ends
					}
					m.add(a.Kind, r.Rel, y, markTitle(r, a), k)
					k++
				}
			}
			continue
		}
		if r.HasAck && seen && !hasFlag(r, "RST") {
			// A RST's ACK and window are not the receiver's state: they may
			// be stale or forged.
			lastAck, hasAck = u.near(r.Ack), true
			ack.pts = append(ack.pts, pt{t: r.Rel, y: lastAck})
			win.pts = append(win.pts, pt{t: r.Rel, y: lastAck + float64(r.Win)})
			if in {
				for _, b := range r.SACK {
					sack.bars = append(sack.bars, bar{r.Rel, u.near(b[0]), u.near(b[1])})
				}
			}
		}
		if !in {
			continue
		}
		y := top
		if hasAck {
			y = lastAck
		}
		if hasFlag(r, "RST") {
			rst.pts = append(rst.pts, pt{t: r.Rel, y: y, title: fmt.Sprintf("frame %d, %s s: %s from the %s", r.Frame, num(r.Rel), r.Flags, r.Dir)})
		}
		k := 0
		for j := range r.Anomalies {
			a := &r.Anomalies[j]
			if Shown(a.Kind, false) {
				m.add(a.Kind, r.Rel, y, markTitle(r, a), k)
				k++
			}
		}
	}
	m.done()
	p.yCapped = true
}

// throughput is the payload bytes the direction sent per interval of the
// connection's RTT, and their moving average over 10 intervals.
func (p *plot) throughput(c *report.Conn, dir string) {
	p.ylabel = "throughput (bytes/s)"
	p.yfmt = byteLabel
	p.yZero = true
	span := p.x1 - p.x0
	iv, how := 0.0, "the RTT"
	if c.RTTms != nil {
		iv = *c.RTTms / 1000
	}
	if iv <= 0 {
		iv, how = span/100, "no RTT measured"
	}
	// At most 500 intervals (two pixels each), at least 10.
	if iv < span/500 {
		iv, how = span/500, "span/500"
	}
	if iv > span/10 {
		iv, how = span/10, "span/10"
	}
	n := max(1, int(math.Ceil(span/iv-1e-9)))
	bytes := make([]float64, n)
	for i := range c.Rows {
		r := &c.Rows[i]
		if r.Dir != dir || r.Len == 0 || !p.in(r.Rel) {
			continue
		}
		k := min(n-1, int((r.Rel-p.x0)/iv))
		bytes[k] += float64(r.Len)
	}
	tp := p.add(&series{class: "tput", label: fmt.Sprintf("per %s interval (%s)", dur(iv), how), kind: sStep, color: blue, width: 1.3})
	avg := p.add(&series{class: "tput-avg", label: "moving average (10 intervals)", kind: sLine, color: vermillion, width: 2})
	sum := 0.0
	rates := make([]float64, n)
	for k := range n {
		start := p.x0 + float64(k)*iv
		length := min(iv, p.x1-start)
		if length <= 0 {
			length = iv
		}
		rates[k] = bytes[k] / length
		tp.pts = append(tp.pts, pt{t: start, y: rates[k]})
		sum += rates[k]
		if k >= 10 {
			sum -= rates[k-10]
		}
		avg.pts = append(avg.pts, pt{t: start + length/2, y: sum / float64(min(k+1, 10))})
	}
	tp.pts = append(tp.pts, pt{t: p.x1, y: rates[n-1]})
}

// dur formats an interval: "12.3 ms", "1.5 s", "250 µs".
func dur(s float64) string {
	switch {
	case s >= 1:
		return trimNum(s, 3) + " s"
	case s >= 1e-3:
		return trimNum(s*1e3, 3) + " ms"
	}
	return trimNum(s*1e6, 1) + " µs"
}

func trimNum(v float64, prec int) string {
	s := fmt.Sprintf("%.*f", prec, v)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// sample is one RTT sample: the ACK at t (frame) acknowledged, up to its
// end, the segment sent at t-rtt (data frame).
type sample struct {
	t, rtt      float64
	frame, data int64
}

// rttSamples measures the RTT of the direction's data: at each ACK of the
// peer that moves the cumulative ACK forward to exactly the end of a
// segment, the time since that segment was sent. Karn's rule: no sample when
// any segment the ACK newly covers was sent more than once (a
// retransmission, or data overlapping what was already sent), since the ACK
// may answer either copy. SYN and FIN count one sequence number.
func rttSamples(rows []report.Row, dir string) []sample {
	type sent struct {
		end   float64
		t     float64
		frame int64
		retx  bool
	}
	var (
		u       unwrap
		pend    []sent // not yet acknowledged, by end
		head    int
		maxEnd  = math.Inf(-1)
		highAck = math.Inf(-1)
		seen    bool
		out     []sample
	)
	for i := range rows {
		r := &rows[i]
		if r.Dir == dir {
			seq := u.seq(r.Seq)
			seen = true
			l := r.Len
			if hasFlag(r, "SYN") {
				l++
			}
			if hasFlag(r, "FIN") {
				l++
			}
			if l == 0 || hasFlag(r, "RST") {
				continue
			}
			end := seq + float64(l)
			retx := seq < maxEnd
			for _, a := range r.Anomalies {
				if strings.Contains(a.Kind, "retransmission") {
					retx = true
				}
			}
			if retx {
				// Every unacknowledged segment it overlaps is ambiguous now.
				for j := head; j < len(pend); j++ {
					if pend[j].end > seq && pend[j].end-1 < end {
						pend[j].retx = true
					}
				}
			}
			if end > maxEnd {
				pend = append(pend, sent{end: end, t: r.Rel, frame: r.Frame, retx: retx})
				maxEnd = end
			}
			continue
		}
		if !r.HasAck || !seen {
			continue
		}
		a := u.near(r.Ack)
		if a <= highAck {
			continue
		}
		highAck = a
		ambiguous := false
		var hit *sent
		for head < len(pend) && pend[head].end <= a {
			if pend[head].retx {
				ambiguous = true
			}
			if pend[head].end == a {
				hit = &pend[head]
			}
			head++
		}
		if hit != nil && !ambiguous {
			out = append(out, sample{t: r.Rel, rtt: r.Rel - hit.t, frame: r.Frame, data: hit.frame})
		}
	}
	return out
}

// rtt plots the RTT samples of the direction's data, in milliseconds.
func (p *plot) rtt(rows []report.Row, dir string) {
	p.ylabel = "RTT (ms): ACK time − send time"
	p.yfmt = plainLabel
	p.yZero = true
	s := p.add(&series{class: "rtt", label: "RTT sample", kind: sPoints, shape: shCircle, color: blue, fill: true, width: 1, count: true})
	for _, x := range rttSamples(rows, dir) {
		if p.in(x.t) {
			s.pts = append(s.pts, pt{t: x.t, y: x.rtt * 1e3, title: fmt.Sprintf("frame %d acknowledges frame %d: %s", x.frame, x.data, dur(x.rtt))})
		}
	}
}

// window plots the window the receiver advertised (scaled), with its zero
// windows, and the sender's segments that filled it.
func (p *plot) window(rows []report.Row, dir string) {
	p.ylabel = "advertised window (bytes)"
	p.yfmt = byteLabel
	p.yZero = true
	peer := "server"
	if dir == "server" {
		peer = "client"
	}
	w := p.add(&series{class: "win", label: "window of the " + peer, kind: sStep, color: orange, width: 1.6})
	m := &marks{p: p}
	cur := 0.0
	for i := range rows {
		r := &rows[i]
		if r.Dir != dir {
			cur = float64(r.Win)
			w.pts = append(w.pts, pt{t: r.Rel, y: cur})
		}
		if !p.in(r.Rel) {
			continue
		}
		for j := range r.Anomalies {
			a := &r.Anomalies[j]
			if (r.Dir != dir && a.Kind == "zero_window") || (r.Dir == dir && a.Kind == "window_full") {
				m.add(a.Kind, r.Rel, cur, markTitle(r, a), 0)
			}
		}
	}
	m.done()
}

// inflight plots the bytes in flight: the highest sequence number the
// direction sent minus the highest ACK of its peer, after each segment.
func (p *plot) inflight(rows []report.Row, dir string) {
	p.ylabel = "bytes in flight (highest seq − highest ack)"
	p.yfmt = byteLabel
	p.yZero = true
	s := p.add(&series{class: "inflight", label: "bytes in flight", kind: sStep, color: blue, width: 1.4})
	var u unwrap
	seen := false
	maxEnd, maxAck := 0.0, math.Inf(-1)
	for i := range rows {
		r := &rows[i]
		if r.Dir == dir {
			seq := u.seq(r.Seq)
			l := r.Len
			if hasFlag(r, "SYN") || hasFlag(r, "FIN") {
				l++
			}
			if !seen || seq+float64(l) > maxEnd {
				maxEnd = seq + float64(l)
			}
			seen = true
		} else if r.HasAck && seen {
			maxAck = max(maxAck, u.near(r.Ack))
		}
		if !seen {
			continue
		}
		f := maxEnd
		if !math.IsInf(maxAck, -1) {
			f = max(0, maxEnd-maxAck)
		}
		s.pts = append(s.pts, pt{t: r.Rel, y: f})
	}
}
