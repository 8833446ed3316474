package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/tcptrace/tcptrace/report"
	"github.com/tcptrace/tcptrace/tcp"
)

// Follow prints one connection's reassembled streams as they are delivered,
// as Wireshark's Follow TCP Stream: ascii (runs of one direction headed by
// its frame and offset), hex (offset/hex/ASCII lines, the server's side
// indented) or raw bytes; gaps and conflicting copies inline, or on errw for
// raw.
//
// A conflict is learnt when the later copy arrives, after the bytes it
// concerns were delivered; so that its mark stands right after those bytes,
// output is held back by FollowOptions.Window bytes of each direction.
type Follow struct {
	w     *bufio.Writer
	errw  io.Writer
	as    string
	want  [2]bool
	color bool
	found bool

	last  int      // direction of the run being printed (-1: none yet)
	off   [2]int64 // hex: offset of the next byte per direction
	line  [2][]byte
	total [2]int64
	gaps  [2]int64
	fins  [2]bool
	names [2]string

	window int64    // FollowOptions.Window
	q      []fevent // what is held back, in delivery order
	qBytes int64    // data bytes in q
	pos    [2]int64 // stream offset after the last event taken, per direction
	pend   []pendingMark
	confs  [2]int
}

// fevent is one held-back piece of output.
type fevent struct {
	kind   byte // 'd' data, 'g' gap, 'm' mark
	d      tcp.Dir
	off, n int64 // stream offset and length (data, gap)
	b      []byte
	frame  int64
	reason string // gap
	mark   string // mark
}

// pendingMark is a conflict mark whose bytes were not delivered yet.
type pendingMark struct {
	d     tcp.Dir
	end   int64
	frame int64
	mark  string
}

// FollowOptions say what Follow prints.
type FollowOptions struct {
	As    string  // ascii, hex or raw
	Want  [2]bool // directions to print: client → server, server → client
	Color bool    // colour each direction (not for raw)
	// Window is how many bytes of a direction output is held back so that
	// a conflict learnt later is marked where its bytes are (twice the
	// reassembly history is enough: conflicts are found only within it);
	// a conflict on bytes already printed is marked where it is learnt.
	// 0 holds nothing back.
	Window int64
}

// NewFollow returns a printer writing to w (gaps of raw output to errw).
func NewFollow(w, errw io.Writer, o FollowOptions) *Follow {
	return &Follow{w: bufio.NewWriterSize(w, 64<<10), errw: errw, as: o.As, want: o.Want, color: o.Color && o.As != "raw", last: -1, window: o.Window}
}

// Header starts the output of connection id.
func (p *Follow) Header(id int, client, server string, firstFrame int64) {
	p.found = true
	p.names = [2]string{client, server}
	if p.as == "raw" {
		return
	}
	fmt.Fprintf(p.w, "Follow: connection %d, %s → %s (first frame %d)\n", id, client, server, firstFrame)
	fmt.Fprintf(p.w, "Client: %s%s\nServer: %s%s\n", client, p.legend(0), server, p.legend(1))
	fmt.Fprintln(p.w, strings.Repeat("=", 67))
}

func (p *Follow) legend(d tcp.Dir) string {
	if p.color {
		return "  (" + paint(true, dirColors[d], [...]string{"red", "blue"}[d]) + ")"
	}
	return ""
}

// run starts a new run of direction d when the direction changes.
func (p *Follow) run(d tcp.Dir, frame int64) {
	if p.last == int(d) {
		return
	}
	p.flushLine()
	if p.as == "ascii" {
		if p.last >= 0 {
			p.w.WriteString("\n")
		}
		mark := [...]string{">>> client → server", "<<< server → client"}[d]
		s := fmt.Sprintf("%s, frame %d, offset %d", mark, frame, p.total[d]+p.gaps[d])
		s = paint(p.color, dirColors[d], s)
		p.w.WriteString(s + "\n")
	}
	p.last = int(d)
}

// Data prints bytes of direction d, delivered from frame.
func (p *Follow) Data(d tcp.Dir, b []byte, frame int64) {
	if !p.want[d] || len(b) == 0 {
		return
	}
	n := int64(len(b))
	p.take(fevent{kind: 'd', d: d, off: p.pos[d], n: n, b: append([]byte(nil), b...), frame: frame})
	p.pos[d] += n
	p.qBytes += n
	p.placePending(d)
	p.release(false)
}

// take queues an event (or prints it when nothing is held back).
func (p *Follow) take(e fevent) {
	if p.window <= 0 && len(p.q) == 0 {
		p.print(e)
		return
	}
	p.q = append(p.q, e)
}

