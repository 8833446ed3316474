package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Follow prints one connection's reassembled streams as they are delivered,
// as Wireshark's Follow TCP Stream: ascii (runs of one direction headed by
// its frame and offset), hex (offset/hex/ASCII lines, the server's side
// indented) or raw bytes; gaps inline, or on errw for raw.
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
}

// FollowOptions say what Follow prints.
type FollowOptions struct {
	As    string  // ascii, hex or raw
	Want  [2]bool // directions to print: client → server, server → client
	Color bool    // colour each direction (not for raw)
}

// NewFollow returns a printer writing to w (gaps of raw output to errw).
func NewFollow(w, errw io.Writer, o FollowOptions) *Follow {
	return &Follow{w: bufio.NewWriterSize(w, 64<<10), errw: errw, as: o.As, want: o.Want, color: o.Color && o.As != "raw", last: -1}
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

func (p *Follow) legend(d int) string {
	if p.color {
		return "  (" + paint(true, dirColors[d], [...]string{"red", "blue"}[d]) + ")"
	}
	return ""
}

// run starts a new run of direction d when the direction changes.
func (p *Follow) run(d int, frame int64) {
	if p.last == d {
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
	p.last = d
}

// Data prints bytes of direction d, delivered from frame.
func (p *Follow) Data(d int, b []byte, frame int64) {
	if !p.want[d] {
		return
	}
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
func (p *Follow) Gap(d int, off, n int64, reason string, frame int64) {
	if !p.want[d] {
		return
	}
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
func (p *Follow) FIN(d int) { p.fins[d] = true }

// Found reports whether Header was called.
func (p *Follow) Found() bool { return p.found }

// Finish closes the output with the totals per direction and flushes it.
func (p *Follow) Finish() error {
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
		fmt.Fprintf(p.w, ", %s\n", end)
	}
}
