package graph

import (
	"fmt"
	"html"
	"math"
	"sort"
	"strconv"
	"strings"
)

// shape is the glyph of a mark.
type shape int

const (
	shCircle shape = iota
	shSquare
	shDiamond
	shTriUp
	shTriDown
	shCross
	shPlus
)

// f formats a coordinate: one decimal, no "-0.0".
func f(v float64) string {
	v = math.Round(v*10) / 10
	if v == 0 {
		v = 0
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// glyph is the path of a shape centred on x, y with radius r.
func glyph(s shape, x, y, r float64) string {
	switch s {
	case shSquare:
		return fmt.Sprintf("M%s %sh%sv%sh-%sz", f(x-r*0.85), f(y-r*0.85), f(r*1.7), f(r*1.7), f(r*1.7))
	case shDiamond:
		return fmt.Sprintf("M%s %sL%s %sL%s %sL%s %sz", f(x), f(y-r*1.15), f(x+r*1.15), f(y), f(x), f(y+r*1.15), f(x-r*1.15), f(y))
	case shTriUp:
		return fmt.Sprintf("M%s %sL%s %sL%s %sz", f(x), f(y-r*1.15), f(x+r), f(y+r*0.7), f(x-r), f(y+r*0.7))
	case shTriDown:
		return fmt.Sprintf("M%s %sL%s %sL%s %sz", f(x), f(y+r*1.15), f(x+r), f(y-r*0.7), f(x-r), f(y-r*0.7))
	case shCross:
		return fmt.Sprintf("M%s %sL%s %sM%s %sL%s %s", f(x-r), f(y-r), f(x+r), f(y+r), f(x-r), f(y+r), f(x+r), f(y-r))
	case shPlus:
		return fmt.Sprintf("M%s %sH%sM%s %sV%s", f(x-r), f(y), f(x+r), f(x), f(y-r), f(y+r))
	}
	return fmt.Sprintf("M%s %sa%s %s 0 1 0 %s 0a%s %s 0 1 0 -%s 0z", f(x-r), f(y), f(r), f(r), f(2*r), f(r), f(r), f(2*r))
}

// niceStep is a step of 1, 2 or 5 times a power of ten that cuts span into
// at most n parts.
func niceStep(span float64, n int) float64 {
	if span <= 0 || n < 1 {
		return 1
	}
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// ticks are the multiples of step within [lo, hi].
func ticks(lo, hi, step float64) []float64 {
	var out []float64
	for k := math.Ceil(lo/step - 1e-9); k*step <= hi+step*1e-9; k++ {
		v := k * step
		if v == 0 {
			v = 0
		}
		out = append(out, v)
	}
	return out
}

// decimals is how many decimals tell the multiples of step apart.
func decimals(step float64) int {
	return max(0, int(-math.Floor(math.Log10(step)+1e-9)))
}

// timeLabel labels the x axis: seconds.
func timeLabel(v, step float64) string {
	return strconv.FormatFloat(v, 'f', decimals(step), 64)
}

// byteLabel labels an axis of bytes (or bytes/s): k, M, G by the largest
// value of the axis.
func byteLabel(v, step, big float64) string {
	unit, suf := 1.0, ""
	switch {
	case big >= 1e9:
		unit, suf = 1e9, "G"
	case big >= 1e6:
		unit, suf = 1e6, "M"
	case big >= 1e4:
		unit, suf = 1e3, "k"
	}
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v/unit, 'f', decimals(step/unit), 64) + suf
}

func plainLabel(v, step, _ float64) string {
	return strconv.FormatFloat(v, 'f', decimals(step), 64)
}

// domainY sets the y range from what is drawn within the time range.
func (p *plot) domainY() {
	lo, hi := math.Inf(1), math.Inf(-1)
	see := func(y float64) { lo, hi = min(lo, y), max(hi, y) }
	capLo, capHi := math.Inf(1), math.Inf(-1)
	for _, s := range p.series {
		for _, b := range s.bars {
			see(b.lo)
			see(b.hi)
		}
		for i, q := range s.pts {
			vis := p.in(q.t)
			if (s.kind == sStep || s.kind == sLine) && !vis {
				// A line's value at the left edge, and up to the right edge.
				vis = q.t < p.x0 && (i+1 == len(s.pts) || s.pts[i+1].t > p.x0)
			}
			if !vis {
				continue
			}
			if s.noRange {
				capLo, capHi = min(capLo, q.y), max(capHi, q.y)
				continue
			}
			see(q.y)
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 0, 0
	}
	if p.yZero {
		lo = min(lo, 0)
	}
	if !math.IsInf(capHi, -1) {
		// The window line may raise the top by half the data's height at
		// most, and does not when it would stay above the top anyway.
		top := max(hi, min(capHi, hi+0.5*max(hi-lo, 1)))
		if capLo > top {
			top = hi
		}
		if capHi > top {
			p.notes = append(p.notes, "the receive window runs above the top")
		}
		hi = top
	}
	if hi <= lo {
		hi = lo + 1
	}
	pad := (hi - lo) * 0.04
	if !(p.yZero && lo == 0) {
		lo -= pad
	}
	p.y0, p.y1 = lo, hi+pad
}

// Layout of the SVG: margins around the plot area; the legend is on the
// right.
const (
	marginLeft   = 74
	marginRight  = 230
	marginTop    = 58
	marginBottom = 50
)

// svg draws the plot.
func (p *plot) svg(o Options) string {
	W, H := o.Width, o.Height
	if W <= 0 {
		W = 1000
	}
	if H <= 0 {
		H = 600
	}
	W, H = max(W, 480), max(H, 320)
	L, T := float64(marginLeft), float64(marginTop)
	PW, PH := float64(W-marginLeft-marginRight), float64(H-marginTop-marginBottom)
	sx := func(t float64) float64 { return L + (t-p.x0)/(p.x1-p.x0)*PW }
	sy := func(y float64) float64 { return T + PH - (y-p.y0)/(p.y1-p.y0)*PH }
	esc := html.EscapeString
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	id := fmt.Sprintf("tcptrace-graph-%d-%s-%s", p.id, p.kind, p.dir)

	w(`<svg xmlns="http://www.w3.org/2000/svg" class="tcptrace-graph" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="12">`+"\n", W, H, W, H)
	w(`<title>%s</title>`+"\n", esc(p.title))
	w(`<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", W, H)
	w(`<text class="title" x="%s" y="22" font-size="15" font-weight="bold" fill="#000000">%s</text>`+"\n", f(L), esc(p.title))
	if len(p.notes) > 0 {
		w(`<text class="note" x="%s" y="42" fill="#333333">%s</text>`+"\n", f(L), esc(strings.Join(p.notes, "; ")))
	}
	w(`<defs><clipPath id="%s-clip"><rect x="%s" y="%s" width="%s" height="%s"/></clipPath></defs>`+"\n", id, f(L), f(T), f(PW), f(PH))

	// Axes: grid, ticks and their labels, the frame, the axis labels.
	w(`<g class="axes">` + "\n")
	xs := niceStep(p.x1-p.x0, max(2, int(PW/90)))
	ys := niceStep(p.y1-p.y0, max(2, int(PH/50)))
	big := max(math.Abs(p.y0), math.Abs(p.y1))
	for _, t := range ticks(p.x0, p.x1, xs) {
		x := f(sx(t))
		w(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#e3e3e3"/>`, x, f(T), x, f(T+PH))
		w(`<line class="tick" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#000000"/>`, x, f(T+PH), x, f(T+PH+5))
		w(`<text class="tick-label" x="%s" y="%s" text-anchor="middle" fill="#000000">%s</text>`+"\n", x, f(T+PH+18), timeLabel(t, xs))
	}
	for _, v := range ticks(p.y0, p.y1, ys) {
		y := f(sy(v))
		w(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#e3e3e3"/>`, f(L), y, f(L+PW), y)
		w(`<line class="tick" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#000000"/>`, f(L-5), y, f(L), y)
		w(`<text class="tick-label" x="%s" y="%s" text-anchor="end" fill="#000000">%s</text>`+"\n", f(L-8), f(sy(v)+4), p.yfmt(v, ys, big))
	}
	w(`<rect x="%s" y="%s" width="%s" height="%s" fill="none" stroke="#000000"/>`+"\n", f(L), f(T), f(PW), f(PH))
	w(`<text class="axis-label" x="%s" y="%s" text-anchor="middle" fill="#000000">%s</text>`+"\n", f(L+PW/2), f(float64(H)-12), esc(p.xlabel))
	w(`<text class="axis-label" transform="translate(16 %s) rotate(-90)" text-anchor="middle" fill="#000000">%s</text>`+"\n", f(T+PH/2), esc(p.ylabel))
	w("</g>\n")

	// The plot: lines clipped to the plot area, then bars, letters, marks.
	w(`<g class="plot" data-kind="%s" data-dir="%s" data-x0="%s" data-x1="%s" data-y0="%s" data-y1="%s">`+"\n",
		p.kind, p.dir, g(p.x0), g(p.x1), g(p.y0), g(p.y1))
	// Marks are drawn last, the least important first, so that the legend's
	// first kinds (retransmissions) are on top.
	var order []*series
	for _, s := range p.series {
		if s.kind != sMarks {
			order = append(order, s)
		}
	}
	for i := len(p.series) - 1; i >= 0; i-- {
		if p.series[i].kind == sMarks {
			order = append(order, p.series[i])
		}
	}
	for _, s := range order {
		if s.items() == 0 {
			continue
		}
		stroke := fmt.Sprintf(`stroke="%s" stroke-width="%s"`, s.color, g(s.width))
		switch s.kind {
		case sStep, sLine:
			var ps []ppt
			n := 0
			for i, q := range s.pts {
				// The points in range, one before it and one after it.
				if q.t < p.x0 && i+1 < len(s.pts) && s.pts[i+1].t <= p.x0 {
					continue
				}
				if q.t > p.x1 && i > 0 && s.pts[i-1].t > p.x1 {
					break
				}
				if p.in(q.t) {
					n++
				}
				x, y := sx(q.t), sy(q.y)
				if s.kind == sStep && len(ps) > 0 {
					ps = append(ps, ppt{x: x, y: ps[len(ps)-1].y})
				}
				ps = append(ps, ppt{x: x, y: y})
			}
			ps = thinLine(ps)
			if len(ps) == 0 {
				continue
			}
			var d strings.Builder
			for i, q := range ps {
				c := "L"
				if i == 0 {
					c = "M"
				}
				fmt.Fprintf(&d, "%s%s %s", c, f(q.x), f(q.y))
			}
			w(`<path class="%s" data-n="%d" clip-path="url(#%s-clip)" fill="none" %s d="%s"/>`+"\n", s.class, n, id, stroke, d.String())
		case sBars:
			bs := make([]pbar, len(s.bars))
			for i, q := range s.bars {
				bs[i] = pbar{x: sx(q.t), lo: sy(q.hi), hi: sy(q.lo), n: 1}
			}
			w(`<g fill="none" stroke-linecap="butt" %s>`+"\n", stroke)
			for _, q := range thinBars(bs) {
				d := fmt.Sprintf("M%s %sV%s", f(q.x), f(q.lo), f(q.hi))
				if s.class == "seg" {
					d += fmt.Sprintf("M%s %sh4M%s %sh4", f(q.x-2), f(q.lo), f(q.x-2), f(q.hi))
				}
				w(`<path class="%s" data-n="%d" d="%s"/>`+"\n", s.class, q.n, d)
			}
			w("</g>\n")
		case sPoints:
			ps := make([]ppt, len(s.pts))
			for i, q := range s.pts {
				ps[i] = ppt{x: sx(q.t), y: sy(q.y), n: 1}
			}
			w(`<g fill="%s" %s>`+"\n", s.color, stroke)
			for _, q := range thinPoints(ps) {
				w(`<path class="%s" data-n="%d" d="%s"/>`+"\n", s.class, q.n, glyph(s.shape, q.x, q.y, 2.2))
			}
			w("</g>\n")
		case sLetters:
			w(`<g fill="%s" font-weight="bold" font-size="11" text-anchor="middle">`+"\n", s.color)
			for _, q := range s.pts {
				w(`<text class="%s" x="%s" y="%s">%s<title>%s</title></text>`+"\n", s.class, f(sx(q.t)+7), f(sy(q.y)+4), s.letter, esc(q.title))
			}
			w("</g>\n")
		case sMarks:
			fill := "none"
			if s.fill {
				fill = s.color
			}
			w(`<g fill="%s" %s>`+"\n", fill, stroke)
			for _, q := range s.pts {
				w(`<path class="%s" d="%s"><title>%s</title></path>`+"\n", s.class, glyph(s.shape, sx(q.t), sy(q.y)-float64(q.stack)*9, s.radius()), esc(q.title))
			}
			w("</g>\n")
		}
	}
	w("</g>\n")

	// The legend: a sample of each series drawn, with its count.
	w(`<g class="legend">` + "\n")
	lx, ly := float64(W-marginRight+18), T+8
	for _, s := range p.series {
		if s.items() == 0 {
			continue
		}
		label := s.label
		if s.count {
			label = fmt.Sprintf("%s (%d)", label, s.items())
		}
		cx, cy := lx+10, ly
		stroke := fmt.Sprintf(`stroke="%s" stroke-width="%s"`, s.color, g(s.width))
		switch s.kind {
		case sStep, sLine:
			w(`<path fill="none" %s d="M%s %sH%s"/>`, stroke, f(lx), f(cy), f(lx+20))
		case sBars:
			d := fmt.Sprintf("M%s %sV%s", f(cx), f(cy-7), f(cy+7))
			if s.class == "seg" {
				d += fmt.Sprintf("M%s %sh4M%s %sh4", f(cx-2), f(cy-7), f(cx-2), f(cy+7))
			}
			w(`<path fill="none" %s d="%s"/>`, stroke, d)
		case sPoints:
			w(`<path fill="%s" %s d="%s"/>`, s.color, stroke, glyph(s.shape, cx, cy, 2.2))
		case sLetters:
			w(`<text x="%s" y="%s" fill="%s" font-weight="bold" font-size="11" text-anchor="middle">%s</text>`, f(cx), f(cy+4), s.color, s.letter)
		case sMarks:
			fill := "none"
			if s.fill {
				fill = s.color
			}
			w(`<path fill="%s" %s d="%s"/>`, fill, stroke, glyph(s.shape, cx, cy, s.radius()))
		}
		w(`<text x="%s" y="%s" fill="#000000">%s</text>`+"\n", f(lx+28), f(cy+4), esc(label))
		ly += 20
	}
	w("</g>\n</svg>\n")
	return b.String()
}

// g formats a number of the data: the shortest form that reads back the
// same.
func g(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func sortStrings(s []string) { sort.Strings(s) }

// radius is the size of a series' marks.
func (s *series) radius() float64 {
	if s.size > 0 {
		return s.size
	}
	return 4
}
