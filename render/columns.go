package render

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tcptrace/tcptrace/report"
)

// connColumn is a column of analyze's connection table.
type connColumn struct {
	name   string
	header string
	// drop orders the columns a table too wide for the terminal leaves
	// out: lowest first; 0 is never left out.
	drop int
	// shrink is the narrowest a cell of the column may be cut to (with
	// "…") when leaving columns out was not enough; 0 is never cut. The
	// columns are cut in increasing cut order, each to its shrink width
	// before the next.
	shrink, cut int
	// left cuts a cell's start instead of its end (a frame named with its
	// file: the frame number stays).
	left bool
	cell func(c *report.Conn, x *cellCtx) string
	// what is the column's meaning in --columns's help.
	what string
}

// cellCtx is what a cell needs beyond its connection.
type cellCtx struct {
	multi bool // several input files: frames are named with their file
	o     Options
}

// connColumns is every column, in the default order. The default table
// has all but the ones marked extra.
var connColumns = []connColumn{
	{name: "id", header: "id", cell: func(c *report.Conn, _ *cellCtx) string { return strconv.Itoa(c.ID) }, what: "connection number"},
	{name: "conn", header: "client → server", shrink: 21, cut: 5, cell: func(c *report.Conn, _ *cellCtx) string { return c.Client + " → " + c.Server }, what: "the endpoints"},
	{name: "vlan", header: "vlan", drop: 11, cell: func(c *report.Conn, _ *cellCtx) string { return vlanText(c) }, what: "802.1Q VLAN (shown when a connection has one)"},
	{name: "frames", header: "frames", drop: 3, cell: framesCell, what: "first and last frame"},
	{name: "start", header: "start (UTC)", drop: 4, cell: func(c *report.Conn, _ *cellCtx) string { return shortTime(c.Start) }, what: "time of the first packet"},
	{name: "duration", header: "duration", drop: 7, cell: func(c *report.Conn, _ *cellCtx) string { return strconv.FormatFloat(c.Duration, 'f', 6, 64) }, what: "seconds from first to last packet"},
	{name: "pkts_c", header: "pkts →", drop: 5, cell: func(c *report.Conn, _ *cellCtx) string { return i64s(c.Packets.Client) }, what: "packets the client sent"},
	{name: "pkts_s", header: "pkts ←", drop: 6, cell: func(c *report.Conn, _ *cellCtx) string { return i64s(c.Packets.Server) }, what: "packets the server sent"},
	{name: "bytes_c", header: "bytes →", drop: 9, cell: func(c *report.Conn, _ *cellCtx) string { return i64s(c.Bytes.Client) }, what: "payload bytes the client sent"},
	{name: "bytes_s", header: "bytes ←", drop: 10, cell: func(c *report.Conn, _ *cellCtx) string { return i64s(c.Bytes.Server) }, what: "payload bytes the server sent"},
	{name: "rtt", header: "rtt ms", drop: 8, cell: func(c *report.Conn, _ *cellCtx) string { return rttText(c.RTTms) }, what: "round-trip time"},
	{name: "state", header: "state", shrink: 20, cut: 4, cell: stateCell, what: "how it began and ended"},
	{name: "end", header: "end c/s", drop: 2, cell: func(c *report.Conn, _ *cellCtx) string { return c.ClientState + "/" + c.ServerState }, what: "final state of each endpoint"},
	{name: "stream", header: "stream → / ←", drop: 1, cell: func(c *report.Conn, _ *cellCtx) string { return streamText(c.Reassembly) }, what: "reassembly: ok, or bytes missing, out of order, duplicated"},
	{name: "anomalies", header: "anomalies", shrink: 11, cut: 1, cell: func(c *report.Conn, _ *cellCtx) string { return anomalySummary(c.Anomalies) }, what: "anomalies per kind"},
}

