package graph

import (
	"bytes"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tcptrace/tcptrace/analyze"
	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/internal/pcapgen"
	"github.com/tcptrace/tcptrace/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// load analyzes a capture with timeline rows.
func load(t testing.TB, name string, data []byte) *report.Report {
	t.Helper()
	var src capture.Source
	var err error
	if data != nil {
		src, err = capture.OpenReader(name, bytes.NewReader(data), int64(len(data)))
	} else {
		src, err = capture.Open(name)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	cfg := analyze.DefaultConfig()
	cfg.Rows = true
	e := analyze.NewEngine(cfg)
	if err := e.Run(src); err != nil {
		t.Logf("%s: %v", name, err)
	}
	return e.Report([]string{name})
}

func pcap(name string) string { return filepath.Join("../../testdata/pcaps", name) }

// parsed is what the tests read back from an SVG: the plot's domain and,
// per class of the elements under the plot group (the legend left out), how
// many elements and the sum of their data-n (1 where absent), and the
// element path data.
type parsed struct {
	kind, dir      string
	x0, x1, y0, y1 float64
	elems, n       map[string]int
	paths          map[string][]string
	title          string
}

func parse(t *testing.T, svg []byte) *parsed {
	t.Helper()
	p := &parsed{elems: map[string]int{}, n: map[string]int{}, paths: map[string][]string{}}
	dec := xml.NewDecoder(bytes.NewReader(svg))
	var stack []string // the class of each open element
	inPlot, inLegend := 0, 0
	attr := func(se xml.StartElement, name string) string {
		for _, a := range se.Attr {
			if a.Name.Local == name {
				return a.Value
			}
		}
		return ""
	}
	sawPlot := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch se := tok.(type) {
		case xml.StartElement:
			class := attr(se, "class")
			stack = append(stack, class)
			switch {
			case class == "plot":
				inPlot++
				sawPlot = true
				p.kind, p.dir = attr(se, "data-kind"), attr(se, "data-dir")
				for _, v := range []struct {
					p    *float64
					name string
				}{{&p.x0, "data-x0"}, {&p.x1, "data-x1"}, {&p.y0, "data-y0"}, {&p.y1, "data-y1"}} {
					f, err := strconv.ParseFloat(attr(se, v.name), 64)
					if err != nil {
						t.Fatalf("plot %s: %v", v.name, err)
					}
					*v.p = f
				}
			case class == "legend":
				inLegend++
			case class == "title" && se.Name.Local == "text":
				var s string
				if err := dec.DecodeElement(&s, &se); err != nil {
					t.Fatal(err)
				}
				p.title = s
				stack = stack[:len(stack)-1]
				continue
			case class != "" && inPlot > 0 && inLegend == 0:
				p.elems[class]++
				n := 1
				if v := attr(se, "data-n"); v != "" {
					n, _ = strconv.Atoi(v)
				}
				p.n[class] += n
				p.paths[class] = append(p.paths[class], attr(se, "d"))
			}
		case xml.EndElement:
			switch stack[len(stack)-1] {
			case "plot":
				inPlot--
			case "legend":
				inLegend--
			}
			stack = stack[:len(stack)-1]
		}
	}
	if !sawPlot {
		t.Fatal("no plot group")
	}
	return p
}

func draw(t *testing.T, c *report.Conn, o Options) (*parsed, []byte) {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, c, o); err != nil {
		t.Fatal(err)
	}
	return parse(t, b.Bytes()), b.Bytes()
}

// want counts, from the rows, what the time-sequence graph of dir must
// show within [from, to]: data segments, SACK blocks, S/F/R letters and the
// anomalies of each kind by the roles of docs/graph.md.
func want(c *report.Conn, dir string, from, to float64) map[string]int {
	w := map[string]int{}
	seen := false
	for i := range c.Rows {
		r := &c.Rows[i]
		sender := r.Dir == dir
		seen = seen || sender
		if r.Rel < from || r.Rel > to {
			continue
		}
		rst := strings.Contains(r.Flags, "RST")
		if sender {
			if r.Len > 0 {
				w["seg"]++
			}
			if strings.Contains(r.Flags, "SYN") {
				w["syn"]++
			}
			if strings.Contains(r.Flags, "FIN") {
				w["fin"]++
			}
		} else if seen && r.HasAck && !rst && len(r.SACK) > 0 {
			w["sack"] += len(r.SACK)
		}
		if rst {
			w["rst"]++
		}
		for _, a := range r.Anomalies {
			if Shown(a.Kind, sender) {
				w["mark "+a.Kind]++
			}
		}
	}
	return w
}

