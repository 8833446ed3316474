package render

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/fatih/color"
	"github.com/olekukonko/tablewriter/pkg/twwidth"

	"github.com/tcptrace/tcptrace/report"
)

// TextWindow is how many rows of the connection table the text output
// holds: up to this many connections the table is printed at the end, in
// ID order, with columns as wide as their widest cell; beyond, it streams
// (TextStream).
const TextWindow = 10_000

// Text writes the connection table and the summary for people: TextStream
// over the report's connections.
func Text(w io.Writer, r *report.Report, o Options) error {
	s := NewTextStream(w, r.Summary.Files, o)
	forEachConn(r, s.Conn)
	return s.Finish(&r.Summary)
}

// TextStream writes the text output of analyze as connections finish: the
// connection table, the overview (anomalies per kind, worst connections),
// with o.Anomalies every anomaly, and the summary. What it holds does not
// grow with the connections:
//
//   - the table's rows are held up to TextWindow of them. A run that ends
//     with no more prints the table as a report would (ID order, columns as
//     wide as their widest cell). When one more comes, the columns are fixed
//     at the widths of the rows held (the id and frames columns at least 7
//     and 15 wide) and the table streams: the rows wait in a buffer of
//     TextWindow ordered by ID, and whenever it is full the lowest ID is
//     printed. A connection that finishes after that many later ones (it
//     stayed open, say) comes after a higher ID: it is printed when it
//     finishes, and a line under the table counts such rows. A cell wider
//     than its column pushes the rest of its row to the right.
//   - the overview is kept as counts and a bounded list (OverviewAcc);
//   - with o.Anomalies, every anomaly is kept until the end (they are listed
//     in capture order): that memory follows the anomalies, not the
//     connections.
//
// Write errors are kept and returned by Finish.
type TextStream struct {
	w      *bufio.Writer
	o      Options
	multi  bool // several input files: frames are named with their file
	window int
	acc    *OverviewAcc
	anoms  []*report.Anomaly // o.Anomalies

	rows      *reorder[int, connRow] // by ID
	streaming bool
	done      []connRow // the rows of a table printed at the end
	vlan      bool      // the table has a vlan column (decided on the first window)
	widths    []int     // the columns' widths, once streaming
	line      []byte
	err       error
}

// connRow is a row of the connection table: the cells without the vlan
// column, and the VLAN apart (whether the column is shown depends on
// every row held).
type connRow struct {
	vlan  string
	cells []string
}

// NewTextStream returns a stream writing to w; files are the input names
// (the summary's).
func NewTextStream(w io.Writer, files []string, o Options) *TextStream {
	return newTextStream(w, files, o, TextWindow)
}

func newTextStream(w io.Writer, files []string, o Options, window int) *TextStream {
	s := &TextStream{w: bufio.NewWriterSize(w, 64<<10), o: o, multi: len(files) > 1, window: window, acc: NewOverview()}
	s.rows = newReorder(window, intLess, s.writeRow)
	return s
}

// Conn takes one finished connection and its anomalies (in capture order);
// neither may change after.
func (s *TextStream) Conn(c *report.Conn, anoms []*report.Anomaly) {
	s.acc.Add(c, anoms)
	if s.o.Anomalies {
		s.anoms = append(s.anoms, anoms...)
	}
	if s.o.Summary {
		return
	}
	if !s.streaming && len(s.rows.items) == s.window {
		s.startStreaming()
	}
	s.rows.add(c.ID, s.rowOf(c))
}

// rowOf is the row of c.
func (s *TextStream) rowOf(c *report.Conn) connRow {
	v := c.VLAN
	if c.ServerVLAN != "" {
		v += "/" + c.ServerVLAN
	}
	return connRow{vlan: v, cells: connCells(c, s.multi, s.o)}
}

// startStreaming fixes the columns on the rows held and writes the header.
func (s *TextStream) startStreaming() {
	s.streaming = true
	for _, r := range s.rows.items {
		if r.v.vlan != "" {
			s.vlan = true
		}
	}
	hdr := connHeader(s.vlan)
	cells := make([][]string, len(s.rows.items))
	for i, r := range s.rows.items {
		cells[i] = s.cellsOf(r.v)
	}
	s.widths = columnWidths(hdr, cells)
	frames := 2
	if s.vlan {
		frames = 3
	}
	s.widths[0] = max(s.widths[0], 7)            // id: up to 9,999,999
	s.widths[frames] = max(s.widths[frames], 15) // 1234567-1234567
	s.writeLine(hdr)
	s.write(tableRule(s.widths))
}

// columnWidths is the width of each column of a table: its widest cell.
func columnWidths(hdr []string, rows [][]string) []int {
	widths := make([]int, len(hdr))
	for i, h := range hdr {
		widths[i] = cellWidth(h)
	}
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], cellWidth(c))
		}
	}
	return widths
}

// tableRule is the line under the header of a table of these widths.
func tableRule(widths []int) string {
	total := 0
	for _, w := range widths {
		total += w + 2
	}
	return strings.Repeat("─", total) + "\n"
}

