package render

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"sort"
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
//     than its column pushes the rest of its row to the right (with
//     o.Width, it is cut instead).
//   - with o.Sort or o.Top the table is printed at the end: the rows are
//     held, all of them for o.Sort alone (memory follows the connections),
//     the o.Top first in the order for o.Top.
//   - the overview is kept as counts and a bounded list (OverviewAcc);
//   - with o.Anomalies, every anomaly is kept until the end (they are listed
//     in capture order): that memory follows the anomalies, not the
//     connections.
//
// With o.Width the table fits that many columns (fitWidths) and longer
// lines of the rest are wrapped (fitWriter).
//
// Write errors are kept and returned by Finish.
type TextStream struct {
	w      *bufio.Writer
	out    io.Writer // where w writes: the output, through fitWriter with o.Width
	o      Options
	ctx    cellCtx
	window int
	acc    *OverviewAcc
	anoms  []*report.Anomaly // o.Anomalies

	cols    []*connColumn
	chosen  bool // --columns: no column is left out to fit
	vlanCol int  // index of the vlan column, -1 without
	connCol int  // index of the endpoints column, -1 without

	rows      *reorder[int, connRow] // by ID
	held      heldRows               // o.Sort, o.Top
	shown     int                    // rows printed (o.Top)
	streaming bool
	done      []connRow     // the rows of a table printed at the end
	vlan      bool          // the table shows its vlan column (decided on the rows held)
	show      []bool        // the columns shown, once decided
	widths    []int         // the columns' widths, once decided
	cut       []*connColumn // with o.Width: the columns, whose cells are cut to their widths
	line      []byte
	err       error
}

// connRow is a row of the connection table: a cell per column (the vlan
// column's is shown only when a row held has one: rowVLAN).
type connRow struct {
	cells []string
}

// NewTextStream returns a stream writing to w; files are the input names
// (the summary's).
func NewTextStream(w io.Writer, files []string, o Options) *TextStream {
	return newTextStream(w, files, o, TextWindow)
}

func newTextStream(w io.Writer, files []string, o Options, window int) *TextStream {
	out := w
	if o.Width > 0 {
		out = &fitWriter{w: w, width: o.Width}
	}
	s := &TextStream{w: bufio.NewWriterSize(out, 64<<10), out: out, o: o, window: window, acc: NewOverview()}
	s.ctx = cellCtx{multi: len(files) > 1, o: o}
	s.cols, s.chosen = tableColumns(o.Columns), len(o.Columns) > 0
	s.vlanCol, s.connCol = -1, -1
	for i, c := range s.cols {
		switch c.name {
		case "vlan":
			s.vlanCol = i
		case "conn":
			s.connCol = i
		}
	}
	s.rows = newReorder(window, intLess, s.writeRow)
	s.held = heldRows{sort: o.Sort, top: o.Top}
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
	if s.o.Stats {
		r := connRow{cells: []string{statsBlock(c, &s.ctx)}}
		if s.held.active() {
			s.held.add(c, r)
		} else {
			s.rows.add(c.ID, r)
		}
		return
	}
	if s.held.active() {
		s.held.add(c, s.rowOf(c))
		return
	}
	if !s.streaming && len(s.rows.items) == s.window {
		s.startStreaming()
	}
	s.rows.add(c.ID, s.rowOf(c))
}

// rowOf is the row of c.
func (s *TextStream) rowOf(c *report.Conn) connRow {
	cells := make([]string, len(s.cols))
	for i, col := range s.cols {
		cells[i] = col.cell(c, &s.ctx)
	}
	return connRow{cells: cells}
}

// decide sets which columns the table shows and their widths, from the
// rows given (all of a table printed at the end, the first window of a
// streamed one).
func (s *TextStream) decide(rows []connRow) {
	s.vlan = s.chosen && s.vlanCol >= 0
	for _, r := range rows {
		if s.rowVLAN(r) != "" {
			s.vlan = true
		}
	}
	hdr := s.header()
	cells := make([][]string, len(rows))
	for i, r := range rows {
		cells[i] = s.cellsOf(r)
	}
	widths := columnWidths(hdr, cells)
	if s.streaming {
		for i, c := range s.visible() {
			switch c.name {
			case "id":
				widths[i] = max(widths[i], 7) // up to 9,999,999
			case "frames":
				widths[i] = max(widths[i], 15) // 1234567-1234567
			}
		}
	}
	s.show, s.widths = fitWidths(widths, s.visible(), s.o.Width, s.chosen)
	if s.o.Width > 0 {
		s.cut = s.visible() // a fitted table cuts its cells to their columns
	}
}