// got is the same count read from the SVG: data-n sums for the thinned
// bars, elements for letters and marks.
func got(p *parsed) map[string]int {
	g := map[string]int{}
	for class := range p.elems {
		switch {
		case class == "seg" || class == "sack":
			g[class] = p.n[class]
		case class == "syn" || class == "fin" || class == "rst" || strings.HasPrefix(class, "mark "):
			g[class] = p.elems[class]
		}
	}
	return g
}

var scenarios = []string{
	"retransmit-sack.pcap", "anomalies.pcap", "handshake-data-close.pcap", "resets.pcap",
	"tso.pcap", "streams.pcap", "dupack-window-update.pcap", "midstream.pcap", "wrap.pcap",
	"closes.pcap", "reset-causes.pcap",
}

// TestTSGMarks draws the time-sequence graph of both directions of every
// connection of the scenario captures and checks its structure: one data
// bar (counted through data-n) per data segment, one SACK bar per block,
// one letter per SYN, FIN and RST, one mark per anomaly of each kind, and,
// over the two directions, as many marks of each kind as the analyzer
// counted anomalies (twice for the kinds shown on both graphs).
func TestTSGMarks(t *testing.T) {
	for _, name := range scenarios {
		rep := load(t, pcap(name), nil)
		if len(rep.Conns) == 0 {
			t.Fatalf("%s: no connection", name)
		}
		for _, c := range rep.Conns {
			both := map[string]int{}
			for _, dir := range []string{"client", "server"} {
				t.Run(fmt.Sprintf("%s/%d/%s", name, c.ID, dir), func(t *testing.T) {
					p, _ := draw(t, c, Options{Kind: TSG, Dir: dir})
					w, g := want(c, dir, 0, math.Inf(1)), got(p)
					if diff := cmp.Diff(w, g); diff != "" {
						t.Errorf("marks per class (-rows +svg):\n%s", diff)
					}
					for k, v := range g {
						if kind, ok := strings.CutPrefix(k, "mark "); ok {
							both[kind] += v
						}
					}
				})
			}
			if c.AnomDropped > 0 {
				continue
			}
			for kind, n := range c.Anomalies {
				if !senderKinds[kind] && !receiverKinds[kind] {
					n *= 2
				}
				if both[kind] != int(n) {
					t.Errorf("%s conn %d: %d %s marks over both directions, the analyzer counted %d", name, c.ID, both[kind], kind, c.Anomalies[kind])
				}
			}
			for kind := range both {
				if c.Anomalies[kind] == 0 {
					t.Errorf("%s conn %d: %s marks, no such anomaly", name, c.ID, kind)
				}
			}
		}
	}
}

// Every anomaly kind the shipped captures raise must have a mark: the
// whole list is checked, so a kind no capture shows is still drawn.
func TestEveryKindHasAStyle(t *testing.T) {
	for k := range senderKinds {
		if _, ok := markStyles[k]; !ok && k != "data_after_fin" && k != "outside_window" && k != "fin_changed_seq" && k != "fin_invalid_seq" && k != "syn_new_isn" {
			t.Errorf("sender kind %s has no style of its own", k)
		}
	}
	for k := range receiverKinds {
		if _, ok := markStyles[k]; !ok && k != "window_shrink" {
			t.Errorf("receiver kind %s has no style of its own", k)
		}
	}
}

// pathNums are the numbers of an SVG path.
var pathNums = regexp.MustCompile(`-?[0-9]+(\.[0-9]+)?`)

