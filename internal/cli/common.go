package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tcptrace/tcptrace/analyze"
	"github.com/tcptrace/tcptrace/report"
)

// The flags every command shares: -r (inputs as tcpdump and tshark take
// them), -o (the output to a file), --quiet, and the flags that decide
// connection IDs (--reuse-idle, --stream), so that connection 7 is the
// same connection in every command.

// readFlag adds -r FILE: an input, as `tcpdump -r` and `tshark -r` take it
// (repeatable; the arguments are inputs too).
func readFlag(f *pflag.FlagSet) {
	f.StringArrayP("read", "r", nil, "read this capture (as tcpdump -r); may repeat, and the arguments are read too")
}

// inputArgs is a command's inputs: its -r values, then its arguments.
func inputArgs(cmd *cobra.Command, args []string) []string {
	r, _ := cmd.Flags().GetStringArray("read")
	return append(append([]string(nil), r...), args...)
}

// outputFlag adds -o FILE: the output written to FILE instead of stdout.
func outputFlag(f *pflag.FlagSet, dst *string) {
	f.StringVarP(dst, "output", "o", "", "write the output to this file instead of standard output (written whole or not at all)")
}

// withOutput runs a command with its output in path ("" or "-": stdout).
// The file is written beside path under a temporary name and renamed when
// the command is done: a failed run leaves no half file (a run whose input
// was damaged, exit 3 or 5, did write its whole output and keeps it).
func withOutput(path string, stdio IO, run func(IO) error) error {
	if path == "" || path == "-" {
		return run(stdio)
	}
	w, commit, abort, err := outputFile(path, stdio)
	if err != nil {
		return &ExitError{Code: ExitOutput, Err: fmt.Errorf("-o %s: %w", path, err)}
	}
	s := stdio
	s.Out, s.OutTTY, s.Width = w, false, 0
	err = run(s)
	var ee *ExitError
	if err == nil || errors.As(err, &ee) && (ee.Code == ExitPartial || ee.Code == ExitStrict) {
		if cerr := commit(); cerr != nil {
			return writeFailed(cerr)
		}
		return err
	}
	abort()
	return err
}

// outputFile opens where a command writes one output file: standard output
// for "-", else a temporary file beside path that commit renames to path
// (abort removes it).
func outputFile(path string, stdio IO) (w io.Writer, commit, abort func() error, err error) {
	if path == "-" {
		nop := func() error { return nil }
		return stdio.Out, nop, nop, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, nil, nil, &ExitError{Code: ExitOutput, Err: errors.Unwrap(err)} // the caller names the flag and path
	}
	abort = func() error { tmp.Close(); return os.Remove(tmp.Name()) }
	commit = func() error {
		if err := tmp.Close(); err != nil {
			os.Remove(tmp.Name())
			return err
		}
		if err := os.Chmod(tmp.Name(), 0o644); err != nil {
			return err
		}
		return os.Rename(tmp.Name(), path)
	}
	return tmp, commit, abort, nil
}

// quietWriter is stderr under --quiet: notes and progress go nowhere;
// errors (Errors) still go to stderr.
type quietWriter struct {
	w     io.Writer
	quiet *bool
}

func (q *quietWriter) Write(p []byte) (int, error) {
	if *q.quiet {
		return len(p), nil
	}
	return q.w.Write(p)
}

// errorsTo is where a command prints errors: stderr, even under --quiet.
func errorsTo(stdio IO) io.Writer {
	if q, ok := stdio.Err.(*quietWriter); ok {
		return q.w
	}
	return stdio.Err
}

// isQuiet reports whether --quiet was given.
func isQuiet(stdio IO) bool {
	q, ok := stdio.Err.(*quietWriter)
	return ok && *q.quiet
}

// idFlags decide connection IDs and select by Wireshark's numbers.
type idFlags struct {
	ReuseIdle optDuration // unset: analyze.DefaultConfig's
	Streams   string      // --stream: Wireshark's tcp.stream numbers
}

// optDuration is --reuse-idle: a duration flag (pflag.Value) that knows
// whether it was given, so that options built in code (tests, other
// callers) get the defaults of the command line.
type optDuration struct {
	D     time.Duration
	Given bool
}

func reuseIdle(d time.Duration) optDuration { return optDuration{d, true} }

func (o *optDuration) String() string {
	if !o.Given {
		return analyze.DefaultConfig().ReuseIdle.String()
	}
	return o.D.String()
}

func (o *optDuration) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*o = optDuration{d, true}
	return nil
}

func (o *optDuration) Type() string { return "duration" }

// add registers --reuse-idle and --stream (single: one stream number).
func (x *idFlags) add(f *pflag.FlagSet, single bool) {
	f.Var(&x.ReuseIdle, "reuse-idle", "a SYN with a new ISN after this much idle time starts a new connection on the same tuple (changes IDs: give every command the same value)")
	what := "these connections by Wireshark's tcp.stream numbers (0-based: stream N is connection N+1), e.g. 0,4-6"
	if single {
		what = "the connection by its Wireshark tcp.stream number (0-based: stream N is connection N+1)"
	}
	f.StringVar(&x.Streams, "stream", "", what)
}