// extraColumns are columns only --columns shows.
var extraColumns = []connColumn{
	{name: "retrans", header: "retrans", drop: 8, cell: func(c *report.Conn, _ *cellCtx) string { return i64s(RetransCount(c)) }, what: "retransmitted segments (every kind)"},
	{name: "conn_state", header: "zeek", drop: 8, cell: func(c *report.Conn, _ *cellCtx) string { return c.ConnState }, what: "Zeek's conn_state"},
	{name: "history", header: "history", drop: 8, shrink: 8, cut: 3, cell: func(c *report.Conn, _ *cellCtx) string { return c.History }, what: "Zeek's history"},
	{name: "cause", header: "reset cause", drop: 8, shrink: 10, cut: 2, cell: causeCell, what: "the causes of its RSTs"},
	{name: "closed_by", header: "closed by", drop: 8, cell: func(c *report.Conn, _ *cellCtx) string { return c.ClosedBy }, what: "who ended it"},
}

// retransKinds are the anomaly kinds that are a retransmission.
var retransKinds = []string{"retransmission", "fast_retransmission", "spurious_retransmission"}

// RetransCount is the segments of c that were a retransmission of any
// kind (the retrans column and sort key; the HTML report's column).
func RetransCount(c *report.Conn) int64 {
	var n int64
	for _, k := range retransKinds {
		n += c.Anomalies[k]
	}
	return n
}

func anomalyCount(c *report.Conn) int64 {
	var n int64
	for _, v := range c.Anomalies {
		n += v
	}
	return n
}

func vlanText(c *report.Conn) string {
	v := c.VLAN
	if c.ServerVLAN != "" {
		v += "/" + c.ServerVLAN
	}
	return v
}

func framesCell(c *report.Conn, x *cellCtx) string {
	switch {
	case x.multi && c.FirstFile == c.LastFile:
		return fmt.Sprintf("%s:%d-%d", baseName(c.FirstFile), c.FirstFrame, c.LastFrame)
	case x.multi:
		return fmt.Sprintf("%s:%d-%s:%d", baseName(c.FirstFile), c.FirstFrame, baseName(c.LastFile), c.LastFrame)
	}
	return i64s(c.FirstFrame) + "-" + i64s(c.LastFrame)
}

func stateCell(c *report.Conn, x *cellCtx) string {
	state := c.State
	if c.RoleBy != "syn" {
		state += " (roles by " + string(c.RoleBy) + ")"
	}
	if x.o.Color {
		switch {
		case strings.Contains(c.State, "reset") || strings.HasPrefix(c.State, "refused"):
			state = paint(true, stateColor, state)
		case strings.Contains(c.State, "-way") || strings.Contains(c.State, "simultaneous"):
			state = paint(true, okColor, state)
		}
	}
	return state
}

func causeCell(c *report.Conn, _ *cellCtx) string {
	var causes []string
	for i := range c.Resets {
		if cs := c.Resets[i].Cause; cs != "" && !slices.Contains(causes, cs) {
			causes = append(causes, cs)
		}
	}
	return strings.Join(causes, ", ")
}

// ColumnNames is the help of --columns: every column's name and meaning.
func ColumnNames() string {
	var b strings.Builder
	for _, set := range [][]connColumn{connColumns, extraColumns} {
		for _, c := range set {
			fmt.Fprintf(&b, "%s (%s), ", c.name, c.what)
		}
	}
	return strings.TrimSuffix(b.String(), ", ")
}

// ParseColumns reads --columns: names separated by commas, in the order to
// show them. "pkts" and "bytes" name both directions' columns. Empty: the
// default table.
func ParseColumns(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []string
	for _, n := range strings.Split(s, ",") {
		n = strings.ToLower(strings.TrimSpace(n))
		names := []string{n}
		switch n {
		case "pkts", "bytes":
			names = []string{n + "_c", n + "_s"}
		}
		for _, n := range names {
			if columnByName(n) == nil {
				return nil, fmt.Errorf("--columns: unknown column %q (columns: %s)", n, strings.Join(allColumnNames(), ", "))
			}
			if slices.Contains(out, n) {
				return nil, fmt.Errorf("--columns: %q twice", n)
			}
			out = append(out, n)
		}
	}
	return out, nil
}

func allColumnNames() []string {
	var names []string
	for _, set := range [][]connColumn{connColumns, extraColumns} {
		for _, c := range set {
			names = append(names, c.name)
		}
	}
	return names
}

func columnByName(name string) *connColumn {
	for _, set := range [][]connColumn{connColumns, extraColumns} {
		for i := range set {
			if set[i].name == name {
				return &set[i]
			}
		}
	}
	return nil
}