// TestAxisRanges checks the domain of every kind: time from the
// connection's first packet to its last, and a y range holding every data
// segment (tsg) or starting at 0 (the others); every bar lies within the
// plot area.
func TestAxisRanges(t *testing.T) {
	for _, name := range []string{"retransmit-sack.pcap", "anomalies.pcap", "tso.pcap", "wrap.pcap"} {
		rep := load(t, pcap(name), nil)
		for _, c := range rep.Conns {
			dir := DefaultDir(c)
			end, lo, hi := 0.0, math.Inf(1), math.Inf(-1)
			for _, r := range c.Rows {
				end = max(end, r.Rel)
				if r.Dir == dir && r.Len > 0 {
					lo, hi = min(lo, float64(r.Seq)), max(hi, float64(r.Seq)+float64(r.Len))
				}
			}
			for _, k := range Kinds {
				p, _ := draw(t, c, Options{Kind: k})
				if p.kind != string(k) || p.dir != dir {
					t.Errorf("%s conn %d %s: plot says kind %s dir %s", name, c.ID, k, p.kind, p.dir)
				}
				if p.x0 != 0 || (end > 0 && p.x1 != end) {
					t.Errorf("%s conn %d %s: x range %g–%g, want 0–%g", name, c.ID, k, p.x0, p.x1, end)
				}
				if p.y1 <= p.y0 {
					t.Errorf("%s conn %d %s: empty y range %g–%g", name, c.ID, k, p.y0, p.y1)
				}
				if k != TSG {
					if p.y0 != 0 {
						t.Errorf("%s conn %d %s: y starts at %g, want 0", name, c.ID, k, p.y0)
					}
					continue
				}
				if hi > lo && (p.y0 > lo || p.y1 < hi) {
					t.Errorf("%s conn %d tsg: y range %g–%g does not hold the data %g–%g", name, c.ID, p.y0, p.y1, lo, hi)
				}
				for _, d := range p.paths["seg"] {
					v := pathNums.FindAllString(d, 3)
					x, _ := strconv.ParseFloat(v[0], 64)
					y1, _ := strconv.ParseFloat(v[1], 64)
					y2, _ := strconv.ParseFloat(v[2], 64)
					// Merged bars are drawn mid-column: half a pixel out at most.
					if x < marginLeft-1 || x > 1000-marginRight+1 || y1 < marginTop-1 || y2 > 600-marginBottom+1 || y1 > y2 {
						t.Errorf("%s conn %d: bar %q outside the plot area", name, c.ID, d)
					}
				}
			}
		}
	}
}

// TestZoom draws a time range: the domain is the range, and the marks are
// those of the rows inside it.
func TestZoom(t *testing.T) {
	rep := load(t, pcap("retransmit-sack.pcap"), nil)
	c := rep.Conns[0]
	from, to := 0.025, 0.045
	p, _ := draw(t, c, Options{Kind: TSG, From: from, To: to})
	if p.x0 != from || p.x1 != to {
		t.Errorf("x range %g–%g, want %g–%g", p.x0, p.x1, from, to)
	}
	w := want(c, DefaultDir(c), from, to)
	if diff := cmp.Diff(w, got(p)); diff != "" {
		t.Errorf("zoomed marks (-rows +svg):\n%s", diff)
	}
	if w["seg"] == 0 || w["seg"] == want(c, DefaultDir(c), 0, math.Inf(1))["seg"] {
		t.Errorf("the range should hold some of the data segments, not %d", w["seg"])
	}
	// FROM- draws to the end.
	from, to, err := ParseRange("0.03-")
	if err != nil {
		t.Fatal(err)
	}
	p, _ = draw(t, c, Options{Kind: TSG, From: from, To: to})
	if p.x0 != 0.03 || p.x1 != c.Duration {
		t.Errorf("0.03-: x range %g–%g, want 0.03–%g", p.x0, p.x1, c.Duration)
	}
}

// TestNoData: a direction that sent no data still gets its axes, and the
// title says so.
func TestNoData(t *testing.T) {
	rep := load(t, pcap("handshakes.pcap"), nil)
	c := rep.Conns[3] // a SYN never answered
	quiet := "client"
	if c.Bytes.Client != 0 || c.Bytes.Server != 0 {
		t.Fatalf("conn %d of handshakes.pcap carries data", c.ID)
	}
	for _, k := range Kinds {
		p, svg := draw(t, c, Options{Kind: k, Dir: quiet})
		if !strings.Contains(p.title, "(no data in this direction)") {
			t.Errorf("%s: title %q does not say there is no data", k, p.title)
		}
		if p.elems["seg"] != 0 || !bytes.Contains(svg, []byte(`class="tick-label"`)) {
			t.Errorf("%s: want axes and no data bar", k)
		}
	}
}

