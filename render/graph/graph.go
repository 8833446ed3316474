// Package graph draws one direction of one connection as an SVG graph: the
// tcptrace-style time-sequence graph (tsg), throughput, RTT samples, the
// receiver's advertised window and the bytes in flight, from the
// connection's timeline rows (analyze.Config.Rows). The SVG is written by
// hand: plain elements with presentation attributes (no stylesheet, so that
// it can be inlined in an HTML page without its classes leaking), each mark
// with a class naming what it stands for (docs/graph.md), and a <title> on
// every mark for a tooltip. The output is deterministic: coordinates are
// rounded to a tenth of a pixel.
package graph

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/tcptrace/tcptrace/report"
)

// Kind is a kind of graph.
type Kind string

// The kinds of graph.
const (
	TSG        Kind = "tsg"        // time-sequence graph
	Throughput Kind = "throughput" // bytes/s per RTT-sized interval and a moving average
	RTT        Kind = "rtt"        // RTT samples over time (Karn's rule)
	Window     Kind = "window"     // the receiver's advertised window over time
	Inflight   Kind = "inflight"   // bytes in flight over time
)

// Kinds lists every kind, in the order of the documentation.
var Kinds = []Kind{TSG, Throughput, RTT, Window, Inflight}

// KindNames is the kinds' names joined for messages: "tsg, throughput, …".
func KindNames() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// ParseKind returns the kind named s.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown graph kind %q (one of %s)", s, KindNames())
}

// title names each kind in the graph's title.
var titles = map[Kind]string{
	TSG: "time-sequence graph", Throughput: "throughput", RTT: "round-trip time",
	Window: "advertised window", Inflight: "bytes in flight",
}

// Options choose what Write draws.
type Options struct {
	Kind Kind
	// Dir is the direction of the data: "client" (client → server) or
	// "server"; empty: the one that sent more payload bytes (DefaultDir).
	Dir string
	// From and To zoom to a time range, in seconds since the connection's
	// first packet (ParseRange reads "1.5-3.0"); To == 0: the whole
	// connection (From is then ignored); To == +Inf or past the last packet:
	// up to the last packet.
	From, To float64
	// Width and Height of the SVG in pixels; 0: 1000×600 (at least 480×320).
	Width, Height int
}

// DefaultDir is the direction that sent more payload bytes: "client" or
// "server" (the client on a tie).
func DefaultDir(c *report.Conn) string {
	if c.Bytes.Server > c.Bytes.Client {
		return "server"
	}
	return "client"
}

// ParseRange reads a time range "A-B" (seconds, A < B) or "A-" (from A to
// the end: To is then +Inf).
func ParseRange(s string) (from, to float64, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("time range %q: want FROM-TO in seconds, e.g. 1.5-3.0", s)
	}
	from, err = strconv.ParseFloat(strings.TrimSpace(a), 64)
	if err != nil || from < 0 || math.IsInf(from, 0) || math.IsNaN(from) {
		return 0, 0, fmt.Errorf("time range %q: %q is not a number of seconds", s, a)
	}
	if strings.TrimSpace(b) == "" {
		return from, math.Inf(1), nil
	}
	to, err = strconv.ParseFloat(strings.TrimSpace(b), 64)
	if err != nil || math.IsNaN(to) || math.IsInf(to, 0) {
		return 0, 0, fmt.Errorf("time range %q: %q is not a number of seconds", s, b)
	}
	if to <= from {
		return 0, 0, fmt.Errorf("time range %q: the end must be after the start", s)
	}
	return from, to, nil
}

// Write draws connection c as an SVG document on w. c must carry its
// timeline rows. A direction without data still gets its axes, and the
// title says so.
func Write(w io.Writer, c *report.Conn, o Options) error {
	if c == nil {
		return errors.New("graph: no connection")
	}
	if _, err := ParseKind(string(o.Kind)); err != nil {
		return err
	}
	dir := o.Dir
	if dir == "" {
		dir = DefaultDir(c)
	}
	if dir != "client" && dir != "server" {
		return fmt.Errorf("graph: direction must be client or server, not %q", dir)
	}
	p := build(c, o.Kind, dir, o)
	_, err := io.WriteString(w, p.svg(o))
	return err
}

// build collects the series of one graph and its frame: domain, title,
// labels.
func build(c *report.Conn, kind Kind, dir string, o Options) *plot {
	peer := "server"
	if dir == "server" {
		peer = "client"
	}
	p := &plot{kind: kind, dir: dir, id: c.ID}
	// The time domain: the whole connection, or the zoom.
	end := 0.0
	for i := range c.Rows {
		end = max(end, c.Rows[i].Rel)
	}
	p.x0, p.x1 = 0, end
	if o.To > 0 {
		p.x0, p.x1, p.zoom = o.From, min(o.To, max(end, o.From)), true
		if math.IsInf(o.To, 1) {
			p.x1 = max(end, o.From)
		}
	}
	if p.x1 <= p.x0 {
		p.x1 = p.x0 + 0.001
	}
	data := false
	for i := range c.Rows {
		if c.Rows[i].Dir == dir && c.Rows[i].Len > 0 {
			data = true
			break
		}
	}
	p.title = fmt.Sprintf("Connection %d: %s → %s — %s, %s → %s", c.ID, c.Client, c.Server, titles[kind], dir, peer)
	if !data {
		p.title += " (no data in this direction)"
	}
	p.xlabel = "time (s since the connection's first packet)"
	switch kind {
	case TSG:
		p.tsg(c.Rows, dir)
	case Throughput:
		p.throughput(c, dir)
	case RTT:
		p.rtt(c.Rows, dir)
	case Window:
		p.window(c.Rows, dir)
	case Inflight:
		p.inflight(c.Rows, dir)
	}
	if p.zoom {
		p.notes = append(p.notes, fmt.Sprintf("zoomed to %s–%s s", num(p.x0), num(p.x1)))
	}
	p.domainY()
	return p
}

// num formats a number for a note or title: the shortest form that reads
// back the same, at most 6 decimals.
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*1e6)/1e6, 'f', -1, 64)
}
