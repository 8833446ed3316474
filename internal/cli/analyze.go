package cli

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tcptrace/tcptrace/analyze"
	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/internal/filter"
	"github.com/tcptrace/tcptrace/internal/where"
	"github.com/tcptrace/tcptrace/render"
	"github.com/tcptrace/tcptrace/report"
)

// AnalyzeOptions are the flags of `tcptrace analyze`.
type AnalyzeOptions struct {
	Budgets   budgetFlags
	Files     []string
	Format    string  // text, json, csv, zeek, parquet
	Force     bool    // parquet: replace the tables of an earlier run
	Color     string  // auto, always, never
	IDs       idFlags // --reuse-idle, --stream
	Idle      time.Duration
	Progress  string   // auto, never
	Filter    string   // pcap-filter-like expression (internal/filter)
	Conns     string   // connection IDs: "3,7,10-12"
	Where     []string // outcomes: "state=reset,refused" (internal/where)
	Anomalies bool     // list every anomaly frame by frame (text)
	Checksum  bool     // verify TCP checksums
	Strict    bool     // warnings are failures (exit 5)
	Workers   int      // goroutines (0: one per CPU)
	Summary   bool     // only the overview
	Kernel    kernelFlags
	MaxConns  int    // cap on connections held at once
	Stats     bool   // JSON: keep the statistics and transitions of each record; text: tcptrace -l blocks
	Output    string // -o: the output to this file (parquet: the tables' directory)
	Width     int    // text: fit the table in this many columns (0: the terminal's; -1: no limit)
	Columns   string // text: the table's columns (render.ParseColumns)
	Sort      string // text: order of the rows (render.SortKeys)
	Top       int    // text: only the first N rows of that order

	// --write-pcap, --wireshark-filter (writepcap.go)
	Wireshark wiresharkFlags
}

func newAnalyzeCmd(stdio IO) *cobra.Command {
	o := AnalyzeOptions{}
	cmd := &cobra.Command{
		Use:   "analyze FILE...",
		Short: "One line per TCP connection: who, when, how much, how it ended",
		Long: `analyze reads one or more captures (pcap or pcapng, optionally gzip-compressed;
"-" reads standard input), merges them in timestamp order, and prints one row per
TCP connection followed by a summary of what was read and skipped.`,
		Example: `  tcptrace analyze testdata/pcaps/handshake-data-close.pcap
  tcptrace analyze --format json capture.pcapng.gz | jq 'select(.type=="conn")'
  tcpdump -w - -i eth0 | tcptrace analyze -`,
		Args: needsInputs("analyze needs at least one capture file (or - for stdin)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Files = inputArgs(cmd, args)
			if o.Format == "parquet" { // -o is the tables' directory
				return RunAnalyze(o, stdio)
			}
			return withOutput(o.Output, stdio, func(s IO) error { return RunAnalyze(o, s) })
		},
	}
	f := cmd.Flags()
	o.Budgets.add(f)
	f.StringVar(&o.Format, "format", "text", "output format: text, json (JSON lines, docs/json.md), csv, zeek (a Zeek conn.log, docs/zeek.md) or parquet (tables in the -o directory, docs/parquet.md)")
	f.StringVarP(&o.Output, "output", "o", "", "write the output to this file instead of standard output (written whole or not at all); --format parquet: the directory to write connections.parquet, anomalies.parquet and resets.parquet to (made if missing)")
	f.BoolVar(&o.Force, "force", false, "--format parquet: replace the tables an earlier run left in the -o directory")
	f.StringVar(&o.Color, "color", "auto", "colour: auto (on a terminal, unless NO_COLOR is set), always or never")
	readFlag(f)
	o.IDs.add(f, false)
	f.DurationVar(&o.Idle, "idle", analyze.DefaultConfig().Idle, "an open connection silent for longer than this before the end of the capture is reported idle")
	f.StringVar(&o.Filter, "filter", "", `show only connections with a segment matching this expression, e.g. "host 10.0.0.1 and port 443" (docs/filter.md)`)
	f.StringVar(&o.Conns, "conn", "", "show only these connection IDs, e.g. 3,7,10-12 (IDs do not change with --filter)")
	whereFlag(f, &o.Where)
	f.IntVar(&o.MaxConns, "max-conns", analyze.DefaultMaxConns, "the most connections held at once; beyond, the least recently active is finished early and counted (memory stays bounded on floods and scans)")
	o.Kernel.add(f)
	statsFlag(f, &o.Stats)
	f.IntVar(&o.Width, "width", 0, "text: fit the table in this many columns, leaving out the less important columns and cutting long cells (default: the terminal's width; none when the output is not a terminal; -1: never)")
	f.StringVar(&o.Columns, "columns", "", "text: the table's columns, in order, e.g. id,conn,state,retrans,anomalies: "+render.ColumnNames()+"; pkts and bytes name both directions")
	f.StringVar(&o.Sort, "sort", "", "text: order the table by "+strings.Join(render.SortKeys, ", ")+" (most first; start: earliest first), instead of by ID; the rows are held until the end")
	f.IntVar(&o.Top, "top", 0, "text: only the first N rows of the table (in --sort order, else by ID); the summary still counts every connection")
	f.BoolVar(&o.Summary, "summary", false, "only the overview: anomalies per kind, the worst connections and the summary, without the connection table")
	f.BoolVar(&o.Anomalies, "anomalies", false, "after the table, list every anomaly frame by frame (JSON output always carries them)")
	f.BoolVar(&o.Checksum, "checksum", false, "verify TCP checksums (off by default: checksum offload makes a sender's own packets look wrong)")
	f.BoolVar(&o.Strict, "strict", false, "fail (exit 5) when the input was read with warnings: malformed or truncated frames, unsupported link types, records over the snaplen, incomplete IP fragments")
	f.IntVar(&o.Workers, "workers", 0, "1: read, decode and analyze on one goroutine; N > 1: read and decode on a goroutine of their own and split the connections by flow over N analysis goroutines (default: 1 per CPU); the output is the same")
	progressFlag(f, &o.Progress)
	o.Wireshark.add(f)
	return cmd
}

