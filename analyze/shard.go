package analyze

import (
	"cmp"
	"encoding/binary"
	"math"
	"net/netip"
	"slices"
	"sync"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/report"
	"github.com/tcptrace/tcptrace/tcp"
)

// A sharded run (Config.Workers > 1) spreads the connection table over
// several shards, each a tableSide of its own on its own goroutine that
// owns the connections of one class of a symmetric flow hash (both
// directions, and every VLAN of a tuple, land in the same shard). One
// reader goroutine reads, decodes and routes the segments (reader,
// readRounds); the caller's goroutine merges what the shards finish
// (merger).
//
// The output is byte-identical to a run on one goroutine:
//   - the reader keeps the run's clock and decides when to sweep, exactly as
//     tableSide.segment would, and tells every shard (a sweep mark);
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

// merger is the caller's side of a sharded run: it numbers the connections
// the shards create, follows their reassembly pools, and delivers what they
// finish in the order of a single table.
type merger struct {
	subs   []*shard
	ids    map[int]int // provisional ID → ID, for connections not yet finished
	nextID int
	used   []int64 // each shard's pool, as merged so far
	total  int64   // their sum
	peak   int64   // the most over all shards at once
	// clk is the run's clock: the reader goroutine keeps it while it reads
	// (readRounds), Report reads it once the reader is done.
	clk     sweepClock
	deliver func(*report.Conn, []*report.Anomaly)
}

// shard is one shard's table side and its place in the run: the position
// and phase of the step it is at, and where its finished connections go
// during a round (recs).
type shard struct {
	*tableSide
	pos   int64
	phase int8
	recs  *[]outRec
}

// shardable reports whether this run can be sharded: the analysis of
// `analyze` (follow, export and timeline keep one table: their taps and rows
// follow connections by ID as they go).
func (e *Engine) shardable() bool {
	return e.cfg.Workers > 1 && !e.cfg.StreamsOnly && e.cfg.Tap == nil && !e.cfg.Rows && len(e.sel.IDs) == 0
}

// newShards makes the merger and its n shards.
func (e *Engine) newShards(n int) *merger {
	m := &merger{ids: map[int]int{}, nextID: 1, used: make([]int64, n), deliver: e.out.deliver}
	for range n {
		cfg := e.cfg
		if cfg.MaxConns > 0 {
			cfg.MaxConns = (cfg.MaxConns + n - 1) / n
		}
		if cfg.GlobalBudget > 0 {
			cfg.GlobalBudget = max(1, cfg.GlobalBudget/int64(n))
		}
		sh := &shard{tableSide: newTableSide(cfg, &e.sel, nil)}
		sh.table.posIDs = true
		sh.put = func(id int, rc *report.Conn, anoms []*report.Anomaly) {
			// The merger renumbers it and puts it in its place.
			*sh.recs = append(*sh.recs, outRec{pos: sh.pos, phase: sh.phase, seq: len(*sh.recs), id: id, rc: rc, anoms: anoms})
		}
		m.subs = append(m.subs, sh)
	}
	return m
}

