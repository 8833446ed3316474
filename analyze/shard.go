package analyze

import (
	"cmp"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"net/netip"
	"slices"
	"sync"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/report"
	"github.com/tcptrace/tcptrace/tcp"
)

// A sharded run (Config.Workers > 1) spreads the connection table over
// several shards, each an Engine of its own on its own goroutine that owns
// the connections of one class of a symmetric flow hash (both directions,
// and every VLAN of a tuple, land in the same shard). One reader goroutine
// reads, decodes and routes the segments; the caller's goroutine merges
// what the shards finish.
//
// The output is byte-identical to a run on one goroutine:
//   - the reader keeps the run's clock and decides when to sweep, exactly as
//     Engine.segment would, and tells every shard (a sweep mark);
//   - segments are numbered in capture order (their position); a shard gives
//     a connection the position of the segment that created it as a
//     provisional ID, and the merger renumbers connections in order of
//     those positions, which is the order of a single table's IDs;
//   - records are merged in the order a single table finishes connections:
//     by the position of the segment (or sweep) that finished them, then as
//     the single table would (its order of retirement, or ID order in a
//     sweep and at the end);
//   - the reassembly pool's peak is merged from each shard's steps.
//
// The work advances in rounds: the reader fills one batch per shard, every
// shard processes its batch, and the merger takes the shards' outputs of a
// round once all are in. Rounds are recycled: the steady state allocates
// only per connection.
//
// Two bounds are split between the shards, so they may act differently
// from one table's when they are reached: MaxConns (each shard holds at most
// its share) and the global reassembly budget (each shard flushes at its
// share).

const (
	roundSegs  = 1024 // segments per round, over all shards
	roundQueue = 4    // rounds in flight
	// roundBytes ends a round after this many bytes of frames, so that
	// the reader is never more than (roundQueue+1)*roundBytes of the file
	// ahead of the shards: the mapped pages they may still read (an
	// out-of-order payload to copy) are resident (capture.DefaultDropBehind).
	roundBytes = maxLeadBytes / (roundQueue + 1)
)

type shardBatch struct {
	segBuf
	pos    []int64 // each segment's place among all the run's segments
	clock  []int64 // the run's clock before each segment
	sweeps []sweepMark
}

// sweepMark asks a shard to sweep before its segment at.
type sweepMark struct {
	at              int
	pos, now, clock int64
}

type round struct {
	b        []shardBatch
	readErrs // damage met while reading this round
}

// shardOut is what a shard finished in one round.
type shardOut struct {
	r       *round
	creates []int64 // positions of the segments that created a connection
	recs    []outRec
	pool    []poolEv
}

// outRec is a finished connection with its place in a single table's order:
// pos and phase (0: while its segment was added; 1: in the sweep after it;
// 2: at the end of the input), then seq (phase 0) or the provisional ID.
type outRec struct {
	pos   int64
	phase int8
	seq   int
	id    int          // provisional ID
	rc    *report.Conn // nil when the connection is not reported
	anoms []*report.Anomaly
}

// poolEv is a change of a shard's reassembly pool during one step: the most
// it held during the step and what it holds after.
type poolEv struct {
	pos         int64
	phase       int8
	shard       int
	peak, after int64
}

// sharded holds the parent's side of a sharded run.
type sharded struct {
	subs   []*Engine
	ids    map[int]int // provisional ID → ID, for connections not yet finished
	nextID int
	used   []int64 // each shard's pool, as merged so far
	total  int64   // their sum
	peak   int64   // the most over all shards at once
}

// shardable reports whether this run can be sharded: the analysis of
// `analyze` (follow, export and timeline keep one table: their taps and rows
// follow connections by ID as they go).
func (e *Engine) shardable() bool {
	return e.cfg.Workers > 1 && !e.cfg.StreamsOnly && e.cfg.Tap == nil && !e.cfg.Rows && len(e.sel.IDs) == 0
}

