package wsflags

import (
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/seqnum"
	"github.com/tcptrace/tcptrace/tcp"
)

// wsStep is one segment of a replay and the flags Wireshark gives it.
type wsStep struct {
	dir      tcp.Dir
	flags    tcp.Flags
	seq, ack uint32
	n        int
	win      uint16
	at       time.Duration
	want     Flag
}

const (
	wsS  = tcp.SYN
	wsA  = tcp.ACK
	wsSA = tcp.SYN | tcp.ACK
)

// wsHandshake: client ISN 1000, server ISN 5000, no window scaling; the
// handshake RTT (SYN → ACK) is 10.04 ms.
var wsHandshake = []wsStep{
	{0, wsS, 1000, 0, 0, 10000, 0, 0},
	{1, wsSA, 5000, 1001, 0, 20000, 10 * time.Millisecond, 0},
	{0, wsA, 1001, 5001, 0, 10000, 10040 * time.Microsecond, 0},
}

// TestDupACKCount checks Wireshark's duplicate-ACK count and the fast
// retransmission it leads to (packet-tcp.c, tcp_analyze_sequence_number):
// only a segment whose ACK number differs from its sender's previous one
// restarts the count, and a retransmission is fast when its sequence number
// is the ACK the peer repeated at least twice and it comes less than 20 ms
// after the peer's last segment. In each case the server's segment at 5001
// was lost before the capture point.
func TestDupACKCount(t *testing.T) {
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	retx := Retransmission
	fast := FastRetransmission | Retransmission
	// lost: the server's 5001 was lost; 6001 (or second) arrives, then
	// 7001, each answered by a duplicate ACK of 5001.
	lost := func(second uint32) []wsStep {
		return append(append([]wsStep{}, wsHandshake...),
			wsStep{1, wsA, 6001, 1001, 1000, 20000, ms(20), LostSegment},
			wsStep{0, wsA, 1001, 5001, 0, 10000, ms(20.04), DuplicateAck},
			wsStep{1, wsA, second, 1001, 1000, 20000, ms(30), map[bool]Flag{true: LostSegment}[second != 7001]},
			wsStep{0, wsA, 1001, 5001, 0, 10000, ms(30.04), DuplicateAck})
	}
	tests := []struct {
		name   string
		second uint32 // sequence number of the second data segment captured
		steps  []wsStep
	}{
		{"dup ACK, dup ACK, retransmission: fast", 7001, []wsStep{
			{1, wsA, 5001, 1001, 1000, 20000, ms(40.04), fast},
		}},
		{"dup ACK, dup ACK, window update, retransmission: still fast", 7001, []wsStep{
			{0, wsA, 1001, 5001, 0, 15000, ms(33), WindowUpdate},
			{1, wsA, 5001, 1001, 1000, 20000, ms(43), fast},
		}},
		{"a data segment repeating the ACK keeps the count", 7001, []wsStep{
			{0, wsA | tcp.PSH, 1001, 5001, 100, 10000, ms(33), 0},
			{1, wsA, 5001, 1101, 1000, 20000, ms(43), fast},
		}},
		{"a keep-alive repeating the ACK keeps the count", 7001, []wsStep{
			{0, wsA, 1000, 5001, 0, 10000, ms(33), KeepAlive},
			{1, wsA, 5001, 1001, 1000, 20000, ms(43), fast},
		}},
		{"20 ms after the peer's last segment is too late", 7001, []wsStep{
			{1, wsA, 5001, 1001, 1000, 20000, ms(50.04), retx},
		}},
		{"a new ACK number restarts the count", 8001, []wsStep{
			// 7001 was lost too. The first hole is repaired; the ACK moves
			// to 7001 and is repeated once.
			{1, wsA, 5001, 1001, 1000, 20000, ms(40.04), fast},
			{0, wsA, 1001, 7001, 0, 10000, ms(40.08), 0},
			{0, wsA, 1001, 7001, 0, 10000, ms(41), DuplicateAck},
			{1, wsA, 7001, 1001, 1000, 20000, ms(51), retx},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			replayFlags(t, append(lost(tt.second), tt.steps...))
		})
	}
}

// TestOutOfOrderThreshold: without a handshake, a segment below the highest
// sequence number sent is out of order when it comes less than 3 ms after
// that number last advanced (and does not end there), else a
// retransmission; with a handshake the threshold is its RTT (10.04 ms here).
func TestOutOfOrderThreshold(t *testing.T) {
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	tests := []struct {
		name  string
		steps []wsStep
	}{
		{"mid-stream, 1 ms after: out of order", []wsStep{
			{1, wsA, 5001, 1001, 1000, 20000, 0, 0},
			{1, wsA, 7001, 1001, 1000, 20000, ms(1), LostSegment},
			{1, wsA, 6001, 1001, 1000, 20000, ms(2), OutOfOrder},
		}},
		{"mid-stream, 4 ms after: retransmission", []wsStep{
			{1, wsA, 5001, 1001, 1000, 20000, 0, 0},
			{1, wsA, 7001, 1001, 1000, 20000, ms(1), LostSegment},
			{1, wsA, 6001, 1001, 1000, 20000, ms(5), Retransmission},
		}},
		{"after a handshake, 8 ms after: out of order", append(append([]wsStep{}, wsHandshake...),
			wsStep{1, wsA, 5001, 1001, 1000, 20000, ms(20), 0},
			wsStep{1, wsA, 7001, 1001, 1000, 20000, ms(21), LostSegment},
			wsStep{1, wsA, 6001, 1001, 1000, 20000, ms(29), OutOfOrder},
		)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { replayFlags(t, tt.steps) })
	}
}

// replayFlags steps an analyzer through steps (frames 1.., times 1 s + at)
// and checks the exact flags of each.
func replayFlags(t *testing.T, steps []wsStep) {
	t.Helper()
	a := New(DefaultConfig())
	for i, st := range steps {
		s := &tcp.Segment{Frame: int64(i + 1), TS: int64(time.Second + st.at), Flags: st.flags,
			Seq: seqnum.Value(st.seq), Ack: seqnum.Value(st.ack), Len: st.n, Window: st.win}
		got := a.Step(st.dir, s).Flags
		if got != st.want {
			t.Errorf("frame %d (%s seq %d ack %d len %d): flags %s, want %s", i+1, st.dir,
				st.seq, st.ack, st.n, flagNames(got), flagNames(st.want))
		}
	}
}

func flagNames(f Flag) string {
	s := ""
	f.Each(func(x Flag) {
		if s != "" {
			s += ","
		}
		s += x.Name()
	})
	if s == "" {
		return "none"
	}
	return s
}
