package zeek

import (
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/internal/decode"
	"github.com/tcptrace/tcptrace/seqnum"
	"github.com/tcptrace/tcptrace/tcp"
)

// The synthetic connection: the client 10.0.0.1:40000 (direction 0, initial
// sequence number 1000) talks to the server 10.0.0.2:80 (direction 1, ISN
// 5000).
var (
	client = netip.MustParseAddrPort("10.0.0.1:40000")
	server = netip.MustParseAddrPort("10.0.0.2:80")
	isn    = [2]uint32{1000, 5000}
)

// step is one synthetic segment; seq and ack are offsets from the sender's
// and the receiver's ISN.
type step struct {
	dir      tcp.Dir
	flags    tcp.Flags
	seq, ack uint32
	n        int
	at       float64 // seconds; 0 = 10 ms after the previous segment
	win0     bool
	bad      bool
}

// p builds a segment from flag letters S A F R P.
func p(dir tcp.Dir, fl string, seq, ack uint32, n int) step {
	var f tcp.Flags
	for _, c := range fl {
		switch c {
		case 'S':
			f |= tcp.SYN
		case 'A':
			f |= tcp.ACK
		case 'F':
			f |= tcp.FIN
		case 'R':
			f |= tcp.RST
		case 'P':
			f |= tcp.PSH
		}
	}
	return step{dir: dir, flags: f, seq: seq, ack: ack, n: n}
}

func (s step) atSec(t float64) step { s.at = t; return s }
func (s step) zeroWin() step        { s.win0 = true; return s }
func (s step) badSum() step         { s.bad = true; return s }