// newShards makes the shard engines.
func (e *Engine) newShards(n int) *sharded {
	sh := &sharded{ids: map[int]int{}, nextID: 1, used: make([]int64, n)}
	for range n {
		cfg := e.cfg
		if cfg.MaxConns > 0 {
			cfg.MaxConns = (cfg.MaxConns + n - 1) / n
		}
		if cfg.GlobalBudget > 0 {
			cfg.GlobalBudget = max(1, cfg.GlobalBudget/int64(n))
		}
		sub := NewEngine(cfg)
		sub.sel = e.sel
		sub.table.posIDs = true
		sh.subs = append(sh.subs, sub)
	}
	return sh
}

// RunSharded is Run over e.cfg.Workers shards.
func (e *Engine) RunSharded(src capture.Source) error {
	n := e.cfg.Workers
	if e.sh == nil {
		e.sh = e.newShards(n)
	}
	stable := capture.IsStable(src)
	free := make(chan *round, roundQueue+1)
	for range roundQueue + 1 {
		r := &round{b: make([]shardBatch, n)}
		for j := range r.b {
			b := &r.b[j]
			b.segs = make([]tcp.Segment, 0, 2*roundSegs/n)
			if !stable {
				b.arena = make([]byte, 0, batchBytes)
			}
		}
		free <- r
	}
	ins := make([]chan *round, n)
	outs := make([]chan *shardOut, n)
	var wg sync.WaitGroup
	for j, sub := range e.sh.subs {
		ins[j], outs[j] = make(chan *round, roundQueue), make(chan *shardOut, roundQueue)
		sub.table.StablePayload = stable
		wg.Add(1)
		go func() {
			defer wg.Done()
			sub.runShard(j, ins[j], outs[j])
		}()
	}
	go e.readRounds(src, ins, free, stable)

	var first error
	got := make([]*shardOut, n)
	for {
		for j := range outs {
			got[j] = <-outs[j]
		}
		r := got[0].r
		e.merge(got)
		var last bool
		if first, last = e.collect(&r.readErrs, first); last {
			break
		}
		for j := range r.b {
			b := &r.b[j]
			b.reset()
			b.pos, b.clock, b.sweeps = b.pos[:0], b.clock[:0], b.sweeps[:0]
		}
		free <- r
	}
	wg.Wait()
	return first
}

// readRounds is the reader goroutine of a sharded run: it reads, decodes,
// keeps the run's clock and sweeps (as Engine.segment does), and routes each
// segment to the shard of its flow.
func (e *Engine) readRounds(src capture.Source, ins []chan *round, free chan *round, stable bool) {
	defer func() {
		for _, in := range ins {
			close(in)
		}
	}()
	n := len(ins)
	r := <-free
	inRound, bytesIn := 0, 0
	send := func() {
		for _, in := range ins {
			in <- r
		}
		r, inRound, bytesIn = <-free, 0, 0
	}
	for {
		f, err := src.Next()
		if err == io.EOF {
			r.end = true
			send()
			return
		}
		if err != nil {
			var ce *capture.Error
			if !errors.As(err, &ce) {
				r.end, r.err = true, err
				send()
				return
			}
			r.errs = append(r.errs, err)
			continue
		}
		s := e.frame(f)
		if s == nil {
			continue
		}
		j := flowShard(s, n)
		need := arenaNeed(s, stable)
		if r.b[j].full(need) {
			send()
		}
		b := &r.b[j]
		pos := e.tcp - 1
		b.push(s, need)
		b.pos = append(b.pos, pos)
		b.clock = append(b.clock, e.clock)
		inRound++
		bytesIn += len(f.Data)
		if now, ok := e.tick(s.TS); ok { // every shard sweeps here
			for k := range r.b {
				o := &r.b[k]
				o.sweeps = append(o.sweeps, sweepMark{at: len(o.segs), pos: pos, now: now, clock: e.clock})
			}
		}
		if inRound >= roundSegs || bytesIn >= roundBytes {
			send()
		}
	}
}

