// Package analyze is tcptrace's engine: it feeds decoded segments into a
// connection table that finds every TCP connection (direction, roles, port
// reuse) and builds the report model. docs/architecture.md follows one
// segment through it and says which goroutine owns which type.
package analyze

import (
	"encoding/binary"
	"math"
	"runtime"
	"sort"
	"time"

	"github.com/tcptrace/tcptrace/analyze/stats"
	"github.com/tcptrace/tcptrace/analyze/wsflags"
	"github.com/tcptrace/tcptrace/analyze/zeek"
	"github.com/tcptrace/tcptrace/reassembly"
	"github.com/tcptrace/tcptrace/seqnum"
	"github.com/tcptrace/tcptrace/statemachine"
	"github.com/tcptrace/tcptrace/tcp"
)

// Config tunes the connection table.
type Config struct {
	// ReuseIdle: a SYN with a new ISN on a tuple idle for longer than this
	// starts a new connection even if the old one never closed.
	ReuseIdle time.Duration
	// EvictIdle: an open connection silent for this long (capture time) is
	// finished and forgotten; a later segment on its tuple starts a new one.
	EvictIdle time.Duration
	// Linger: a closed connection is kept this long after its last packet
	// to absorb trailing ACKs and retransmissions, then forgotten (its tuple
	// is remembered for ReuseIdle to mark a new connection as a reuse).
	Linger time.Duration
	// Checksums: verify TCP checksums (off by default: offload makes the
	// sender's own packets wrong on most captures).
	Checksums bool
	// Idle: an open connection silent for longer than this before the end of
	// the capture is classified idle.
	Idle time.Duration
	// ConnBudget and GlobalBudget bound the bytes reassembly holds out of
	// order, per connection and over all (0: unlimited). History is how many
	// delivered bytes each stream keeps to compare retransmissions with
	// (conflicting_retransmission; referenced in place when the input is
	// stable, copied otherwise).
	ConnBudget, GlobalBudget int64
	History                  int
	// Tap, if set, receives the reassembled bytes of each connection.
	Tap Tap
	// StreamsOnly runs only what reassembly needs (table, state machine,
	// streams): no anomaly checks, statistics, Zeek or Wireshark
	// emulation, and no connection records. For follow and export.
	StreamsOnly bool
	// Lean: the connection records are for a stream that leaves out the
	// per-direction statistics and the state transitions (render.JSONRecord:
	// JSON without --stats), so record does not build them. The statistics
	// still run: the record's rtt_ms may come from their RTT samples.
	Lean bool
	// Rows records every segment of every connection as a timeline row
	// (report.Conn.Rows); Explain adds the plain-words explanations.
	Rows, Explain bool
	// Frames records the frames of every connection (report.Conn.Frames)
	// and counts the tuples that carried more than one connection
	// (Engine.TupleRepeats): frames.go.
	Frames bool
	// MaxConns caps the connections held at once (0: no cap). When a new
	// connection would exceed it, the least recently active one is finished
	// early (its record says so) and counted in the summary: a SYN flood or
	// a scan cannot exhaust memory.
	MaxConns int
	// Workers: 1 runs everything on the caller's goroutine. More reads and
	// decodes on a goroutine of its own and, for the full analysis, splits
	// the table by flow over Workers shards (RunSharded; otherwise one
	// table, RunPipelined). Output is identical.
	Workers int
}

// DefaultConfig returns the defaults used by the CLI.
func DefaultConfig() Config {
	return Config{ReuseIdle: 60 * time.Second, Idle: 5 * time.Minute, EvictIdle: 30 * time.Minute,
		ConnBudget: defaultConnBudget, GlobalBudget: defaultGlobalBudget, History: defaultHistory, Workers: runtime.NumCPU(),
		MaxConns: DefaultMaxConns}
}

// Reassembly budgets by default: enough for a 4 MiB receive window above a
// hole on each of many connections, and a global cap that keeps the process
// within the memory target of a large capture.
const (
	defaultConnBudget   = 8 << 20
	defaultGlobalBudget = 64 << 20
)

// defaultHistory is how many delivered bytes each stream keeps by default
// to compare later copies with (conflicting_retransmission): an injector's
// copy and the real one race, so the first is recent when the second comes.
// With a mapped file the history holds references (about 12 pieces of 48
// bytes for full-sized segments); otherwise it copies every delivered byte
// and holds up to about twice this per stream, so it is kept small.
const defaultHistory = 16 << 10

