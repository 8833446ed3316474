package render

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tcptrace/tcptrace/report"
)

// SortKeys are the orders of --sort: each sorts the connections with the
// most first, except start (earliest first).
var SortKeys = []string{"start", "duration", "bytes", "retrans", "rtt", "anomalies"}

// heldRows holds the rows of a table printed at the end in an order of
// its own (--sort) or cut to its first rows (--top). With a top, it keeps
// no more than twice that many rows between trims: memory follows --top,
// not the connections.
type heldRows struct {
	sort  string
	top   int
	seen  int
	items []heldRow
}

type heldRow struct {
	id  int
	key float64 // larger first; for start the time negated
	row connRow
}

func (h *heldRows) active() bool { return h.sort != "" || h.top > 0 }

func (h *heldRows) add(c *report.Conn, r connRow) {
	h.seen++
	h.items = append(h.items, heldRow{id: c.ID, key: sortKey(h.sort, c), row: r})
	if h.top > 0 && len(h.items) >= 2*h.top+1024 {
		h.trim()
	}
}

// trim sorts the rows and keeps the first top.
func (h *heldRows) trim() {
	slices.SortFunc(h.items, func(a, b heldRow) int {
		switch {
		case a.key > b.key:
			return -1
		case a.key < b.key:
			return 1
		}
		return a.id - b.id
	})
	if h.top > 0 && len(h.items) > h.top {
		clear(h.items[h.top:])
		h.items = h.items[:h.top]
	}
}

// rows is the rows to print, in order.
func (h *heldRows) rows() []connRow {
	h.trim()
	out := make([]connRow, len(h.items))
	for i, it := range h.items {
		out[i] = it.row
	}
	return out
}

// note is the line under the table saying what it shows.
func (h *heldRows) note(shown int) string {
	var parts []string
	if h.sort != "" {
		parts = append(parts, "sorted by "+h.sort+sortWord(h.sort))
	}
	if shown < h.seen {
		parts = append(parts, fmt.Sprintf("the first %d of %d connections (--top)", shown, h.seen))
	}
	if len(parts) == 0 {
		return ""
	}
	return "(" + strings.Join(parts, "; ") + ")\n"
}

func sortWord(key string) string {
	if key == "start" {
		return ", earliest first"
	}
	return ", most first"
}

// sortKey is a connection's key in an order: larger is first.
func sortKey(key string, c *report.Conn) float64 {
	switch key {
	case "start":
		return -float64(c.StartNS)
	case "duration":
		return c.Duration
	case "bytes":
		return float64(c.Bytes.Client + c.Bytes.Server)
	case "retrans":
		return float64(RetransCount(c))
	case "rtt":
		if c.RTTms == nil {
			return -1
		}
		return *c.RTTms
	case "anomalies":
		return float64(anomalyCount(c))
	}
	return -float64(c.ID) // by ID
}
