package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/fatih/color"
	"github.com/spf13/cobra"
	"github.com/tcptrace/tcptrace/analyze"
	"github.com/tcptrace/tcptrace/reassembly"
)

// FollowOptions are the flags of `tcptrace follow`.
type FollowOptions struct {
	Budgets  budgetFlags
	Files    []string
	Conn     int
	As       string // ascii, hex, raw
	Dir      string // client, server, both
	Color    string
	Progress string
}

func newFollowCmd(io IO) *cobra.Command {
	o := FollowOptions{}
	cmd := &cobra.Command{
		Use:   "follow FILE... --conn ID",
		Short: "The reassembled conversation of one connection, like Wireshark's Follow TCP Stream",
		Long: `follow prints the bytes each side of one connection delivered to the other, in
the order the applications received them: retransmissions and overlaps trimmed
(the first copy wins), out-of-order data put back in place, and bytes the capture
never held shown as [N bytes missing]. Connection IDs are those of analyze.

--as ascii (default) prints text, with other bytes as '.'; --as hex prints an
offset/hex/ASCII dump (the server's side indented); --as raw writes the bytes
themselves, gaps left out (they are listed on stderr).`,
		Example: `  tcptrace follow testdata/pcaps/handshake-data-close.pcap --conn 1
  tcptrace follow capture.pcap --conn 7 --as hex --dir server
  tcptrace follow capture.pcap --conn 7 --as raw --dir client > request.bin`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &ExitError{Code: ExitUsage, Err: errors.New("follow needs a capture file (or - for stdin) and --conn ID")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Files = args
			return RunFollow(o, io)
		},
	}
	f := cmd.Flags()
	o.Budgets.add(f)
	f.IntVar(&o.Conn, "conn", 0, "the connection to follow (its ID in analyze's output)")
	f.StringVar(&o.As, "as", "ascii", "output: ascii, hex or raw")
	f.StringVar(&o.Dir, "dir", "both", "direction: client (client → server), server (server → client) or both")
	f.StringVar(&o.Color, "color", "auto", "colour each direction: auto (on a terminal, unless NO_COLOR is set), always or never")
	f.StringVar(&o.Progress, "progress", "auto", "progress bar on stderr: auto or never")
	return cmd
}

// RunFollow runs the follow command.
func RunFollow(o FollowOptions, io IO) error {
	if o.Conn < 1 {
		return &ExitError{Code: ExitUsage, Err: errors.New("follow needs --conn ID (a connection ID from tcptrace analyze)")}
	}
	switch o.As {
	case "ascii", "hex", "raw":
	default:
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--as must be ascii, hex or raw, not %q", o.As)}
	}
	want := [2]bool{true, true}
	switch o.Dir {
	case "both":
	case "client":
		want[analyze.S2C] = false
	case "server":
		want[analyze.C2S] = false
	default:
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--dir must be client, server or both, not %q", o.Dir)}
	}
	useColor, err := colorMode(o.Color, io.OutTTY, io.Getenv)
	if err != nil {
		return err
	}
	out := bufio.NewWriterSize(io.Out, 64<<10)
	p := &follower{w: out, as: o.As, want: want, color: useColor && o.As != "raw", errw: io.Err, last: -1}
	cfg := analyze.DefaultConfig()
	if err := o.Budgets.apply(&cfg); err != nil {
		return err
	}
	cfg.History = 256 << 10
	cfg.StreamsOnly = true
	cfg.Tap = func(c *analyze.Conn) reassembly.Handler {
		if c.ID != o.Conn {
			return nil
		}
		p.found = true
		p.header(c)
		return p
	}
	eng := analyze.NewEngine(cfg)
	eng.Select(analyze.Selection{IDs: map[int]bool{o.Conn: true}})
	_, code, err := runInputs(o.Files, io, eng, o.Progress)
	if err != nil {
		return err
	}
	rep := eng.Report(nil)
	p.finish()
	if err := out.Flush(); err != nil || p.err != nil {
		return &ExitError{Code: ExitOutput, Err: fmt.Errorf("writing output: %w", errors.Join(err, p.err))}
	}
	if !p.found {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("no connection %d: the capture has %d connections", o.Conn, rep.Summary.ConnsTotal)}
	}
	if code != ExitOK {
		return &ExitError{Code: code, Err: errors.New("")}
	}
	return nil
}

