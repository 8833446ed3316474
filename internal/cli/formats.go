package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/tcptrace/tcptrace/internal/parquetout"
	"github.com/tcptrace/tcptrace/render"
	"github.com/tcptrace/tcptrace/report"
)

// The outputs of analyze --format zeek and --format parquet.

// outputFlags checks -o and --force: --format parquet needs -o (a
// directory), --force goes with it only. (For the other formats -o is a
// file, handled by withOutput before RunAnalyze: Output is then empty.)
func outputFlags(o AnalyzeOptions) error {
	usage := func(err error) error { return &ExitError{Code: ExitUsage, Err: err} }
	if o.Format == "parquet" {
		if o.Output == "" || o.Output == "-" {
			return usage(errors.New("--format parquet needs -o DIR: the directory to write connections.parquet, anomalies.parquet and resets.parquet to"))
		}
		return nil
	}
	if o.Force {
		return usage(fmt.Errorf("--force goes with --format parquet, not --format %s (-o FILE is written whole or not at all)", o.Format))
	}
	return nil
}

// zeekOut is analyze's --format zeek: a Zeek conn.log.
type zeekOut struct{ *render.ZeekStream }

// Finish ends the log; its #close line is the capture's last packet.
func (z zeekOut) Finish(s *report.Summary) error {
	return z.ZeekStream.Finish(summaryNS(s.First), summaryNS(s.Last))
}

// summaryNS parses a summary time (RFC 3339); 0 when there is none.
func summaryNS(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0
	}
	return t.UnixNano()
}

// parquetOut is analyze's --format parquet: three tables in o.Output.
type parquetOut struct {
	w     *parquetout.Writer
	dir   string
	stdio IO
	done  bool
}

// openParquet creates the tables before anything is read, so that a
// directory that cannot be written, or tables left by an earlier run, stop
// the run at once. nil when the format is another.
func openParquet(o AnalyzeOptions, stdio IO) (*parquetOut, error) {
	if o.Format != "parquet" {
		return nil, nil
	}
	w, err := parquetout.Create(o.Output, o.Force)
	if err != nil {
		return nil, &ExitError{Code: ExitOutput, Err: fmt.Errorf("-o: %w", err)}
	}
	return &parquetOut{w: w, dir: o.Output, stdio: stdio}, nil
}

func (p *parquetOut) Conn(c *report.Conn, a []*report.Anomaly) { p.w.Conn(c, a) }

// Finish writes the tables and says what was written.
func (p *parquetOut) Finish(*report.Summary) error {
	p.done = true
	if err := p.w.Finish(); err != nil {
		return err
	}
	c, a, r := p.w.Rows()
	_, err := fmt.Fprintf(p.stdio.Out, "%s: %s %d rows, %s %d rows, %s %d rows\n", p.dir,
		parquetout.ConnsFile, c, parquetout.AnomaliesFile, a, parquetout.ResetsFile, r)
	return err
}

// abort removes the temporary tables of a run that did not finish.
func (p *parquetOut) abort() {
	if p != nil && !p.done {
		p.w.Abort()
	}
}