// apply checks the flags and sets the configuration.
func (x *idFlags) apply(cfg *analyze.Config) error {
	if !x.ReuseIdle.Given {
		return nil
	}
	if x.ReuseIdle.D < 0 {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--reuse-idle must not be negative, not %s", x.ReuseIdle.D)}
	}
	cfg.ReuseIdle = x.ReuseIdle.D
	return nil
}

// ids is the IDs of --conn and --stream together (nil: no ID selection).
func (x *idFlags) ids(conns string) (map[int]bool, error) {
	ids, err := ParseIDs(conns)
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	if strings.TrimSpace(x.Streams) == "" {
		return ids, nil
	}
	streams, err := parseStreams(x.Streams)
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	if ids == nil {
		ids = map[int]bool{}
	}
	for s := range streams {
		ids[s+1] = true
	}
	return ids, nil
}

// one is the single connection of --conn N or --stream N (0: neither).
func (x *idFlags) one(conn int) (int, error) {
	if strings.TrimSpace(x.Streams) == "" {
		return conn, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(x.Streams))
	if err != nil || n < 0 {
		return 0, &ExitError{Code: ExitUsage, Err: fmt.Errorf("--stream %q: want one tcp.stream number, 0 or more", x.Streams)}
	}
	if conn != 0 && conn != n+1 {
		return 0, &ExitError{Code: ExitUsage, Err: fmt.Errorf("--conn %d and --stream %d name different connections (stream %d is connection %d)", conn, n, n, n+1)}
	}
	return n + 1, nil
}

// parseStreams reads tcp.stream numbers and ranges, 0-based: "0,4-6".
func parseStreams(s string) (map[int]bool, error) {
	set, bad := parseRanges(s, 0)
	if bad != "" {
		return nil, fmt.Errorf("--stream %q: bad tcp.stream number or range %q (0-based, e.g. 0,4-6)", s, bad)
	}
	return set, nil
}

// missingIDs is the error of a selection by ID that names connections the
// capture does not have: the same in every command (exit 1, after what was
// found is written). total is the number of connections found.
func missingIDs(ids map[int]bool, total int) error {
	var missing []int
	for id := range ids {
		if id > total {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Ints(missing)
	names := make([]string, 0, 3)
	for i, id := range missing {
		if i == 3 {
			names = append(names, fmt.Sprintf("and %d more", len(missing)-3))
			break
		}
		names = append(names, strconv.Itoa(id))
	}
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf("no connection %s: the capture has %s (IDs 1-%d; Wireshark's tcp.stream 0-%d)",
		strings.Join(names, ", "), connections(total), total, max(total-1, 0))}
}

// connections is "1 connection" or "n connections".
func connections(n int) string {
	if n == 1 {
		return "1 connection"
	}
	return strconv.Itoa(n) + " connections"
}

// connsFound is how many connections the run found, selected or not.
func connsFound(s *report.Summary) int {
	if s.Selected {
		return s.ConnsTotal
	}
	return s.Connections
}

// connQuery is a command's selection: by packets (--filter), by ID
// (--conn, --stream), by outcome (--where), with the IDs of --reuse-idle.
type connQuery struct {
	Filter string
	Conns  string
	Where  []string
	IDs    idFlags
}

// prepare checks the query, sets what it decides in cfg and returns the
// engine's selection and the IDs asked for (nil: none by ID).
func (q *connQuery) prepare(cfg *analyze.Config) (analyze.Selection, map[int]bool, error) {
	if err := q.IDs.apply(cfg); err != nil {
		return analyze.Selection{}, nil, err
	}
	ids, err := q.IDs.ids(q.Conns)
	if err != nil {
		return analyze.Selection{}, nil, err
	}
	sel, err := selection(q.Filter, ids, q.Where)
	return sel, ids, err
}

// checkFlags rejects values that mean nothing, whatever the command (root's
// PersistentPreRunE): counts that must be positive, durations that must be
// positive or not negative, and the choices of --progress. Other choices,
// and --reuse-idle (idFlags.apply), are checked by their commands.
func checkFlags(cmd *cobra.Command) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || !f.Changed {
			return
		}
		bad := func(format string, a ...any) {
			err = &ExitError{Code: ExitUsage, Err: fmt.Errorf("--"+f.Name+" "+format, a...)}
		}
		switch f.Name {
		case "workers", "max-conns", "snaplen", "height":
			if n, e := cmd.Flags().GetInt(f.Name); e == nil && n < 1 {
				bad("must be at least 1, not %d", n)
			}
		case "idle":
			if d, e := cmd.Flags().GetDuration(f.Name); e == nil && d <= 0 {
				bad("must be a positive duration (e.g. 30s, 5m), not %s", d)
			}
		case "duration": // --reuse-idle: idFlags.apply
			if d, e := cmd.Flags().GetDuration(f.Name); e == nil && d < 0 {
				bad("must not be negative, not %s", d)
			}
		case "progress":
			if v := f.Value.String(); v != "auto" && v != "never" {
				bad("must be auto or never, not %q", v)
			}
		}
	})
	return err
}