// follower prints one connection's streams as they are delivered.
type follower struct {
	w     *bufio.Writer
	errw  io.Writer
	as    string
	want  [2]bool
	color bool
	found bool
	err   error

	last  int      // direction of the run being printed (-1: none yet)
	off   [2]int64 // hex: offset of the next byte per direction
	line  [2][]byte
	total [2]int64
	gaps  [2]int64
	fins  [2]bool
	names [2]string
}

var dirColors = [2]*color.Color{color.New(color.FgRed), color.New(color.FgBlue)} // Wireshark's: client red, server blue

func init() {
	for _, c := range dirColors {
		c.EnableColor()
	}
}

func (p *follower) header(c *analyze.Conn) {
	p.names = [2]string{c.Client.String(), c.Server.String()}
	if p.as == "raw" {
		return
	}
	fmt.Fprintf(p.w, "Follow: connection %d, %s → %s (first frame %d)\n", c.ID, c.Client, c.Server, c.FirstFrame)
	fmt.Fprintf(p.w, "Client: %s%s\nServer: %s%s\n", c.Client, p.legend(0), c.Server, p.legend(1))
	fmt.Fprintln(p.w, strings.Repeat("=", 67))
}

func (p *follower) legend(d int) string {
	if p.color {
		return "  (" + dirColors[d].Sprint([...]string{"red", "blue"}[d]) + ")"
	}
	return ""
}

// run starts a new run of direction d when the direction changes.
func (p *follower) run(d int, frame int64) {
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
		if p.color {
			s = dirColors[d].Sprint(s)
		}
		p.w.WriteString(s + "\n")
	}
	p.last = d
}

func (p *follower) Data(d int, off int64, b []byte, frame int64, file int) {
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
		if p.color {
			p.w.WriteString(dirColors[d].Sprint(string(buf)))
		} else {
			p.w.Write(buf)
		}
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
func (p *follower) flushLine() {
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
	if p.color {
		s = dirColors[d].Sprint(s)
	}
	p.w.WriteString(s + "\n")
	p.off[d] += int64(len(l))
	p.line[d] = p.line[d][:0]
}

func (p *follower) Gap(d int, g reassembly.Gap) {
	if !p.want[d] {
		return
	}
	p.gaps[d] += g.Len
	what := fmt.Sprintf("[%d bytes missing: %s", g.Len, gapWords(g.Reason))
	if g.Frame > 0 {
		what += fmt.Sprintf(", frame %d", g.Frame)
	}
	what += "]"
	if p.as == "raw" {
		fmt.Fprintf(p.errw, "tcptrace: %s %s at offset %d\n", p.names[d], what, g.Off)
		return
	}
	p.run(d, g.Frame)
	p.flushLine()
	if p.as == "hex" {
		p.off[d] += g.Len
		if d == 1 {
			what = "    " + what
		}
		p.w.WriteString(what + "\n")
		return
	}
	p.w.WriteString("\n" + what + "\n")
}

func gapWords(r reassembly.GapReason) string {
	switch r {
	case reassembly.GapAcked:
		return "not captured, acknowledged by the receiver"
	case reassembly.GapSnaplen:
		return "cut by the snaplen"
	case reassembly.GapBudget:
		return "given up to the reassembly memory budget"
	}
	return "never captured"
}

func (p *follower) Conflict(d int, c reassembly.Conflict) {}

func (p *follower) FIN(d int, off int64, frame int64, file int) { p.fins[d] = true }

// finish closes the output with the totals per direction.
func (p *follower) finish() {
	if !p.found || p.as == "raw" {
		return
	}
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
