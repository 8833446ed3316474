package pcapout

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// FilterLine is a display filter for the frames of one input (File: its
// name), or of every input when there is one.
type FilterLine struct {
	File   string
	Filter string
}

// DisplayFilter returns the Wireshark display filter (4.0 or later: set
// elements separated by commas) that shows the selected connections'
// frames: "tcp.stream in {…}" when streams is set (the caller knows that
// connection ID - 1 is Wireshark's tcp.stream: one input, and nothing
// that could number them apart), else "frame.number in {…}", one line per
// input that has selected frames (frame numbers are per file, as Wireshark
// opens one file at a time). Consecutive numbers are written as ranges
// (a..b). No selected frame gives "frame.number == 0", which shows none.
func (c *Collector) DisplayFilter(streams bool) []FilterLine {
	if streams && len(c.files) == 1 && len(c.ids) > 0 {
		ids := slices.Clone(c.ids)
		slices.Sort(ids)
		var r ranges
		for _, id := range ids {
			r.add(int64(id - 1))
		}
		return []FilterLine{{c.files[0], "tcp.stream in {" + r.String() + "}"}}
	}
	var out []FilterLine
	for i, set := range c.sets {
		var r ranges
		set.each(r.add)
		if len(r) > 0 {
			out = append(out, FilterLine{c.files[i], "frame.number in {" + r.String() + "}"})
		}
	}
	if len(out) == 0 {
		name := ""
		if len(c.files) == 1 {
			name = c.files[0]
		}
		out = append(out, FilterLine{name, "frame.number == 0"})
	}
	return out
}

// ranges are increasing numbers gathered into runs.
type ranges [][2]int64

func (r *ranges) add(n int64) {
	if k := len(*r); k > 0 && (*r)[k-1][1] >= n-1 {
		(*r)[k-1][1] = max((*r)[k-1][1], n)
		return
	}
	*r = append(*r, [2]int64{n, n})
}

func (r ranges) String() string {
	var b strings.Builder
	for i, x := range r {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatInt(x[0], 10))
		switch {
		case x[1] == x[0]+1:
			fmt.Fprintf(&b, ", %d", x[1])
		case x[1] > x[0]:
			fmt.Fprintf(&b, "..%d", x[1])
		}
	}
	return b.String()
}