// visible is the columns of the table, the vlan column left out when no
// row has a VLAN.
func (s *TextStream) visible() []*connColumn {
	if s.vlan || s.vlanCol < 0 {
		return s.cols
	}
	return slices.Delete(slices.Clone(s.cols), s.vlanCol, s.vlanCol+1)
}

func (s *TextStream) header() []string {
	cols := s.visible()
	hdr := make([]string, len(cols))
	for i, c := range cols {
		hdr[i] = c.header
	}
	return hdr
}

// startStreaming fixes the columns on the rows held and writes the header.
func (s *TextStream) startStreaming() {
	s.streaming = true
	rows := make([]connRow, len(s.rows.items))
	for i, r := range s.rows.items {
		rows[i] = r.v
	}
	s.decide(rows)
	s.writeLine(s.header())
	s.write(tableRule(s.shownWidths()))
}

// shownWidths is the widths of the columns shown.
func (s *TextStream) shownWidths() []int {
	var w []int
	for i, x := range s.widths {
		if s.show[i] {
			w = append(w, x)
		}
	}
	return w
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

// cellsOf is the row's cells for the table's columns: without the vlan
// column when the table has none (a streamed row with a VLAN in such a
// table names it after the addresses).
func (s *TextStream) cellsOf(r connRow) []string {
	if s.vlan || s.vlanCol < 0 {
		return r.cells
	}
	cells := slices.Delete(slices.Clone(r.cells), s.vlanCol, s.vlanCol+1)
	if v := s.rowVLAN(r); v != "" && s.connCol >= 0 {
		i := s.connCol
		if s.connCol > s.vlanCol {
			i--
		}
		cells[i] += " (vlan " + v + ")"
	}
	return cells
}

// rowVLAN is the row's VLAN cell ("" without a vlan column).
func (s *TextStream) rowVLAN(r connRow) string {
	if s.vlanCol < 0 {
		return ""
	}
	return r.cells[s.vlanCol]
}

// writeRow writes a row that leaves the buffer: at once when streaming,
// else into the table printed at the end.
func (s *TextStream) writeRow(r connRow) {
	if s.o.Stats {
		s.write(r.cells[0])
		return
	}
	if !s.streaming {
		s.done = append(s.done, r)
		return
	}
	s.writeLine(s.cellsOf(r))
}

// writeLine writes cells as the house table does: each cell between two
// spaces, padded to its column's width; with o.Width a cell wider than its
// column is cut.
func (s *TextStream) writeLine(cells []string) {
	b := appendRow(s.line[:0], cells, s.show, s.widths, s.cut)
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
	if s.held.active() {
		s.done = s.held.rows()
	}
	if s.o.Stats {
		// Blocks are written as they leave the buffer; held ones now.
		for _, r := range s.done {
			s.write(r.cells[0])
		}
		if s.held.active() {
			s.write(s.held.note(len(s.done)))
		}
		s.write("\n")
	} else if s.streaming {
		if n := s.rows.late; n > 0 {
			s.write(fmt.Sprintf("(%s printed out of ID order, when they finished: they were still open after %d later connections had finished)\n",
				plural(n, "connection"), s.window))
		}
		s.write("\n")
	} else if len(s.done) > 0 {
		if err := s.connTable(); err != nil {
			return err
		}
		if s.held.active() {
			s.write(s.held.note(len(s.done)))
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
		if err := anomalyTable(s.w, s.anoms, s.ctx.multi, s.o); err != nil {
			return err
		}
		fmt.Fprintln(s.w)
	}
	if err := summary(s.w, sum, s.o); err != nil {
		return err
	}
	if err := s.w.Flush(); err != nil {
		return err
	}
	if f, ok := s.out.(*fitWriter); ok {
		return f.Close()
	}
	return nil
}

// connTable writes the rows of a run that never streamed as one table.
func (s *TextStream) connTable() error {
	s.decide(s.done)
	s.writeLine(s.header())
	s.write(tableRule(s.shownWidths()))
	for _, r := range s.done {
		s.writeLine(s.cellsOf(r))
	}
	return s.err
}

var (
	stateColor = color.New(color.FgRed)
	okColor    = color.New(color.FgGreen)
)
