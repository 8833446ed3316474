// Package stats computes tcptrace's per-connection, per-direction statistics
// (the `tcptrace -l -r` list: packet, byte, retransmission, window and RTT
// figures) with tcptrace 6.6.7's definitions, from decoded segments.
// docs/statistics.md defines each figure beside its tcptrace label.
//
// The semantics follow tcptrace's trace.c (dotrace) and rexmit.c
// statement by statement, including its choices (SYN and FIN count in
// retransmitted bytes, a zero-window probe is not checked for
// retransmission, BSD duplicate-ACK rules). It departs from tcptrace only
// where tcptrace is wrong: sequence numbers are compared with serial-number
// arithmetic everywhere (tcptrace compares SACK edges and a few others as
// plain integers), an MSS of 32768 or more is not sign-extended, a
// window-scale shift above 14 is taken as 14 (RFC 7323; tcptrace ignores a
// shift of 255), the RTT minimum is the true minimum (tcptrace forgets a
// 0 µs sample), the payload length is the decoder's (segmentation offload,
// jumbograms, reassembled fragments) and timestamps keep nanoseconds.
//
// Memory is bounded per direction: the segment database holds at most
// MaxTrackedSegments records and the timestamp-echo table a fixed ring; in
// the steady state Step does not allocate.
package stats

import (
	"math"

	"github.com/tcptrace/tcptrace/report"
	"github.com/tcptrace/tcptrace/tcp"

	"github.com/tcptrace/tcptrace/seqnum"
)

// DirStats is the report model's per-direction statistics (plain data).
type DirStats = report.DirStats

// Result is a connection's statistics; Dir is indexed like analyze's
// directions (0 = client → server).
type Result struct {
	Dir         [2]DirStats `json:"dir"`
	DurationSec float64     `json:"duration_s"` // first to last packet
	Closed      bool        `json:"closed"`     // FINs both ways or a RST
}

// acc accumulates samples (ns) for min/avg/max/stdev.
type acc struct {
	n          int64
	min, max   int64
	sum, sumSq float64
}

func (a *acc) add(v int64) {
	if a.n == 0 || v < a.min {
		a.min = v
	}
	if a.n == 0 || v > a.max {
		a.max = v
	}
	a.n++
	f := float64(v)
	a.sum += f
	a.sumSq += f * f
}

func ms(ns int64) float64 { return float64(ns) / 1e6 }

// msStats returns min, avg, max and stdev in ms.
func (a *acc) msStats() (mn, avg, mx, sd float64) {
	if a.n == 0 {
		return
	}
	avg = a.sum / float64(a.n) / 1e6
	if a.n > 1 {
		v := (a.sumSq - a.sum*a.sum/float64(a.n)) / float64(a.n-1)
		if v > 0 {
			sd = math.Sqrt(v) / 1e6
		}
	}
	return ms(a.min), avg, ms(a.max), sd
}

const tsRingSize = 32

// tsRing remembers when this direction first sent each recent TSval: up to
// tsRingSize of them, a ring once full. It grows as timestamps come (and
// keeps its array when the connection's state is recycled: Reset), so that
// a short connection does not carry half a kilobyte of empty ring.
type tsRing struct {
	e    []tsEntry
	head int // next slot: len(e) until the ring is full
}

// tsEntry is one TSval and when it was first sent.
type tsEntry struct {
	ts   int64
	val  uint32
	used bool // already echoed: only the first echo is a sample
}

// tsRingFirst is the room a ring starts with.
const tsRingFirst = 8

func (r *tsRing) record(v uint32, now int64) {
	if len(r.e) > 0 && r.e[(r.head+tsRingSize-1)%tsRingSize].val == v {
		return
	}
	if r.head == len(r.e) { // not full yet
		if cap(r.e) == 0 {
			r.e = make([]tsEntry, 0, tsRingFirst)
		}
		r.e = append(r.e, tsEntry{ts: now, val: v})
	} else {
		r.e[r.head] = tsEntry{ts: now, val: v}
	}
	r.head = (r.head + 1) % tsRingSize
}

// echo returns the send time of TSval v the first time it is echoed.
func (r *tsRing) echo(v uint32) (int64, bool) {
	for i := 1; i <= len(r.e); i++ {
		j := (r.head + tsRingSize - i) % tsRingSize
		if e := &r.e[j]; e.val == v {
			if e.used {
				return 0, false
			}
			e.used = true
			return e.ts, true
		}
	}
	return 0, false
}

