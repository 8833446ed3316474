package stats_test

import (
	"testing"

	"github.com/tcptrace/tcptrace/analyze/stats"
	"github.com/tcptrace/tcptrace/seqnum"
	"github.com/tcptrace/tcptrace/tcp"
)

// TestDuplicateIsNoRetransmission: a frame captured twice (a SPAN
// duplicate), given to Duplicate, leaves every statistic as if it had been
// captured once (hw_dups aside); given to Step, tcptrace's way, it counts as
// a retransmission.
func TestDuplicateIsNoRetransmission(t *testing.T) {
	isn := [2]uint32{1000, 5000}
	exchange := cat(handshake(), []pkt{
		{dir: 0, ms: 30, flags: A | P, seq: 1, ack: 1, n: 100, win: 1000},
		{dir: 1, ms: 40, flags: A, seq: 1, ack: 101, win: 2000},
		{dir: 1, ms: 41, flags: A | P, seq: 1, ack: 101, n: 300, win: 2000},
		{dir: 0, ms: 51, flags: A, seq: 101, ack: 301, win: 1000},
		{dir: 0, ms: 52, flags: A | F, seq: 101, ack: 301, win: 1000},
		{dir: 1, ms: 62, flags: A | F, seq: 301, ack: 102, win: 2000},
		{dir: 0, ms: 72, flags: A, seq: 102, ack: 302, win: 1000},
	})
	tests := []struct {
		name       string
		copied     int   // index in exchange of the frame captured twice
		tcptraceRx int64 // rexmt_pkts of its sender when Step counts the copy
	}{
		{"SYN", 0, 1},
		{"SYN-ACK", 1, 1},
		{"request", 3, 1},
		{"pure ACK", 4, 0},
		{"response", 5, 1},
		{"FIN", 7, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			once, _ := feed(isn, exchange, -1, false)
			dup, hw := feed(isn, exchange, tt.copied, false)
			d := exchange[tt.copied].dir
			if hw != 1 {
				t.Errorf("hw_dups %d, want 1", hw)
			}
			dup.Dir[d].HWDups = 0
			if dup != once {
				t.Errorf("with the copy given to Duplicate:\n%+v\nwithout it:\n%+v", dup, once)
			}
			tcptrace, _ := feed(isn, exchange, tt.copied, true)
			if got := tcptrace.Dir[d].RexmtPkts; got != tt.tcptraceRx {
				t.Errorf("tcptrace's way: rexmt_pkts %d, want %d", got, tt.tcptraceRx)
			}
		})
	}
}

// feed runs the exchange, the frame at index copied captured twice (1 µs
// apart, the same IP ID) and given to Step when step is set, else to
// Duplicate. It returns the result and the hw_dups of the copy's sender.
func feed(isn [2]uint32, pkts []pkt, copied int, step bool) (stats.Result, int64) {
	c := stats.New()
	var last int64
	for i, p := range pkts {
		seg := tcp.Segment{
			TS: int64(p.ms * 1e6), Seq: seqnum.Value(isn[p.dir] + p.seq), Ack: seqnum.Value(isn[1-p.dir] + p.ack),
			Flags: p.flags, Window: p.win, Len: p.n, Payload: payload[:p.n], IPID: uint32(100 + i),
		}
		if p.flags&A == 0 {
			seg.Ack = 0
		}
		c.Step(p.dir, &seg)
		last = seg.TS
		if i == copied {
			seg.TS += 1000
			if step {
				c.Step(p.dir, &seg)
			} else {
				c.Duplicate(p.dir, &seg)
			}
		}
	}
	r := c.Result(last)
	if copied < 0 {
		return r, 0
	}
	return r, r.Dir[pkts[copied].dir].HWDups
}
