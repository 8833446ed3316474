package render

import (
	"bytes"
	stdjson "encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tcptrace/tcptrace/analyze"
	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/report"
)

// streamedConn is what analyze.Engine.Stream hands over for a connection.
type streamedConn struct {
	c     *report.Conn
	anoms []*report.Anomaly
}

// analyzed is one capture analyzed twice: into a report (every record kept,
// as the renderers over a report see it) and streamed (records in the
// order connections finish, as the CLI's streams see them).
type analyzed struct {
	name     string
	rep      *report.Report
	streamed []streamedConn
	sum      *report.Summary // the streamed run's summary
}

// streamCaptures are the shipped scenario captures and, when it is beside
// the repository, the corpus.
func streamCaptures(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"../testdata/pcaps/*.pcap", "../testdata/pcaps/*.pcapng"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no shipped capture found")
	}
	filepath.WalkDir("../../shared/corpus/raw", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != "real-lo-dev.pcap" { // its 1,000 resets are covered by the CLI's comparison
			files = append(files, p)
		}
		return nil
	})
	return files
}

// analyses caches analyzeBoth: the streams read the records, never change
// them.
var analyses sync.Map

func analyzeBoth(t *testing.T, path string) analyzed {
	t.Helper()
	if a, ok := analyses.Load(path); ok {
		return a.(analyzed)
	}
	run := func(emit func(*report.Conn, []*report.Anomaly)) *report.Report {
		src, err := capture.Open(path)
		if err != nil {
			t.Skipf("%s: %v", path, err)
		}
		defer src.Close()
		e := analyze.NewEngine(analyze.DefaultConfig())
		names := []string{path}
		if emit != nil {
			e.Stream(names, emit)
		}
		_ = e.Run(src) // damage is part of some captures: the summary says it
		return e.Report(names)
	}
	a := analyzed{name: filepath.Base(path), rep: run(nil)}
	a.sum = &run(func(c *report.Conn, anoms []*report.Anomaly) {
		a.streamed = append(a.streamed, streamedConn{c, anoms})
	}).Summary
	if len(a.streamed) != len(a.rep.Conns) {
		t.Fatalf("%s: %d records streamed, %d in the report", path, len(a.streamed), len(a.rep.Conns))
	}
	analyses.Store(path, a)
	return a
}

// forEachCapture runs fn on every capture of streamCaptures, analyzed.
func forEachCapture(t *testing.T, fn func(t *testing.T, a analyzed)) {
	for _, p := range streamCaptures(t) {
		t.Run(strings.TrimPrefix(p, "../"), func(t *testing.T) { fn(t, analyzeBoth(t, p)) })
	}
}

func feed(add func(*report.Conn, []*report.Anomaly), conns []streamedConn) {
	for _, x := range conns {
		add(x.c, x.anoms)
	}
}

// TestOverviewAccAnyOrder: the overview of connections added in the order
// they finish, in the reverse order and shuffled is the overview of the
// report.
func TestOverviewAccAnyOrder(t *testing.T) {
	forEachCapture(t, func(t *testing.T, a analyzed) {
		var want bytes.Buffer
		if err := Overview(&want, a.rep, Options{}); err != nil {
			t.Fatal(err)
		}
		rev := slices.Clone(a.streamed)
		slices.Reverse(rev)
		shuffled := slices.Clone(a.streamed)
		rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		for name, order := range map[string][]streamedConn{"finish": a.streamed, "reverse": rev, "shuffled": shuffled} {
			acc := NewOverview()
			feed(acc.Add, order)
			var got bytes.Buffer
			if err := acc.Write(&got, Options{}); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want.String(), got.String()); d != "" {
				t.Errorf("%s order: the overview differs (-report +accumulated):\n%s", name, d)
			}
		}
	})
}

