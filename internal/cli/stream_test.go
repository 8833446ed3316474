package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/internal/memtest"
	"github.com/tcptrace/tcptrace/internal/pcapgen"
)

// floodConns is the size of the flood TestStreamingFlood analyzes: 200,000
// connections (twice the default --max-conns: the table is full, and
// evicts, for half of the run), about 35 s for the seven runs;
// TCPTRACE_FLOOD_CONNS=1000000 runs the million of issue 15's acceptance
// (about 3 minutes).
func floodConns(t *testing.T) int {
	if s := os.Getenv("TCPTRACE_FLOOD_CONNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("TCPTRACE_FLOOD_CONNS=%q: want a number of connections", s)
		}
		return n
	}
	return 200_000
}

// lineTail is an output that keeps no more than its last lines, and hands
// every line to a counter: what a flood's output says, without holding it.
type lineTail struct {
	count   func(line []byte)
	partial []byte
	tail    []string
}

func (w *lineTail) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.partial = append(w.partial, p...)
			break
		}
		line := p[:i]
		if len(w.partial) > 0 {
			line = append(w.partial, line...)
			w.partial = w.partial[:0]
		}
		w.count(line)
		if len(w.tail) == 200 {
			w.tail = append(w.tail[:0], w.tail[100:]...)
		}
		w.tail = append(w.tail, string(line))
		p = p[i+1:]
	}
	return n, nil
}

// heapPeak returns the largest live heap while fn runs (memtest.HeapPeak).
func heapPeak(fn func()) uint64 { return memtest.HeapPeak(fn) }

// TestStreamingFlood runs every output mode of analyze and resets on the
// capture of a port scan of floodConns connections (each a SYN and the
// server's RST; pcapgen.WriteFlood), and checks that
//
//   - no output holds memory per connection: the live heap peaks within 25 %
//     (or 32 MiB) of analyze --format json's with the same connection table
//     (JSON held nothing before either; the table's own memory is the same
//     in every mode);
//   - what each mode counts is exact: as many rows, records and entries as
//     connections, and the summary's counts.
func TestStreamingFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("a flood of connections in every output mode: not in -short")
	}
	if raceEnabled {
		t.Skip("too slow under the race detector; go test without -race runs it")
	}
	n := floodConns(t)
	path := floodFile(t, n, pcapgen.FloodScan)

	row := regexp.MustCompile(`^ [0-9]+ +10\.`)
	type mode struct {
		name  string
		run   func(stdio IO) error
		count func(line []byte) bool // the lines that stand for a connection or a RST
		want  []string               // lines the output must have (its end)
		ref   string                 // the JSON run whose heap this one's is compared with (none: it is one)
	}
	// analyze runs with a table of 10,000 connections, so that what the
	// outputs hold stands out from it; resets cannot be told (its table
	// holds the default 100,000), and is compared with analyze's JSON with
	// the same table.
	analyzeIn := func(format string, summary bool, maxConns int) func(IO) error {
		return func(stdio IO) error {
			return RunAnalyze(AnalyzeOptions{Files: []string{path}, Format: format, Color: "never", Progress: "never", Summary: summary,
				IDs: idFlags{ReuseIdle: reuseIdle(60 * time.Second)}, MaxConns: maxConns}, stdio)
		}
	}
	resetsIn := func(format string, summary bool) func(IO) error {
		return func(stdio IO) error {
			return RunResets(ResetsOptions{Files: []string{path}, Format: format, Color: "never", Progress: "never", Summary: summary}, stdio)
		}
	}
	conns := fmt.Sprintf("  connections:  %d", n)
	rsts := fmt.Sprintf("%d RSTs in %d connections (%d ended by one)", n, n, n)
	causes := fmt.Sprintf(" refused  %-*d  %-*d ", max(len("RSTs"), len(strconv.Itoa(n))), n, max(len("connections"), len(strconv.Itoa(n))), n)
	none := func([]byte) bool { return false }
	inTable := true
	lastID, disorder := 0, 0 // the text table's and the CSV's rows are in ID order
	inOrder := func(id []byte) {
		n, err := strconv.Atoi(string(id))
		if err != nil || n != lastID+1 {
			disorder++
		}
		lastID = n
	}
	jsonConn := func(l []byte) bool { return bytes.HasPrefix(l, []byte(`{"type":"conn"`)) }
	jsonConns := fmt.Sprintf(`"connections":%d,`, n)
	const small, dflt = "analyze --format json --max-conns 10000", "analyze --format json"
	modes := []mode{
		{small, analyzeIn("json", false, 10_000), jsonConn, []string{jsonConns}, ""},
		{"analyze --max-conns 10000", analyzeIn("text", false, 10_000), func(l []byte) bool {
			if len(l) == 0 {
				inTable = false // the worst connections have rows too
			}
			if !inTable || !row.Match(l) {
				return false
			}
			inOrder(bytes.Fields(l)[0])
			return true
		}, []string{"Worst connections", conns}, small},
		{"analyze --format csv --max-conns 10000", analyzeIn("csv", false, 10_000), func(l []byte) bool {
			if len(l) == 0 || l[0] < '1' || l[0] > '9' {
				return false
			}
			inOrder(l[:bytes.IndexByte(l, ',')])
			return true
		}, nil, small},
		{"analyze --summary --max-conns 10000", analyzeIn("text", true, 10_000), none, []string{"Worst connections", conns}, small},
		{dflt, analyzeIn("json", false, 0), jsonConn, []string{jsonConns}, ""},
		{"resets", resetsIn("text", false), func(l []byte) bool { return bytes.HasPrefix(l, []byte("Connection ")) }, []string{rsts, causes}, dflt},
		{"resets --format json", resetsIn("json", false), func(l []byte) bool { return bytes.HasPrefix(l, []byte(`{"type":"reset"`)) },
			[]string{fmt.Sprintf(`"resets":{"rsts":%d,"connections":%d,"ended_by_rst":%d,"follow_ups":0,"by_cause":{"refused":%d},"connections_by_cause":{"refused":%d}`, n, n, n, n, n)}, dflt},
		{"resets --summary", resetsIn("text", true), none, []string{rsts, causes}, dflt},
	}
	peaks := map[string]uint64{}
	for _, m := range modes {
		counted := 0
		lastID, disorder = 0, 0
		out := &lineTail{count: func(l []byte) {
			if m.count(l) {
				counted++
			}
		}}
		head := new(bytes.Buffer)
		stdio := IO{Out: io.MultiWriter(out, &capped{head, 4096}), Err: io.Discard, Getenv: func(string) string { return "" }}
		var runErr error
		start := time.Now()
		peak := heapPeak(func() { runErr = m.run(stdio) })
		t.Logf("%-40s %6.1f s, live heap peak %4.0f MiB", m.name, time.Since(start).Seconds(), float64(peak)/(1<<20))
		if runErr != nil {
			t.Fatalf("%s: %v", m.name, runErr)
		}
		peaks[m.name] = peak
		if ref := peaks[m.ref]; m.ref != "" {
			if limit := max(ref+ref/4, ref+32<<20); peak > limit {
				t.Errorf("%s: live heap peaked at %.0f MiB, over %.0f MiB (%s's %.0f MiB + 25 %%, or + 32 MiB): the output holds memory per connection",
					m.name, float64(peak)/(1<<20), float64(limit)/(1<<20), m.ref, float64(ref)/(1<<20))
			}
		}
		wantCount := n
		if strings.Contains(m.name, "--summary") {
			wantCount = 0
		}
		if counted != wantCount {
			t.Errorf("%s: %d connections or RSTs written, want %d", m.name, counted, wantCount)
		}
		if disorder > 0 {
			t.Errorf("%s: %d rows do not follow the one before in ID order", m.name, disorder)
		}
		all := head.String() + "\n" + strings.Join(out.tail, "\n")
		for _, w := range m.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s: no %q in the output; it begins\n%s\nand ends\n%s", m.name, w, head, strings.Join(out.tail[max(0, len(out.tail)-30):], "\n"))
			}
		}
		if strings.Contains(all, "out of ID order") || strings.Contains(all, "out of capture order") || strings.Contains(all, fmt.Sprintf(`"rsts_total":%d,"out_of_order"`, n)) {
			t.Errorf("%s: the flood's connections finish in order, yet the output says some were printed out of order", m.name)
		}
	}
}