// DefaultMaxConns is the default cap on connections held at once: about
// 0.6 GiB of analysis state at ~6 KB per connection (connBlock).
const DefaultMaxConns = 100_000

// Role reasons: how the client of a connection was chosen
// (docs/principles.md#client-and-server: SYN sender; else SYN-ACK receiver;
// else ports; else first packet).
type role uint8

const (
	roleSYN role = iota
	roleSYNACK
	rolePort
	roleFirstPacket
)

// String is the role reason's name in the records (docs/json.md, role_by).
func (r role) String() string {
	return [...]string{"syn", "syn-ack", "port", "first-packet"}[r]
}

// connKey identifies a tuple: the two endpoints in canonical order plus the VLAN
// tags, so that the same 4-tuple on two VLANs is two connections.
type connKey struct {
	tuple tupleKey
	vlan  tcp.VLANs
}

// tupleKey is the two endpoints of a tuple in canonical order, packed
// without pointers (a netip.Addr holds one): 40 bytes that the garbage
// collector need not scan, in the table's map of a million entries.
type tupleKey struct {
	a, b   [16]byte // addresses (IPv4 as IPv4-mapped)
	pa, pb uint16   // ports
	v4     uint8    // 1: a is IPv4, 2: b is IPv4
}

// hash mixes the tuple into 64 bits (the table's map key).
func (k *tupleKey) hash() uint64 {
	h := binary.LittleEndian.Uint64(k.a[:8])*0x9E3779B97F4A7C15 ^ binary.LittleEndian.Uint64(k.a[8:])*0xC2B2AE3D27D4EB4F ^
		binary.LittleEndian.Uint64(k.b[:8])*0x165667B19E3779F9 ^ binary.LittleEndian.Uint64(k.b[8:])*0x85EBCA77C2B2AE63 ^
		(uint64(k.pa)<<24|uint64(k.pb)<<8|uint64(k.v4))*0x27D4EB2F165667C5
	h ^= h >> 29
	h *= 0xBF58476D1CE4E5B9
	h ^= h >> 32
	return h
}

// keyOf returns the canonical key of a segment (both directions map to the
// same key).
func keyOf(s *tcp.Segment) connKey {
	a, b := s.Src, s.Dst
	if b.Compare(a) < 0 {
		a, b = b, a
	}
	k := connKey{vlan: s.VLAN}
	k.tuple.a, k.tuple.b = a.Addr().As16(), b.Addr().As16()
	k.tuple.pa, k.tuple.pb = a.Port(), b.Port()
	if a.Addr().Is4() {
		k.tuple.v4 |= 1
	}
	if b.Addr().Is4() {
		k.tuple.v4 |= 2
	}
	return k
}

// Table maps tuples to their current connection. It is owned by one
// goroutine: no locking.
type Table struct {
	cfg Config
	// live: the live connections by the hash of their tuple (tupleKey.hash),
	// the latest created first, chained by bk.sameTuple: more than one when
	// a tuple is used on several VLANs at once, or two tuples' hashes
	// collide. A map of 8-byte keys costs a connection a fifth of what
	// 40-byte tuples would.
	live  map[uint64]*Conn
	tombs map[connKey]int64 // tuples of evicted connections → their last packet time
	all   []*Conn           // every connection, in order of creation (= ID order), unless dropAll
	// dropAll: the owner takes connections as they are evicted (Sweep) and
	// the table keeps no reference to them, so memory follows the number of
	// open connections, not of connections seen.
	dropAll bool
	retire  func(*Conn)
	nextID  int
	pool    reassembly.Pool // the global reassembly budget
	// Live connections from least to most recently active (for MaxConns).
	lru connList
	// The list is also in order of LastTS, except for the connections in
	// odd (last touched with a time earlier than maxTS, the newest LastTS
	// at a touch): Sweep walks the oldest end and stops at the first
	// recent one.
	odd   map[*Conn]struct{}
	maxTS int64
	// recent caches the connection of recently seen tuples by their ports,
	// in front of the live map: an entry is used only if its connection is
	// live and has the key (then live[key] is that connection).
	recent [1 << recentBits]*Conn
	// evicted counts connections finished early because the table was full.
	evicted int
	// tuples: with Config.Frames, the tuples seen (frames.go).
	tuples tupleFilter
	// stablePayload: segments' payload bytes stay valid for the whole run
	// (capture.IsStable), so checks may keep references instead of hashes.
	stablePayload bool
	// posIDs: a shard's table (shard.go) numbers a connection with pos, the
	// place of the segment that creates it among all the run's segments.
	posIDs bool
	pos    int
	free   []*connBlock // recycled connection state
	// freeConns: recycled connections (their state goes to free).
	freeConns []*Conn
	// tiered: connections start embryonic (tier.go); scratch replays an
	// embryonic connection's segments to tell whether it is done.
	tiered  bool
	scratch statemachine.Conn
	// createdSince counts connections created since the last sweep.
	createdSince int
}