// TestStreamsMatchReport: fed the connections in the order they finish,
// with the default buffers, the streams write what the renderers over the
// report write (the CLI's outputs before they streamed).
func TestStreamsMatchReport(t *testing.T) {
	forEachCapture(t, func(t *testing.T, a analyzed) {
		check := func(what string, want func(*bytes.Buffer) error, got func(*bytes.Buffer) error) {
			t.Helper()
			var w, g bytes.Buffer
			if err := want(&w); err != nil {
				t.Fatal(err)
			}
			if err := got(&g); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(w.String(), g.String()); d != "" {
				t.Errorf("%s differs (-report +streamed):\n%s", what, d)
			}
		}
		for _, o := range []Options{{}, {Anomalies: true}, {Summary: true}, {Color: true}} {
			check(fmt.Sprintf("text %+v", o), func(b *bytes.Buffer) error { return Text(b, a.rep, o) }, func(b *bytes.Buffer) error {
				s := NewTextStream(b, a.sum.Files, o)
				feed(s.Conn, a.streamed)
				return s.Finish(&a.rep.Summary)
			})
		}
		check("csv", func(b *bytes.Buffer) error { return CSV(b, a.rep) }, func(b *bytes.Buffer) error {
			s := NewCSVStream(b)
			feed(s.Conn, a.streamed)
			return s.Finish()
		})
		for _, o := range []Options{{}, {Summary: true}, {Causes: []string{"abort", "refused"}}} {
			for _, asJSON := range []bool{false, true} {
				check(fmt.Sprintf("resets json=%v %+v", asJSON, o), func(b *bytes.Buffer) error {
					if asJSON {
						return ResetsJSON(b, a.rep, o)
					}
					return Resets(b, a.rep, o)
				}, func(b *bytes.Buffer) error {
					s := NewResetsStream(b, asJSON, o)
					feed(s.Conn, a.streamed)
					return s.Finish(&a.rep.Summary)
				})
			}
		}
	})
}

// TestStreamedTableLikeTablewriter: the lines the text stream writes (at
// the end, or once its columns are fixed) are the house table's
// (tablewriter) when the widths are the same, colours and wide characters
// included.
func TestStreamedTableLikeTablewriter(t *testing.T) {
	forEachCapture(t, func(t *testing.T, a analyzed) {
		if len(a.rep.Conns) == 0 {
			return
		}
		for _, o := range []Options{{}, {Color: true}} {
			s := NewTextStream(new(bytes.Buffer), a.sum.Files, o)
			for _, c := range a.rep.Conns {
				s.done = append(s.done, s.rowOf(c))
			}
			var got bytes.Buffer
			s.w.Reset(&got)
			if err := s.connTable(); err != nil {
				t.Fatal(err)
			}
			s.w.Flush()

			var want bytes.Buffer
			tbl := newTable(&want)
			tbl.Header(toAny(s.header())...)
			for _, r := range s.done {
				if err := tbl.Append(toAny(s.cellsOf(r))...); err != nil {
					t.Fatal(err)
				}
			}
			if err := tbl.Render(); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want.String(), got.String()); d != "" {
				t.Errorf("colour %v: the streamed lines differ from tablewriter's (-tablewriter +streamed):\n%s", o.Color, d)
			}
		}
	})
}

var (
	spaces    = regexp.MustCompile(` +`)
	vlanAfter = regexp.MustCompile(`\(vlan ([^)]*)\)`) // the VLAN of a streamed row in a table without the column
)