// capped keeps the first max bytes written to it.
type capped struct {
	b   *bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.b.Len(); room > 0 {
		c.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// TestJSONBytesPerSYN: on a generated flood of a million one-SYN
// connections (issue 15's capture), analyze --format json writes at most
// 400 bytes a connection record (docs/json.md, "Absent fields"), and each
// record still says what the connection was.
func TestJSONBytesPerSYN(t *testing.T) {
	if testing.Short() {
		t.Skip("a million connections: not in -short")
	}
	if raceEnabled {
		t.Skip("too slow under the race detector; go test without -race runs it")
	}
	const n = 1_000_000
	path := floodFile(t, n, pcapgen.FloodSYN)
	records, size := 0, 0
	var first, last []byte
	out := &lineTail{count: func(l []byte) {
		if !bytes.HasPrefix(l, []byte(`{"type":"conn"`)) {
			return
		}
		records++
		size += len(l) + 1
		if first == nil {
			first = bytes.Clone(l)
		}
		last = append(last[:0], l...)
	}}
	err := RunAnalyze(AnalyzeOptions{Files: []string{path}, Format: "json", Color: "never", Progress: "never"},
		IO{Out: out, Err: io.Discard, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	if records != n {
		t.Fatalf("%d connection records, want %d", records, n)
	}
	per := float64(size) / n
	t.Logf("%d records, %.1f bytes each", records, per)
	if per > 400 {
		t.Errorf("%.1f bytes a one-SYN connection record, want at most 400", per)
	}
	for _, l := range [][]byte{first, last} {
		var c struct {
			FirstFrame int64          `json:"first_frame"`
			LastFrame  *int64         `json:"last_frame"`
			Packets    map[string]int `json:"packets"`
			State      string         `json:"state"`
			ConnState  string         `json:"conn_state"`
			History    string         `json:"history"`
		}
		if err := json.Unmarshal(l, &c); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		if c.FirstFrame == 0 || c.LastFrame != nil || c.Packets["client"] != 1 || c.State != "syn-unanswered, never-opened" || c.ConnState != "S0" || c.History != "S" {
			t.Errorf("a one-SYN record says %+v: %s", c, l)
		}
	}
}