// RunAnalyze runs the analyze command.
func RunAnalyze(o AnalyzeOptions, stdio IO) error {
	switch o.Format {
	case "text", "json", "csv", "zeek", "parquet":
	default:
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--format must be text, json, csv, zeek or parquet, not %q", o.Format)}
	}
	if err := outputFlags(o); err != nil {
		return err
	}
	useColor, err := colorMode(o.Color, stdio.OutTTY, stdio.Getenv)
	if err != nil {
		return err
	}
	cols, width, err := tableFlags(o, stdio)
	if err != nil {
		return err
	}
	if o.Format != "text" {
		useColor = false
	}
	ws, err := o.Wireshark.begin(o.Files, stdio)
	if err != nil {
		return err
	}
	defer ws.abort()
	stdio.Out = ws.output(stdio.Out)
	tune := func(cfg *analyze.Config) error {
		if err := o.Budgets.apply(cfg); err != nil {
			return err
		}
		if o.Workers > 0 {
			cfg.Workers = o.Workers
		}
		if o.MaxConns > 0 {
			cfg.MaxConns = o.MaxConns
		}
		cfg.Checksums = o.Checksum
		if o.Idle > 0 {
			cfg.Idle = o.Idle
		}
		// JSON without --stats leaves the statistics and transitions out
		// (render.JSONRecord): the records need not build them (unless
		// --write-pcap comments on the transitions: ws.configure).
		cfg.Lean = o.Format == "json" && !o.Stats
		return nil
	}
	// Every format streams: each connection's record goes to the output
	// when the connection is finished, so memory follows the connections
	// open at once (and the bounded buffers of the text renderers).
	kj, err := o.Kernel.joiner()
	if err != nil {
		return err
	}
	pq, err := openParquet(o, stdio)
	if err != nil {
		return err
	}
	defer pq.abort()
	var out connStream
	outputFor := func(names []string) func(*report.Conn, []*report.Anomaly) {
		switch o.Format {
		case "json":
			js := render.NewJSONStream(stdio.Out)
			js.Full = o.Stats
			out = js
		case "csv":
			out = csvOut{render.NewCSVStream(stdio.Out)}
		case "zeek":
			out = zeekOut{render.NewZeekStream(stdio.Out)}
		case "parquet":
			pq.w.SetInputs(names)
			out = pq
		default:
			out = render.NewTextStream(stdio.Out, names, render.Options{Color: useColor, Anomalies: o.Anomalies, Summary: o.Summary,
				Width: width, Columns: cols, Sort: o.Sort, Top: o.Top, Stats: o.Stats})
		}
		return out.Conn
	}
	q := connQuery{Filter: o.Filter, Conns: o.Conns, Where: o.Where, IDs: o.IDs}
	rep, ids, code, err := analyzeStreaming(o.Files, stdio, q, o.Progress, tune, ws, &o.Kernel, kj, outputFor)
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
	if err := inputStatus(code); err != nil {
		return err
	}
	if o.Strict {
		if w := warnings(rep); len(w) > 0 {
			return &ExitError{Code: ExitStrict, Err: fmt.Errorf("--strict: %s", strings.Join(w, "; "))}
		}
	}
	return nil
}

// connStream is an output that takes connections as they finish
// (analyze.Engine.Stream) and ends with the summary.
type connStream interface {
	Conn(*report.Conn, []*report.Anomaly)
	Finish(*report.Summary) error
}

type csvOut struct{ *render.CSVStream }

