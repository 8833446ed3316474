// Package cli holds tcptrace's commands: one file per command, each an
// options struct filled from flags and a run function testable without cobra.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// Exit codes (documented in README.md).
const (
	ExitOK         = 0 // success
	ExitUsage      = 1 // bad command line
	ExitUnreadable = 2 // an input could not be read at all (missing, not a capture)
	ExitPartial    = 3 // an input is damaged: what was readable before the damage was analyzed
	ExitOutput     = 4 // writing the output failed
	ExitStrict     = 5 // --strict: the input was read whole, but with warnings (malformed or truncated frames, unsupported link types…)
)

// ExitError carries an exit code with the message already printed (or to print).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// IO is where a command reads and writes; tests substitute buffers.
type IO struct {
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	OutTTY bool // stdout is a terminal
	ErrTTY bool // stderr is a terminal
	Width  int  // stdout's terminal width (0: not a terminal)
	// OutPipe: stdout is a pipe (to a pager, say): no progress bar is drawn
	// on a terminal stderr then, as it would draw over the pager.
	OutPipe bool
	Getenv  func(string) string

	intr *interrupts // Main's: SIGINT and SIGTERM (nil: not watched)
}

// StdIO returns the process's standard streams.
func StdIO() IO {
	return IO{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		OutTTY:  term.IsTerminal(int(os.Stdout.Fd())),
		ErrTTY:  term.IsTerminal(int(os.Stderr.Fd())),
		Width:   termWidth(),
		OutPipe: isPipe(os.Stdout),
		Getenv:  os.Getenv,
	}
}

func isPipe(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeNamedPipe != 0
}

func termWidth() int {
	if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil {
		return w
	}
	return 0
}

// NewRoot builds the command tree.
func NewRoot(stdio IO) *cobra.Command {
	root := &cobra.Command{
		Use:   "tcptrace",
		Short: "Replay and explain every TCP connection of a capture",
		Long: `tcptrace reads pcap/pcapng captures (gzip too, "-" for stdin), finds every TCP
connection, and reports how each began, carried data and ended.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version(),
		// Every value of every flag is checked before a command runs
		// (checkFlags); each command checks its own choices too.
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return checkFlags(cmd) },
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.DisableAutoGenTag = true
	quiet := false
	stdio.Err = &quietWriter{w: stdio.Err, quiet: &quiet}
	root.PersistentFlags().BoolVarP(&quiet, "quiet", "q", false, "print nothing on stderr but errors: no progress bar, no notes (exit codes are unchanged)")
	root.SetIn(stdio.In)
	root.SetOut(stdio.Out)
	root.SetErr(stdio.Err)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("%w\nRun '%s --help' for usage.", err, c.CommandPath())}
	})
	root.AddCommand(newAnalyzeCmd(stdio), newFollowCmd(stdio), newExportCmd(stdio), newResetsCmd(stdio), newTimelineCmd(stdio), newLiveCmd(stdio), newGraphCmd(stdio), newReportCmd(stdio), newVersionCmd(stdio))
	return root
}

// Main runs the CLI with args and returns the process exit code.
func Main(args []string, stdio IO) int {
	out := newLineWriter(stdio.Out)
	stdio.Out = out
	stdio.intr = watchInterrupts(out, os.Exit)
	defer stdio.intr.stop()
	code := run(args, stdio)
	if err := out.Flush(); err != nil && code == ExitOK {
		fmt.Fprintln(stdio.Err, "tcptrace: writing output: "+err.Error())
		code = ExitOutput
	}
	if sig := stdio.intr.signal(); sig != nil && code != ExitOutput {
		return exitCodeOf(sig)
	}
	return code
}

// run runs the command line and returns its exit code.
func run(args []string, stdio IO) int {
	root := NewRoot(stdio)
	root.SetArgs(args)
	err := root.Execute()
	stdio.intr.endProgress() // before any error line
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil && ee.Err.Error() != "" {
			fmt.Fprintln(stdio.Err, "tcptrace: "+ee.Err.Error())
		}
		return ee.Code
	}
	// cobra's own errors (unknown command, missing args) are usage errors.
	fmt.Fprintln(stdio.Err, "tcptrace: "+err.Error())
	return ExitUsage
}

// colorMode decides colour once: --color always|never|auto; auto means a
// terminal and no NO_COLOR in the environment (https://no-color.org).
func colorMode(mode string, tty bool, getenv func(string) string) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto", "":
		return tty && getenv("NO_COLOR") == "", nil
	}
	return false, &ExitError{Code: ExitUsage, Err: fmt.Errorf("--color must be auto, always or never, not %q", mode)}
}

// textOrJSON checks a --format that is text or json and decides colour
// (never for JSON).
func textOrJSON(format, color string, stdio IO) (useColor bool, err error) {
	if format != "text" && format != "json" {
		return false, &ExitError{Code: ExitUsage, Err: fmt.Errorf("--format must be text or json, not %q", format)}
	}
	useColor, err = colorMode(color, stdio.OutTTY, stdio.Getenv)
	return useColor && format == "text", err
}

// writeFailed is the error of a command whose output could not be written.
func writeFailed(err error) error {
	return &ExitError{Code: ExitOutput, Err: fmt.Errorf("writing output: %w", err)}
}

// inputStatus is a command's result once its output is written: nil when
// every input was read whole, else the worst input's exit code (the damage
// itself was already printed).
func inputStatus(code int) error {
	if code == ExitOK {
		return nil
	}
	return &ExitError{Code: code, Err: errors.New("")}
}

// statsFlag is --stats of the commands that write connection records.
func statsFlag(f *pflag.FlagSet, p *bool) {
	f.BoolVar(p, "stats", false, "JSON: each connection record carries its per-direction statistics (tcptrace -l) and its state transitions (docs/json.md); text: tcptrace -l's block per connection instead of the table")
}

// progressFlag registers --progress.
func progressFlag(f *pflag.FlagSet, p *string) {
	f.StringVar(p, "progress", "auto", "progress bar on stderr: auto (terminal and inputs over 50 MB) or never")
}