// release prints the events no conflict can concern any more (all of them
// with all): the oldest, while its direction has delivered Window bytes
// after it, or while more than 4 Window bytes are held.
func (p *Follow) release(all bool) {
	i := 0
	for ; i < len(p.q); i++ {
		e := &p.q[i]
		if !all && p.pos[e.d]-(e.off+e.n) < p.window && p.qBytes <= 4*p.window {
			break
		}
		if e.kind == 'd' {
			p.qBytes -= e.n
		}
		p.print(*e)
		*e = fevent{}
	}
	if i > 0 {
		p.q = p.q[:copy(p.q, p.q[i:])]
	}
}

func (p *Follow) print(e fevent) {
	switch e.kind {
	case 'd':
		p.printData(e.d, e.b, e.frame)
	case 'g':
		p.printGap(e.d, e.off, e.n, e.reason, e.frame)
	case 'm':
		p.printMark(e.d, e.mark, e.frame)
	}
}

// Conflict notes that two copies of bytes of direction d differed (c says
// which, and which one looks forged); its mark goes right after those bytes.
func (p *Follow) Conflict(d tcp.Dir, c *report.Copies) {
	if !p.want[d] {
		return
	}
	p.confs[d]++
	m := pendingMark{d: d, end: c.Offset + c.Len, frame: c.Dropped, mark: conflictWords(c)}
	if m.end > p.pos[d] {
		p.pend = append(p.pend, m) // bytes not delivered yet
		return
	}
	p.place(m)
	p.release(false)
}

// placePending places the pending marks whose bytes direction d has now
// delivered.
func (p *Follow) placePending(d tcp.Dir) {
	rest := p.pend[:0]
	for _, m := range p.pend {
		if m.d == d && m.end <= p.pos[d] {
			p.place(m)
		} else {
			rest = append(rest, m)
		}
	}
	p.pend = rest
}

// place puts a mark after the held event of its direction that holds the
// byte before m.end, splitting a data event there; when that event was
// printed already, the mark goes last.
func (p *Follow) place(m pendingMark) {
	ev := fevent{kind: 'm', d: m.d, frame: m.frame, mark: m.mark}
	for i := len(p.q) - 1; i >= 0; i-- {
		e := p.q[i]
		if e.d != m.d || e.kind == 'm' || e.off >= m.end {
			continue
		}
		if e.off+e.n < m.end {
			break // the bytes were printed already (the mark goes last)
		}
		at := i + 1
		if e.kind == 'd' && e.off+e.n > m.end { // split the data there
			k := m.end - e.off
			tail := e
			tail.off, tail.n, tail.b = m.end, e.n-k, e.b[k:]
			p.q[i].n, p.q[i].b = k, e.b[:k:k]
			p.q = append(p.q, fevent{})
			copy(p.q[i+2:], p.q[i+1:])
			p.q[i+1] = tail
		}
		p.q = append(p.q, fevent{})
		copy(p.q[at+1:], p.q[at:])
		p.q[at] = ev
		return
	}
	p.take(ev)
}

// printMark prints a conflict mark of direction d.
func (p *Follow) printMark(d tcp.Dir, what string, frame int64) {
	if p.as == "raw" {
		fmt.Fprintf(p.errw, "tcptrace: %s %s\n", p.names[d], what)
		return
	}
	p.run(d, frame)
	p.flushLine()
	if p.as == "hex" {
		if d == 1 {
			what = "    " + what
		}
		p.w.WriteString(what + "\n")
		return
	}
	p.w.WriteString("\n" + what + "\n")
}

// conflictWords is the mark of a conflict: the bytes (stream offsets), the
// copy kept and the other, and which one looks forged, or that nothing
// tells.
func conflictWords(c *report.Copies) string {
	kept, dropped := "kept, first copy", ""
	switch c.Forged {
	case 0:
	case c.Kept:
		kept += ", looks forged: " + c.Why
	default:
		dropped = " (looks forged: " + c.Why + ")"
	}
	s := fmt.Sprintf("[conflicting copies of bytes %d–%d: frame %d (%s) differs from frame %d%s", c.Offset, c.Offset+c.Len-1, c.Kept, kept, c.Dropped, dropped)
	if c.Forged == 0 {
		s += "; " + c.Why
	}
	return s + "]"
}

