package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/tcptrace/tcptrace/analyze"
	"github.com/tcptrace/tcptrace/reassembly"
	"github.com/tcptrace/tcptrace/render"
	"github.com/tcptrace/tcptrace/tcp"
)

// FollowOptions are the flags of `tcptrace follow`.
type FollowOptions struct {
	Budgets  budgetFlags
	Files    []string
	Conn     int
	IDs      idFlags // --reuse-idle, --stream
	Output   string
	As       string // ascii, hex, raw
	Dir      string // client, server, both
	Color    string
	Progress string
}

func newFollowCmd(stdio IO) *cobra.Command {
	o := FollowOptions{}
	cmd := &cobra.Command{
		Use:   "follow FILE... --conn ID",
		Short: "The reassembled conversation of one connection, like Wireshark's Follow TCP Stream",
		Long: `follow prints the bytes each side of one connection delivered to the other, in
the order the applications received them: retransmissions and overlaps trimmed
(the first copy wins), out-of-order data put back in place, and bytes the capture
never held shown as [N bytes missing]. Where two copies of the same bytes differ
(a retransmission with other bytes, or data injected by a third party), a mark
[conflicting copies of bytes X–Y: …] follows them: the frame kept, the other, and
which one looks forged by its IP TTL or ID. Connection IDs are those of analyze.

--as ascii (default) prints text, with other bytes as '.'; --as hex prints an
offset/hex/ASCII dump (the server's side indented); --as raw writes the bytes
themselves, gaps left out (they are listed on stderr).`,
		Example: `  tcptrace follow testdata/pcaps/handshake-data-close.pcap --conn 1
  tcptrace follow capture.pcap --conn 7 --as hex --dir server
  tcptrace follow capture.pcap --conn 7 --as raw --dir client > request.bin`,
		Args: needsInputs("follow needs a capture file (or - for stdin) and --conn ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Files = inputArgs(cmd, args)
			return withOutput(o.Output, stdio, func(s IO) error { return RunFollow(o, s) })
		},
	}
	f := cmd.Flags()
	o.Budgets.add(f)
	f.IntVar(&o.Conn, "conn", 0, "the connection to follow (its ID in analyze's output)")
	o.IDs.add(f, true)
	readFlag(f)
	outputFlag(f, &o.Output)
	f.StringVar(&o.As, "as", "ascii", "output: ascii, hex or raw")
	f.StringVar(&o.Dir, "dir", "both", "direction: client (client → server), server (server → client) or both")
	f.StringVar(&o.Color, "color", "auto", "colour each direction: auto (on a terminal, unless NO_COLOR is set), always or never")
	progressFlag(f, &o.Progress)
	return cmd
}

// RunFollow runs the follow command.
func RunFollow(o FollowOptions, stdio IO) error {
	conn, err := o.IDs.one(o.Conn)
	if err != nil {
		return err
	}
	o.Conn = conn
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
		want[tcp.Server] = false
	case "server":
		want[tcp.Client] = false
	default:
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--dir must be client, server or both, not %q", o.Dir)}
	}
	useColor, err := colorMode(o.Color, stdio.OutTTY, stdio.Getenv)
	if err != nil {
		return err
	}
	cfg := analyze.DefaultConfig()
	if err := o.Budgets.apply(&cfg); err != nil {
		return err
	}
	if err := o.IDs.apply(&cfg); err != nil {
		return err
	}
	cfg.History = followHistory
	p := render.NewFollow(stdio.Out, stdio.Err, render.FollowOptions{As: o.As, Want: want, Color: useColor, Window: 2 * followHistory})
	cfg.StreamsOnly = true
	cfg.Tap = func(c *analyze.Conn) reassembly.Handler {
		if c.ID != o.Conn {
			return nil
		}
		p.Header(c.ID, c.Client.String(), c.Server.String(), c.FirstFrame)
		return followTap{p, c}
	}
	eng := analyze.NewEngine(cfg)
	eng.Select(analyze.Selection{IDs: map[int]bool{o.Conn: true}})
	_, code, err := runInputs(o.Files, stdio, eng, o.Progress)
	if err != nil {
		return err
	}
	rep := eng.Report(nil)
	if err := p.Finish(); err != nil {
		return writeFailed(err)
	}
	if !p.Found() {
		return missingIDs(map[int]bool{o.Conn: true}, connsFound(&rep.Summary))
	}
	return inputStatus(code)
}

// followHistory is how many delivered bytes of each direction follow
// compares later copies with.
const followHistory = 256 << 10

// followTap hands a connection's reassembled streams to the printer, with
// the judgment of which copy of conflicting bytes looks forged.
type followTap struct {
	p *render.Follow
	c *analyze.Conn
}

func (t followTap) Data(d tcp.Dir, off int64, b []byte, frame int64, file int) { t.p.Data(d, b, frame) }
func (t followTap) Gap(d tcp.Dir, g reassembly.Gap) {
	t.p.Gap(d, g.Off, g.Len, g.Reason.String(), g.Frame)
}
func (t followTap) Conflict(d tcp.Dir, x reassembly.Conflict) {
	t.p.Conflict(d, t.c.JudgeConflict(d, x))
}
func (t followTap) FIN(d tcp.Dir, off int64, frame int64, file int) { t.p.FIN(d) }