// dirState is tcptrace's tcb: one direction's state and counters.
type dirState struct {
	ack, syn, fin, latestSeq seqnum.Value
	sndMax                   seqnum.Value // highest sequence number sent + 1
	highAck                  seqnum.Value // highest plausible ACK received for this side's data
	sndMaxOK, highAckOK      bool

	synCount, finCount, rstCount int64
	mss                          int
	wsReq, tsReq, sackReq        bool
	wscale                       uint8
	winScaledFlag                bool // window stats restarted at the first scaled window
	winScaledPkts                int64

	packets, dataPkts, dataBytes, pushed, unique int64
	rexmtPkts, rexmtBytes, ackPkts, pureAcks     int64
	winMax, winMin, winTot, winLast              uint64
	winZero                                      int64
	segMin, segMax                               int64
	outOfOrder, sackPkts, dsackPkts              int64
	maxSACK                                      int
	urgPkts, urgBytes                            int64
	zwndPkts, zwndBytes                          int64
	truncBytes, truncPkts                        int64
	initWinBytes, initWinPkts                    int64
	dataAcked                                    bool
	owinTot                                      bool // tcptrace's owin_tot > 0
	maxInFlight                                  int64

	quadSeen [4]bool
	wraps    int64

	hwSeq [8]seqnum.Value
	hwID  [8]uint16
	hwIx  int
	hwDup int64

	lastTime, firstData, lastData int64
	hasLast, hasData              bool
	idleMax                       int64

	ss                                  seqspace
	rtt, rto, tsRTT                     acc
	rttLast                             int64
	rttLastOK                           bool
	rtt3WHS                             int64
	rtt3WHSOK                           bool
	ambiguousAcks, postLossAcks, cumAck int64
	dupAcks, tripleDupAcks              int64
	maxRetrans                          int
	tsSent                              tsRing
}

// Conn is the statistics state of one connection, both directions.
type Conn struct {
	d           [2]dirState
	first, last int64
	started     bool
}

// New returns an empty connection.
func New() *Conn { return &Conn{} }

// maxKeptSegments is the largest segment array of a quadrant that Reset
// keeps for the next connection (a long connection's may be far larger).
const maxKeptSegments = 64

// Reset makes c an empty connection again, keeping its arrays (the
// timestamp rings, the quadrants' segment records while they are small) for
// the connection that reuses it.
func (c *Conn) Reset() {
	var keep [2]struct {
		ts []tsEntry
		q  [4][]segment
	}
	for i := range c.d {
		d := &c.d[i]
		keep[i].ts = d.tsSent.e[:0]
		for j := range d.ss.q {
			if b := d.ss.q[j].buf; cap(b) <= maxKeptSegments {
				keep[i].q[j] = b
			}
		}
	}
	*c = Conn{}
	for i := range c.d {
		d := &c.d[i]
		d.tsSent.e = keep[i].ts
		for j := range d.ss.q {
			d.ss.q[j].buf = keep[i].q[j]
		}
	}
}

