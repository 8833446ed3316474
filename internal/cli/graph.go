package cli

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/tcptrace/tcptrace/analyze"
	"github.com/tcptrace/tcptrace/render/graph"
)

// GraphOptions are the flags of `tcptrace graph`.
type GraphOptions struct {
	Files    []string
	Conn     int
	IDs      idFlags // --reuse-idle, --stream
	Kind     string
	Dir      string
	At       string
	Out      string
	Width    int
	Height   int
	Progress string
}

func newGraphCmd(stdio IO) *cobra.Command {
	o := GraphOptions{}
	cmd := &cobra.Command{
		Use:   "graph FILE... --conn ID --kind KIND -o out.svg",
		Short: "An SVG graph of one connection: time-sequence, throughput, RTT, window, bytes in flight",
		Long: `graph draws one direction of one connection as an SVG image (docs/graph.md):

  tsg         the time-sequence graph of tcptrace and Wireshark's Stevens graph: each
              data segment a bar from seq to seq+len, the peer's cumulative ACK and
              receive window (ack + window) as step lines, its SACK blocks, SYN/FIN/RST,
              and a mark for every anomaly (retransmissions by kind, out-of-order,
              capture loss, duplicate ACKs, zero windows and probes…)
  throughput  payload bytes/s per RTT-sized interval, and a moving average
  rtt         RTT samples: ACK time minus the send time of the segment it acknowledges
              (Karn's rule: none from retransmitted segments)
  window      the window the receiver advertised (scaled), over time
  inflight    bytes in flight: highest seq sent minus highest ack seen, over time

Time is in seconds since the connection's first packet, sequence numbers are
relative (each side's ISN is 0, as in the timeline and Wireshark). --dir picks the
direction of the data (default: the side that sent more payload bytes); --at zooms
to a time range. Thousands of segments are thinned (bars in one pixel column
merged), anomaly marks never are. Connection IDs are those of analyze.`,
		Example: `  tcptrace graph testdata/pcaps/retransmit-sack.pcap --conn 1 --kind tsg -o tsg.svg
  tcptrace graph testdata/pcaps/anomalies.pcap --conn 1 --kind window --dir client -o win.svg
  tcptrace graph testdata/pcaps/tso.pcap --conn 1 --kind rtt --at 0-0.5 -o rtt.svg`,
		Args: needsInputs("graph needs a capture file (or - for stdin), --conn ID and --kind"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Files = inputArgs(cmd, args)
			return withOutput(o.Out, stdio, func(s IO) error { return RunGraph(o, s) })
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Conn, "conn", 0, "the connection to draw (its ID in analyze's output)")
	o.IDs.add(f, true)
	readFlag(f)
	f.StringVar(&o.Kind, "kind", "tsg", "the graph: "+graph.KindNames())
	f.StringVar(&o.Dir, "dir", "", "direction of the data: client (client → server) or server (default: the one that sent more payload bytes)")
	f.StringVar(&o.At, "at", "", "zoom to a time range in seconds since the connection's first packet: FROM-TO (1.5-3.0) or FROM-")
	f.StringVarP(&o.Out, "output", "o", "-", "the SVG file to write (- for stdout; written whole or not at all)")
	f.IntVar(&o.Width, "width", 1000, "width in pixels")
	f.IntVar(&o.Height, "height", 600, "height in pixels")
	progressFlag(f, &o.Progress)
	return cmd
}

// RunGraph runs the graph command.
func RunGraph(o GraphOptions, stdio IO) error {
	conn, err := o.IDs.one(o.Conn)
	if err != nil {
		return err
	}
	o.Conn = conn
	if o.Conn < 1 {
		return &ExitError{Code: ExitUsage, Err: errors.New("graph needs --conn ID (one connection ID from tcptrace analyze)")}
	}
	kind, err := graph.ParseKind(o.Kind)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--kind: %w", err)}
	}
	if o.Dir != "" && o.Dir != "client" && o.Dir != "server" {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--dir must be client or server, not %q", o.Dir)}
	}
	opts := graph.Options{Kind: kind, Dir: o.Dir, Width: o.Width, Height: o.Height}
	if o.At != "" {
		opts.From, opts.To, err = graph.ParseRange(o.At)
		if err != nil {
			return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--at: %w", err)}
		}
	}
	if o.Width < 0 || o.Height < 0 {
		return &ExitError{Code: ExitUsage, Err: errors.New("--width and --height must be positive")}
	}
	q := connQuery{Conns: strconv.Itoa(o.Conn), IDs: o.IDs}
	rep, code, err := analyzeForReport(o.Files, stdio, q, o.Progress, func(c *analyze.Config) { c.Rows = true })
	if err != nil {
		return err
	}
	if err := graph.Write(stdio.Out, rep.Conns[0], opts); err != nil {
		return writeFailed(err)
	}
	return inputStatus(code)
}
