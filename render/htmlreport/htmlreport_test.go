package htmlreport

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"testing"

	"github.com/tcptrace/tcptrace/report"
)

// page reads back the data of a written page.
type pageData struct {
	Rows   [][]any           `json:"rows"`
	Chunks []string          `json:"chunks"`
	Heavy  map[string]string `json:"heavy"`
}

func inflate(t *testing.T, b64 string, v any) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	js, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, v); err != nil {
		t.Fatal(err)
	}
}

// TestBuilder: every connection has its row and its details in the chunk
// its row names; the ladder and graphs are kept for the Heavy most
// troubled connections, whatever order they finish in.
func TestBuilder(t *testing.T) {
	var out bytes.Buffer
	b := New(&out, Options{Title: "t", Heavy: 3, Graphs: func(c *report.Conn) []Graph {
		return []Graph{{Title: "g", SVG: fmt.Sprintf(`<svg id="g%d"></svg>`, c.ID)}}
	}})
	const n = 200
	for i := range n {
		id := (i*37)%n + 1 // out of order, as a sharded run finishes them
		c := &report.Conn{ID: id, Client: "10.0.0.1:1", Server: "10.0.0.2:80", State: "complete, open",
			Close: &report.Close{Class: "four-way"}}
		if id%50 == 0 { // 50, 100, 150, 200: a RST each, the most troubled
			c.Resets = []report.Reset{{Cause: "abort"}}
			c.Close.Class = "reset"
		}
		b.Conn(c, nil)
	}
	if err := b.Finish(&report.Summary{}); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)<script type="application/json" id="data">(.*?)</script>`).FindSubmatch(out.Bytes())
	if m == nil {
		t.Fatal("no data in the page")
	}
	var d pageData
	if err := json.Unmarshal(m[1], &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Rows) != n {
		t.Fatalf("%d rows, want %d", len(d.Rows), n)
	}
	for i, r := range d.Rows {
		id := int(r[0].(float64))
		if id != i+1 {
			t.Fatalf("row %d is connection %d: rows are not in ID order", i, id)
		}
		var chunk map[string]json.RawMessage
		inflate(t, d.Chunks[int(r[18].(float64))], &chunk)
		if _, ok := chunk[fmt.Sprint(id)]; !ok {
			t.Errorf("connection %d: not in the chunk its row names", id)
		}
	}
	if len(d.Heavy) != 3 {
		t.Fatalf("%d connections keep their ladder, want 3", len(d.Heavy))
	}
	for _, id := range []string{"50", "100", "150"} { // the three with a RST and the lowest IDs
		var h struct {
			Ladder string  `json:"ladder"`
			Graphs []Graph `json:"graphs"`
		}
		b64, ok := d.Heavy[id]
		if !ok {
			t.Errorf("connection %s (a RST) lost its ladder to a less troubled one; kept: %v", id, keys(d.Heavy))
			continue
		}
		inflate(t, b64, &h)
		if len(h.Graphs) != 1 || h.Graphs[0].SVG != `<svg id="g`+id+`"></svg>` {
			t.Errorf("connection %s: graphs %+v", id, h.Graphs)
		}
	}
}

func keys(m map[string]string) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	return k
}

// TestDrawnOnce: the ladder and graphs are drawn only for the connections
// kept at the end, unless the rows held wait past heldRows; either way the
// page is the same, byte for byte.
func TestDrawnOnce(t *testing.T) {
	page := func(held int) (string, int) {
		defer func(h int) { heldRows = h }(heldRows)
		heldRows = held
		drawn := 0
		var out bytes.Buffer
		b := New(&out, Options{Title: "t", Heavy: 5, Graphs: func(c *report.Conn) []Graph {
			drawn++
			return []Graph{{Title: "g", SVG: fmt.Sprintf(`<svg id="g%d"></svg>`, c.ID)}}
		}})
		for id := 1; id <= 100; id++ { // ever more troubled: each pushes out the least
			c := &report.Conn{ID: id, Client: "10.0.0.1:1", Server: "10.0.0.2:80", State: "complete, reset",
				Close: &report.Close{Class: "reset"}, Rows: make([]report.Row, id%7+1)}
			c.Resets = make([]report.Reset, id)
			b.Conn(c, nil)
		}
		if err := b.Finish(&report.Summary{}); err != nil {
			t.Fatal(err)
		}
		return out.String(), drawn
	}
	lazy, n := page(100_000)
	if n != 5 {
		t.Errorf("%d connections drawn, want the 5 kept", n)
	}
	eager, n := page(0) // each drawn as it comes
	if n != 100 {
		t.Errorf("with no rows held, %d connections drawn, want 100", n)
	}
	if lazy != eager {
		t.Error("the page differs with the drawing deferred")
	}
	some, n := page(20) // a few held, the longest drawn early
	if n <= 5 || n >= 100 || some != lazy {
		t.Errorf("with 20 rows held: %d drawn (want between 5 and 100), same page %v", n, some == lazy)
	}
}