// Step accounts segment s, sent in direction dir. It is a direct port and
// keeps its source's shape: the per-segment accounting of tcptrace
// 6.6.7's trace.c dotrace(), in its order, and rexmit.c (addseg, rexmit)
// for retransmissions (docs/statistics.md maps each statistic to it).
func (c *Conn) Step(dir tcp.Dir, s *tcp.Segment) {
	now := s.TS
	if !c.started {
		c.first, c.started = now, true
	}
	c.last = now
	t, o := &c.d[dir], &c.d[dir.Peer()]
	syn := s.Flags&tcp.SYN != 0
	fin := s.Flags&tcp.FIN != 0
	rst := s.Flags&tcp.RST != 0
	ack := s.Flags&tcp.ACK != 0
	if syn {
		t.synCount++
	}
	if rst {
		t.rstCount++
	}
	if fin {
		t.finCount++
	}

	// The effective window: scaled once both sides asked for scaling, never
	// in a SYN (RFC 7323 §2.2), with the shift known before this packet.
	var effWin uint64
	if ack || syn {
		effWin = uint64(s.Window)
		if t.wsReq && o.wsReq && !syn {
			effWin <<= t.wscale
		}
	}

	if t.hasLast {
		if it := elapsed(t.lastTime, now); it > t.idleMax {
			t.idleMax = it
		}
	}
	t.lastTime, t.hasLast = now, true

	dlen := s.Len
	start := s.Seq
	end := start.Add(seqnum.Size(dlen))

	// Sequence-space wrap count, for the stream length: all four quadrants
	// visited and back in the SYN's quadrant past it.
	if t.quadSeen == [4]bool{true, true, true, true} {
		if quadOf(t.syn) == quadOf(end) && t.syn.LessThanEq(end) {
			t.wraps++
			t.quadSeen = [4]bool{}
		}
	}
	t.quadSeen[quadOf(start)] = true
	t.quadSeen[quadOf(end)] = true

	if syn {
		t.syn = start
		o.ack = start // tcptrace: the peer's "last ACK" starts at our ISN
	}
	if fin {
		t.fin = end
	}

	opts := &s.Opts
	if opts.HasMSS {
		t.mss = int(opts.MSS)
	}
	if opts.HasWScale {
		// RFC 7323 §2.3: a shift above 14 is taken as 14.
		t.wscale, t.wsReq = min(opts.WScale, 14), true
	}
	if opts.HasTS {
		t.tsReq = true
	}
	if !syn && (!t.wsReq || !o.wsReq) {
		t.wscale, o.wscale = 0, 0
	}
	if opts.SACKPerm {
		t.sackReq = true
	}
	nsack := int(opts.NSACK)

	// Timestamp-echo RTT (not in tcptrace).
	if opts.HasTS {
		t.tsSent.record(opts.TSVal, now)
		if ack && opts.TSEcr != 0 {
			if sent, ok := o.tsSent.echo(opts.TSEcr); ok {
				o.tsRTT.add(elapsed(sent, now))
			}
		}
	}

	if dlen > 0 {
		t.dataPkts++
		if s.Flags&tcp.PSH != 0 {
			t.pushed++
		}
		t.dataBytes += int64(dlen)
		if s.Flags&tcp.URG != 0 {
			t.urgPkts++
			t.urgBytes += int64(s.Urgent)
		}
		if int64(dlen) > t.segMax {
			t.segMax = int64(dlen)
		}
		if t.segMin == 0 || int64(dlen) < t.segMin {
			t.segMin = int64(dlen)
		}
		if !t.hasData {
			t.firstData, t.hasData = now, true
		}
		t.lastData = now
	}

	t.packets++
	if t.winScaledFlag {
		t.winScaledPkts++
	}
	t.latestSeq = end
	if nxt := start.Add(s.LogicalLen()); !t.sndMaxOK || t.sndMax.LessThan(nxt) {
		t.sndMax, t.sndMaxOK = nxt, true
	}

	t.hwDupCheck(s)

	if dlen > 0 {
		if missing := dlen - min(len(s.Payload), dlen); missing > 0 {
			t.truncBytes += int64(missing)
			t.truncPkts++
		}
	}

	// Retransmissions, out of order, zero-window probes, unique bytes.
	var rexBytes int64
	outOfOrder := false
	if syn || fin || dlen > 0 {
		l := int64(dlen)
		if syn {
			l++
		}
		if fin {
			l++
		}
		var rcnt int64
		probe := o.winLast == 0 && o.packets > 0
		if probe {
			// Sent into a closed window: a probe, not checked for
			// retransmission (nor recorded).
			t.zwndPkts++
			t.zwndBytes += int64(dlen)
		} else {
			rcnt, outOfOrder = t.rexmit(start, uint32(l), now)
			rexBytes = rcnt
		}
		if outOfOrder {
			t.outOfOrder++
		}
		if syn {
			l--
			if t.synCount > 1 {
				rcnt--
			}
		}
		if fin {
			l--
			if t.finCount > 1 {
				rcnt--
			}
		}
		if !probe && rcnt < l {
			t.unique += l - rcnt
		}
	}

	if ack {
		o.ackIn(t, s.Ack, dlen, effWin, now)
		if s.Ack == o.syn.Add(1) && o.synCount == 1 {
			o.rtt3WHS, o.rtt3WHSOK = o.rttLast, o.rttLastOK
		}
		if o.sndMaxOK && s.Ack.LessThanEq(o.sndMax) && (!o.highAckOK || o.highAck.LessThan(s.Ack)) {
			o.highAck, o.highAckOK = s.Ack, true
		}
	}

	retrans := rexBytes > 0
	if retrans {
		t.rexmtPkts++
		t.rexmtBytes += rexBytes
	}

	if rst {
		if ack {
			t.ackPkts++
		}
		return
	}

	// Window statistics (the SYN's window included).
	t.winLast = effWin
	if ack || syn {
		if effWin > t.winMax {
			t.winMax = effWin
		}
		if effWin > 0 && t.wsReq && o.wsReq && !syn && !t.winScaledFlag {
			// First scaled window: forget the SYN's unscaled one.
			t.winScaledFlag = true
			t.winMin, t.winMax = effWin, effWin
			t.winTot = 0
			t.winScaledPkts = 1
		} else if effWin > 0 && (t.winMin == 0 || effWin < t.winMin) {
			t.winMin = effWin
		}
		t.winTot += effWin
	}

	if ack {
		if effWin == 0 {
			t.winZero++
		}
		t.ackPkts++
		if dlen == 0 && !syn && !fin {
			t.pureAcks++
		}
		if nsack > 0 {
			t.sackPkts++
			if nsack > t.maxSACK {
				t.maxSACK = nsack
			}
			if isDSACK(s) {
				t.dsackPkts++
			}
		}
		t.ack = s.Ack
	}

	// Initial window: data sent before the peer ACKed any (non-SYN) data.
	if !o.dataAcked && ack && o.syn.Add(1) != s.Ack {
		o.dataAcked = true
	}
	if dlen > 0 && !t.dataAcked && !retrans {
		t.initWinBytes += int64(dlen)
		t.initWinPkts++
	}

	// Outstanding data, for new in-order data only.
	if !syn && !outOfOrder && !retrans {
		if o.ack == 0 {
			t.owinTot = t.owinTot || end != start
		} else {
			t.owinTot = t.owinTot || end != o.ack-1
		}
		if t.highAckOK {
			if f := seqnum.Diff(t.highAck, end); f > t.maxInFlight {
				t.maxInFlight = f
			}
		} else if int64(dlen) > t.maxInFlight {
			t.maxInFlight = int64(dlen)
		}
	}
}