// globalPool returns the global reassembly budget.
func (t *Table) globalPool() *reassembly.Pool { return &t.pool }

// NewTable returns an empty table.
func NewTable(cfg Config) *Table {
	return &Table{cfg: cfg, live: make(map[uint64]*Conn, 1024), tombs: map[connKey]int64{}, nextID: 1,
		pool: reassembly.Pool{Limit: cfg.GlobalBudget}, odd: map[*Conn]struct{}{}, maxTS: math.MinInt64}
}

// Conns returns every connection in ID order (only when the table keeps
// them all: see streaming).
func (t *Table) Conns() []*Conn { return t.all }

// streaming makes the table forget connections once they are evicted: by
// Sweep, or when a new connection takes over their tuple (then retire
// receives them). The caller collects the rest from Live.
func (t *Table) streaming(retire func(*Conn)) {
	t.dropAll, t.all, t.retire = true, nil, retire
	t.tiered = !t.cfg.StreamsOnly && !t.cfg.Rows && t.cfg.Tap == nil && !t.cfg.Checksums
}

// created is the number of connections created so far.
func (t *Table) created() int { return t.nextID - 1 }

// Sweep evicts the connections that are done with: closed ones silent for
// longer than closedIdle, open ones silent for longer than openIdle (capture
// time, ns). fn receives them in ID order. A segment arriving later on the
// same tuple starts a new connection.
func (t *Table) Sweep(now, closedIdle, openIdle int64, fn func(*Conn)) {
	// Recycled blocks nobody took since the last sweep go to the GC: the
	// free list follows the rate of new connections, not the peak.
	if n := len(t.free) - max(t.createdSince, minFreeBlocks); n > 0 {
		clear(t.free[len(t.free)-n:])
		t.free = t.free[:len(t.free)-n]
	}
	t.createdSince = 0
	var out []*Conn
	due := func(c *Conn) bool {
		idle := now - c.lastTS
		return idle > openIdle || (idle > closedIdle && t.done(c))
	}
	for c := t.lru.head; c != nil; c = c.bk.next {
		if c.bk.odd {
			continue // visited below
		}
		if idle := now - c.lastTS; idle <= closedIdle && idle <= openIdle {
			break // every later connection is at least as recent
		}
		if due(c) {
			out = append(out, c)
		}
	}
	for c := range t.odd {
		if due(c) {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	for _, c := range out {
		t.evict(c)
		t.buryAll(c)
		fn(c)
	}
	for k, ts := range t.tombs {
		if now-ts > int64(t.cfg.ReuseIdle) {
			delete(t.tombs, k)
		}
	}
}

// Live returns the connections still in the table, in ID order.
func (t *Table) Live() []*Conn {
	var out []*Conn
	for _, h := range t.live {
		for c := h; c != nil; c = c.bk.sameTuple {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (t *Table) evict(c *Conn) {
	if !c.bk.live {
		return
	}
	c.bk.live = false
	t.lru.remove(c)
	if c.bk.odd {
		delete(t.odd, c)
		c.bk.odd = false
	}
	// Out of its chain.
	hk := c.key.tuple.hash()
	if h := t.live[hk]; h == c {
		if c.bk.sameTuple == nil {
			delete(t.live, hk)
		} else {
			t.live[hk] = c.bk.sameTuple
		}
	} else {
		for p := h; p != nil; p = p.bk.sameTuple {
			if p.bk.sameTuple == c {
				p.bk.sameTuple = c.bk.sameTuple
				break
			}
		}
	}
	c.bk.sameTuple = nil
	t.forgetRecent(c, c.key)
	if c.extra != nil {
		t.forgetRecent(c, *c.extra)
	}
}

// forgetRecent clears the recent cache's slot of key k if it holds c: no
// reference to a finished connection's state.
func (t *Table) forgetRecent(c *Conn, k connKey) {
	if slot := &t.recent[recentSlot(k)]; *slot == c {
		*slot = nil
	}
}

// find returns the live connection with key k, or nil.
func (t *Table) find(k connKey) *Conn {
	for c := t.live[k.tuple.hash()]; c != nil; c = c.bk.sameTuple {
		if c.hasKey(k) {
			return c
		}
	}
	return nil
}

// newest returns the latest created live connection of tuple tk, or nil.
func (t *Table) newest(tk tupleKey) *Conn {
	for c := t.live[tk.hash()]; c != nil; c = c.bk.sameTuple {
		if c.key.tuple == tk {
			return c
		}
	}
	return nil
}

// buryAll buries every key of c (see bury).
func (t *Table) buryAll(c *Conn) {
	t.bury(c.key, c.lastTS)
	if c.extra != nil {
		t.bury(*c.extra, c.lastTS)
	}
}

// Add files a segment into its connection, creating the connection (or a new
// one on a reused tuple) when needed, and returns it with the direction.
func (t *Table) Add(s *tcp.Segment) (*Conn, tcp.Dir) {
	k := keyOf(s)
	slot := &t.recent[recentSlot(k)]
	c := *slot
	if c == nil || !c.bk.live || !c.hasKey(k) {
		c = t.find(k)
	}
	if c == nil {
		c = t.joinOtherVLAN(k, s)
	}
	if c != nil && t.startsNew(c, s) {
		t.evict(c)
		if t.retire != nil {
			t.retire(c)
		}
		n := t.create(k, s)
		n.reused = true
		c = n
	} else if c == nil {
		c = t.create(k, s)
		if _, ok := t.tombs[k]; ok {
			c.reused = true
			delete(t.tombs, k)
		}
	}
	*slot = c
	d := c.Dir(s)
	if c.Packets[d] == 0 {
		c.vlans[d] = s.VLAN
	}
	c.lastFile, c.LastFrame, c.lastTS = int32(s.File), s.Frame, s.TS
	if c.frames != nil {
		t.noteFrame(c, d, s)
	}
	t.touch(c)
	c.Packets[d]++
	c.nbytes[d] += int64(s.Len)
	if s.Notes&tcp.NoteTruncated != 0 {
		c.truncated++
	}
	if s.Flags&tcp.SYN != 0 {
		c.syns[d]++
		if !c.isnSet[d] {
			c.isn[d], c.isnSet[d] = s.Seq, true
		}
		if s.Flags&tcp.ACK != 0 && d == tcp.Server {
			c.synAck = true
		}
	}
	if s.Flags&tcp.FIN != 0 {
		c.fins[d]++
	}
	if s.Flags&tcp.RST != 0 {
		c.rsts[d]++
	}
	if c.connState == nil { // embryonic (tier.go)
		if holdable(s) && len(c.held) < maxHeld {
			c.hold(d, s)
			c.bk.doneSet = false
			return c, d
		}
		t.grow(c)
	}
	t.analyze(c, d, s)
	return c, d
}

// analyze runs segment s of direction d of c through the analyses.
func (t *Table) analyze(c *Conn, d tcp.Dir, s *tcp.Segment) {
	// The order of what follows matters; each step says what it needs.
	//
	// 1. The timeline's snapshot, before anything moves: a row shows the
	//    states before and after its segment.
	var snap rowSnap
	if t.cfg.Rows {
		snap = c.rowBefore(d)
	}
	// 2. The sender's IP habits learn from every copy, duplicates too.
	dup := false
	c.ip[d].note(s)
	if t.cfg.StreamsOnly {
		c.SM.Step(d, s)
	} else if of, ok := c.chk.duplicate(d, s); ok {
		// A SPAN or hardware duplicate: one packet seen twice. It counts
		// as a frame (above) and shows in the timeline, and is reported once,
		// as duplicate_frame; nothing that counts what the endpoints sent
		// sees it, so it is no retransmission anywhere: not in the state
		// machine (SYN retransmissions), the reset diagnosis, Wireshark's
		// flags of this frame, Zeek's history, the statistics or reassembly.
		dup = true
		c.duplicateFrame(d, s, of)
		c.stats.Duplicate(d, s)
	} else {
		// 3. What the checks compare with is taken before the state
		//    machine moves: both endpoints' windows, ACKs and states
		//    (capturePre), and whether the sender had sent its FIN.
		pre := capturePre(c, d)
		finBefore := c.SM.H[d].FinSeen
		// 4. The state machine, then what reads its result: the reset
		//    diagnosis (the RST's verdict and the states it left) and the
		//    checks (its events).
		evs := c.SM.Step(d, s)
		c.diag.note(c, d, s, finBefore)
		c.chk.check(c, d, s, evs, pre, c.addAnomaly)
		// 5. Wireshark's flags (they read pre and the state machine's
		//    result), then Zeek's and C tcptrace's emulations, which keep
		//    their own state and read only the segment. The statistics
		//    step last: the checks judge this segment against what the
		//    sender had sent before it (stats.Conn.SndMax).
		c.wiresharkFlags(d, s, pre)
		c.zeek.Step(d, s)
		c.stats.Step(d, s)
	}
	if !dup {
		// 6. Reassembly, then the conflict the checks found on this
		//    segment: reassembly reports a conflicting retransmission more
		//    precisely (byte offsets), and flushConflict adds the checks'
		//    one only when reassembly did not report this frame. Then the
		//    ACK releases the peer's stream, after this segment's own data.
		c.stream[d].Segment(s)
		if c.chk != nil && c.chk.conflictSet {
			c.chk.flushConflict(c)
		}
		if s.Flags&tcp.ACK != 0 {
			c.stream[d.Peer()].Acked(s.Ack, s.Frame, s.File)
		}
	}
	// 7. The timeline's row last: it shows the states after the segment
	//    and every anomaly it raised.
	if t.cfg.Rows {
		c.rowAfter(d, s, snap, t.cfg.Explain)
	}
}

// startsNew decides whether segment s, on a tuple whose current connection is
// c, opens a new connection (docs/principles.md#connection-reuse: a closed
// connection absorbs trailing ACKs and retransmissions; only a SYN with a new
// ISN starts a new one).
func (t *Table) startsNew(c *Conn, s *tcp.Segment) bool {
	if s.Flags&(tcp.SYN|tcp.ACK) != tcp.SYN {
		return false // only a bare SYN opens a connection
	}
	d := c.Dir(s)
	if c.isnSet[d] && c.isn[d] == s.Seq {
		return false // the same SYN again: a retransmission
	}
	if c.Closed() {
		return true
	}
	if s.TS-c.lastTS > int64(t.cfg.ReuseIdle) {
		return true
	}
	if c.isnSet[d] {
		// A new ISN from the same side: a new attempt when the first was never
		// answered; on a live, answered connection it stays (an anomaly).
		return c.syns[d.Peer()] == 0
	}
	// No SYN seen from this side yet: a SYN cannot appear inside a connection
	// that already carried data or a FIN (mid-stream capture of an older one).
	return c.nbytes[tcp.Client]+c.nbytes[tcp.Server] > 0 || c.fins[tcp.Client]+c.fins[tcp.Server] > 0
}

// joinOtherVLAN finds the connection of the same tuple on another VLAN that
// this segment's direction has not used yet: the first packet of a direction
// that crosses the capture point on its own VLAN. The same tuple carrying
// both directions on each of two VLANs stays two connections.
func (t *Table) joinOtherVLAN(k connKey, s *tcp.Segment) *Conn {
	o := t.newest(k.tuple) // the latest connection of the tuple, if it is live
	if o == nil || !o.bk.latest || o.key.vlan == k.vlan || o.extra != nil {
		return nil
	}
	if o.Packets[o.Dir(s)] != 0 || s.TS-o.lastTS > int64(t.cfg.ReuseIdle) {
		return nil
	}
	extra := k // only now on the heap: k itself does not escape
	o.extra = &extra
	return o
}

// bury remembers that a connection on tuple k ended at ts (to mark a later
// one on it as a reuse). The memory is bounded like the table: beyond
// MaxConns remembered tuples, new ones are not remembered (the only loss is
// the reused_tuple mark).
func (t *Table) bury(k connKey, ts int64) {
	if t.cfg.MaxConns > 0 && len(t.tombs) >= t.cfg.MaxConns {
		if _, ok := t.tombs[k]; !ok {
			return
		}
	}
	t.tombs[k] = ts
}

const recentBits = 12

func recentSlot(k connKey) uint32 {
	return (uint32(k.tuple.pa)*0x9E3779B1 ^ uint32(k.tuple.pb)*0x85EBCA77) >> (32 - recentBits)
}

// hasKey reports whether k is one of c's keys.
func (c *Conn) hasKey(k connKey) bool {
	if c.key == k {
		return true
	}
	return c.extra != nil && *c.extra == k
}

// touch makes c the most recently active connection (its LastTS set).
func (t *Table) touch(c *Conn) {
	t.lru.moveToBack(c)
	switch {
	case c.lastTS >= t.maxTS:
		t.maxTS = c.lastTS
		if c.bk.odd {
			delete(t.odd, c)
			c.bk.odd = false
		}
	case !c.bk.odd:
		t.odd[c] = struct{}{}
		c.bk.odd = true
	}
}

// makeRoom finishes the least recently active connections while the table
// is at its cap.
func (t *Table) makeRoom() {
	for t.cfg.MaxConns > 0 && t.lru.n >= t.cfg.MaxConns {
		c := t.lru.head
		t.evict(c)
		t.buryAll(c)
		c.evictedEarly = true
		t.evicted++
		if t.retire != nil {
			t.retire(c)
		}
	}
}

// connBlock is the state of one connection in a single allocation. The
// table recycles blocks of finished connections (Table.recycle): the steady
// state allocates no connection state.
type connBlock struct {
	cs   connState
	sm   statemachine.Conn
	r    [2]reassembly.Stream
	chk  checker
	diag diag
	st   stats.Conn
	zk   zeek.Tracker
	ws   wsflags.Analyzer
}

// maxFreeBlocks bounds the recycled blocks kept (6 KB each): enough for the
// connections one sweep finishes on a busy link, so that the next second's
// new connections allocate nothing. Sweep trims the list to what was used
// since the sweep before.
const maxFreeBlocks = 4096

// minFreeBlocks are kept even when fewer connections were created since the
// last sweep (Sweep trims the rest).
const minFreeBlocks = 256

// recycle gives the state of a finished connection back for a new one. The
// caller must hold no reference into it: its report records are built and
// no tap or timeline row refers to it (Config.Tap and Config.Rows runs do
// not recycle).
func (t *Table) recycle(c *Conn) {
	if t.cfg.Tap != nil || t.cfg.Rows {
		return
	}
	if c.connState != nil && len(t.free) < maxFreeBlocks {
		t.free = append(t.free, c.blk)
	}
	if len(t.freeConns) < maxFreeBlocks {
		c.connState = nil
		t.freeConns = append(t.freeConns, c)
	}
}

// create makes the connection of segment s, with key k: embryonic when the
// table is tiered and s can be held (tier.go), else with its whole state.
func (t *Table) create(k connKey, s *tcp.Segment) *Conn {
	t.makeRoom()
	id := t.nextID
	if t.posIDs {
		id = t.pos
	}
	t.createdSince++
	var c *Conn
	if n := len(t.freeConns); n > 0 {
		c, t.freeConns = t.freeConns[n-1], t.freeConns[:n-1]
	} else {
		c = &Conn{}
	}
	*c = Conn{
		identity: identity{ID: id, key: k},
		extent:   extent{firstFile: int32(s.File), FirstFrame: s.Frame, firstTS: s.TS},
		held:     c.held[:0],
	}
	t.nextID++
	if t.cfg.Frames {
		t.noteFrames(c, k)
	}
	switch {
	case s.Flags&(tcp.SYN|tcp.ACK) == tcp.SYN:
		c.Client, c.Server, c.roleBy = s.Src, s.Dst, roleSYN
	case s.Flags&(tcp.SYN|tcp.ACK) == tcp.SYN|tcp.ACK:
		c.Client, c.Server, c.roleBy = s.Dst, s.Src, roleSYNACK
	default:
		switch serverSide(s.Src.Port(), s.Dst.Port()) {
		case 0:
			c.Client, c.Server, c.roleBy = s.Dst, s.Src, rolePort
		case 1:
			c.Client, c.Server, c.roleBy = s.Src, s.Dst, rolePort
		default:
			c.Client, c.Server, c.roleBy = s.Src, s.Dst, roleFirstPacket
		}
	}
	if !t.tiered || !holdable(s) {
		t.grow(c)
	}
	if o := t.newest(k.tuple); o != nil {
		o.bk.latest = false
	}
	hk := k.tuple.hash()
	c.bk.sameTuple = t.live[hk]
	t.live[hk] = c
	c.bk.live, c.bk.latest = true, true
	if !t.dropAll {
		t.all = append(t.all, c)
	}
	return c
}

// attach gives c its whole state (connState and the analyses), in a
// recycled block when there is one.
func (t *Table) attach(c *Conn) {
	var b *connBlock
	if n := len(t.free); n > 0 {
		b, t.free = t.free[n-1], t.free[:n-1]
	} else {
		b = &connBlock{}
	}
	cs := &b.cs
	*cs = connState{
		blk:         b,
		byteStreams: byteStreams{gaps: cs.gaps[:0]},
		findings:    findings{anomalies: cs.anomalies[:0], anomCount: cs.anomCount},
	}
	clear(cs.anomCount)
	c.connState = cs
	b.sm.Init()
	c.SM = &b.sm
	if !t.cfg.StreamsOnly {
		b.zk.Init(zeek.DefaultConfig())
		b.ws.Init(wsflags.DefaultConfig())
		b.st.Reset()
		b.diag = diag{}
		b.chk = checker{checksums: t.cfg.Checksums, stable: t.stablePayload,
			recentSeq: [2][]seqnum.Value{b.chk.recentSeq[0][:0], b.chk.recentSeq[1][:0]},
			recent:    [2][]recentSeg{b.chk.recent[0][:0], b.chk.recent[1][:0]}}
		c.zeek, c.stats, c.ws, c.chk, c.diag = &b.zk, &b.st, &b.ws, &b.chk, &b.diag
	}
	c.budget.Limit, c.sh.c = t.cfg.ConnBudget, c
	rc := reassembly.Config{History: t.cfg.History, Stable: t.stablePayload}
	b.r[tcp.Client].Init(tcp.Client, rc, &c.sh, &c.budget, &t.pool)
	b.r[tcp.Server].Init(tcp.Server, rc, &c.sh, &c.budget, &t.pool)
	c.stream = [2]*reassembly.Stream{&b.r[tcp.Client], &b.r[tcp.Server]}
	if t.cfg.Tap != nil {
		c.tap = t.cfg.Tap(c)
	}
}

// wellKnown lists registered service ports above 1023 that are servers far
// more often than clients.
var wellKnown = map[uint16]bool{
	1080: true, 1433: true, 1521: true, 1883: true, 2049: true, 2181: true, 2375: true,
	2376: true, 3000: true, 3128: true, 3306: true, 3389: true, 4222: true, 5000: true,
	5060: true, 5061: true, 5222: true, 5432: true, 5672: true, 5900: true, 5984: true,
	6379: true, 6443: true, 6666: true, 6667: true, 6669: true, 8000: true, 8008: true,
	8053: true, 8080: true, 8081: true, 8443: true, 8888: true, 9000: true, 9042: true,
	9090: true, 9092: true, 9200: true, 9300: true, 11211: true, 27017: true,
}

// serverSide guesses which port is the server's: 0 for the first (the
// sender's source port), 1 for the second, -1 when the ports do not tell.
func serverSide(p0, p1 uint16) int {
	w0, w1 := p0 < 1024, p1 < 1024
	if w0 != w1 {
		if w0 {
			return 0
		}
		return 1
	}
	k0, k1 := wellKnown[p0], wellKnown[p1]
	if k0 != k1 {
		if k0 {
			return 0
		}
		return 1
	}
	// An ephemeral port (IANA 49152+, Linux 32768+) against a lower one.
	e0, e1 := p0 >= 32768, p1 >= 32768
	if e0 != e1 {
		if e0 {
			return 1
		}
		return 0
	}
	return -1
}

// addAnomaly records an anomaly of this connection.
func (c *Conn) addAnomaly(a anomaly) {
	if c.anomCount == nil {
		c.anomCount = map[anomKind]int64{}
	}
	c.anomCount[a.Kind]++
	if len(c.anomalies) >= maxAnomalyRecords {
		c.anomDropped++
		return
	}
	c.anomalies = append(c.anomalies, a)
}

// maxAnomalyRecords is how many anomaly records a connection keeps (its
// per-kind counts stay exact): a connection cannot hold memory per packet.
const maxAnomalyRecords = 10_000