// Finish ends the CSV: the summary is not part of it.
func (c csvOut) Finish(*report.Summary) error { return c.CSVStream.Finish() }

// joinKernel makes emit join each record to the kernel's events first,
// when they were read (kj not nil).
func joinKernel(kj *analyze.KernelJoiner, emit func(*report.Conn, []*report.Anomaly)) func(*report.Conn, []*report.Anomaly) {
	if kj == nil {
		return emit
	}
	return func(c *report.Conn, a []*report.Anomaly) { kj.Conn(c); emit(c, a) }
}

// runInputs opens the inputs, merges them in time order and runs them
// through the engine, with a progress bar on a terminal. Damage is printed
// on stderr; the returned code is the worst exit code so far (the error is
// set only when nothing was readable).
func runInputs(files []string, stdio IO, eng *analyze.Engine, progress string) ([]string, int, error) {
	names, code, closeInputs, err := runInputsOpen(files, stdio, eng, progress, nil)
	closeInputs()
	return names, code, err
}

// runInputsOpen is runInputs for callers that keep using the frames' bytes
// after the run (export references mapped bytes until its writer is done):
// they call closeInputs when done. opened, if set, sees the merged source
// before the run.
func runInputsOpen(files []string, stdio IO, eng *analyze.Engine, progress string, opened func(capture.Source, []string)) (names []string, code int, closeInputs func(), err error) {
	closeInputs = func() {}
	srcs, names, code := openInputs(files, stdio, eng)
	if len(srcs) == 0 {
		return nil, code, closeInputs, &ExitError{Code: code, Err: errors.New("no readable input")}
	}
	src := capture.Merge(srcs)
	closeInputs = func() { src.Close() }
	if opened != nil {
		opened(src, names)
	}

	var stop *stopSource
	if stdio.intr != nil {
		stop = &stopSource{Source: src, in: stdio.intr, names: names}
		if stdio.Getenv != nil {
			stop.testHook(stdio.Getenv("TCPTRACE_TEST_INTERRUPT"))
		}
		src = stop
	}
	var bar *progressbar.ProgressBar
	if progress != "never" && !isQuiet(stdio) && stdio.ErrTTY && !stdio.OutPipe && src.Size() > 50<<20 {
		bar = progressbar.NewOptions64(src.Size(),
			progressbar.OptionSetWriter(stdio.Err),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription("reading"),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		src = &progressSource{Source: src, bar: bar}
		stdio.intr.setClear(func() { _ = bar.Clear() })
	}
	if err := eng.Run(src); err != nil {
		printRunErrors(errorsTo(stdio), err, eng.Errors())
		if code == ExitOK {
			code = ExitPartial
		}
	}
	if bar != nil {
		_ = bar.Finish()
		// The second phase: connections are finished and the output
		// written, which takes a while on a large capture. Main ends it.
		stdio.intr.progress(stdio.Err)
	}
	if sig := stdio.intr.signal(); sig != nil && stop != nil {
		eng.Interrupted(signalName(sig), stop.last, stop.lastFile())
		interruptedNote(stdio, sig, stop.last, stop.lastFile())
	}
	return names, code, closeInputs, nil
}

// printRunErrors prints, one line each, the error Run returned (the first
// damage it met), then the further errors the engine recorded (damage in
// other files; they are in the summary too). Each is printed once: the
// returned error is also among the recorded ones, and not necessarily the
// first of them (files that could not be opened come before it), and
// failures to open were printed when opening.
func printRunErrors(w io.Writer, runErr error, recorded []error) {
	fmt.Fprintln(w, "tcptrace: "+runErr.Error())
	for _, e := range recorded {
		if e == runErr {
			continue // printed first
		}
		var ce *capture.Error
		if errors.As(e, &ce) && ce.Kind == capture.ErrOpen {
			continue // printed when opening
		}
		fmt.Fprintln(w, "tcptrace: "+e.Error())
	}
}

// warnings lists what --strict turns into a failure.
func warnings(rep *report.Report) []string {
	s := &rep.Summary
	var w []string
	for _, k := range []string{"malformed", "truncated", "unsupported_link"} {
		if n := s.Skipped[k]; n > 0 {
			w = append(w, fmt.Sprintf("%d frames skipped as %s", n, k))
		}
	}
	if s.OverSnaplen > 0 {
		w = append(w, fmt.Sprintf("%d records longer than the snaplen", s.OverSnaplen))
	}
	if f := s.Fragments; f != nil && f.Pending+f.Evicted+f.TimedOut > 0 {
		w = append(w, fmt.Sprintf("%d IP datagrams never reassembled", f.Pending+f.Evicted+f.TimedOut))
	}
	return w
}

// openInputs opens every file; failures are reported on stderr and recorded
// in the engine, and the worst exit code so far is returned.
func openInputs(files []string, stdio IO, eng *analyze.Engine) ([]capture.Source, []string, int) {
	var srcs []capture.Source
	var names []string
	code := ExitOK
	files = expandInputs(files)
	if len(files) == 0 {
		err := fmt.Errorf("no capture file in the given directories")
		fmt.Fprintln(errorsTo(stdio), "tcptrace: "+err.Error())
		eng.AddError(err)
		return nil, nil, ExitUnreadable
	}
	for _, name := range files {
		var s capture.Source
		var err error
		if name == "-" {
			s, err = capture.OpenReader("-", stdio.In, 0)
		} else {
			s, err = capture.Open(name)
		}
		if err != nil {
			fmt.Fprintln(errorsTo(stdio), "tcptrace: "+err.Error())
			eng.AddError(err)
			code = ExitUnreadable
			continue
		}
		srcs = append(srcs, s)
		names = append(names, name)
	}
	return srcs, names, code
}

// progressSource advances a progress bar as frames are read.
type progressSource struct {
	capture.Source
	bar *progressbar.ProgressBar
	n   int
}

// Stable passes on the source's stability (capture.IsStable).
func (p *progressSource) Stable() bool { return capture.IsStable(p.Source) }

func (p *progressSource) Next() (*capture.Frame, error) {
	f, err := p.Source.Next()
	p.n++
	if p.n&4095 == 0 {
		_ = p.bar.Set64(p.Source.Pos())
	}
	return f, err
}

// selection compiles --filter and --conn.
func selection(filterExpr string, ids map[int]bool, whereExprs []string) (analyze.Selection, error) {
	var sel analyze.Selection
	if strings.TrimSpace(filterExpr) != "" {
		f, err := filter.Compile(filterExpr)
		if err != nil {
			return sel, &ExitError{Code: ExitUsage, Err: err}
		}
		sel.Filter = f
	}
	sel.IDs = ids
	w, err := where.Parse(whereExprs)
	if err != nil {
		return sel, &ExitError{Code: ExitUsage, Err: err}
	}
	if w.Active() {
		sel.Keep = w.Keep
	}
	return sel, nil
}

// ParseIDs parses a list of connection IDs and ranges: "3,7,10-12".
func ParseIDs(s string) (map[int]bool, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	ids, bad := parseRanges(s, 1)
	if bad != "" {
		return nil, fmt.Errorf("--conn: bad connection ID or range %q (want e.g. 3,7,10-12)", bad)
	}
	return ids, nil
}

// parseRanges reads numbers and ranges "3,7,10-12", none below lo and no
// range wider than a million; bad is the first part that is not one.
func parseRanges(s string, lo int) (set map[int]bool, bad string) {
	set = map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		from, to, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(from)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(to)
		}
		if err1 != nil || err2 != nil || a < lo || b < a || b-a > 1_000_000 {
			return nil, part
		}
		for i := a; i <= b; i++ {
			set[i] = true
		}
	}
	return set, ""
}