// hwDupCheck counts tcptrace's hardware duplicates: the same IPv4 ID and
// sequence number as one of the last 8 packets of this direction.
func (t *dirState) hwDupCheck(s *tcp.Segment) {
	if s.IPv6 {
		return
	}
	start, id := s.Seq, uint16(s.IPID)
	for i := range t.hwSeq {
		if t.hwSeq[i] == start && t.hwID[i] == id && start != 0 && id != 0 {
			t.hwDup++
			return
		}
	}
	t.hwSeq[t.hwIx], t.hwID[t.hwIx] = start, id
	t.hwIx = (t.hwIx + 1) % len(t.hwSeq)
}

// SndMax returns the highest sequence number direction dir sent, plus one
// (SYN and FIN count one), from its own segments as captured so far:
// tcptrace's snd_max (the state machine's Max also moves on ACKs of data
// the capture never held). ok is false before its first segment. The
// engine's checks read it here rather than keep a copy of their own.
func (c *Conn) SndMax(dir tcp.Dir) (v seqnum.Value, ok bool) {
	return c.d[dir].sndMax, c.d[dir].sndMaxOK
}

// Duplicate accounts segment s, sent in direction dir, that is a copy of the
// previous segment of that direction captured twice (a SPAN or hardware
// duplicate: analyze's duplicate_frame). The sender sent it once, so it is
// not counted at all (no packet, no data, no retransmission, no ACK or
// duplicate ACK, no window sample), except as a hardware duplicate when
// tcptrace's test says so. tcptrace counts such a copy as a retransmission
// (rexmt_pkts/rexmt_bytes) and, through Karn's rule, loses the RTT sample of
// the original; Step keeps its behaviour for callers that want it (the
// oracle test).
func (c *Conn) Duplicate(dir tcp.Dir, s *tcp.Segment) {
	c.d[dir].hwDupCheck(s)
}

// isDSACK applies tcptrace's D-SACK tests to the first SACK block (RFC 2883
// §4: below the cumulative ACK, or inside/overlapping the second block).
func isDSACK(s *tcp.Segment) bool {
	b0 := s.Opts.SACK[0]
	if b0.Right.LessThanEq(s.Ack) {
		return true
	}
	if s.Opts.NSACK < 2 {
		return false
	}
	b1 := s.Opts.SACK[1]
	if b0.Right.LessThanEq(b1.Right) && b1.Left.LessThanEq(b0.Left) {
		return true
	}
	return (b0.Left.LessThanEq(b1.Left) && b1.Left.LessThan(b0.Right)) ||
		(b1.Right.LessThanEq(b0.Right) && b0.Left.LessThan(b1.Right))
}

// RTT returns the RTT samples of direction dir and their average in ms, as
// Result gives them (RTTSamples, RTTAvgMs), without the rest.
func (c *Conn) RTT(dir tcp.Dir) (samples int64, avgMs float64) {
	a := &c.d[dir].rtt
	_, avgMs, _, _ = a.msStats()
	return a.n, avgMs
}