// runShard is a shard's goroutine: it adds its segments and sweeps where
// the reader said, and reports what it created and finished.
func (e *Engine) runShard(j int, in <-chan *round, out chan<- *shardOut) {
	defer close(out)
	pool := e.table.Pool()
	for r := range in {
		b := &r.b[j]
		o := &shardOut{r: r}
		e.out = &o.recs
		marks := b.sweeps
		for i := 0; ; i++ {
			for len(marks) > 0 && marks[0].at == i {
				m := &marks[0]
				e.clock, e.pos, e.phase = m.clock, m.pos, 1
				u := pool.Used()
				pool.StartStep()
				e.sweep(m.now)
				if pool.Used() != u {
					o.pool = append(o.pool, poolEv{pos: m.pos, phase: 1, shard: j, peak: pool.StepPeak(), after: pool.Used()})
				}
				marks = marks[1:]
			}
			if i == len(b.segs) {
				break
			}
			s := &b.segs[i]
			e.clock, e.pos, e.phase = b.clock[i], b.pos[i], 0
			e.table.pos = int(b.pos[i])
			created := e.table.Created()
			u := pool.Used()
			pool.StartStep()
			e.add(s)
			if e.table.Created() != created {
				o.creates = append(o.creates, b.pos[i])
			}
			if pool.StepPeak() > u || pool.Used() != u {
				o.pool = append(o.pool, poolEv{pos: b.pos[i], shard: j, peak: pool.StepPeak(), after: pool.Used()})
			}
		}
		e.out = nil
		out <- o
	}
}

// merge takes one round of every shard: it numbers the connections created,
// follows the pool, and delivers the finished connections in order.
func (e *Engine) merge(outs []*shardOut) {
	sh := e.sh
	var creates []int64
	var pool []poolEv
	var recs []outRec
	for _, o := range outs {
		creates = append(creates, o.creates...)
		pool = append(pool, o.pool...)
		recs = append(recs, o.recs...)
	}
	slices.Sort(creates)
	for _, p := range creates {
		sh.ids[int(p)] = sh.nextID
		sh.nextID++
	}
	slices.SortStableFunc(pool, func(a, b poolEv) int {
		if a.pos != b.pos {
			return cmp.Compare(a.pos, b.pos)
		}
		return int(a.phase) - int(b.phase)
	})
	for _, p := range pool {
		sh.peak = max(sh.peak, sh.total-sh.used[p.shard]+p.peak)
		sh.total += p.after - sh.used[p.shard]
		sh.used[p.shard] = p.after
	}
	e.deliverOrdered(recs)
}

// deliverOrdered renumbers finished connections and delivers them in the
// order of a single table.
func (e *Engine) deliverOrdered(recs []outRec) {
	slices.SortFunc(recs, func(a, b outRec) int {
		if a.pos != b.pos {
			return cmp.Compare(a.pos, b.pos)
		}
		if a.phase != b.phase {
			return int(a.phase) - int(b.phase)
		}
		if a.phase == 0 {
			return a.seq - b.seq
		}
		return a.id - b.id
	})
	for _, x := range recs {
		id := e.sh.ids[x.id]
		delete(e.sh.ids, x.id)
		if x.rc == nil {
			continue
		}
		x.rc.ID = id
		for _, a := range x.anoms {
			a.Conn = id
		}
		e.deliver(x.rc, x.anoms)
	}
}

// finishShards finishes the connections still open in every shard at the
// end of the input, in ID order.
func (e *Engine) finishShards() {
	var recs []outRec
	for _, sub := range e.sh.subs {
		sub.clock, sub.lastTS = e.clock, e.lastTS
		sub.pos, sub.phase = math.MaxInt64, 2
		sub.out = &recs
		for _, c := range sub.table.Live() {
			sub.finalize(c)
		}
		sub.out = nil
	}
	e.deliverOrdered(recs)
}

// flowShard returns the shard of a segment's flow: the same for both
// directions and every VLAN of a tuple.
func flowShard(s *tcp.Segment, n int) int {
	h := endpointHash(s.Src) + endpointHash(s.Dst)
	return int((h >> 32) % uint64(n))
}

func endpointHash(ap netip.AddrPort) uint64 {
	a := ap.Addr().As16()
	h := binary.LittleEndian.Uint64(a[:8])*0x9E3779B97F4A7C15 ^
		binary.LittleEndian.Uint64(a[8:])*0xC2B2AE3D27D4EB4F ^
		uint64(ap.Port())*0x165667B19E3779F9
	h ^= h >> 29
	h *= 0xBF58476D1CE4E5B9
	h ^= h >> 32
	return h
}
