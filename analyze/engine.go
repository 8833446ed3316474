package analyze

import (
	"cmp"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/internal/filter"
	"github.com/tcptrace/tcptrace/report"
	"github.com/tcptrace/tcptrace/statemachine"
)

// Selection restricts which connections are reported. The table still sees
// every segment, so connection IDs are the same with and without a selection.
type Selection struct {
	Filter *filter.Filter // a connection is reported if any of its segments matches
	IDs    map[int]bool   // if non-empty, only these connection IDs
	// Keep, if set, is asked about each finished connection's record (on
	// the goroutine that finished it): the connection is reported only if
	// it returns true (--where: outcomes, internal/where).
	Keep func(*report.Conn) bool
}

// active reports whether the selection may leave connections out.
func (s *Selection) active() bool { return s.Filter != nil || len(s.IDs) > 0 || s.Keep != nil }

// Engine runs frames through decoding and the connection table and turns
// finished connections into report records. It is the front of the
// package; the work is done by parts that each belong to one goroutine
// (docs/architecture.md):
//
//   - reader (reader.go): reads and decodes frames, counts what it read.
//     On the caller's goroutine in a run on one goroutine (and in Feed),
//     on a goroutine of its own in a pipelined or sharded run.
//   - tableSide (tableside.go): one connection table, its sweep clock, and
//     the records of the connections it finishes. On the caller's
//     goroutine, or one per shard on the shard's goroutine (shard.go).
//   - merger (shard.go): a sharded run's numbering and ordering of what the
//     shards finish, on the caller's goroutine.
//   - sink (below): where records go (Stream's emit, or kept for Report),
//     on the caller's goroutine.
//
// The caller uses an Engine from one goroutine; Run returns only when every
// goroutine it started is done with its part.
type Engine struct {
	cfg  Config
	sel  Selection
	intr *report.Summary // Interrupted: the fields of the summary it sets
	rd   *reader
	tbl  *tableSide // the table of a run that is not sharded
	sh   *merger    // a sharded run's shards and merge state (shard.go)
	out  sink
	errs []error
}

// NewEngine returns an engine with the given configuration.
func NewEngine(cfg Config) *Engine {
	e := &Engine{cfg: cfg, rd: newReader()}
	e.tbl = newTableSide(cfg, &e.sel, e.out.deliver)
	return e
}

// Feed processes one frame.
func (e *Engine) Feed(f *capture.Frame) {
	if s := e.rd.frame(f); s != nil {
		e.tbl.segment(s)
	}
}

// Idle advances a live run's clock to now (the wall clock, ns) while no
// packet comes, and sweeps when a sweep is due: connections that ended or
// went silent are finished on time, not at the next packet. Only for a run
// fed frame by frame (Feed) from one goroutine.
func (e *Engine) Idle(now int64) {
	if e.rd.frames == 0 {
		return
	}
	e.tbl.idle(now)
}

// Open is the number of connections held now (a live run's status line).
func (e *Engine) Open() int { return e.tbl.table.lru.n }

// CaptureLoss marks every open connection as incomplete: a live capture's
// kernel dropped packets just now. It returns how many were marked.
func (e *Engine) CaptureLoss() int {
	n := 0
	for _, c := range e.tbl.table.Live() {
		if !c.captureLoss {
			c.captureLoss = true
			n++
		}
	}
	return n
}

// Select sets which connections the report shows.
func (e *Engine) Select(sel Selection) { e.sel = sel }

// Run reads src to its end. Damage in the input is recorded (Errors) and
// reading goes on with what remains readable; the returned error is the
// first such damage, or nil.
func (e *Engine) Run(src capture.Source) error {
	e.tbl.table.stablePayload = capture.IsStable(src)
	if e.shardable() {
		return e.runSharded(src)
	}
	if e.cfg.Workers > 1 {
		return e.runPipelined(src)
	}
	var first error
	err := readAll(src, e.Feed, func(err error) { first = e.inputError(first, err) })
	if err != nil {
		first = e.inputError(first, err)
	}
	return first
}

// inputError records an input error of a run and returns the run's first.
func (e *Engine) inputError(first, err error) error {
	e.errs = append(e.errs, err)
	return cmp.Or(first, err)
}

// AddError records an input error that happened outside Run (opening a file).
func (e *Engine) AddError(err error) { e.errs = append(e.errs, err) }

// Interrupted records that the reading was stopped by a signal after
// frame lastFrame of lastFile: Report's summary says so.
func (e *Engine) Interrupted(signal string, lastFrame int64, lastFile string) {
	e.intr = &report.Summary{Interrupted: true, Signal: signal, LastFrame: lastFrame, LastFile: lastFile}
}

// Errors returns the input errors met so far.
func (e *Engine) Errors() []error { return e.errs }

// Stream makes the engine hand each connection's record and anomalies to
// emit as soon as the connection is finished (it ended, idled out, or the
// table was full), instead of keeping them for Report: memory then follows
// the connections open at once, not all connections seen. files are the
// input names by index. Report still gives the summary (and no records).
func (e *Engine) Stream(files []string, emit func(*report.Conn, []*report.Anomaly)) {
	e.out.files, e.out.emit = files, emit
}

// idleToEnd sets a record's idle_before_end to the silence between its last
// packet and the input's end at lastTS (docs/json.md).
func idleToEnd(rc *report.Conn, lastTS int64) {
	if rc.Close != nil && lastTS > rc.LastNS && statemachine.StillOpen(rc.Close.Class) {
		rc.Close.IdleFor = float64(lastTS-rc.LastNS) / 1e9
	}
}

// sink is where the records of finished connections go: to Stream's emit
// as they come, or kept for Report. It belongs to the caller's goroutine.
type sink struct {
	emit    func(*report.Conn, []*report.Anomaly) // Stream
	files   []string                              // input names, for Stream
	atEnd   bool                                  // Report is finishing the connections still open
	lastTS  int64                                 // the input's last time, once atEnd
	emitted int                                   // records handed to emit

	done  []*report.Conn    // finished connections
	anoms []*report.Anomaly // their anomalies
}

// deliver hands a connection's records to the stream, or keeps them for
// Report.
func (o *sink) deliver(rc *report.Conn, anoms []*report.Anomaly) {
	if o.emit != nil {
		// Streaming: the record leaves now; only connections still open at
		// the end of the input get idle_before_end.
		if o.atEnd {
			idleToEnd(rc, o.lastTS)
		}
		resolveFiles(rc, anoms, o.files)
		sortAnomalies(anoms)
		o.emitted++
		o.emit(rc, anoms)
		return
	}
	o.done = append(o.done, rc)
	o.anoms = append(o.anoms, anoms...)
}
