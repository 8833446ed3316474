package stats

import (
	"testing"

	"github.com/tcptrace/tcptrace/seqnum"
	"github.com/tcptrace/tcptrace/tcp"
)

// TestSeqspaceBound checks that the segment database's backing arrays stay
// bounded under a flood of never-ACKed segments, and that coalescing keeps
// the coverage needed to recognise a retransmission of old data.
func TestSeqspaceBound(t *testing.T) {
	for _, gap := range []uint32{0, 7} {
		c := New()
		var seg tcp.Segment
		const n = 5 * MaxTrackedSegments
		seq := uint32(0xC0000000 - 50*MaxTrackedSegments) // crosses a quadrant boundary on the way
		first := seq
		for i := 0; i < n; i++ {
			seg = tcp.Segment{TS: int64(i) * 1000, Seq: seqnum.Value(seq), Flags: tcp.ACK, Len: 100, Window: 100}
			c.Step(0, &seg)
			seq += 100 + gap
		}
		ss := &c.d[0].ss
		total := 0
		for q := range ss.q {
			total += len(ss.q[q].buf)
			if ss.q[q].n() < 0 || ss.q[q].hi > len(ss.q[q].buf) {
				t.Fatalf("quadrant %d: bad bounds lo %d hi %d len %d", q, ss.q[q].lo, ss.q[q].hi, len(ss.q[q].buf))
			}
		}
		if ss.n > MaxTrackedSegments || total > 4*MaxTrackedSegments {
			t.Errorf("gap %d: %d records, %d slots allocated", gap, ss.n, total)
		}
		if gap == 0 {
			// Coalesced, not forgotten: the first segment is still known.
			seg.Seq = seqnum.Value(first)
			before := c.d[0].rexmtPkts
			c.Step(0, &seg)
			if c.d[0].rexmtPkts != before+1 {
				t.Errorf("retransmission of coalesced data not recognised")
			}
		}
	}
}

// TestCollapse checks that ACKed neighbours merge into one record.
func TestCollapse(t *testing.T) {
	c := New()
	for i := 0; i < 100; i++ {
		seg := tcp.Segment{TS: int64(i), Seq: seqnum.Value(1 + 100*i), Flags: tcp.ACK, Len: 100}
		c.Step(0, &seg)
	}
	ack := tcp.Segment{TS: 1000, Seq: 1, Ack: seqnum.Value(1 + 100*60), Flags: tcp.ACK}
	c.Step(1, &ack)
	if n := c.d[0].ss.n; n != 41 {
		t.Errorf("%d records after ACKing 60 of 100 segments, want 41 (one ACKed prefix + 40)", n)
	}
}