// TestTextStreamSmallWindow streams the table with buffers of a few rows:
// the rows are those of the report's table (spaces aside), in ID order but
// for the late ones, which the line under the table counts, and what
// follows the table is the same.
func TestTextStreamSmallWindow(t *testing.T) {
	forEachCapture(t, func(t *testing.T, a analyzed) {
		var want bytes.Buffer
		if err := Text(&want, a.rep, Options{Anomalies: true}); err != nil {
			t.Fatal(err)
		}
		wantRows, wantRest := splitTable(t, want.String())
		for _, window := range []int{1, 2, 5, 50} {
			if window >= len(a.streamed) {
				continue
			}
			var got bytes.Buffer
			s := newTextStream(&got, a.sum.Files, Options{Anomalies: true}, window)
			feed(s.Conn, a.streamed)
			if err := s.Finish(&a.rep.Summary); err != nil {
				t.Fatal(err)
			}
			rows, rest := splitTable(t, got.String())
			late := 0
			if n := len(rows); n > 0 && strings.HasPrefix(rows[n-1], "(") {
				if _, err := fmt.Sscanf(rows[n-1], "(%d connection", &late); err != nil {
					t.Fatalf("window %d: %q: %v", window, rows[n-1], err)
				}
				rows = rows[:n-1]
			}
			if late > 0 {
				t.Logf("window %d: %d rows late", window, late)
			}
			if late != s.rows.late {
				t.Errorf("window %d: the table says %d rows are late, the stream %d", window, late, s.rows.late)
			}
			seen, outOfOrder := 0, 0
			for _, r := range rows {
				id, _ := strconv.Atoi(strings.Fields(r)[0])
				if id < seen {
					outOfOrder++
				}
				seen = max(seen, id)
			}
			if outOfOrder != late {
				t.Errorf("window %d: %d rows after a higher ID, %d said late", window, outOfOrder, late)
			}
			norm := func(rows []string) []string {
				out := make([]string, len(rows))
				for i, r := range rows {
					out[i] = strings.TrimSpace(spaces.ReplaceAllString(vlanAfter.ReplaceAllString(r, "$1"), " "))
				}
				slices.Sort(out)
				return out
			}
			if d := cmp.Diff(norm(wantRows), norm(rows)); d != "" {
				t.Errorf("window %d: rows differ (-report +streamed):\n%s", window, d)
			}
			if d := cmp.Diff(wantRest, rest); d != "" {
				t.Errorf("window %d: after the table (-report +streamed):\n%s", window, d)
			}
		}
	})
}

// splitTable returns the rows of the connection table that opens a text
// output (after the header and its rule, up to the blank line) and the
// rest.
func splitTable(t *testing.T, s string) (rows []string, rest string) {
	t.Helper()
	if !strings.HasPrefix(s, " id ") {
		return nil, s
	}
	table, rest, ok := strings.Cut(s, "\n\n")
	if !ok {
		t.Fatalf("no end of table in %q", s)
	}
	lines := strings.Split(table, "\n")
	return lines[2:], rest
}

// TestCSVStreamSmallWindow: with buffers of a few rows the CSV has the rows
// of the report, in ID order but for the late ones.
func TestCSVStreamSmallWindow(t *testing.T) {
	forEachCapture(t, func(t *testing.T, a analyzed) {
		var want bytes.Buffer
		if err := CSV(&want, a.rep); err != nil {
			t.Fatal(err)
		}
		for _, window := range []int{1, 3, 20} {
			var got bytes.Buffer
			s := newCSVStream(&got, window)
			feed(s.Conn, a.streamed)
			if err := s.Finish(); err != nil {
				t.Fatal(err)
			}
			wl, gl := strings.Split(want.String(), "\n"), strings.Split(got.String(), "\n")
			if wl[0] != gl[0] {
				t.Fatalf("window %d: header %q, want %q", window, gl[0], wl[0])
			}
			seen, outOfOrder := 0, 0
			for _, l := range gl[1 : len(gl)-1] {
				id, _ := strconv.Atoi(l[:strings.IndexByte(l, ',')])
				if id < seen {
					outOfOrder++
				}
				seen = max(seen, id)
			}
			if outOfOrder != s.Late() {
				t.Errorf("window %d: %d rows after a higher ID, Late says %d", window, outOfOrder, s.Late())
			}
			slices.Sort(wl)
			slices.Sort(gl)
			if d := cmp.Diff(wl, gl); d != "" {
				t.Errorf("window %d: rows differ (-report +streamed):\n%s", window, d)
			}
		}
	})
}