// tableColumns is the columns of a table: the chosen ones, or the default.
func tableColumns(names []string) []*connColumn {
	var cols []*connColumn
	if len(names) == 0 {
		for i := range connColumns {
			cols = append(cols, &connColumns[i])
		}
		return cols
	}
	for _, n := range names {
		cols = append(cols, columnByName(n))
	}
	return cols
}

// fitWidths fits a table to width columns of the terminal (cells between
// two spaces). It leaves out columns in their drop order, the explicitly
// chosen ones never, then cuts the shrinkable ones in their cut order down
// to their shrink width; last, whatever is still too wide is cut from the
// rightmost column. It returns which columns to show and their widths.
func fitWidths(widths []int, cols []*connColumn, width int, chosen bool) (show []bool, out []int) {
	out = slices.Clone(widths)
	show = make([]bool, len(widths))
	total := 0
	for i, w := range widths {
		show[i] = true
		total += w + 2
	}
	if width <= 0 || total <= width {
		return show, out
	}
	if !chosen {
		order := make([]int, 0, len(cols))
		for i, c := range cols {
			if c.drop > 0 {
				order = append(order, i)
			}
		}
		slices.SortStableFunc(order, func(a, b int) int { return cols[a].drop - cols[b].drop })
		for _, i := range order {
			if total <= width {
				break
			}
			show[i] = false
			total -= out[i] + 2
		}
	}
	order := make([]int, 0, len(cols))
	for i, c := range cols {
		if show[i] && c.shrink > 0 {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cols[a].cut - cols[b].cut })
	for _, i := range order {
		if total <= width {
			break
		}
		cut := max(0, min(total-width, out[i]-cols[i].shrink))
		out[i] -= cut
		total -= cut
	}
	for i := len(out) - 1; i >= 0 && total > width; i-- {
		if !show[i] {
			continue
		}
		cut := min(total-width, out[i]-1)
		out[i] -= cut
		total -= cut
	}
	return show, out
}

// cutCell shortens a cell to width w with "…" at the end; an endpoint pair
// "a → b" is cut in both addresses (cutAddr) so that both ports stay.
func cutCell(s string, w int) string {
	if cellWidth(s) <= w {
		return s
	}
	if a, b, ok := strings.Cut(s, " → "); ok && w >= 9 {
		half := (w - 3) / 2
		return cutAddr(a, half) + " → " + cutAddr(b, w-3-half)
	}
	return cutEnd(s, w)
}

// cutStart keeps the last w-1 columns of s after a "…".
func cutStart(s string, w int) string {
	plain := []rune(stripANSI(s))
	if len(plain) <= w {
		return string(plain)
	}
	if w <= 1 {
		return "…"[:min(w, 1)*len("…")]
	}
	return "…" + string(plain[len(plain)-(w-1):])
}

// cutEnd keeps the first w-1 columns of s and adds "…".
func cutEnd(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if w == 1 {
		return "…"
	}
	var b strings.Builder
	n := 0
	plain := stripANSI(s)
	for _, r := range plain {
		rw := cellWidth(string(r))
		if n+rw > w-1 {
			break
		}
		b.WriteRune(r)
		n += rw
	}
	return b.String() + "…"
}

// cutAddr shortens an endpoint "ip:port" or "[ipv6]:port" to w columns by
// leaving out the middle of the address: the port and both ends of the
// address stay ("[2001:db8…::7334]:443", "10.0.…0.1:80").
func cutAddr(ep string, w int) string {
	if cellWidth(ep) <= w {
		return ep
	}
	i := strings.LastIndexByte(ep, ':')
	if i < 0 {
		return cutEnd(ep, w)
	}
	addr, port := ep[:i], ep[i:]
	open, close := "", ""
	if strings.HasPrefix(addr, "[") && strings.HasSuffix(addr, "]") {
		addr, open, close = addr[1:len(addr)-1], "[", "]"
	}
	room := w - len(port) - len(open) - len(close) - 1 // 1: the "…"
	if room < 2 {
		return cutEnd(ep, w)
	}
	head := (room + 1) / 2
	tail := room - head
	return open + addr[:head] + "…" + addr[len(addr)-tail:] + close + port
}

// stripANSI removes colour escapes (a cut cell loses its colour).
func stripANSI(s string) string {
	if !strings.Contains(s, "\x1b[") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			i = j
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
