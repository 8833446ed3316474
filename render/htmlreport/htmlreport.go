// Package htmlreport writes tcptrace report: one self-contained HTML file
// (no network: styles, script and data inline) with the summary, a
// sortable and filterable table of every connection, and per connection
// its handshake and close, anomalies, reset diagnosis, ladder and graphs.
//
// It streams like the other outputs: each connection is turned into its
// table row and its details when it finishes, and only those are held.
// The details are compressed (gzip, base64) in chunks that the page
// decompresses when a connection is opened (DecompressionStream), so that
// a report of many thousands of connections stays small and opens fast.
// The ladder and the graphs, the largest part, are kept for the Heavy
// most troubled connections, as render.TroubleScore ranks them (the others
// say how to draw them).
package htmlreport

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/tcptrace/tcptrace/render"
	"github.com/tcptrace/tcptrace/report"
)

//go:embed report.html.tmpl
var pageTmpl string

//go:embed report.js
var pageJS string

//go:embed report.css
var pageCSS string

// Graph is one picture of a connection, as SVG.
type Graph struct {
	Title string `json:"title"`
	SVG   string `json:"svg"`
}

// Options shape a report.
type Options struct {
	Title string // the page's title (the input files)
	// Heavy is how many connections keep their ladder and graphs, the most
	// troubled first (0: DefaultHeavy; -1: none).
	Heavy int
	// Graphs draws a connection's graphs (nil: none).
	Graphs func(c *report.Conn) []Graph
	// Command is how to run tcptrace on the same input, for the hint on
	// connections without a ladder ("tcptrace timeline FILE").
	Command string
}

// DefaultHeavy is how many connections keep their ladder and graphs.
const DefaultHeavy = 500

// chunkSize is how many connections' details share one compressed chunk.
const chunkSize = 64

// maxAnoms is the most anomalies listed per connection (the counts are
// whole).
const maxAnoms = 200

// Builder collects the report as connections finish.
type Builder struct {
	w    io.Writer
	o    Options
	rows []row
	held int // timeline rows of the kept connections not drawn yet
	// details: the light details of each connection, in chunks.
	chunks  []string
	pending map[int]json.RawMessage // the chunk being filled, by ID
	heavy   []heavyItem             // a min-heap on trouble, at most o.Heavy
	counts  counts
	err     error
}

// row is a connection's line of the table (encoded as a JSON array).
type row struct {
	ID                     int
	Client, Server         string
	Start                  int64 // ns since the epoch
	Dur                    float64
	PktsC, PktsS           int64
	BytesC, BytesS         int64
	RTT                    float64 // -1: unknown
	State, HS, Close, Zeek string
	Anoms, Causes          string
	Retrans                int64
	Trouble                float64
	Chunk                  int
}

func (r row) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{r.ID, r.Client, r.Server, r.Start / 1000, r.Dur, r.PktsC, r.PktsS, r.BytesC, r.BytesS,
		r.RTT, r.State, r.HS, r.Close, r.Zeek, r.Anoms, r.Causes, r.Retrans, r.Trouble, r.Chunk})
}

// detail is what the page shows when a connection is opened.
type detail struct {
	Handshake   *report.Handshake `json:"handshake,omitempty"`
	Close       *report.Close     `json:"close,omitempty"`
	ClosedBy    string            `json:"closed_by,omitempty"`
	ClientState string            `json:"client_state"`
	ServerState string            `json:"server_state"`
	History     string            `json:"history,omitempty"`
	Frames      string            `json:"frames"`
	Anomalies   []anom            `json:"anomalies,omitempty"`
	AnomsMore   int               `json:"anomalies_more,omitempty"`
	Resets      string            `json:"resets,omitempty"` // tcptrace resets' entry
}

type anom struct {
	Frame    int64  `json:"frame"`
	Dir      string `json:"dir"`
	Kind     string `json:"kind"`
	Severity string `json:"severity"`
	Detail   string `json:"detail,omitempty"`
}

type heavyItem struct {
	id      int
	trouble float64
	// c is the connection while its ladder and graphs are not drawn yet
	// (rows: its timeline rows); blob what they became once drawn.
	c    *report.Conn
	rows int
	blob string // base64 of gzip of {"ladder":…, "graphs":[…]}
}