// cellsOf is the row's cells with the vlan column when the table has one.
// A streamed row with a VLAN in a table without the column (none of the
// first rows had one) names it after the addresses.
func (s *TextStream) cellsOf(r connRow) []string {
	switch {
	case s.vlan:
		cells := make([]string, 0, len(r.cells)+1)
		cells = append(cells, r.cells[:2]...)
		cells = append(cells, r.vlan)
		return append(cells, r.cells[2:]...)
	case r.vlan != "":
		cells := append([]string(nil), r.cells...)
		cells[1] += " (vlan " + r.vlan + ")"
		return cells
	}
	return r.cells
}

// writeRow writes a row that leaves the buffer: at once when streaming,
// else into the table printed at the end.
func (s *TextStream) writeRow(r connRow) {
	if !s.streaming {
		s.done = append(s.done, r)
		return
	}
	s.writeLine(s.cellsOf(r))
}

// writeLine writes cells as the house table does: each cell between two
// spaces, padded to its column's width.
func (s *TextStream) writeLine(cells []string) {
	b := s.line[:0]
	for i, c := range cells {
		b = append(b, ' ')
		b = append(b, c...)
		for pad := s.widths[i] - cellWidth(c); pad > 0; pad-- {
			b = append(b, ' ')
		}
		b = append(b, ' ')
	}
	b = append(b, '\n')
	s.line = b
	if s.err == nil {
		_, s.err = s.w.Write(b)
	}
}

func (s *TextStream) write(str string) {
	if s.err == nil {
		_, s.err = s.w.WriteString(str)
	}
}

// cellWidth is the width of a cell on a terminal, colours aside.
func cellWidth(c string) int {
	for i := 0; i < len(c); i++ {
		if c[i] >= 0x80 || c[i] < 0x20 {
			return twwidth.WidthNoCache(c)
		}
	}
	return len(c)
}

// Finish writes the rest of the table, the overview, the anomalies and the
// summary, and flushes.
func (s *TextStream) Finish(sum *report.Summary) error {
	s.rows.flush()
	if s.streaming {
		if n := s.rows.late; n > 0 {
			s.write(fmt.Sprintf("(%s printed out of ID order, when they finished: they were still open after %d later connections had finished)\n",
				plural(n, "connection"), s.window))
		}
		s.write("\n")
	} else if len(s.done) > 0 {
		if err := s.connTable(); err != nil {
			return err
		}
		s.write("\n")
	}
	if s.err != nil {
		return s.err
	}
	if err := s.acc.Write(s.w, s.o); err != nil {
		return err
	}
	if s.o.Anomalies && len(s.anoms) > 0 {
		sort.SliceStable(s.anoms, func(i, j int) bool { return report.AnomalyBefore(s.anoms[i], s.anoms[j]) })
		if err := anomalyTable(s.w, s.anoms, s.multi, s.o); err != nil {
			return err
		}
		fmt.Fprintln(s.w)
	}
	if err := summary(s.w, sum, s.o); err != nil {
		return err
	}
	return s.w.Flush()
}

// connTable writes the rows of a run that never streamed as one table.
func (s *TextStream) connTable() error {
	for _, r := range s.done {
		if r.vlan != "" {
			s.vlan = true
		}
	}
	tbl := newTable(s.w)
	tbl.Header(toAny(connHeader(s.vlan))...)
	for _, r := range s.done {
		if err := tbl.Append(toAny(s.cellsOf(r))...); err != nil {
			return err
		}
	}
	return tbl.Render()
}

func connHeader(vlan bool) []string {
	hdr := []string{"id", "client → server"}
	if vlan {
		hdr = append(hdr, "vlan")
	}
	return append(hdr, "frames", "start (UTC)", "duration", "pkts →", "pkts ←", "bytes →", "bytes ←", "rtt ms", "state", "end c/s", "stream → / ←", "anomalies")
}

var (
	stateColor = color.New(color.FgRed)
	okColor    = color.New(color.FgGreen)
)

// connCells is the row of a connection in the table, without the vlan
// column.
func connCells(c *report.Conn, multi bool, o Options) []string {
	frames := strconv.FormatInt(c.FirstFrame, 10) + "-" + strconv.FormatInt(c.LastFrame, 10)
	if multi && c.FirstFile == c.LastFile {
		frames = fmt.Sprintf("%s:%d-%d", baseName(c.FirstFile), c.FirstFrame, c.LastFrame)
	} else if multi {
		frames = fmt.Sprintf("%s:%d-%s:%d", baseName(c.FirstFile), c.FirstFrame, baseName(c.LastFile), c.LastFrame)
	}
	state := c.State
	if c.RoleBy != "syn" {
		state += " (roles by " + string(c.RoleBy) + ")"
	}
	if o.Color {
		switch {
		case strings.Contains(c.State, "reset") || strings.HasPrefix(c.State, "refused"):
			state = paint(true, stateColor, state)
		case strings.Contains(c.State, "-way") || strings.Contains(c.State, "simultaneous"):
			state = paint(true, okColor, state)
		}
	}
	return []string{strconv.Itoa(c.ID), c.Client + " → " + c.Server,
		frames, shortTime(c.Start), strconv.FormatFloat(c.Duration, 'f', 6, 64),
		strconv.FormatInt(c.Packets.Client, 10), strconv.FormatInt(c.Packets.Server, 10),
		strconv.FormatInt(c.Bytes.Client, 10), strconv.FormatInt(c.Bytes.Server, 10), rttText(c.RTTms), state,
		c.ClientState + "/" + c.ServerState, streamText(c.Reassembly), anomalySummary(c.Anomalies)}
}
