package analyze

import (
	"errors"
	"io"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/internal/decode"
	"github.com/tcptrace/tcptrace/internal/filter"
	"github.com/tcptrace/tcptrace/report"
	"github.com/tcptrace/tcptrace/tcp"
)

// Selection restricts which connections are reported. The table still sees
// every segment, so connection IDs are the same with and without a selection.
type Selection struct {
	Filter *filter.Filter // a connection is reported if any of its segments matches
	IDs    map[int]bool   // if non-empty, only these connection IDs
}

// Engine runs frames through decoding and the connection table. It is owned
// by one goroutine.
type Engine struct {
	cfg   Config
	sel   Selection
	dec   *decode.Decoder
	table *Table
	seg   tcp.Segment

	frames      int64
	tcp         int64
	skipped     [decode.NumSkips]int64
	truncated   int64
	overSnaplen int64
	firstTS     int64
	lastTS      int64
	nextSweep   int64
	prevTS      int64
	// clock is the latest segment time the table has seen: what "now" is
	// for a connection finished during the run (the reader's lastTS may be
	// ahead of the table in a pipelined run). At the end it is lastTS.
	clock int64
	errs  []error

	reasm report.ReasmSummary // reassembly totals of the finished connections

	emit    func(*report.Conn, []*report.Anomaly) // Stream
	files   []string                              // input names, for Stream
	atEnd   bool                                  // Report is finishing the connections still open
	emitted int                                   // records handed to emit

	done  []*report.Conn    // finished connections
	anoms []*report.Anomaly // their anomalies

	sh *sharded // a sharded run's shards and merge state (shard.go)
	// In a shard: finished connections go to out, with their place in the
	// order of a single table (outRec).
	out   *[]outRec
	pos   int64
	phase int8
}

// NewEngine returns an engine with the given configuration.
func NewEngine(cfg Config) *Engine {
	e := &Engine{cfg: cfg, dec: decode.NewDecoder(), table: NewTable(cfg)}
	e.table.Streaming(e.finalize)
	return e
}

// Feed processes one frame.
func (e *Engine) Feed(f *capture.Frame) {
	if s := e.frame(f); s != nil {
		e.segment(s)
	}
}

// frame counts a frame and decodes it; nil when it holds no TCP segment. The
// returned segment is the engine's own, valid until the next call. In a
// pipelined run (RunPipelined) this half runs on the reader's goroutine.
func (e *Engine) frame(f *capture.Frame) *tcp.Segment {
	e.frames++
	if e.frames == 1 || f.TS < e.firstTS {
		e.firstTS = f.TS
	}
	if f.TS > e.lastTS {
		e.lastTS = f.TS
	}
	if f.OverSnaplen {
		e.overSnaplen++
	}
	s := &e.seg
	if r := e.dec.Decode(f, s); r != decode.OK {
		e.skipped[r]++
		return nil
	}
	e.tcp++
	if s.Notes&tcp.NoteTruncated != 0 {
		e.truncated++
	}
	return s
}

// segment files a decoded segment into its connection: the half of Feed that
// owns the connection table.
func (e *Engine) segment(s *tcp.Segment) {
	e.add(s)
	if now, ok := e.tick(s.TS); ok {
		e.sweep(now)
	}
}

// add files s into its connection and notes whether it matches the filter.
func (e *Engine) add(s *tcp.Segment) {
	c, _ := e.table.Add(s)
	if !c.Matched && e.sel.Filter.Match(s) {
		c.Matched = true
	}
}

// tick advances the run's clock past a segment sent at ts and reports
// whether to sweep now, and the sweep's time. Once per second of capture
// time the connections that are done are let go: memory follows open
// connections, not packets. The sweep's time is the older of this segment
// and the previous one, so that one segment with a timestamp far in the
// future (damaged captures) evicts nothing.
func (e *Engine) tick(ts int64) (now int64, sweep bool) {
	now = min(ts, e.prevTS)
	e.prevTS = ts
	e.clock = max(e.clock, ts)
	if now < e.nextSweep {
		return now, false
	}
	sweep = e.nextSweep != 0
	e.nextSweep = now + 1e9
	return now, sweep
}

