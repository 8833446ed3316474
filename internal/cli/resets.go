package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tcptrace/tcptrace/analyze"
	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/render"
	"github.com/tcptrace/tcptrace/report"
)

// ResetsOptions are the flags of `tcptrace resets`.
type ResetsOptions struct {
	Files    []string
	Format   string
	Color    string
	Filter   string
	Conns    string
	Where    []string
	IDs      idFlags // --reuse-idle, --stream
	Output   string  // -o
	Progress string
	Causes   string // --cause: a comma-separated list of causes (empty: all)
	Kernel   kernelFlags
	Summary  bool // --summary: the counts alone

	// --write-pcap, --wireshark-filter (writepcap.go)
	Wireshark wiresharkFlags
}

// resetCauses are the causes --cause accepts, in the order of the help.
var resetCauses = analyze.Causes()

// parseCauses reads a --cause list: names of resetCauses separated by commas.
func parseCauses(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []string
	for _, c := range strings.Split(s, ",") {
		c = strings.TrimSpace(c)
		if !slices.Contains(resetCauses, c) {
			return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("--cause: unknown cause %q (valid: %s)", c, strings.Join(resetCauses, ", "))}
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

func newResetsCmd(stdio IO) *cobra.Command {
	o := ResetsOptions{}
	cmd := &cobra.Command{
		Use:   "resets FILE...",
		Short: "Every RST: who sent it, in which state, whether it was accepted, and why",
		Long: `resets diagnoses every RST of the capture: the sender (client or server), the
RFC 9293 state of both endpoints just before it, whether the receiver would accept
it (exact rcv.nxt; in window: a challenge ACK is expected; out of window: ignored),
and its most likely cause with the frames that show it (--cause selects by cause):

  refused                 the answer to a SYN: nothing listening
  abort                   an established endpoint reset instead of closing with FIN
                          (closed with unread data, or SO_LINGER 0: the evidence says which)
  reset-after-close       an endpoint that had closed answers late data with RST
  half-open               RST for a connection the sender no longer knows
  idle-timeout-suspect    the first segment after a long silence answered by RST
  retransmission-timeout  RST after the same data was retransmitted several times
  middlebox-suspect       TTL/IP ID unlike the sender's, faster than the path allows,
                          or a RST the real sender would not have sent
  unknown                 nothing fits

The report opens with the count of RSTs per cause and per linux_reason (the
sk_rst_reason a Linux sender would have logged, inferred from the wire when it
tells; --summary prints the counts alone). Then one entry per connection gives
each RST with its linux_reason (and the kernel's own reason, when the record
carries it), the signals for and against a forgery, the bytes in flight each
way, the time since each side's last data, the segments just before, and whose
application saw "connection reset by peer". The further RSTs of a sender that
had reset already (answering segments still in flight) are folded under its
first, with their count and frames.`,
		Example: `  tcptrace resets testdata/pcaps/resets.pcap
  tcptrace resets capture.pcap --cause abort,refused
  tcptrace resets capture.pcap --summary
  tcptrace resets capture.pcap --filter "port 443" --format json | jq 'select(.type=="reset")'`,
		Args: needsInputs("resets needs at least one capture file (or - for stdin)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Files = inputArgs(cmd, args)
			return withOutput(o.Output, stdio, func(s IO) error { return RunResets(o, s) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Format, "format", "text", "output format: text or json (JSON lines: one \"type\":\"reset\" record per RST, then the summary)")
	f.StringVar(&o.Color, "color", "auto", "colour: auto (on a terminal, unless NO_COLOR is set), always or never")
	f.StringVar(&o.Filter, "filter", "", `only connections with a segment matching this expression (docs/filter.md)`)
	f.StringVar(&o.Conns, "conn", "", "only these connection IDs, e.g. 3,7,10-12")
	whereFlag(f, &o.Where)
	o.IDs.add(f, false)
	readFlag(f)
	outputFlag(f, &o.Output)
	f.StringVar(&o.Causes, "cause", "", "only RSTs of these causes, e.g. abort,refused ("+strings.Join(resetCauses, ", ")+")")
	o.Kernel.add(f)
	f.BoolVar(&o.Summary, "summary", false, "only the counts: per cause, per linux_reason, connections ended by a RST (JSON: only the summary record)")
	progressFlag(f, &o.Progress)
	o.Wireshark.add(f)
	return cmd
}

// RunResets runs the resets command.
func RunResets(o ResetsOptions, stdio IO) error {
	useColor, err := textOrJSON(o.Format, o.Color, stdio)
	if err != nil {
		return err
	}
	causes, err := parseCauses(o.Causes)
	if err != nil {
		return err
	}
	kj, err := o.Kernel.joiner()
	if err != nil {
		return err
	}
	ws, err := o.Wireshark.begin(o.Files, stdio)
	if err != nil {
		return err
	}
	defer ws.abort()
	stdio.Out = ws.output(stdio.Out)
	// The report streams: the counts and a bounded buffer are all it keeps
	// (render.ResetsStream).
	out := render.NewResetsStream(stdio.Out, o.Format == "json", render.Options{Color: useColor, Summary: o.Summary, Causes: causes})
	q := connQuery{Filter: o.Filter, Conns: o.Conns, Where: o.Where, IDs: o.IDs}
	rep, ids, code, err := analyzeStreaming(o.Files, stdio, q, o.Progress, nil, ws, &o.Kernel, kj,
		func([]string) func(*report.Conn, []*report.Anomaly) { return out.Conn })
	if err != nil {
		return err
	}
	if err := out.Finish(&rep.Summary); err != nil {
		return writeFailed(err)
	}
	if err := ws.finish(&rep.Summary); err != nil {
		return err
	}
	if err := missingIDs(ids, connsFound(&rep.Summary)); err != nil {
		return err
	}
	return inputStatus(code)
}

// analyzeStreaming runs the full analysis with a selection, handing each
// connection as it finishes to the output that emitFor makes once the
// inputs are open (names: theirs), and returns the report (its summary: the
// records went to the output, with the kernel join's account when kj is
// set), the IDs asked for and the worst exit code of the inputs. tune, if
// set, adjusts the configuration; ws, if not nil, collects the selected
// connections for --write-pcap and --wireshark-filter; kj, if not nil,
// joins each record to the kernel's events (k: their flags) first.
func analyzeStreaming(files []string, stdio IO, q connQuery, progress string, tune func(*analyze.Config) error, ws *wiresharkRun,
	k *kernelFlags, kj *analyze.KernelJoiner, emitFor func(names []string) func(*report.Conn, []*report.Anomaly)) (*report.Report, map[int]bool, int, error) {
	cfg := analyze.DefaultConfig()
	if tune != nil {
		if err := tune(&cfg); err != nil {
			return nil, nil, 0, err
		}
	}
	ws.configure(&cfg)
	sel, ids, err := q.prepare(&cfg)
	if err != nil {
		return nil, nil, 0, err
	}
	eng := analyze.NewEngine(cfg)
	eng.Select(sel)
	opened := func(_ capture.Source, names []string) {
		eng.Stream(names, ws.stream(eng, names, joinKernel(kj, emitFor(names))))
	}
	names, code, closeInputs, err := runInputsOpen(files, stdio, eng, progress, opened)
	defer closeInputs()
	if err != nil {
		return nil, nil, code, err
	}
	rep := eng.Report(names)
	if kj != nil {
		rep.Summary.KernelEvents = kernelSummary(k, kj, stdio)
	}
	return rep, ids, code, nil
}

// analyzeForReport runs the full analysis with a selection and returns the
// report and the worst exit code of the inputs; a selection by ID naming a
// connection the capture does not have is an error (missingIDs). tune, if
// set, adjusts the configuration.
func analyzeForReport(files []string, stdio IO, q connQuery, progress string, tune func(*analyze.Config)) (*report.Report, int, error) {
	cfg := analyze.DefaultConfig()
	if tune != nil {
		tune(&cfg)
	}
	sel, ids, err := q.prepare(&cfg)
	if err != nil {
		return nil, 0, err
	}
	eng := analyze.NewEngine(cfg)
	eng.Select(sel)
	names, code, err := runInputs(files, stdio, eng, progress)
	if err != nil {
		return nil, code, err
	}
	rep := eng.Report(names)
	if err := missingIDs(ids, connsFound(&rep.Summary)); err != nil {
		return nil, code, err
	}
	return rep, code, nil
}
