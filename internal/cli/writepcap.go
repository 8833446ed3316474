package cli

// --write-pcap and --wireshark-filter of analyze and resets: back to
// Wireshark with the selected connections (internal/pcapout,
// docs/wireshark.md). A command adds the flags (wiresharkFlags.add), and
// calls, on the *wiresharkRun that begin returns (nil when neither flag is
// set: every method then does nothing): configure on its analysis
// configuration, stream around the engine's emit, finish once its output
// is written, and abort on the way out (it removes an output not
// finished).

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/tcptrace/tcptrace/analyze"
	"github.com/tcptrace/tcptrace/internal/pcapout"
	"github.com/tcptrace/tcptrace/report"
)

// wiresharkFlags are --write-pcap and --wireshark-filter.
type wiresharkFlags struct {
	WritePcap string // the pcapng to write the selected connections' frames to
	Filter    bool   // print the display filter of the selection instead of the output
}

func (w *wiresharkFlags) add(f *pflag.FlagSet) {
	f.StringVar(&w.WritePcap, "write-pcap", "", "write the frames of the selected connections, unchanged, to this pcapng file, with a packet comment (Wireshark's frame.comment) on every frame tcptrace concluded something about (docs/wireshark.md); reads the inputs twice: not with - (stdin)")
	f.BoolVar(&w.Filter, "wireshark-filter", false, "print, instead of the output, the Wireshark display filter that shows the frames of the selected connections: tcp.stream in {…} when tcptrace's IDs are Wireshark's stream numbers, else frame.number in {…} (docs/wireshark.md)")
}

// wiresharkRun is one command's --write-pcap and --wireshark-filter.
type wiresharkRun struct {
	flags  wiresharkFlags
	stdout io.Writer // the real standard output (the command's own may be discarded)
	stderr io.Writer
	commit func() error
	abortF func() error
	out    io.Writer // the temporary file of --write-pcap
	eng    *analyze.Engine
	names  []string
	col    *pcapout.Collector
}

// begin checks the flags against the inputs and creates --write-pcap's
// temporary file beside its path (so that an unwritable path fails before
// the analysis). It returns nil when neither flag is set.
func (w wiresharkFlags) begin(files []string, stdio IO) (*wiresharkRun, error) {
	if w.WritePcap == "" && !w.Filter {
		return nil, nil
	}
	r := &wiresharkRun{flags: w, stdout: stdio.Out, stderr: stdio.Err}
	if w.WritePcap == "" {
		return r, nil
	}
	usage := func(format string, args ...any) error {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
	}
	if w.WritePcap == "-" {
		return nil, usage("--write-pcap needs a file name: standard output carries the command's output")
	}
	if slices.Contains(files, "-") {
		return nil, usage("--write-pcap reads the inputs twice: not with - (standard input); save it to a file first")
	}
	if st, err := os.Stat(w.WritePcap); err == nil {
		if st.IsDir() {
			return nil, &ExitError{Code: ExitOutput, Err: fmt.Errorf("--write-pcap %s: is a directory", w.WritePcap)}
		}
		for _, in := range expandInputs(files) {
			if ist, err := os.Stat(in); err == nil && os.SameFile(st, ist) {
				return nil, usage("--write-pcap %s: is an input", w.WritePcap)
			}
		}
	}
	out, commit, abort, err := outputFile(w.WritePcap, stdio)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the temporary file's name would only confuse
		}
		return nil, &ExitError{Code: ExitOutput, Err: fmt.Errorf("--write-pcap %s: %w", w.WritePcap, err)}
	}
	r.out, r.commit, r.abortF = out, commit, abort
	return r, nil
}

// output is where the command writes its own output: nowhere with
// --wireshark-filter, which prints the filter instead.
func (r *wiresharkRun) output(out io.Writer) io.Writer {
	if r != nil && r.flags.Filter {
		return io.Discard
	}
	return out
}

// configure makes the analysis record every connection's frames, and
// build the state transitions the comments name.
func (r *wiresharkRun) configure(cfg *analyze.Config) {
	if r != nil {
		cfg.Frames, cfg.Lean = true, false
	}
}

// stream returns emit with the collection of the selected connections'
// frames and conclusions in front (names: the inputs, by index).
func (r *wiresharkRun) stream(eng *analyze.Engine, names []string, emit func(*report.Conn, []*report.Anomaly)) func(*report.Conn, []*report.Anomaly) {
	if r == nil {
		return emit
	}
	r.eng, r.names, r.col = eng, names, pcapout.NewCollector(names)
	return func(c *report.Conn, a []*report.Anomaly) {
		r.col.Conn(c, a)
		emit(c, a)
	}
}

// finish writes the pcapng and prints the filter, once the analysis and
// the command's output are done (sum: the run's summary).
func (r *wiresharkRun) finish(sum *report.Summary) error {
	if r == nil || r.col == nil {
		return nil
	}
	if r.flags.WritePcap != "" {
		st, err := pcapout.Write(r.out, r.names, r.col)
		if err == nil {
			err = r.commit()
			r.abortF = nil
		}
		if err != nil {
			return &ExitError{Code: ExitOutput, Err: fmt.Errorf("--write-pcap %s: %w", r.flags.WritePcap, err)}
		}
		fmt.Fprintf(r.stderr, "tcptrace: %d frames of %d connections written to %s, %d with comments\n",
			st.Frames, r.col.Conns(), r.flags.WritePcap, st.Commented)
	}
	if n := r.col.Dropped(); n > 0 {
		fmt.Fprintf(r.stderr, "tcptrace: %d packet comments left out (more than %d per frame, or %d MiB in all)\n", n, pcapout.PerFrameComments, pcapout.DefaultCommentBudget>>20)
	}
	if r.flags.Filter {
		why := streamDoubt(r.names, r.eng.StreamDoubts(), sum)
		if why != "" && r.col.Conns() > 0 {
			fmt.Fprintf(r.stderr, "tcptrace: frame numbers, not tcp.stream: %s\n", why)
		}
		lines := r.col.DisplayFilter(why == "")
		for _, l := range lines {
			var err error
			if len(r.names) > 1 {
				_, err = fmt.Fprintf(r.stdout, "%s: %s\n", l.File, l.Filter)
			} else {
				_, err = fmt.Fprintln(r.stdout, l.Filter)
			}
			if err != nil {
				return writeFailed(err)
			}
		}
	}
	return nil
}

// abort removes an unfinished --write-pcap output.
func (r *wiresharkRun) abort() {
	if r != nil && r.abortF != nil {
		_ = r.abortF()
		r.abortF = nil
	}
}

// streamDoubt says why connection ID - 1 may not be Wireshark's tcp.stream
// ("" when it is): the display filter then names frames.
func streamDoubt(names []string, doubts int, sum *report.Summary) string {
	if len(names) != 1 {
		return "frame numbers are per file, and Wireshark opens one file at a time: each line is for its file"
	}
	if doubts > 0 {
		return "a tuple carried more than one connection, or a SYN renewed one: Wireshark may split streams otherwise"
	}
	var other []string
	for _, k := range slices.Sorted(maps.Keys(sum.Skipped)) {
		if k != "not_ip" && sum.Skipped[k] > 0 {
			other = append(other, fmt.Sprintf("%d %s", sum.Skipped[k], k))
		}
	}
	if len(other) > 0 {
		return "frames tcptrace did not decode as TCP segments (" + strings.Join(other, ", ") + ") may hold TCP for Wireshark (ICMP errors, tunnels, fragments, damaged headers) and shift its stream numbers"
	}
	return ""
}
