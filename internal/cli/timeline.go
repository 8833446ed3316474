package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/tcptrace/tcptrace/analyze"
	"github.com/tcptrace/tcptrace/render"
)

// TimelineOptions are the flags of `tcptrace timeline`.
type TimelineOptions struct {
	Files    []string
	Conns    string
	Filter   string
	Where    []string
	IDs      idFlags // --reuse-idle, --stream
	Output   string
	Format   string
	Color    string
	Width    int
	Abs      bool
	NoFold   bool
	Explain  bool
	Progress string
}

func newTimelineCmd(stdio IO) *cobra.Command {
	o := TimelineOptions{}
	cmd := &cobra.Command{
		Use:   "timeline FILE... --conn ID",
		Short: "A ladder diagram of connections: every segment, state change and anomaly",
		Long: `timeline draws each selected connection as a ladder: the client on the left, the
server on the right, one row per segment with an arrow in its direction, showing the
time (seconds since the connection's first packet, or --abs), the frame number,
flags, relative seq/ack (each side's ISN is 0, as in Wireshark), payload length and
window. State changes are written on their endpoint's side under the row that caused
them; anomalies follow the row, coloured by severity on a terminal. Runs of plain
data and ACK segments are folded into one line (--no-fold shows them).

--explain annotates the rows with the TCP rule they show, for learning or teaching
TCP from real traffic.`,
		Example: `  tcptrace timeline testdata/pcaps/handshake-data-close.pcap --conn 1
  tcptrace timeline testdata/pcaps/closes.pcap --conn 1 --explain
  tcptrace timeline capture.pcap --filter "port 443" --format json`,
		Args: needsInputs("timeline needs a capture file (or - for stdin)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Files = inputArgs(cmd, args)
			return withOutput(o.Output, stdio, func(s IO) error { return RunTimeline(o, s) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Conns, "conn", "", "connections to draw, e.g. 3 or 3,7,10-12 (IDs of tcptrace analyze)")
	f.StringVar(&o.Filter, "filter", "", "draw the connections with a segment matching this expression (docs/filter.md)")
	whereFlag(f, &o.Where)
	o.IDs.add(f, false)
	readFlag(f)
	outputFlag(f, &o.Output)
	f.StringVar(&o.Format, "format", "text", "text or json (one record per row: \"type\":\"row\", and \"type\":\"fold\" for folded runs)")
	f.StringVar(&o.Color, "color", "auto", "colour: auto (on a terminal, unless NO_COLOR is set), always or never")
	f.IntVar(&o.Width, "width", 0, "width in columns (default: the terminal's, else 110)")
	f.BoolVar(&o.Abs, "abs", false, "absolute times (UTC) instead of seconds since the connection's first packet")
	f.BoolVar(&o.NoFold, "no-fold", false, "do not fold runs of plain data and ACK segments")
	f.BoolVar(&o.Explain, "explain", false, "explain each step in plain words: the TCP rule it shows")
	progressFlag(f, &o.Progress)
	return cmd
}

// RunTimeline runs the timeline command.
func RunTimeline(o TimelineOptions, stdio IO) error {
	useColor, err := textOrJSON(o.Format, o.Color, stdio)
	if err != nil {
		return err
	}
	q := connQuery{Filter: o.Filter, Conns: o.Conns, Where: o.Where, IDs: o.IDs}
	rep, code, err := analyzeForReport(o.Files, stdio, q, o.Progress, func(c *analyze.Config) {
		c.Rows, c.Explain = true, o.Explain
	})
	if err != nil {
		return err
	}
	width := o.Width
	if width <= 0 {
		width = stdio.Width
	}
	if width <= 0 {
		width = 110
	}
	opts := render.TimelineOptions{Color: useColor, Width: width, Abs: o.Abs, NoFold: o.NoFold, Explain: o.Explain}
	if o.Format == "json" {
		err = render.TimelineJSON(stdio.Out, rep.Conns, opts)
	} else {
		err = render.Timeline(stdio.Out, rep.Conns, opts)
	}
	if err != nil {
		return writeFailed(err)
	}
	if len(rep.Conns) == 0 {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("no connection selected (the capture has %d)", max(rep.Summary.ConnsTotal, rep.Summary.Connections))}
	}
	return inputStatus(code)
}