// Result returns the statistics so far; lastTS is the time of the capture's
// last packet, which ends the idle time of connections still open.
func (c *Conn) Result(lastTS int64) Result {
	var r Result
	r.Closed = (c.d[0].finCount > 0 && c.d[1].finCount > 0) || c.d[0].rstCount+c.d[1].rstCount > 0
	dur := elapsed(c.first, c.last)
	r.DurationSec = float64(dur) / 1e9
	for _, i := range tcp.Dirs {
		d := &c.d[i]
		o := &r.Dir[i]
		o.Packets = d.packets
		o.RSTs = d.rstCount
		o.AckPkts = d.ackPkts
		o.PureAcks = d.pureAcks
		o.SACKPkts = d.sackPkts
		o.DSACKPkts = d.dsackPkts
		o.MaxSACKBlocks = d.maxSACK
		o.UniqueBytes = d.unique
		o.DataPkts = d.dataPkts
		o.DataBytes = d.dataBytes
		o.RexmtPkts = d.rexmtPkts
		o.RexmtBytes = d.rexmtBytes
		o.ZWndProbePkts = d.zwndPkts
		o.ZWndProbeBytes = d.zwndBytes
		o.OutOfOrderPkts = d.outOfOrder
		o.PushedPkts = d.pushed
		o.SYNs = d.synCount
		o.FINs = d.finCount
		o.UrgentPkts = d.urgPkts
		o.UrgentBytes = d.urgBytes
		o.HWDups = d.hwDup
		o.WScaleReq = d.wsReq
		o.TimestampsReq = d.tsReq
		o.SACKReq = d.sackReq
		o.AdvWindowScale = int(d.wscale)
		o.MSS = d.mss
		o.SegSizeMin = d.segMin
		o.SegSizeMax = d.segMax
		if d.dataPkts > 0 {
			o.SegSizeAvg = float64(d.dataBytes) / float64(d.dataPkts)
		}
		o.WinMin = int64(d.winMin)
		o.WinMax = int64(d.winMax)
		switch {
		case d.packets == 0:
		case d.winScaledFlag && c.d[i.Peer()].winScaledFlag:
			// tcptrace averages over the scaled packets only once both
			// directions have advertised a scaled window.
			o.WinAvg = float64(d.winTot) / float64(d.winScaledPkts)
		default:
			o.WinAvg = float64(d.winTot) / float64(d.packets)
		}
		o.ZeroWinAdv = d.winZero
		o.InitWinBytes = d.initWinBytes
		o.InitWinPkts = d.initWinPkts
		o.MaxInFlight = d.maxInFlight
		if d.synCount > 0 && d.finCount > 0 {
			last := d.fin
			if d.rstCount > 0 {
				last = d.latestSeq
			}
			span := int64(uint32(last - d.syn))
			if span == 0 {
				span = 1 << 32
			}
			o.HasStreamLen = true
			o.StreamLength = span - 1 + d.wraps<<32
			o.MissedData = o.StreamLength - d.unique
		}
		o.TruncBytes = d.truncBytes
		o.TruncPkts = d.truncPkts
		if d.hasData {
			o.DataXmitSec = float64(elapsed(d.firstData, d.lastData)) / 1e9
		}
		idle := d.idleMax
		if !r.Closed && d.hasLast {
			idle = max(idle, elapsed(d.lastTime, lastTS))
		}
		o.IdleMaxMs = ms(idle)
		if dur > 0 {
			o.ThroughputBps = float64(d.dataBytes) / r.DurationSec
			o.GoodputBps = float64(d.unique) / r.DurationSec
		}
		o.RTTSamples = d.rtt.n
		o.RTTMinMs, o.RTTAvgMs, o.RTTMaxMs, o.RTTStdevMs = d.rtt.msStats()
		o.HandshakeRTT, o.HandshakeRTTMs = d.rtt3WHSOK, ms(d.rtt3WHS)
		o.AmbiguousAcks = d.ambiguousAcks
		o.PostLossAcks = d.postLossAcks
		o.CumAcked = d.cumAck
		o.DupAcks = d.dupAcks
		o.TripleDupAcks = d.tripleDupAcks
		o.TSRTTSamples = d.tsRTT.n
		o.TSRTTMinMs, o.TSRTTAvgMs, o.TSRTTMaxMs, _ = d.tsRTT.msStats()
		o.MaxRetrans = d.maxRetrans
		o.RetransCount = d.rto.n
		o.RetransMinMs, o.RetransAvgMs, o.RetransMaxMs, _ = d.rto.msStats()
		o.SegmentsEvicted = d.ss.evicted
	}
	return r
}