// runSharded is Run over e.cfg.Workers shards.
func (e *Engine) runSharded(src capture.Source) error {
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
		sub.table.stablePayload = stable
		wg.Add(1)
		go func() {
			defer wg.Done()
			sub.run(j, ins[j], outs[j])
		}()
	}
	go e.rd.readRounds(src, ins, free, stable, &e.sh.clk)

	var first error
	got := make([]*shardOut, n)
	for {
		for j := range outs {
			got[j] = <-outs[j]
		}
		r := got[0].r
		e.sh.merge(got)
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
// keeps the run's clock clk and sweeps (as tableSide.segment does), and
// routes each segment to the shard of its flow.
func (rd *reader) readRounds(src capture.Source, ins []chan *round, free chan *round, stable bool, clk *sweepClock) {
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
	err := readAll(src, func(f *capture.Frame) {
		s := rd.frame(f)
		if s == nil {
			return
		}
		j := flowShard(s, n)
		need := arenaNeed(s, stable)
		if r.b[j].full(need) {
			send()
		}
		b := &r.b[j]
		pos := rd.tcp - 1
		b.push(s, need)
		b.pos = append(b.pos, pos)
		b.clock = append(b.clock, clk.clock)
		inRound++
		bytesIn += len(f.Data)
		if now, ok := clk.tick(s.TS); ok { // every shard sweeps here
			for k := range r.b {
				o := &r.b[k]
				o.sweeps = append(o.sweeps, sweepMark{at: len(o.segs), pos: pos, now: now, clock: clk.clock})
			}
		}
		if inRound >= roundSegs || bytesIn >= roundBytes {
			send()
		}
	}, func(err error) {
		r.errs = append(r.errs, err)
	})
	r.end, r.err = true, err
	send()
}

// run is a shard's goroutine: it adds its segments and sweeps where the
// reader said, and reports what it created and finished.
func (sh *shard) run(j int, in <-chan *round, out chan<- *shardOut) {
	defer close(out)
	pool := sh.table.globalPool()
	for r := range in {
		b := &r.b[j]
		o := &shardOut{r: r}
		sh.recs = &o.recs
		marks := b.sweeps
		for i := 0; ; i++ {
			for len(marks) > 0 && marks[0].at == i {
				m := &marks[0]
				sh.clk.clock, sh.pos, sh.phase = m.clock, m.pos, 1
				u := pool.Used()
				pool.StartStep()
				sh.sweep(m.now)
				if pool.Used() != u {
					o.pool = append(o.pool, poolEv{pos: m.pos, phase: 1, shard: j, peak: pool.StepPeak(), after: pool.Used()})
				}
				marks = marks[1:]
			}
			if i == len(b.segs) {
				break
			}
			s := &b.segs[i]
			sh.clk.clock, sh.pos, sh.phase = b.clock[i], b.pos[i], 0
			sh.table.pos = int(b.pos[i])
			created := sh.table.created()
			u := pool.Used()
			pool.StartStep()
			sh.add(s)
			if sh.table.created() != created {
				o.creates = append(o.creates, b.pos[i])
			}
			if pool.StepPeak() > u || pool.Used() != u {
				o.pool = append(o.pool, poolEv{pos: b.pos[i], shard: j, peak: pool.StepPeak(), after: pool.Used()})
			}
		}
		sh.recs = nil
		out <- o
	}
}

// merge takes one round of every shard: it numbers the connections created,
// follows the pool, and delivers the finished connections in order.
func (m *merger) merge(outs []*shardOut) {
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
		m.ids[int(p)] = m.nextID
		m.nextID++
	}
	slices.SortStableFunc(pool, func(a, b poolEv) int {
		if a.pos != b.pos {
			return cmp.Compare(a.pos, b.pos)
		}
		return int(a.phase) - int(b.phase)
	})
	for _, p := range pool {
		m.peak = max(m.peak, m.total-m.used[p.shard]+p.peak)
		m.total += p.after - m.used[p.shard]
		m.used[p.shard] = p.after
	}
	m.deliverOrdered(recs)
}

// deliverOrdered renumbers finished connections and delivers them in the
// order of a single table.
func (m *merger) deliverOrdered(recs []outRec) {
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
		id := m.ids[x.id]
		delete(m.ids, x.id)
		if x.rc == nil {
			continue
		}
		x.rc.ID = id
		for _, a := range x.anoms {
			a.Conn = id
		}
		m.deliver(x.rc, x.anoms)
	}
}

// finishAll finishes the connections still open in every shard at the end
// of the input, in ID order; clock is the input's last time. Each shard's
// live connections are in order of their provisional IDs, which is the
// order of their IDs: the shards are merged one connection at a time, so
// that records are delivered as they are built, never all held at once.
func (m *merger) finishAll(clock int64) {
	lives := make([][]*Conn, len(m.subs))
	for j, sub := range m.subs {
		sub.clk.clock = clock
		sub.pos, sub.phase = math.MaxInt64, 2
		lives[j] = sub.table.Live()
	}
	var one []outRec
	for {
		next := -1
		for j, l := range lives {
			if len(l) > 0 && (next < 0 || l[0].ID < lives[next][0].ID) {
				next = j
			}
		}
		if next < 0 {
			return
		}
		sub, c := m.subs[next], lives[next][0]
		lives[next] = lives[next][1:]
		one = one[:0]
		sub.recs = &one
		sub.finalize(c)
		sub.recs = nil
		m.deliverOrdered(one)
	}
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