// heldRows bounds the timeline rows of the kept connections not drawn yet:
// past it, the one with the most rows is drawn and its rows let go. Drawing
// waits so that a connection pushed out by a more troubled one later is
// never drawn (on a capture of 35,000 connections, 1,800 enter the 500
// kept); the bound keeps a few thousand long connections from holding all
// their rows (a row is about 250 bytes).
var heldRows = 100_000

// counts are the summary's tables.
type counts struct {
	Conns     int            `json:"conns"`
	HS        map[string]int `json:"handshake"`
	Close     map[string]int `json:"close"`
	Zeek      map[string]int `json:"zeek"`
	Causes    map[string]int `json:"causes"`
	AnomKinds map[string]int `json:"anomalies"`
	RSTs      int            `json:"rsts"`
}

// New returns a builder writing the page to w at Finish.
func New(w io.Writer, o Options) *Builder {
	if o.Heavy == 0 {
		o.Heavy = DefaultHeavy
	}
	return &Builder{w: w, o: o, pending: map[int]json.RawMessage{}, counts: counts{
		HS: map[string]int{}, Close: map[string]int{}, Zeek: map[string]int{}, Causes: map[string]int{}, AnomKinds: map[string]int{},
	}}
}

// Conn takes one finished connection (with its timeline rows, for the
// ladder) and its anomalies.
func (b *Builder) Conn(c *report.Conn, anoms []*report.Anomaly) {
	if b.err != nil {
		return
	}
	r := row{ID: c.ID, Client: c.Client, Server: c.Server, Start: c.StartNS, Dur: c.Duration,
		PktsC: c.Packets.Client, PktsS: c.Packets.Server, BytesC: c.Bytes.Client, BytesS: c.Bytes.Server,
		RTT: -1, State: c.State, Zeek: c.ConnState, Chunk: len(b.chunks)}
	if c.RTTms != nil {
		r.RTT = *c.RTTms
	}
	if c.Handshake != nil {
		r.HS = c.Handshake.Class
		b.counts.HS[r.HS]++
	}
	if c.Close != nil {
		r.Close = c.Close.Class
		b.counts.Close[r.Close]++
	}
	if c.ConnState != "" {
		b.counts.Zeek[c.ConnState]++
	}
	kinds := make([]string, 0, len(c.Anomalies))
	for k, n := range c.Anomalies {
		kinds = append(kinds, k)
		b.counts.AnomKinds[k] += int(n)
	}
	r.Retrans = render.RetransCount(c)
	sort.Strings(kinds)
	for i, k := range kinds {
		kinds[i] = fmt.Sprintf("%s %d", k, c.Anomalies[k])
	}
	r.Anoms = strings.Join(kinds, ", ")
	var causes []string
	for i := range c.Resets {
		cs := c.Resets[i].Cause
		b.counts.Causes[cs]++
		b.counts.RSTs++
		if !slices.Contains(causes, cs) {
			causes = append(causes, cs)
		}
	}
	r.Causes = strings.Join(causes, ", ")
	r.Trouble = render.TroubleScore(c, anoms)
	b.counts.Conns++

	d := detail{Handshake: c.Handshake, Close: c.Close, ClosedBy: c.ClosedBy, ClientState: c.ClientState,
		ServerState: c.ServerState, History: c.History, Frames: fmt.Sprintf("%d-%d", c.FirstFrame, c.LastFrame)}
	for i, a := range anoms {
		if i == maxAnoms {
			d.AnomsMore = len(anoms) - maxAnoms
			break
		}
		d.Anomalies = append(d.Anomalies, anom{Frame: a.Frame, Dir: a.Dir, Kind: a.Kind, Severity: a.Severity, Detail: a.Detail})
	}
	if len(c.Resets) > 0 {
		var buf bytes.Buffer
		render.ResetText(&buf, c, render.Options{})
		d.Resets = buf.String()
	}
	b.keepHeavy(c, r.Trouble)
	js, err := json.Marshal(d)
	if err != nil {
		b.err = err
		return
	}
	b.pending[c.ID] = js
	if len(b.pending) == chunkSize {
		b.flushChunk()
	}
	b.rows = append(b.rows, r)
}

