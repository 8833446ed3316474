package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tcptrace/tcptrace/analyze"
	"github.com/tcptrace/tcptrace/render/graph"
	"github.com/tcptrace/tcptrace/render/htmlreport"
	"github.com/tcptrace/tcptrace/report"
)

// ReportOptions are the flags of `tcptrace report`.
type ReportOptions struct {
	Files    []string
	Output   string
	Filter   string
	Conns    string
	Where    []string
	IDs      idFlags // --reuse-idle, --stream
	Details  int
	Progress string
	Kernel   kernelFlags
}

func newReportCmd(stdio IO) *cobra.Command {
	o := ReportOptions{}
	cmd := &cobra.Command{
		Use:   "report FILE... -o report.html",
		Short: "One self-contained HTML page: summary, a sortable and filterable table, every connection's story",
		Long: `report writes one HTML file that opens from disk anywhere (no network, no CDN:
styles, script and data are inside), fit to send to a colleague:

  - the summary: connections per handshake class, per close class, per Zeek
    conn_state, RSTs per cause, anomalies per kind (click a count to filter);
  - a table of every connection, sortable by any column, filterable by text,
    outcome and the counts above, paged;
  - per connection, opened by a click: its handshake and close with their
    frames, its anomalies, the diagnosis of its RSTs with the evidence, and for
    the --details most troubled connections its ladder (tcptrace timeline)
    and graphs.

The details are compressed inside the page and unpacked when a connection is
opened, so that a capture of tens of thousands of connections makes a page of
a few megabytes.`,
		Example: `  tcptrace report testdata/pcaps/reset-patterns.pcap -o report.html
  tcptrace report capture.pcap --where state=reset,refused -o resets.html
  tcptrace report capture.pcap --kernel-events kernel-tcp.txt -o report.html`,
		Args: needsInputs("report needs at least one capture file (or - for stdin)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Files = inputArgs(cmd, args)
			return RunReport(o, stdio)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Output, "output", "o", "", "the HTML file to write (- for standard output)")
	f.StringVar(&o.Filter, "filter", "", `only connections with a segment matching this expression (docs/filter.md)`)
	f.StringVar(&o.Conns, "conn", "", "only these connection IDs, e.g. 3,7,10-12")
	whereFlag(f, &o.Where)
	o.IDs.add(f, false)
	readFlag(f)
	f.IntVar(&o.Details, "details", htmlreport.DefaultHeavy, "how many connections, the most troubled first, keep their ladder and graphs in the page (0: none)")
	o.Kernel.add(f)
	progressFlag(f, &o.Progress)
	return cmd
}

// RunReport runs the report command.
func RunReport(o ReportOptions, stdio IO) error {
	if o.Output == "" {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("report needs -o FILE (the HTML page to write; - for standard output)")}
	}
	if o.Details < 0 {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--details must be 0 or more, not %d", o.Details)}
	}
	// The page goes to a temporary file beside the target, renamed over
	// it once whole: a failed or interrupted run leaves no half page.
	return withOutput(o.Output, stdio, func(s IO) error { return writeReport(o, s) })
}

// writeReport analyzes the inputs and writes the page to stdio.Out.
func writeReport(o ReportOptions, stdio IO) error {
	kj, err := o.Kernel.joiner()
	if err != nil {
		return err
	}
	heavy := o.Details
	if heavy == 0 {
		heavy = -1
	}
	inputs := strings.Join(o.Files, " ")
	b := htmlreport.New(stdio.Out, htmlreport.Options{
		Title: strings.Join(o.Files, ", "), Heavy: heavy, Graphs: reportGraphs,
		Command: "tcptrace timeline " + inputs + " --conn {id}",
	})
	q := connQuery{Filter: o.Filter, Conns: o.Conns, Where: o.Where, IDs: o.IDs}
	rows := func(c *analyze.Config) error { c.Rows = true; return nil }
	rep, ids, code, err := analyzeStreaming(o.Files, stdio, q, o.Progress, rows, nil, &o.Kernel, kj,
		func([]string) func(*report.Conn, []*report.Anomaly) { return b.Conn })
	if err != nil {
		return err
	}
	if err := b.Finish(&rep.Summary); err != nil {
		return writeFailed(err)
	}
	if err := missingIDs(ids, connsFound(&rep.Summary)); err != nil {
		return err
	}
	return inputStatus(code)
}

// reportGraphs draws a connection's graphs for the report: every kind of
// tcptrace graph, for the direction that sent more data.
var reportGraphs = func(c *report.Conn) []htmlreport.Graph {
	var out []htmlreport.Graph
	for _, k := range graph.Kinds {
		var b strings.Builder
		if err := graph.Write(&b, c, graph.Options{Kind: k, Width: 760, Height: 440}); err != nil {
			continue // a graph that cannot be drawn is left out; the ladder says what happened
		}
		out = append(out, htmlreport.Graph{Title: fmt.Sprintf("%s (tcptrace graph --conn %d --kind %s)", k, c.ID, k), SVG: b.String()})
	}
	return out
}