// Idle advances a live run's clock to now (the wall clock, ns) while no
// packet comes, and sweeps when a sweep is due: connections that ended or
// went silent are finished on time, not at the next packet. Only for a run
// fed frame by frame (Feed) from one goroutine.
func (e *Engine) Idle(now int64) {
	if now <= e.clock || e.frames == 0 {
		return
	}
	e.clock, e.prevTS = now, now
	if now < e.nextSweep {
		return
	}
	e.nextSweep = now + 1e9
	e.sweep(now)
}

// Open is the number of connections held now (a live run's status line).
func (e *Engine) Open() int { return e.table.lru.Len() }

// CaptureLoss marks every open connection as incomplete: a live capture's
// kernel dropped packets just now. It returns how many were marked.
func (e *Engine) CaptureLoss() int {
	n := 0
	for _, c := range e.table.Live() {
		if !c.CaptureLoss {
			c.CaptureLoss = true
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
	e.table.StablePayload = capture.IsStable(src)
	if e.shardable() {
		return e.RunSharded(src)
	}
	if e.cfg.Workers > 1 {
		return e.RunPipelined(src)
	}
	var first error
	for {
		f, err := src.Next()
		if err == io.EOF {
			return first
		}
		if err != nil {
			e.errs = append(e.errs, err)
			if first == nil {
				first = err
			}
			var ce *capture.Error
			if !errors.As(err, &ce) {
				return first // an I/O error we cannot step over
			}
			continue
		}
		e.Feed(f)
	}
}

// AddError records an input error that happened outside Run (opening a file).
func (e *Engine) AddError(err error) { e.errs = append(e.errs, err) }

// Errors returns the input errors met so far.
func (e *Engine) Errors() []error { return e.errs }

// finalize turns a connection the table is done with into its report
// records, and lets the engine forget its state.
func (e *Engine) finalize(c *Conn) {
	for _, st := range c.R {
		st.Flush(0, 0)
		st.Release()
		e.reasm.Delivered += st.Stats.Delivered
		e.reasm.OutOfOrder += st.Stats.OutOfOrder
		e.reasm.Duplicate += st.Stats.Duplicate
		e.reasm.GapBytes += st.Stats.GapBytes
		e.reasm.Gaps += st.Stats.Gaps
	}
	if c.tap != nil {
		if cl, ok := c.tap.(TapCloser); ok {
			cl.Close() // the connection is done: nothing more will be delivered
		}
	}
	var rc *report.Conn
	var anoms []*report.Anomaly
	if !e.cfg.StreamsOnly && c.Matched && (len(e.sel.IDs) == 0 || e.sel.IDs[c.ID]) {
		rc, anoms = e.record(c)
	}
	if e.out != nil { // a shard: the parent renumbers it and puts it in its place
		*e.out = append(*e.out, outRec{pos: e.pos, phase: e.phase, seq: len(*e.out), id: c.ID, rc: rc, anoms: anoms})
	} else if rc != nil {
		e.deliver(rc, anoms)
	}
	e.table.Recycle(c)
}

// deliver hands a connection's records to the stream, or keeps them for
// Report.
func (e *Engine) deliver(rc *report.Conn, anoms []*report.Anomaly) {
	if e.emit != nil {
		// Streaming: the record leaves now; only connections still open at
		// the end of the input get idle_before_end.
		if e.atEnd && rc.Close != nil && e.lastTS > rc.LastNS {
			rc.Close.IdleFor = float64(e.lastTS-rc.LastNS) / 1e9
		}
		resolveFiles(rc, anoms, e.files)
		sortAnomalies(anoms)
		e.emitted++
		e.emit(rc, anoms)
		return
	}
	e.done = append(e.done, rc)
	e.anoms = append(e.anoms, anoms...)
}

// Stream makes the engine hand each connection's record and anomalies to
// emit as soon as the connection is finished (it ended, idled out, or the
// table was full), instead of keeping them for Report: memory then follows
// the connections open at once, not all connections seen. files are the
// input names by index. Report still gives the summary (and no records).
func (e *Engine) Stream(files []string, emit func(*report.Conn, []*report.Anomaly)) {
	e.files, e.emit = files, emit
}

// sweep evicts the connections the table is done with (see Table.Sweep).
func (e *Engine) sweep(now int64) {
	e.table.Sweep(now, int64(e.cfg.Linger), int64(e.cfg.EvictIdle), e.finalize)
}