// keepHeavy keeps c if it is among the o.Heavy most troubled so far; its
// ladder and graphs are drawn at Finish (or when heldRows is reached). A
// connection kept now may be pushed out by a later, more troubled one.
func (b *Builder) keepHeavy(c *report.Conn, t float64) {
	if b.o.Heavy < 0 {
		return
	}
	it := heavyItem{id: c.ID, trouble: t, c: c, rows: len(c.Rows)}
	if len(b.heavy) >= b.o.Heavy {
		if !less(b.heavy[0], it) {
			return
		}
		if b.heavy[0].c != nil {
			b.held -= b.heavy[0].rows
		}
		b.heavy[0] = it
		down(b.heavy, 0)
	} else {
		b.heavy = append(b.heavy, it)
		up(b.heavy, len(b.heavy)-1)
	}
	b.held += it.rows
	for b.held > heldRows && b.err == nil {
		most := -1
		for i := range b.heavy {
			if b.heavy[i].c != nil && (most < 0 || b.heavy[i].rows > b.heavy[most].rows) {
				most = i
			}
		}
		b.draw(&b.heavy[most])
	}
}

// draw renders a kept connection's ladder and graphs into its blob and
// lets go of the connection.
func (b *Builder) draw(it *heavyItem) {
	c := it.c
	it.c = nil
	b.held -= it.rows
	var ladder bytes.Buffer
	if err := render.Timeline(&ladder, []*report.Conn{c}, render.TimelineOptions{Width: 110}); err != nil {
		b.err = err
		return
	}
	h := struct {
		Ladder string  `json:"ladder"`
		Graphs []Graph `json:"graphs,omitempty"`
	}{Ladder: ladder.String()}
	if b.o.Graphs != nil {
		h.Graphs = b.o.Graphs(c)
	}
	js, err := json.Marshal(h)
	if err != nil {
		b.err = err
		return
	}
	it.blob = compress(js)
}

// less orders the heavy connections: the least troubled first, and of as
// troubled ones the higher ID (the heap's root is the first to go).
func less(a, b heavyItem) bool {
	if a.trouble != b.trouble {
		return a.trouble < b.trouble
	}
	return a.id > b.id
}

// up and down keep heavy a min-heap in that order.
func up(h []heavyItem, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !less(h[i], h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func down(h []heavyItem, i int) {
	for {
		l, m := 2*i+1, i
		if l < len(h) && less(h[l], h[m]) {
			m = l
		}
		if l+1 < len(h) && less(h[l+1], h[m]) {
			m = l + 1
		}
		if m == i {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

func (b *Builder) flushChunk() {
	if len(b.pending) == 0 {
		return
	}
	js, err := json.Marshal(b.pending)
	if err != nil {
		b.err = err
		return
	}
	b.chunks = append(b.chunks, compress(js))
	clear(b.pending)
}

// compress is the base64 of the gzip of js.
func compress(js []byte) string {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(js)
	zw.Close()
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// page is what the template receives.
type page struct {
	Title string
	CSS   template.CSS
	JS    template.JS
	Data  template.JS // JSON, HTML-escaped by encoding/json
}

// Finish writes the page.
func (b *Builder) Finish(sum *report.Summary) error {
	b.flushChunk()
	for i := range b.heavy {
		if b.heavy[i].c != nil && b.err == nil {
			b.draw(&b.heavy[i])
		}
	}
	if b.err != nil {
		return b.err
	}
	sort.Slice(b.rows, func(i, j int) bool { return b.rows[i].ID < b.rows[j].ID })
	heavy := map[int]string{}
	for _, h := range b.heavy {
		heavy[h.id] = h.blob
	}
	data := struct {
		Summary *report.Summary `json:"summary"`
		Counts  counts          `json:"counts"`
		Rows    []row           `json:"rows"`
		Chunks  []string        `json:"chunks"`
		Heavy   map[int]string  `json:"heavy"`
		HeavyN  int             `json:"heavy_max"`
		Command string          `json:"command"`
	}{sum, b.counts, b.rows, b.chunks, heavy, b.o.Heavy, b.o.Command}
	if data.Rows == nil {
		data.Rows = []row{}
	}
	js, err := json.Marshal(data)
	if err != nil {
		return err
	}
	t, err := template.New("report").Parse(pageTmpl)
	if err != nil {
		return err
	}
	return t.Execute(b.w, page{Title: b.o.Title, CSS: template.CSS(pageCSS), JS: template.JS(pageJS), Data: template.JS(js)})
}