// TestResetsStreamSmallWindow: with buffers of a few RSTs (JSON) or
// connections (text) the resets report has the same records and entries
// and the same counts; the records or entries written out of capture order
// are counted.
func TestResetsStreamSmallWindow(t *testing.T) {
	forEachCapture(t, func(t *testing.T, a analyzed) {
		var wantJSON, wantText bytes.Buffer
		if err := ResetsJSON(&wantJSON, a.rep, Options{}); err != nil {
			t.Fatal(err)
		}
		if err := Resets(&wantText, a.rep, Options{}); err != nil {
			t.Fatal(err)
		}
		for _, window := range []int{1, 4} {
			var got bytes.Buffer
			s := newResetsStream(&got, true, Options{}, window)
			feed(s.Conn, a.streamed)
			if err := s.Finish(&a.rep.Summary); err != nil {
				t.Fatal(err)
			}
			wl, gl := strings.Split(wantJSON.String(), "\n"), strings.Split(got.String(), "\n")
			var sum map[string]any
			if err := stdjson.Unmarshal([]byte(gl[len(gl)-2]), &sum); err != nil {
				t.Fatal(err)
			}
			late := 0
			if n, ok := sum["resets"].(map[string]any)["out_of_order"]; ok {
				late = int(n.(float64))
				gl[len(gl)-2] = strings.Replace(gl[len(gl)-2], fmt.Sprintf(`,"out_of_order":%d`, late), "", 1)
			}
			if late > 0 {
				t.Logf("window %d: %d records late", window, late)
			}
			if late != s.held.late {
				t.Errorf("window %d: summary says %d out of order, the stream %d", window, late, s.held.late)
			}
			if late == 0 && !slices.Equal(wl, gl) {
				t.Errorf("window %d: nothing late, yet the records are not in the report's order", window)
			}
			slices.Sort(wl)
			slices.Sort(gl)
			if d := cmp.Diff(wl, gl); d != "" {
				t.Errorf("window %d: JSON records differ (-report +streamed):\n%s", window, d)
			}

			got.Reset()
			s = newResetsStream(&got, false, Options{}, window)
			feed(s.Conn, a.streamed)
			if err := s.Finish(&a.rep.Summary); err != nil {
				t.Fatal(err)
			}
			text := got.String()
			if late := s.held.late; late > 0 {
				i := strings.LastIndex(text, "\n\n(")
				if i < 0 || !strings.HasPrefix(text[i+3:], fmt.Sprintf("%d connection", late)) {
					t.Errorf("window %d: %d late, and the report does not end saying so: %q", window, late, text[max(0, len(text)-200):])
				} else {
					text = text[:i+1]
				}
			}
			we, ge := resetEntries(wantText.String()), resetEntries(text)
			if s.held.late == 0 && !slices.Equal(we, ge) {
				t.Errorf("window %d: nothing late, yet the entries are not in the report's order", window)
			}
			slices.Sort(we)
			slices.Sort(ge)
			if d := cmp.Diff(we, ge); d != "" {
				t.Errorf("window %d: text entries differ (-report +streamed):\n%s", window, d)
			}
		}
	})
}

// resetEntries splits a text resets report into its blocks (the counts,
// then each entry).
func resetEntries(s string) []string {
	return strings.Split(s, "\n\nConnection ")
}

// TestReorder: items displaced by fewer than the window come out in order;
// one held back longer comes out when it comes, counted late.
func TestReorder(t *testing.T) {
	var out []int
	r := newReorder(3, intLess, func(v int) { out = append(out, v) })
	for _, k := range []int{2, 1, 4, 3, 6, 5, 8, 7, 9} {
		r.add(k, k)
	}
	r.flush()
	if want := []int{1, 2, 3, 4, 5, 6, 7, 8, 9}; !slices.Equal(out, want) || r.late != 0 {
		t.Errorf("displaced by one: %v (late %d), want %v", out, r.late, want)
	}

	out = nil
	r = newReorder(3, intLess, func(v int) { out = append(out, v) })
	for _, k := range []int{2, 3, 4, 5, 6, 7, 1, 8} {
		r.add(k, k)
	}
	r.flush()
	if want := []int{2, 3, 4, 1, 5, 6, 7, 8}; !slices.Equal(out, want) || r.late != 1 {
		t.Errorf("1 held back by 6: %v (late %d), want %v and 1 late", out, r.late, want)
	}
}
