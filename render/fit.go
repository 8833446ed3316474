package render

import (
	"io"
	"strings"
)

// fitWriter wraps the lines written through it at width columns: a line
// that is longer is broken at its last space that fits, and the rest
// follows on lines indented by the line's own indent and two more spaces
// (a word longer than the room is cut). Colours of a broken line are left
// out. It holds the end of a line until its newline comes (Close writes
// it).
type fitWriter struct {
	w       io.Writer
	width   int
	partial []byte
}

func (f *fitWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := strings.IndexByte(string(p), '\n')
		if i < 0 {
			f.partial = append(f.partial, p...)
			break
		}
		line := append(f.partial, p[:i]...)
		f.partial = f.partial[:0]
		p = p[i+1:]
		if err := f.writeLine(string(line)); err != nil {
			return 0, err
		}
	}
	return n, nil
}

func (f *fitWriter) writeLine(line string) error {
	if cellWidth(line) <= f.width {
		_, err := io.WriteString(f.w, line+"\n")
		return err
	}
	plain := []rune(strings.TrimRight(stripANSI(line), " "))
	if len(plain) <= f.width {
		_, err := io.WriteString(f.w, string(plain)+"\n")
		return err
	}
	indent := 0
	for indent < len(plain) && (plain[indent] == ' ' || plain[indent] == '\t') {
		indent++
	}
	cont := strings.Repeat(" ", min(indent+2, f.width/2))
	var b strings.Builder
	prefix := ""
	for len(plain) > 0 {
		room := f.width - len(prefix)
		if len(plain) <= room {
			b.WriteString(prefix + string(plain) + "\n")
			break
		}
		cut := -1
		for i := room; i > 0; i-- {
			if plain[i] == ' ' {
				cut = i
				break
			}
		}
		if cut <= 0 || strings.TrimSpace(string(plain[:cut])) == "" {
			cut = room
		}
		b.WriteString(prefix + strings.TrimRight(string(plain[:cut]), " ") + "\n")
		rest := plain[cut:]
		for len(rest) > 0 && rest[0] == ' ' {
			rest = rest[1:]
		}
		plain, prefix = rest, cont
	}
	_, err := io.WriteString(f.w, b.String())
	return err
}

// Close writes a last line without its newline.
func (f *fitWriter) Close() error {
	if len(f.partial) == 0 {
		return nil
	}
	line := string(f.partial)
	f.partial = nil
	return f.writeLine(line)
}

// fitSpec is how a column of a table may give way to a narrow terminal:
// drop and shrink/cut as in connColumn.
type fitSpec = connColumn

// writeTable writes a house table. With width > 0 it fits that many
// columns (fitWidths: specs say which columns give way and how; a nil spec
// never does); else it is tablewriter's.
func writeTable(w io.Writer, width int, specs []*fitSpec, hdr []string, rows [][]string) error {
	if width <= 0 {
		tbl := newTable(w)
		tbl.Header(toAny(hdr)...)
		for _, r := range rows {
			if err := tbl.Append(toAny(r)...); err != nil {
				return err
			}
		}
		return tbl.Render()
	}
	cols := make([]*connColumn, len(hdr))
	for i := range cols {
		cols[i] = &connColumn{}
		if i < len(specs) && specs[i] != nil {
			cols[i] = specs[i]
		}
	}
	show, widths := fitWidths(columnWidths(hdr, rows), cols, width, false)
	var buf []byte
	line := func(cells []string) { buf = appendRow(buf, cells, show, widths, cols) }
	line(hdr)
	var shown []int
	for i, x := range widths {
		if show[i] {
			shown = append(shown, x)
		}
	}
	buf = append(buf, tableRule(shown)...)
	for _, r := range rows {
		line(r)
	}
	_, err := w.Write(buf)
	return err
}

// appendRow appends a line of a house table: each shown cell between two
// spaces, padded to its column's width. With cols (a fitted table) a cell
// wider than its column is cut, from the start for a column marked left.
func appendRow(b []byte, cells []string, show []bool, widths []int, cols []*connColumn) []byte {
	for i, c := range cells {
		if !show[i] {
			continue
		}
		switch {
		case cols == nil:
		case cols[i].left:
			c = cutStart(c, widths[i])
		default:
			c = cutCell(c, widths[i])
		}
		b = append(b, ' ')
		b = append(b, c...)
		for pad := widths[i] - cellWidth(c); pad > 0; pad-- {
			b = append(b, ' ')
		}
		b = append(b, ' ')
	}
	return append(b, '\n')
}
