package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/tcptrace/tcptrace/analyze"
	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/internal/export"
)

// ExportOptions are the flags of `tcptrace export`.
type ExportOptions struct {
	Budgets  budgetFlags
	Files    []string
	Out      string
	Force    bool
	Conns    string
	Filter   string
	IDs      idFlags // --reuse-idle, --stream
	Progress string
	Workers  int
}

func newExportCmd(stdio IO) *cobra.Command {
	o := ExportOptions{}
	cmd := &cobra.Command{
		Use:   "export FILE... -o DIR",
		Short: "Write each direction of each connection's reassembled stream to its own file (tcpflow-style)",
		Long: `export writes the bytes each side of every connection delivered, in order, to one
file per direction in DIR, named like tcpflow's (%A.%a-%B.%b: source and destination
address and port, with c1, c2… when a tuple is used again), and an index.json
listing the files, their connections, byte counts and gaps (docs/export.md).
Missing bytes are never invented: the index says where they would be.

Existing files are not overwritten without --force, and names come only from
addresses and ports, so nothing is written outside DIR.`,
		Example: `  tcptrace export testdata/pcaps/handshake-data-close.pcap -o /tmp/flows
  tcptrace export capture.pcap -o flows --conn 3,7
  tcptrace export capture.pcap -o flows --filter "port 80"`,
		Args: needsInputs("export needs a capture file (or - for stdin) and -o DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Files = inputArgs(cmd, args)
			return RunExport(o, stdio)
		},
	}
	f := cmd.Flags()
	o.Budgets.add(f)
	f.StringVarP(&o.Out, "output", "o", "", "directory to write the streams and index.json to (created if missing)")
	f.BoolVar(&o.Force, "force", false, "overwrite files of an earlier export in the directory")
	f.StringVar(&o.Conns, "conn", "", "export only these connection IDs, e.g. 3,7,10-12")
	f.StringVar(&o.Filter, "filter", "", `export only connections with a segment matching this expression, e.g. "port 80" (docs/filter.md)`)
	o.IDs.add(f, false)
	readFlag(f)
	progressFlag(f, &o.Progress)
	f.IntVar(&o.Workers, "workers", 0, "1: one goroutine reads and reassembles; 2 or more: reading and decoding on their own (default: 1 per CPU); files are written on another")
	return cmd
}

// exportDropBehind is how much of a mapped capture stays resident behind
// the reader during an export (capture.SetDropBehind).
const exportDropBehind = 32 << 20

// RunExport runs the export command.
func RunExport(o ExportOptions, stdio IO) error {
	if o.Out == "" {
		return &ExitError{Code: ExitUsage, Err: errors.New("export needs -o DIR")}
	}
	cfg := analyze.DefaultConfig()
	q := connQuery{Filter: o.Filter, Conns: o.Conns, IDs: o.IDs}
	sel, ids, err := q.prepare(&cfg)
	if err != nil {
		return err
	}
	w, err := export.New(o.Out, o.Force, ids)
	if err != nil {
		return &ExitError{Code: ExitOutput, Err: err}
	}
	if sel.Filter != nil {
		w.Keep = (*analyze.Conn).Matched
	}
	if err := o.Budgets.apply(&cfg); err != nil {
		return err
	}
	cfg.StreamsOnly = true
	if o.Workers > 0 {
		cfg.Workers = o.Workers
	}
	cfg.Tap = w.Tap
	eng := analyze.NewEngine(cfg)
	eng.Select(sel)
	// The writers send delivered bytes straight from the mapping of the
	// capture, some way behind the reader: keep more of it resident.
	defer capture.SetDropBehind(capture.SetDropBehind(exportDropBehind))
	_, code, closeInputs, runErr := runInputsOpen(o.Files, stdio, eng, o.Progress, func(src capture.Source, _ []string) {
		w.Stable = capture.IsStable(src)
	})
	rep := eng.Report(nil) // finishes every connection: the last streams are written
	if sum := &rep.Summary; sum.Interrupted {
		w.Interrupted(sum.Signal, sum.LastFrame, sum.LastFile)
	}
	if runErr != nil { // nothing readable: nothing to publish
		w.Discard()
	}
	err = w.Close()
	closeInputs() // only now: the writer may have referenced mapped bytes
	if runErr != nil {
		return runErr
	}
	if err != nil {
		return &ExitError{Code: ExitOutput, Err: fmt.Errorf("export: %w", err)}
	}
	if runErr != nil {
		return runErr
	}
	files, bytes := w.Stats()
	fmt.Fprintf(stdio.Err, "tcptrace: %d files, %d bytes written to %s\n", files, bytes, o.Out)
	if err := missingIDs(ids, connsFound(&rep.Summary)); err != nil {
		return err
	}
	return inputStatus(code)
}