// whereFlag adds --where: keep connections by outcome (internal/where).
func whereFlag(f *pflag.FlagSet, dst *[]string) {
	f.StringArrayVar(dst, "where", nil, `show only connections with this outcome: state=reset,refused (handshake or close class, or Zeek's conn_state), anomaly=zero_window (or any), cause=abort (a RST's cause), closed_by=client; KEY!=V excludes; repeat to require all (docs/filter.md)`)
}

// tableFlags checks the flags of analyze's text table and returns the
// columns and the width to fit.
func tableFlags(o AnalyzeOptions, stdio IO) ([]string, int, error) {
	usage := func(err error) error { return &ExitError{Code: ExitUsage, Err: err} }
	cols, err := render.ParseColumns(o.Columns)
	if err != nil {
		return nil, 0, usage(err)
	}
	if o.Sort != "" && !slices.Contains(render.SortKeys, o.Sort) {
		return nil, 0, usage(fmt.Errorf("--sort must be one of %s, not %q", strings.Join(render.SortKeys, ", "), o.Sort))
	}
	if o.Top < 0 {
		return nil, 0, usage(fmt.Errorf("--top must be a positive number of rows, not %d", o.Top))
	}
	if o.Width < -1 || o.Width > 0 && o.Width < 40 {
		return nil, 0, usage(fmt.Errorf("--width must be at least 40 columns (or -1: no limit), not %d", o.Width))
	}
	if o.Format != "text" && (o.Columns != "" || o.Sort != "" || o.Top != 0 || o.Width != 0) {
		return nil, 0, usage(fmt.Errorf("--columns, --sort, --top and --width shape the text table: not with --format %s (use --where to select; jq or a spreadsheet to sort)", o.Format))
	}
	width := o.Width
	switch {
	case width < 0:
		width = 0
	case width == 0 && stdio.OutTTY:
		width = stdio.Width
	}
	return cols, width, nil
}
