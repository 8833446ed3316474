package analyze

import (
	"github.com/tcptrace/tcptrace/report"
	"github.com/tcptrace/tcptrace/tcp"
)

// tableSide owns one connection table: it files segments into it, keeps
// the clock that says when to sweep, and turns the connections the table
// is done with into report records, handed to put. It belongs to one
// goroutine: the caller's in a run that is not sharded (the Engine's tbl),
// or a shard's (shard.go).
type tableSide struct {
	cfg   Config
	sel   *Selection // the engine's; read-only while a run goes on
	table *Table
	clk   sweepClock
	reasm report.ReasmSummary // reassembly totals of the finished connections
	// put receives a finished connection's ID and records (rc nil when the
	// connection is not reported).
	put func(id int, rc *report.Conn, anoms []*report.Anomaly)
}

// newTableSide makes a table side whose reported connections go to deliver.
func newTableSide(cfg Config, sel *Selection, deliver func(*report.Conn, []*report.Anomaly)) *tableSide {
	t := &tableSide{cfg: cfg, sel: sel, table: NewTable(cfg)}
	t.table.streaming(t.finalize)
	t.put = func(_ int, rc *report.Conn, anoms []*report.Anomaly) {
		if rc != nil {
			deliver(rc, anoms)
		}
	}
	return t
}

// segment files a decoded segment into its connection and sweeps when a
// sweep is due.
func (t *tableSide) segment(s *tcp.Segment) {
	t.add(s)
	if now, ok := t.clk.tick(s.TS); ok {
		t.sweep(now)
	}
}

// add files s into its connection and notes whether it matches the filter.
func (t *tableSide) add(s *tcp.Segment) {
	c, _ := t.table.Add(s)
	if !c.matched && t.sel.Filter.Match(s) {
		c.matched = true
	}
}

// idle advances the clock of a live run to now while no packet comes, and
// sweeps when a sweep is due.
func (t *tableSide) idle(now int64) {
	if t.clk.idle(now) {
		t.sweep(now)
	}
}

// sweep evicts the connections the table is done with (see Table.Sweep).
func (t *tableSide) sweep(now int64) {
	t.table.Sweep(now, int64(t.cfg.Linger), int64(t.cfg.EvictIdle), t.finalize)
}

// finishAll finishes the connections still open, in ID order: the end of
// the input.
func (t *tableSide) finishAll() {
	for _, c := range t.table.Live() {
		t.finalize(c)
	}
}

// finalize turns a connection the table is done with into its report
// records, and lets the table forget its state.
func (t *tableSide) finalize(c *Conn) {
	if c.connState == nil {
		t.table.grow(c) // embryonic: its whole state, to build its records (tier.go)
	}
	for _, st := range c.stream {
		st.Flush(0, 0)
		st.Release()
		t.reasm.Delivered += st.Stats.Delivered
		t.reasm.OutOfOrder += st.Stats.OutOfOrder
		t.reasm.Duplicate += st.Stats.Duplicate
		t.reasm.GapBytes += st.Stats.GapBytes
		t.reasm.Gaps += st.Stats.Gaps
	}
	if c.tap != nil {
		if cl, ok := c.tap.(TapCloser); ok {
			cl.Close() // the connection is done: nothing more will be delivered
		}
	}
	var rc *report.Conn
	var anoms []*report.Anomaly
	if !t.cfg.StreamsOnly && c.matched && (len(t.sel.IDs) == 0 || t.sel.IDs[c.ID]) {
		rc, anoms = t.record(c)
		if t.sel.Keep != nil && !t.sel.Keep(rc) {
			rc, anoms = nil, nil
		}
	}
	t.put(c.ID, rc, anoms)
	t.table.recycle(c)
}

// sweepClock is a run's clock, advanced by each segment in capture order.
// Once per second of capture time the connections that are done are let
// go: memory follows open connections, not packets.
type sweepClock struct {
	// clock is the latest segment time seen: what "now" is for a
	// connection finished during the run. At the end it is the input's
	// last time.
	clock     int64
	prevTS    int64 // the previous segment's time
	nextSweep int64
}

// tick advances the clock past a segment sent at ts and reports whether to
// sweep now, and the sweep's time. The sweep's time is the older of this
// segment and the previous one, so that one segment with a timestamp far
// in the future (damaged captures) evicts nothing.
func (k *sweepClock) tick(ts int64) (now int64, sweep bool) {
	now = min(ts, k.prevTS)
	k.prevTS = ts
	k.clock = max(k.clock, ts)
	if now < k.nextSweep {
		return now, false
	}
	sweep = k.nextSweep != 0
	k.nextSweep = now + 1e9
	return now, sweep
}

// idle advances the clock to now (a live run's wall clock) while no
// segment comes; it reports whether a sweep is due.
func (k *sweepClock) idle(now int64) bool {
	if now <= k.clock {
		return false
	}
	k.clock, k.prevTS = now, now
	if now < k.nextSweep {
		return false
	}
	k.nextSweep = now + 1e9
	return true
}