// printData prints bytes of direction d.
func (p *Follow) printData(d tcp.Dir, b []byte, frame int64) {
	p.run(d, frame)
	p.total[d] += int64(len(b))
	switch p.as {
	case "raw":
		p.w.Write(b)
	case "ascii":
		buf := make([]byte, 0, len(b))
		for _, c := range b {
			if c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f) {
				buf = append(buf, c)
			} else if c != '\r' {
				buf = append(buf, '.')
			}
		}
		p.w.WriteString(paint(p.color, dirColors[d], string(buf)))
	case "hex":
		for len(b) > 0 {
			n := min(16-len(p.line[d]), len(b))
			p.line[d] = append(p.line[d], b[:n]...)
			b = b[n:]
			if len(p.line[d]) == 16 {
				p.flushLine()
			}
		}
	}
}

// flushLine prints the pending hex line of the current direction.
func (p *Follow) flushLine() {
	if p.as != "hex" || p.last < 0 || len(p.line[p.last]) == 0 {
		return
	}
	d := p.last
	l := p.line[d]
	var sb strings.Builder
	if d == 1 {
		sb.WriteString("    ")
	}
	fmt.Fprintf(&sb, "%08X  ", p.off[d])
	for i := range 16 {
		if i < len(l) {
			fmt.Fprintf(&sb, "%02x ", l[i])
		} else {
			sb.WriteString("   ")
		}
		if i == 7 {
			sb.WriteByte(' ')
		}
	}
	sb.WriteByte(' ')
	for _, c := range l {
		if c >= 0x20 && c < 0x7f {
			sb.WriteByte(c)
		} else {
			sb.WriteByte('.')
		}
	}
	s := sb.String()
	s = paint(p.color, dirColors[d], s)
	p.w.WriteString(s + "\n")
	p.off[d] += int64(len(l))
	p.line[d] = p.line[d][:0]
}

// Gap prints n missing bytes of direction d at stream offset off, with
// their reason (docs/json.md: loss, acked_unseen, snaplen, budget).
func (p *Follow) Gap(d tcp.Dir, off, n int64, reason string, frame int64) {
	if !p.want[d] {
		return
	}
	p.take(fevent{kind: 'g', d: d, off: off, n: n, reason: reason, frame: frame})
	p.pos[d] = off + n
	p.placePending(d)
	p.release(false)
}

func (p *Follow) printGap(d tcp.Dir, off, n int64, reason string, frame int64) {
	p.gaps[d] += n
	what := fmt.Sprintf("[%d bytes missing: %s", n, gapWords(reason))
	if frame > 0 {
		what += fmt.Sprintf(", frame %d", frame)
	}
	what += "]"
	if p.as == "raw" {
		fmt.Fprintf(p.errw, "tcptrace: %s %s at offset %d\n", p.names[d], what, off)
		return
	}
	p.run(d, frame)
	p.flushLine()
	if p.as == "hex" {
		p.off[d] += n
		if d == 1 {
			what = "    " + what
		}
		p.w.WriteString(what + "\n")
		return
	}
	p.w.WriteString("\n" + what + "\n")
}

func gapWords(reason string) string {
	switch reason {
	case "acked_unseen":
		return "not captured, acknowledged by the receiver"
	case "snaplen":
		return "cut by the snaplen"
	case "budget":
		return "given up to the reassembly memory budget"
	}
	return "never captured"
}

// FIN notes that direction d ended with a FIN delivered in order.
func (p *Follow) FIN(d tcp.Dir) { p.fins[d] = true }

// Found reports whether Header was called.
func (p *Follow) Found() bool { return p.found }

// Finish closes the output with the totals per direction and flushes it.
func (p *Follow) Finish() error {
	for _, m := range p.pend { // bytes never delivered: the marks go last
		p.take(fevent{kind: 'm', d: m.d, frame: m.frame, mark: m.mark})
	}
	p.pend = nil
	p.release(true)
	if p.found && p.as != "raw" {
		p.trailer()
	}
	return p.w.Flush()
}

func (p *Follow) trailer() {
	p.flushLine()
	if p.as == "ascii" && p.last >= 0 {
		p.w.WriteString("\n")
	}
	fmt.Fprintln(p.w, strings.Repeat("=", 67))
	for d, name := range [...]string{"client → server", "server → client"} {
		if !p.want[d] {
			continue
		}
		end := "no FIN"
		if p.fins[d] {
			end = "FIN"
		}
		fmt.Fprintf(p.w, "%s: %d bytes", name, p.total[d])
		if p.gaps[d] > 0 {
			fmt.Fprintf(p.w, ", %d missing", p.gaps[d])
		}
		if n := p.confs[d]; n == 1 {
			fmt.Fprintf(p.w, ", 1 conflict")
		} else if n > 1 {
			fmt.Fprintf(p.w, ", %d conflicts", n)
		}
		fmt.Fprintf(p.w, ", %s\n", end)
	}
}