func repeat(n int, s step) []step {
	out := make([]step, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func cat(parts ...[]step) []step {
	var out []step
	for _, x := range parts {
		out = append(out, x...)
	}
	return out
}

// run feeds the steps to a Tracker with cfg.
func run(cfg Config, steps []step) *Tracker {
	tr := NewTrackerWith(cfg)
	ts := int64(1_000_000_000_000_000_000)
	base := ts
	for _, st := range steps {
		if st.at > 0 {
			ts = base + int64(st.at*1e9)
		} else {
			ts += 10_000_000
		}
		s := tcp.Segment{TS: ts, Flags: st.flags, Len: st.n, Payload: make([]byte, st.n), Window: 1000}
		s.Src, s.Dst = client, server
		if st.dir == 1 {
			s.Src, s.Dst = server, client
		}
		s.Seq = seqnum.Value(isn[st.dir] + st.seq)
		if st.flags&tcp.ACK != 0 {
			s.Ack = seqnum.Value(isn[1-st.dir] + st.ack)
		}
		if st.win0 {
			s.Window = 0
		}
		tr.StepChecked(st.dir, &s, st.bad)
	}
	return tr
}

// bare is Zeek in bare mode with no protocol scripts: no likely server ports.
func bare() Config {
	c := DefaultConfig()
	c.LikelyServerPort = LikelyServerPorts()
	return c
}

// The handshake and a short exchange, reused below.
var (
	handshake = []step{p(0, "S", 0, 0, 0), p(1, "SA", 0, 1, 0), p(0, "A", 1, 1, 0)}
	exchange  = []step{p(0, "PA", 1, 1, 10), p(1, "A", 1, 11, 0), p(1, "PA", 1, 11, 20), p(0, "A", 11, 21, 0)}
	closeBoth = []step{p(0, "FA", 11, 21, 0), p(1, "FA", 21, 12, 0), p(0, "A", 12, 22, 0)}
)

type stateCase struct {
	name    string
	cfg     Config
	steps   []step
	state   string
	history string
	client  bool // OrigIsClient
}

func checkCases(t *testing.T, cases []stateCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			if cfg.LikelyServerPort == nil {
				cfg = DefaultConfig()
			}
			got := run(cfg, tc.steps).Result()
			want := Result{ConnState: tc.state, History: tc.history, OrigIsClient: tc.client}
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

// TestConnStates has one family per Zeek conn_state.
func TestConnStates(t *testing.T) {
	checkCases(t, []stateCase{
		// S0: attempt, no reply.
		{name: "S0", steps: []step{p(0, "S", 0, 0, 0)}, state: "S0", history: "S", client: true},
		{name: "S0/SYN retransmitted", steps: []step{p(0, "S", 0, 0, 0), p(0, "S", 0, 0, 0).atSec(1), p(0, "S", 0, 0, 0).atSec(3)}, state: "S0", history: "S", client: true},
		{name: "S0/ack of the SYN before the SYN-ACK", steps: []step{p(0, "S", 0, 0, 0), p(1, "A", 0, 1, 0)}, state: "S0", history: "Sa", client: true},
		// S1: established, not closed.
		{name: "S1", steps: handshake, state: "S1", history: "ShA", client: true},
		{name: "S1/with data", steps: cat(handshake, exchange), state: "S1", history: "ShADad", client: true},
		// SF: normal close, or a simultaneous one.
		{name: "SF", steps: cat(handshake, exchange, closeBoth), state: "SF", history: "ShADadFf", client: true},
		{name: "SF/responder closes first", steps: cat(handshake, exchange, []step{p(1, "FA", 21, 11, 0), p(0, "FA", 11, 22, 0), p(1, "A", 22, 12, 0)}), state: "SF", history: "ShADadfF", client: true},
		{name: "SF/simultaneous close", steps: cat(handshake, []step{p(0, "FA", 1, 1, 0), p(1, "FA", 1, 1, 0), p(0, "A", 2, 2, 0), p(1, "A", 2, 2, 0)}), state: "SF", history: "ShAFfa", client: true},
		{name: "SF/FIN then RST from the same side", steps: cat(handshake, exchange, closeBoth, []step{p(0, "R", 12, 0, 0)}), state: "SF", history: "ShADadFfR", client: true},
		// REJ: the responder resets the SYN.
		{name: "REJ", steps: []step{p(0, "S", 0, 0, 0), p(1, "RA", 0, 1, 0)}, state: "REJ", history: "Sr", client: true},
		{name: "REJ/SYN retransmitted first", steps: []step{p(0, "S", 0, 0, 0), p(0, "S", 0, 0, 0).atSec(1), p(1, "RA", 0, 1, 0)}, state: "REJ", history: "Sr", client: true},
		{name: "REJ/SYN-ACK answered by RST", cfg: bare(), steps: []step{p(1, "SA", 0, 1, 0), p(0, "R", 1, 0, 0)}, state: "REJ", history: "Hr", client: false},
		// S2 / S3: one side closed, no answer.
		{name: "S2", steps: cat(handshake, []step{p(0, "FA", 1, 1, 0)}), state: "S2", history: "ShAF", client: true},
		{name: "S3", steps: cat(handshake, []step{p(1, "FA", 1, 1, 0)}), state: "S3", history: "ShAf", client: true},
		// RSTO / RSTR: established, then a reset.
		{name: "RSTO", steps: cat(handshake, exchange, []step{p(0, "RA", 11, 21, 0)}), state: "RSTO", history: "ShADadR", client: true},
		{name: "RSTR", steps: cat(handshake, exchange, []step{p(1, "RA", 21, 11, 0)}), state: "RSTR", history: "ShADadr", client: true},
		{name: "RSTR/after originator FIN", steps: cat(handshake, []step{p(0, "FA", 1, 1, 0), p(1, "R", 1, 0, 0)}), state: "RSTR", history: "ShAFr", client: true},
		// RSTOS0: SYN then RST from the originator, no SYN-ACK.
		{name: "RSTOS0", steps: []step{p(0, "S", 0, 0, 0), p(0, "R", 1, 0, 0)}, state: "RSTOS0", history: "SR", client: true},
		{name: "RSTOS0/responder acked", steps: []step{p(0, "S", 0, 0, 0), p(1, "A", 0, 1, 0), p(0, "R", 1, 0, 0)}, state: "RSTOS0", history: "SaR", client: true},
		// RSTRH: SYN-ACK then RST from the responder, no SYN (flipped by port 80).
		{name: "RSTRH", steps: []step{p(1, "SA", 0, 1, 0), p(1, "R", 1, 0, 0)}, state: "RSTRH", history: "^hr", client: true},
		// SH: SYN then FIN, no SYN-ACK.
		{name: "SH", steps: []step{p(0, "S", 0, 0, 0), p(0, "F", 1, 0, 0)}, state: "SH", history: "SF", client: true},
		{name: "SH/half-duplex capture", steps: []step{p(0, "S", 0, 0, 0), p(0, "A", 1, 1, 0), p(0, "PA", 1, 1, 30), p(0, "FA", 31, 1, 0)}, state: "SH", history: "SADF", client: true},
		// SHR: SYN-ACK then FIN from the responder, no SYN.
		{name: "SHR", steps: []step{p(1, "SA", 0, 1, 0), p(1, "FA", 1, 1, 0)}, state: "SHR", history: "^hf", client: true},
		// OTH: no SYN seen.
		{name: "OTH/mid-stream data", cfg: bare(), steps: []step{p(0, "PA", 100, 100, 10), p(1, "A", 100, 110, 0)}, state: "OTH", history: "Da", client: true},
		{name: "OTH/lone RST", cfg: bare(), steps: []step{p(0, "R", 0, 0, 0)}, state: "OTH", history: "R", client: true},
		{name: "OTH/SYN, FIN, RST", steps: []step{p(0, "S", 0, 0, 0), p(1, "A", 0, 1, 0), p(0, "F", 1, 0, 0), p(0, "R", 2, 0, 0)}, state: "OTH", history: "SaFR", client: true},
		{name: "OTH/mid-stream from the server port", steps: []step{p(1, "PA", 100, 100, 10)}, state: "OTH", history: "^d", client: true},
	})
}

// TestHistoryLetters covers the letters and their repetition rules.
func TestHistoryLetters(t *testing.T) {
	rexmit := func(k int) []step {
		return cat(handshake, []step{p(0, "PA", 1, 1, 10)}, repeat(k, p(0, "PA", 1, 1, 10)))
	}
	zero := func(k int) []step { return cat(handshake, repeat(k, p(1, "A", 1, 1, 0).zeroWin())) }
	checkCases(t, []stateCase{
		// s h a d f r: once per direction for a d; s h f r again only at a
		// new sequence number.
		{name: "pure ACKs once", steps: cat(handshake, repeat(5, p(0, "A", 1, 1, 0)), repeat(5, p(1, "A", 1, 1, 0))), state: "S1", history: "ShAa", client: true},
		{name: "FIN retransmitted", steps: cat(handshake, []step{p(0, "FA", 1, 1, 0), p(0, "FA", 1, 1, 0)}), state: "S2", history: "ShAF", client: true},
		{name: "FIN at a new sequence number", steps: cat(handshake, []step{p(0, "FA", 1, 1, 0), p(0, "FA", 5, 1, 0)}), state: "S2", history: "ShAFF", client: true},
		{name: "RST repeated", steps: []step{p(0, "S", 0, 0, 0), p(0, "R", 1, 0, 0), p(0, "R", 1, 0, 0)}, state: "RSTOS0", history: "SR", client: true},
		{name: "RST at a new sequence number", steps: []step{p(0, "S", 0, 0, 0), p(0, "R", 1, 0, 0), p(0, "R", 9, 0, 0)}, state: "RSTOS0", history: "SRR", client: true},
		{name: "SYN-ACK retransmitted", steps: []step{p(0, "S", 0, 0, 0), p(1, "SA", 0, 1, 0), p(1, "SA", 0, 1, 0), p(0, "A", 1, 1, 0)}, state: "S1", history: "ShA", client: true},
		// t: retransmitted payload at 1, 10, 100 occurrences.
		{name: "T x1", steps: rexmit(1), state: "S1", history: "ShADT", client: true},
		{name: "T x9", steps: rexmit(9), state: "S1", history: "ShADT", client: true},
		{name: "T x10", steps: rexmit(10), state: "S1", history: "ShADTT", client: true},
		{name: "T x99", steps: rexmit(99), state: "S1", history: "ShADTT", client: true},
		{name: "T x100", steps: rexmit(100), state: "S1", history: "ShADTTT", client: true},
		{name: "t from the responder", steps: cat(handshake, []step{p(1, "PA", 1, 1, 10), p(1, "PA", 1, 1, 10)}), state: "S1", history: "ShAdt", client: true},
		// w: zero window, logarithmic too.
		{name: "w x1", steps: zero(1), state: "S1", history: "ShAaw", client: true},
		{name: "w x10", steps: zero(10), state: "S1", history: "ShAaww", client: true},
		// c: bad checksum, the packet otherwise ignored.
		{name: "c", steps: cat(handshake, []step{p(1, "PA", 1, 1, 10).badSum()}), state: "S1", history: "ShAc", client: true},
		{name: "C on the SYN", steps: []step{p(0, "S", 0, 0, 0).badSum()}, state: "OTH", history: "C", client: true},
		{name: "C x10", steps: cat(handshake, repeat(10, p(0, "PA", 1, 1, 10).badSum())), state: "S1", history: "ShACC", client: true},
		// g: the peer acks data that never went by.
		{name: "G", steps: cat(handshake, []step{p(0, "PA", 1, 1, 10), p(1, "A", 1, 21, 0)}), state: "S1", history: "ShADaG", client: true},
		{name: "g", steps: cat(handshake, []step{p(1, "PA", 11, 1, 10), p(0, "A", 1, 21, 0)}), state: "S1", history: "ShAdg", client: true},
		{name: "no g for an ack in a FIN", steps: cat(handshake, []step{p(0, "PA", 1, 1, 10), p(1, "FA", 1, 21, 0)}), state: "S3", history: "ShADfG", client: true},
		{name: "no g for an ack in a RST", steps: cat(handshake, []step{p(0, "PA", 1, 1, 10), p(1, "RA", 1, 21, 0)}), state: "RSTR", history: "ShADr", client: true},
		// i: FIN+RST; q: SYN with FIN or RST.
		{name: "I", steps: cat(handshake, []step{p(0, "FRA", 1, 1, 0)}), state: "RSTO", history: "ShAI", client: true},
		{name: "Q", cfg: bare(), steps: []step{p(0, "SF", 0, 0, 0)}, state: "SH", history: "Q", client: true},
		{name: "Q once", cfg: bare(), steps: []step{p(0, "SR", 0, 0, 0), p(0, "SR", 0, 0, 0)}, state: "OTH", history: "Q", client: true},
		// ^: SYN/SYN-ACK reordered, flipped when the SYN shows up.
		{name: "^ reordered handshake", cfg: bare(), steps: cat([]step{p(1, "SA", 0, 1, 0), p(0, "S", 0, 0, 0), p(0, "A", 1, 1, 0)}, exchange, closeBoth), state: "SF", history: "Hs^ADadFf", client: true},
		// ^: a SYN-ACK followed by an ACK or data is flipped (zeek#2191).
		{name: "^ missing SYN", cfg: bare(), steps: cat([]step{p(1, "SA", 0, 1, 0), p(0, "A", 1, 1, 0)}, exchange, closeBoth), state: "SF", history: "^hADadFf", client: true},
		{name: "^ one-sided", cfg: bare(), steps: []step{p(1, "SA", 0, 1, 0), p(1, "A", 1, 1, 0), p(1, "FA", 1, 1, 0)}, state: "SHR", history: "^haf", client: true},
		// ^: a first data packet from a likely server port.
		{name: "^ by port", steps: []step{p(1, "PA", 1, 1, 10), p(0, "A", 1, 11, 0)}, state: "OTH", history: "^dA", client: true},
		// No flip for a stealth scan's SYN-ACK answered by a RST, nor
		// after a bad-checksum packet.
		{name: "no ^ after bad checksum", cfg: bare(), steps: []step{p(1, "SA", 0, 1, 0), p(0, "A", 1, 1, 0).badSum(), p(1, "A", 1, 1, 0)}, state: "OTH", history: "HcA", client: false},
	})
}

// TestSplits checks that Zeek's timers and connection reuse split one
// tcptrace connection into several Zeek connections.
func TestSplits(t *testing.T) {
	type want struct{ state, history string }
	cases := []struct {
		name  string
		cfg   Config
		steps []step
		spans []want
		main  want
	}{
		{name: "lone RSTs a minute apart", cfg: bare(),
			steps: []step{p(0, "R", 0, 0, 0), p(0, "R", 0, 0, 0).atSec(60), p(0, "R", 0, 0, 0).atSec(120)},
			spans: []want{{"OTH", "R"}, {"OTH", "R"}, {"OTH", "R"}}, main: want{"OTH", "R"}},
		{name: "RSTs within the reset delay", cfg: bare(),
			steps: []step{p(0, "R", 0, 0, 0), p(0, "R", 0, 0, 0).atSec(4)},
			spans: []want{{"OTH", "R"}}, main: want{"OTH", "R"}},
		{name: "unanswered SYN, data after the attempt delay",
			steps: []step{p(0, "S", 0, 0, 0), p(0, "A", 1, 1, 0).atSec(1), p(0, "PA", 1, 1, 10).atSec(6), p(0, "FA", 11, 1, 0).atSec(7)},
			spans: []want{{"S0", "SA"}, {"SH", "DF"}}, main: want{"S0", "SA"}},
		{name: "new SYN after the close",
			steps: cat(handshake, exchange, closeBoth, []step{p(0, "S", 100, 0, 0).atSec(20), p(1, "SA", 100, 101, 0).atSec(20.01)}),
			spans: []want{{"SF", "ShADadFf"}, {"S1", "Sh"}}, main: want{"SF", "ShADadFf"}},
		{name: "SYN with a new ISN on a live connection",
			steps: cat(handshake, []step{p(0, "S", 500, 0, 0)}),
			spans: []want{{"S1", "ShA"}, {"S0", "S"}}, main: want{"S1", "ShA"}},
		{name: "idle beyond the inactivity timeout",
			steps: cat(handshake, exchange, []step{p(0, "PA", 11, 21, 5).atSec(400)}),
			spans: []want{{"S1", "ShADad"}, {"OTH", "D"}}, main: want{"S1", "ShADad"}},
		{name: "FIN retransmitted after the close: within the close delay, then a new connection",
			steps: cat(handshake, exchange, closeBoth, []step{p(1, "FA", 21, 12, 0).atSec(3), p(1, "FA", 21, 12, 0).atSec(9)}),
			spans: []want{{"SF", "ShADadFf"}, {"SHR", "^f"}}, main: want{"SF", "ShADadFf"}},
		{name: "bad-checksum SYN, then the SYN-ACK starts a new connection", cfg: bare(),
			steps: []step{p(0, "S", 0, 0, 0).badSum(), p(1, "SA", 0, 1, 0), p(0, "A", 1, 1, 0).badSum(), p(1, "A", 1, 1, 0), p(1, "PA", 1, 1, 10), p(1, "FA", 11, 1, 0)},
			spans: []want{{"OTH", "C"}, {"SH", "HcADF"}}, main: want{"SH", "HcADF"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			if cfg.LikelyServerPort == nil {
				cfg = DefaultConfig()
			}
			tr := run(cfg, tc.steps)
			spans := tr.Spans()
			var got []want
			n := 0
			for _, s := range spans {
				got = append(got, want{s.ConnState, s.History})
				n += s.Packets
			}
			if len(got) != len(tc.spans) {
				t.Fatalf("spans %v, want %v", got, tc.spans)
			}
			for i := range got {
				if got[i] != tc.spans[i] {
					t.Errorf("span %d: %v, want %v (all: %v)", i, got[i], tc.spans[i], got)
				}
			}
			if n != len(tc.steps) {
				t.Errorf("spans hold %d segments, want %d", n, len(tc.steps))
			}
			if r := tr.Result(); (want{r.ConnState, r.History}) != tc.main {
				t.Errorf("Result %+v, want %v", r, tc.main)
			}
		})
	}
}

func TestEmptyTracker(t *testing.T) {
	tr := NewTracker()
	if r := tr.Result(); r != (Result{}) {
		t.Errorf("Result of an empty tracker: %+v", r)
	}
	if s := tr.Spans(); len(s) != 0 {
		t.Errorf("Spans of an empty tracker: %v", s)
	}
}

// TestSteadyStateAllocations checks that a long transfer costs no allocation
// per segment once the history is complete.
func TestSteadyStateAllocations(t *testing.T) {
	tr := NewTracker()
	mk := func(dir tcp.Dir, fl tcp.Flags, seq, ack uint32, n int) tcp.Segment {
		s := tcp.Segment{Flags: fl, Seq: seqnum.Value(isn[dir] + seq), Ack: seqnum.Value(isn[dir.Peer()] + ack), Len: n, Payload: make([]byte, n), Window: 1000}
		s.Src, s.Dst = client, server
		if dir == 1 {
			s.Src, s.Dst = server, client
		}
		return s
	}
	ts := int64(1e18)
	step := func(dir tcp.Dir, s *tcp.Segment) {
		ts += 1e6
		s.TS = ts
		tr.Step(dir, s)
	}
	for _, st := range handshake {
		s := mk(st.dir, st.flags, st.seq, st.ack, 0)
		step(st.dir, &s)
	}
	data := mk(0, tcp.ACK|tcp.PSH, 1, 1, 1000)
	ack := mk(1, tcp.ACK, 1, 1, 0)
	off := uint32(1)
	allocs := testing.AllocsPerRun(1000, func() {
		data.Seq = seqnum.Value(isn[0] + off)
		off += 1000
		ack.Ack = seqnum.Value(isn[0] + off)
		step(0, &data)
		step(1, &ack)
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per data/ack pair", allocs)
	}
	if r := tr.Result(); r.ConnState != "S1" || r.History != "ShADa" {
		t.Errorf("Result %+v", r)
	}
}

// serialize builds an Ethernet-less IP/TCP packet with a correct checksum,
// decodes it and returns the segment.
func serialize(t *testing.T, v6 bool, payload []byte) tcp.Segment {
	t.Helper()
	th := &layers.TCP{SrcPort: 40000, DstPort: 80, Seq: 1000, Ack: 5001, ACK: true, PSH: true, Window: 1000,
		Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindNop}, {OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: []byte{1, 2, 3, 4, 5, 6, 7, 8}}}}
	var net gopacket.SerializableLayer
	if v6 {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP,
			SrcIP: mustIP("2001:db8::1"), DstIP: mustIP("2001:db8::2")}
		th.SetNetworkLayerForChecksum(ip)
		net = ip
	} else {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP,
			SrcIP: mustIP("10.0.0.1"), DstIP: mustIP("10.0.0.2")}
		th.SetNetworkLayerForChecksum(ip)
		net = ip
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, net, th, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	data := append([]byte(nil), buf.Bytes()...)
	f := &capture.Frame{N: 1, TS: 1, LinkType: decode.LinkRaw, CapLen: len(data), OrigLen: len(data), Data: data}
	var s tcp.Segment
	if got := decode.NewDecoder().Decode(f, &s); got != decode.OK {
		t.Fatalf("decode: %v", got)
	}
	return s
}

func mustIP(s string) net.IP { return net.ParseIP(s) }

func TestTCPChecksumOK(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		for _, n := range []int{0, 1, 7, 100} {
			payload := make([]byte, n)
			for i := range payload {
				payload[i] = byte(i*7 + 3)
			}
			s := serialize(t, v6, payload)
			if !TCPChecksumOK(&s) {
				t.Errorf("v6=%v len=%d: good checksum reported bad", v6, n)
			}
			s.Checksum ^= 0x0100
			if TCPChecksumOK(&s) {
				t.Errorf("v6=%v len=%d: bad checksum reported good", v6, n)
			}
			s.Checksum ^= 0x0100
			if n > 0 {
				s.Payload = s.Payload[:n-1] // snaplen: cannot be judged
				s.Checksum ^= 0x0100
				if !TCPChecksumOK(&s) {
					t.Errorf("v6=%v len=%d: truncated payload judged", v6, n)
				}
			}
		}
	}
}