// TestThinningKeepsMarks draws a generated transfer of 8000 segments with a
// loss every 500: the bars are merged (far fewer elements than segments,
// their data-n adding up to all of them) and no anomaly mark is lost.
func TestThinningKeepsMarks(t *testing.T) {
	n := 8000
	c := pcapgen.NewConn(pcapgen.ConnConfig{
		Client: netip.MustParseAddrPort("10.0.0.1:40000"), Server: netip.MustParseAddrPort("192.0.2.1:80"),
		ClientISN: 1000, ServerISN: 5000, Start: pcapgen.Epoch, Gap: 20 * time.Microsecond,
	})
	c.Handshake()
	payload := bytes.Repeat([]byte("x"), 1000)
	hole, dups := uint32(0), 0
	lost := false
	for i := range n {
		if i%500 == 250 {
			hole, lost, dups = c.NextSeq(true), true, 0
			c.Lost(true, payload)
			continue
		}
		c.Segment(true, pcapgen.ACK, payload)
		switch {
		case lost:
			c.Raw(pcapgen.RawSegment{FromClient: false, Seq: c.NextSeq(false), Ack: hole, Flags: pcapgen.ACK,
				Options: []pcapgen.TCPOption{pcapgen.SACKOption(pcapgen.SACKBlock{Left: hole + 1000, Right: c.NextSeq(true)})}})
			if dups++; dups == 3 {
				c.Raw(pcapgen.RawSegment{FromClient: true, Seq: hole, Ack: c.NextSeq(false), Flags: pcapgen.ACK, Payload: payload})
				c.ACKFromServer()
				lost = false
			}
		case i%2 == 1:
			c.ACKFromServer()
		}
	}
	c.ClientFIN()
	c.ServerFIN()
	c.ACKFromClient()
	var b bytes.Buffer
	if err := c.Capture().WritePcap(&b, pcapgen.LinkTypeEthernet, 65535, false); err != nil {
		t.Fatal(err)
	}
	rep := load(t, "thin.pcap", b.Bytes())
	conn := rep.Conns[0]
	if conn.AnomDropped > 0 {
		t.Fatalf("%d anomaly records dropped: the test wants them all on the rows", conn.AnomDropped)
	}
	p, _ := draw(t, conn, Options{Kind: TSG, Dir: "client"})
	w := want(conn, "client", 0, math.Inf(1))
	if diff := cmp.Diff(w, got(p)); diff != "" {
		t.Errorf("marks per class (-rows +svg):\n%s", diff)
	}
	if w["seg"] < n || p.elems["seg"] > w["seg"]/3 {
		t.Errorf("%d data segments drawn as %d bars: not thinned", w["seg"], p.elems["seg"])
	}
	for _, kind := range []string{"lost_segment", "duplicate_ack", "fast_retransmission"} {
		if w["mark "+kind] < 15 {
			t.Errorf("%d %s marks: the generated capture should have one per loss", w["mark "+kind], kind)
		}
	}
	t.Logf("%d segments in %d bars; marks %v", w["seg"], p.elems["seg"], w)
}

// TestRTTKarn: samples come from the ACKs that end exactly at a segment
// sent once; none from an ACK that covers a retransmitted segment.
func TestRTTKarn(t *testing.T) {
	row := func(dir string, rel float64, seq, ack uint32, n int, flags string, kinds ...string) report.Row {
		r := report.Row{Dir: dir, Rel: rel, Seq: seq, Ack: ack, HasAck: ack > 0, Len: n, Flags: flags, Frame: int64(rel * 1000)}
		for _, k := range kinds {
			r.Anomalies = append(r.Anomalies, report.RowAnomaly{Kind: k})
		}
		return r
	}
	rows := []report.Row{
		row("client", 0.000, 0, 0, 0, "SYN"),
		row("server", 0.010, 0, 1, 0, "SYN, ACK"), // 10 ms: the SYN
		row("client", 0.011, 1, 1, 100, "ACK"),
		row("client", 0.012, 101, 1, 100, "ACK"),
		row("server", 0.031, 1, 101, 0, "ACK"),                     // 20 ms: first segment
		row("server", 0.032, 1, 150, 0, "ACK"),                     // ends inside a segment: none
		row("client", 0.050, 101, 1, 100, "ACK", "retransmission"), // the second again
		row("server", 0.060, 1, 201, 0, "ACK"),                     // Karn: none
		row("client", 0.070, 201, 1, 100, "ACK"),
		row("client", 0.071, 301, 1, 100, "ACK"),
		row("server", 0.100, 1, 401, 0, "ACK"), // cumulative over two: 29 ms from the last
		row("server", 0.101, 1, 401, 0, "ACK"), // a duplicate: none
	}
	var got []string
	for _, s := range rttSamples(rows, "client") {
		got = append(got, fmt.Sprintf("%.0f ms", s.rtt*1e3))
	}
	if diff := cmp.Diff([]string{"10 ms", "20 ms", "29 ms"}, got); diff != "" {
		t.Errorf("samples (-want +got):\n%s", diff)
	}
}

func TestParse(t *testing.T) {
	for _, s := range []string{"", "1", "a-2", "2-1", "1-1", "-1-2", "1-x"} {
		if _, _, err := ParseRange(s); err == nil {
			t.Errorf("ParseRange(%q): want an error", s)
		}
	}
	if f, to, err := ParseRange("1.5-3.0"); err != nil || f != 1.5 || to != 3 {
		t.Errorf("ParseRange(1.5-3.0) = %g, %g, %v", f, to, err)
	}
	if _, err := ParseKind("bars"); err == nil || !strings.Contains(err.Error(), KindNames()) {
		t.Errorf("ParseKind(bars): %v", err)
	}
	for _, k := range Kinds {
		if got, err := ParseKind(string(k)); err != nil || got != k {
			t.Errorf("ParseKind(%s) = %s, %v", k, got, err)
		}
	}
}

// goldens are the SVGs kept in testdata/golden: one capture per kind of
// content, all kinds on one.
var goldens = []struct {
	pcap string
	conn int
	o    Options
}{
	{"retransmit-sack.pcap", 1, Options{Kind: TSG}},
	{"retransmit-sack.pcap", 1, Options{Kind: TSG, Dir: "client"}},
	{"anomalies.pcap", 1, Options{Kind: TSG}},
	{"resets.pcap", 1, Options{Kind: TSG}},
	{"dupack-window-update.pcap", 1, Options{Kind: Window}},
	{"handshake-data-close.pcap", 1, Options{Kind: TSG}},
	{"handshake-data-close.pcap", 1, Options{Kind: Throughput}},
	{"handshake-data-close.pcap", 1, Options{Kind: RTT}},
	{"handshake-data-close.pcap", 1, Options{Kind: Window}},
	{"handshake-data-close.pcap", 1, Options{Kind: Inflight}},
	{"tso.pcap", 2, Options{Kind: TSG, From: 0.005, To: 0.04, Width: 700, Height: 400}},
}

// TestGolden compares SVGs with testdata/golden (go test -update rewrites
// them), and checks that drawing twice gives the same bytes.
func TestGolden(t *testing.T) {
	reports := map[string]*report.Report{}
	for _, gd := range goldens {
		dir := gd.o.Dir
		if dir == "" {
			dir = "default"
		}
		name := fmt.Sprintf("%s.%d.%s.%s.svg", strings.TrimSuffix(gd.pcap, ".pcap"), gd.conn, gd.o.Kind, dir)
		if gd.o.To > 0 {
			name = strings.TrimSuffix(name, ".svg") + ".zoom.svg"
		}
		t.Run(name, func(t *testing.T) {
			rep := reports[gd.pcap]
			if rep == nil {
				rep = load(t, pcap(gd.pcap), nil)
				reports[gd.pcap] = rep
			}
			var c *report.Conn
			for _, x := range rep.Conns {
				if x.ID == gd.conn {
					c = x
				}
			}
			_, svg := draw(t, c, gd.o)
			_, again := draw(t, c, gd.o)
			if !bytes.Equal(svg, again) {
				t.Fatal("two drawings differ")
			}
			path := filepath.Join("testdata/golden", name)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, svg, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			w, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test ./render/graph -run TestGolden -update makes it)", err)
			}
			if diff := cmp.Diff(strings.Split(string(w), "\n"), strings.Split(string(svg), "\n")); diff != "" {
				t.Errorf("differs from %s (-want +got):\n%s", path, diff)
			}
		})
	}
}

// TestDocsImage keeps README's image what the command draws:
// tcptrace graph testdata/pcaps/retransmit-sack.pcap --conn 1 --kind tsg
// --at 0.018-0.044 (go test -update rewrites it).
func TestDocsImage(t *testing.T) {
	rep := load(t, pcap("retransmit-sack.pcap"), nil)
	_, svg := draw(t, rep.Conns[0], Options{Kind: TSG, From: 0.018, To: 0.044})
	path := "../../docs/img/tsg-retransmit-sack.svg"
	if *update {
		if err := os.WriteFile(path, svg, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	w, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w, svg) {
		t.Errorf("%s is not what tcptrace graph draws now (go test ./render/graph -run TestDocsImage -update)", path)
	}
}
