package stats_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/tcptrace/tcptrace/analyze/stats"
	"github.com/tcptrace/tcptrace/seqnum"
	"github.com/tcptrace/tcptrace/tcp"
)

const (
	S = tcp.SYN
	A = tcp.ACK
	F = tcp.FIN
	P = tcp.PSH
	R = tcp.RST
)

// pkt is one segment of a scenario. Sequence and ACK numbers are relative
// to each side's ISN (the SYN is at 0, data starts at 1).
type pkt struct {
	dir   tcp.Dir
	ms    float64 // time
	flags tcp.Flags
	seq   uint32 // relative to isn[dir]
	ack   uint32 // relative to isn[dir.Peer()]
	n     int    // payload length
	win   uint16
	mod   func(*tcp.Segment) // options, truncation...
}

func ws(shift uint8) func(*tcp.Segment) {
	return func(s *tcp.Segment) { s.Opts.HasWScale, s.Opts.WScale = true, shift }
}

func ts(val, ecr uint32) func(*tcp.Segment) {
	return func(s *tcp.Segment) { s.Opts.HasTS, s.Opts.TSVal, s.Opts.TSEcr = true, val, ecr }
}

// sack adds SACK blocks given relative to the peer's ISN.
func sack(isn uint32, edges ...uint32) func(*tcp.Segment) {
	return func(s *tcp.Segment) {
		s.Opts.SACKOpt = true
		for i := 0; i+1 < len(edges); i += 2 {
			s.Opts.SACK[s.Opts.NSACK] = tcp.SACKBlock{Left: seqnum.Value(isn + edges[i]), Right: seqnum.Value(isn + edges[i+1])}
			s.Opts.NSACK++
		}
	}
}

func captured(n int) func(*tcp.Segment) {
	return func(s *tcp.Segment) { s.Payload = s.Payload[:n] }
}

var payload = make([]byte, 1<<16)

// run feeds a scenario and returns the result as JSON-decoded maps, so that
// expectations name fields by their JSON tags.
func run(t testing.TB, isn [2]uint32, pkts []pkt) (stats.Result, [2]map[string]any) {
	c := stats.New()
	var seg tcp.Segment
	var last int64
	for _, p := range pkts {
		seg = tcp.Segment{
			TS:     int64(p.ms * 1e6),
			Seq:    seqnum.Value(isn[p.dir] + p.seq),
			Ack:    seqnum.Value(isn[1-p.dir] + p.ack),
			Flags:  p.flags,
			Window: p.win,
			Len:    p.n,
		}
		if p.flags&A == 0 {
			seg.Ack = 0
		}
		seg.Payload = payload[:p.n]
		if p.mod != nil {
			p.mod(&seg)
		}
		c.Step(p.dir, &seg)
		last = seg.TS
	}
	r := c.Result(last)
	var m [2]map[string]any
	for i := range m {
		b, err := json.Marshal(r.Dir[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &m[i]); err != nil {
			t.Fatal(err)
		}
	}
	return r, m
}

// handshake is a SYN, SYN-ACK, ACK exchange 10 ms apart.
func handshake(opts ...func(*tcp.Segment)) []pkt {
	var mod func(*tcp.Segment)
	if len(opts) > 0 {
		mod = func(s *tcp.Segment) {
			for _, o := range opts {
				o(s)
			}
		}
	}
	return []pkt{
		{dir: 0, ms: 0, flags: S, win: 1000, mod: mod},
		{dir: 1, ms: 10, flags: S | A, ack: 1, win: 2000, mod: mod},
		{dir: 0, ms: 20, flags: A, seq: 1, ack: 1, win: 1000},
	}
}

func cat(parts ...[]pkt) []pkt {
	var out []pkt
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestScenarios(t *testing.T) {
	const cISN, sISN = 1000, 5000
	isn := [2]uint32{cISN, sISN}
	tests := []struct {
		name string
		isn  [2]uint32
		pkts []pkt
		want map[string]any // "c.field" for the client's direction, "s.field" for the server's
	}{
		{
			name: "clean transfer and close",
			pkts: cat(handshake(), []pkt{
				{dir: 0, ms: 30, flags: A | P, seq: 1, ack: 1, n: 100, win: 1000},
				{dir: 1, ms: 42, flags: A, seq: 1, ack: 101, win: 2000},
				{dir: 1, ms: 50, flags: A | P, seq: 1, ack: 101, n: 300, win: 2000},
				{dir: 0, ms: 55, flags: A, seq: 101, ack: 301, win: 1000},
				{dir: 0, ms: 60, flags: A | F, seq: 101, ack: 301, win: 1000},
				{dir: 1, ms: 64, flags: A | F, seq: 301, ack: 102, win: 2000},
				{dir: 0, ms: 70, flags: A, seq: 102, ack: 302, win: 1000},
			}),
			want: map[string]any{
				"c.total_packets": 6, "c.data_pkts": 1, "c.data_bytes": 100, "c.unique_bytes": 100,
				"c.pure_acks": 3, "c.ack_pkts": 5, "c.syn_pkts": 1, "c.fin_pkts": 1, "c.pushed_pkts": 1,
				"c.rtt_samples": 3, "c.rtt_min_ms": 4.0, "c.rtt_max_ms": 12.0, "c.has_handshake_rtt": true,
				"c.handshake_rtt_ms": 10.0, "s.handshake_rtt_ms": 10.0, "s.rtt_samples": 3, "s.rtt_min_ms": 5.0,
				"c.stream_length": 100, "c.missed_data": 0, "s.stream_length": 300, "c.rexmt_pkts": 0,
				"c.initial_window_bytes": 100, "c.initial_window_pkts": 1, "s.seg_size_max": 300,
				"c.win_min": 1000, "c.win_max": 1000, "c.max_bytes_in_flight": 100, "s.max_bytes_in_flight": 300,
			},
		},
		{
			name: "retransmission: counted, RTO measured, no RTT sample (Karn)",
			pkts: cat(handshake(), []pkt{
				{dir: 0, ms: 30, flags: A, seq: 1, ack: 1, n: 100, win: 1000},
				{dir: 0, ms: 230, flags: A, seq: 1, ack: 1, n: 100, win: 1000},
				{dir: 0, ms: 630, flags: A, seq: 1, ack: 1, n: 100, win: 1000},
				{dir: 1, ms: 640, flags: A, seq: 1, ack: 101, win: 2000},
			}),
			want: map[string]any{
				"c.data_pkts": 3, "c.data_bytes": 300, "c.unique_bytes": 100, "c.rexmt_pkts": 2, "c.rexmt_bytes": 200,
				"c.rtt_samples": 1, "c.ambiguous_acks": 1, "c.max_retrans": 2, "c.retrans_time_samples": 2,
				"c.retrans_time_min_ms": 200.0, "c.retrans_time_max_ms": 400.0, "c.retrans_time_avg_ms": 300.0,
				"c.initial_window_pkts": 1, "c.out_of_order_pkts": 0,
			},
		},
		{
			name: "Karn: a segment ACKed after an earlier one was retransmitted gives no sample",
			pkts: cat(handshake(), []pkt{
				{dir: 0, ms: 30, flags: A, seq: 1, ack: 1, n: 100, win: 1000},
				{dir: 0, ms: 31, flags: A, seq: 101, ack: 1, n: 100, win: 1000},
				{dir: 0, ms: 230, flags: A, seq: 1, ack: 1, n: 100, win: 1000},
				{dir: 1, ms: 240, flags: A, seq: 1, ack: 201, win: 2000},
			}),
			want: map[string]any{
				"c.rtt_samples": 1, "c.post_loss_acks": 1, "c.segs_cum_acked": 1, "c.ambiguous_acks": 0,
				"c.rexmt_pkts": 1, "c.unique_bytes": 200,
			},
		},
		{
			name: "partial retransmission counts only the bytes sent before",
			pkts: cat(handshake(), []pkt{
				{dir: 0, ms: 30, flags: A, seq: 1, ack: 1, n: 100, win: 1000},
				{dir: 0, ms: 230, flags: A, seq: 51, ack: 1, n: 100, win: 1000},
			}),
			want: map[string]any{"c.rexmt_pkts": 1, "c.rexmt_bytes": 50, "c.unique_bytes": 150},
		},
		{
			name: "out of order",
			pkts: cat(handshake(), []pkt{
				{dir: 0, ms: 30, flags: A, seq: 101, ack: 1, n: 100, win: 1000},
				{dir: 0, ms: 31, flags: A, seq: 1, ack: 1, n: 100, win: 1000},
				{dir: 1, ms: 40, flags: A, seq: 1, ack: 201, win: 2000},
			}),
			want: map[string]any{
				"c.out_of_order_pkts": 1, "c.rexmt_pkts": 0, "c.unique_bytes": 200,
				// The segment ending at 201 was sent before the one that
				// precedes it: its ACK is no sample (tcptrace's rule).
				"c.rtt_samples": 1, "c.post_loss_acks": 1, "c.segs_cum_acked": 1,
			},
		},
		{
			name: "zero window probe",
			pkts: cat(handshake(), []pkt{
				{dir: 0, ms: 30, flags: A, seq: 1, ack: 1, n: 100, win: 1000},
				{dir: 1, ms: 40, flags: A, seq: 1, ack: 101, win: 0},
				{dir: 0, ms: 240, flags: A, seq: 101, ack: 1, n: 1, win: 1000},
				{dir: 1, ms: 250, flags: A, seq: 1, ack: 101, win: 0},
				{dir: 1, ms: 300, flags: A, seq: 1, ack: 101, win: 500},
				{dir: 0, ms: 310, flags: A, seq: 101, ack: 1, n: 100, win: 1000},
			}),
			want: map[string]any{
				"c.zwnd_probe_pkts": 1, "c.zwnd_probe_bytes": 1, "s.zero_win_adv": 2, "c.rexmt_pkts": 0,
				"c.unique_bytes": 200, "c.data_bytes": 201, "s.win_min": 500,
			},
		},
		{
			name: "SACK and D-SACK",
			pkts: cat(handshake(), []pkt{
				{dir: 0, ms: 30, flags: A, seq: 1, ack: 1, n: 100, win: 1000},
				{dir: 0, ms: 31, flags: A, seq: 101, ack: 1, n: 100, win: 1000},
				{dir: 0, ms: 32, flags: A, seq: 201, ack: 1, n: 100, win: 1000},
				// 101-201 lost: SACK 201-301 above the ACK.
				{dir: 1, ms: 40, flags: A, seq: 1, ack: 101, win: 2000, mod: sack(cISN, 201, 301)},
				{dir: 0, ms: 240, flags: A, seq: 101, ack: 1, n: 100, win: 1000},
				{dir: 1, ms: 250, flags: A, seq: 1, ack: 301, win: 2000},
				// A duplicate of 1-101 reported below the cumulative ACK (RFC 2883 §4.1.1).
				{dir: 1, ms: 260, flags: A, seq: 1, ack: 301, win: 2000, mod: sack(cISN, 1, 101)},
				// First block inside the second (RFC 2883 §4.1.2).
				{dir: 1, ms: 270, flags: A, seq: 1, ack: 301, win: 2000, mod: sack(cISN, 401, 451, 351, 501)},
			}),
			want: map[string]any{
				"s.sack_pkts": 3, "s.dsack_pkts": 2, "s.max_sack_blocks": 2, "c.rexmt_pkts": 1, "c.rexmt_bytes": 100,
			},
		},
		{
			name: "duplicate and triple duplicate ACKs (BSD rules)",
			pkts: cat(handshake(), []pkt{
				{dir: 0, ms: 30, flags: A, seq: 1, ack: 1, n: 100, win: 1000},
				{dir: 0, ms: 31, flags: A, seq: 101, ack: 1, n: 100, win: 1000},
				{dir: 0, ms: 32, flags: A, seq: 201, ack: 1, n: 100, win: 1000},
				{dir: 0, ms: 33, flags: A, seq: 301, ack: 1, n: 100, win: 1000},
				{dir: 1, ms: 40, flags: A, seq: 1, ack: 101, win: 2000},
				{dir: 1, ms: 41, flags: A, seq: 1, ack: 101, win: 2000},
				{dir: 1, ms: 42, flags: A, seq: 1, ack: 101, win: 2000},
				{dir: 1, ms: 43, flags: A, seq: 1, ack: 101, win: 2000},
				// A window update is not a duplicate.
				{dir: 1, ms: 44, flags: A, seq: 1, ack: 101, win: 3000},
			}),
			want: map[string]any{"c.dup_acks": 3, "c.triple_dup_acks": 1, "s.pure_acks": 5},
		},
		{
			name: "window scaling: the SYN's window is unscaled and forgotten",
			pkts: cat(handshake(ws(7)), []pkt{
				{dir: 0, ms: 30, flags: A, seq: 1, ack: 1, n: 100, win: 100},
				{dir: 1, ms: 40, flags: A, seq: 1, ack: 101, win: 300},
			}),
			want: map[string]any{
				"c.adv_window_scale": 7, "c.req_window_scale": true, "c.win_min": 100 << 7, "c.win_max": 1000 << 7,
				"c.win_avg": float64(1000<<7+100<<7) / 2, "s.win_min": 300 << 7, "s.win_max": 300 << 7,
			},
		},
		{
			name: "window scale above 14 is taken as 14 (RFC 7323)",
			pkts: cat(handshake(ws(255)), []pkt{{dir: 1, ms: 40, flags: A, seq: 1, ack: 1, win: 1}}),
			want: map[string]any{"c.adv_window_scale": 14, "s.win_min": 1 << 14},
		},
		{
			name: "timestamp echo RTT",
			pkts: cat([]pkt{
				{dir: 0, ms: 0, flags: S, win: 1000, mod: ts(100, 0)},
				{dir: 1, ms: 10, flags: S | A, ack: 1, win: 2000, mod: ts(7000, 100)},
				{dir: 0, ms: 20, flags: A, seq: 1, ack: 1, win: 1000, mod: ts(101, 7000)},
				{dir: 0, ms: 21, flags: A, seq: 1, ack: 1, n: 10, win: 1000, mod: ts(101, 7000)},
				{dir: 1, ms: 45, flags: A, seq: 1, ack: 11, win: 2000, mod: ts(7001, 101)},
				{dir: 1, ms: 46, flags: A, seq: 1, ack: 11, win: 2000, mod: ts(7001, 101)}, // echoed already
			}),
			want: map[string]any{
				"c.ts_rtt_samples": 2, "c.ts_rtt_min_ms": 10.0, "c.ts_rtt_max_ms": 25.0, "c.req_timestamps": true,
				"s.ts_rtt_samples": 1, "s.ts_rtt_min_ms": 10.0,
			},
		},
		{
			name: "sequence numbers wrapping through 2^32",
			isn:  [2]uint32{0xFFFFFF00, 0x7FFFFFF0},
			pkts: cat(handshake(), []pkt{
				{dir: 0, ms: 30, flags: A, seq: 1, ack: 1, n: 200, win: 1000},   // 0xFFFFFF01..0x000000C8
				{dir: 0, ms: 31, flags: A, seq: 201, ack: 1, n: 200, win: 1000}, // after the wrap
				{dir: 0, ms: 32, flags: A, seq: 401, ack: 1, n: 200, win: 1000},
				{dir: 1, ms: 40, flags: A, seq: 1, ack: 201, win: 2000},
				{dir: 0, ms: 240, flags: A, seq: 201, ack: 1, n: 200, win: 1000}, // retransmission
				{dir: 1, ms: 250, flags: A, seq: 1, ack: 601, win: 2000},
				{dir: 1, ms: 251, flags: A, seq: 1, n: 40, ack: 601, win: 2000}, // server data across its quadrant boundary
				{dir: 0, ms: 260, flags: A, seq: 601, ack: 41, win: 1000},
				{dir: 0, ms: 270, flags: A | F, seq: 601, ack: 41, win: 1000},
				{dir: 1, ms: 280, flags: A | F, seq: 41, ack: 602, win: 2000},
				{dir: 0, ms: 290, flags: A, seq: 602, ack: 42, win: 1000},
			}),
			want: map[string]any{
				"c.unique_bytes": 600, "c.rexmt_pkts": 1, "c.rexmt_bytes": 200, "c.out_of_order_pkts": 0,
				"c.stream_length": 600, "c.missed_data": 0, "c.rtt_samples": 3, "c.post_loss_acks": 1,
				"s.unique_bytes": 40, "s.stream_length": 40, "s.rtt_samples": 3, "c.max_bytes_in_flight": 600,
			},
		},
		{
			name: "truncated payload (snaplen)",
			pkts: cat(handshake(), []pkt{
				{dir: 0, ms: 30, flags: A, seq: 1, ack: 1, n: 1000, win: 1000, mod: captured(200)},
				{dir: 0, ms: 31, flags: A, seq: 1001, ack: 1, n: 1000, win: 1000},
			}),
			want: map[string]any{
				"c.truncated_bytes": 800, "c.truncated_pkts": 1, "c.data_bytes": 2000, "c.unique_bytes": 2000,
				"c.seg_size_max": 1000,
			},
		},
		{
			name: "RST ends the stream at the last sequence number",
			pkts: cat(handshake(), []pkt{
				{dir: 0, ms: 30, flags: A | F, seq: 1, ack: 1, n: 50, win: 1000},
				{dir: 1, ms: 40, flags: R | A, seq: 1, ack: 52, win: 0},
			}),
			want: map[string]any{
				"s.resets": 1, "s.ack_pkts": 2, "s.zero_win_adv": 0, "c.stream_length": 50, "c.rtt_samples": 2,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := isn
			if tc.isn != [2]uint32{} {
				in = tc.isn
			}
			_, m := run(t, in, tc.pkts)
			for k, want := range tc.want {
				side, field, _ := strings.Cut(k, ".")
				d := 0
				if side == "s" {
					d = 1
				}
				got, ok := m[d][field]
				if !ok {
					t.Errorf("%s: no such field", k)
					continue
				}
				switch w := want.(type) {
				case bool:
					if got != w {
						t.Errorf("%s = %v, want %v", k, got, w)
					}
				case int:
					if got.(float64) != float64(w) {
						t.Errorf("%s = %v, want %v", k, got, w)
					}
				case float64:
					if math.Abs(got.(float64)-w) > 1e-9*math.Max(1, math.Abs(w)) {
						t.Errorf("%s = %v, want %v", k, got, w)
					}
				default:
					t.Fatalf("%s: unsupported expectation %T", k, want)
				}
			}
		})
	}
}

// TestBoundedMemory floods one direction with segments never ACKed (a
// one-sided capture): the segment records stay bounded and the excess is
// counted; retransmission detection keeps working for recent data.
func TestBoundedMemory(t *testing.T) {
	for _, gap := range []uint32{0, 10} { // contiguous (coalesced) or with holes (dropped)
		c := stats.New()
		var seg tcp.Segment
		const n = stats.MaxTrackedSegments + 1000
		seq := uint32(1)
		for i := 0; i < n; i++ {
			seg = tcp.Segment{TS: int64(i) * 1e6, Seq: seqnum.Value(seq), Flags: A, Len: 100, Payload: payload[:100], Window: 100}
			c.Step(0, &seg)
			seq += 100 + gap
		}
		// Retransmit the latest segment.
		seg.TS += 1e9
		c.Step(0, &seg)
		r := c.Result(seg.TS)
		d := r.Dir[0]
		if d.SegmentsEvicted == 0 || d.SegmentsEvicted > n {
			t.Errorf("gap %d: evicted %d", gap, d.SegmentsEvicted)
		}
		if d.RexmtPkts != 1 || d.UniqueBytes != n*100 {
			t.Errorf("gap %d: rexmt %d unique %d, want 1 and %d", gap, d.RexmtPkts, d.UniqueBytes, n*100)
		}
	}
}

func TestResultNotMutating(t *testing.T) {
	c := stats.New()
	seg := tcp.Segment{TS: 1e9, Flags: S, Seq: 1}
	c.Step(0, &seg)
	r1 := c.Result(5e9)
	r2 := c.Result(2e9)
	if r1.Dir[0].IdleMaxMs != 4000 || r2.Dir[0].IdleMaxMs != 1000 {
		t.Errorf("idle max %v, %v; want 4000, 1000 (open connection: idle until the end of the capture)", r1.Dir[0].IdleMaxMs, r2.Dir[0].IdleMaxMs)
	}
}

func TestSteadyStateAllocs(t *testing.T) {
	c := stats.New()
	var seg tcp.Segment
	i := 0
	step := func() {
		base := uint32(i) * 2896
		seg = tcp.Segment{TS: int64(i) * 1e5, Seq: seqnum.Value(1 + base), Ack: 1, Flags: A, Len: 1448, Payload: payload[:1448], Window: 500}
		seg.Opts.HasTS, seg.Opts.TSVal, seg.Opts.TSEcr = true, uint32(i), uint32(i)
		c.Step(0, &seg)
		seg.Seq = seqnum.Value(1 + base + 1448)
		c.Step(0, &seg)
		seg = tcp.Segment{TS: int64(i)*1e5 + 5e4, Seq: 1, Ack: seqnum.Value(1 + base + 2896), Flags: A, Window: 500}
		seg.Opts.HasTS, seg.Opts.TSVal, seg.Opts.TSEcr = true, uint32(i), uint32(i)
		c.Step(1, &seg)
		i++
	}
	for range 1000 {
		step()
	}
	if a := testing.AllocsPerRun(1000, step); a != 0 {
		t.Errorf("%v allocations per steady-state round trip, want 0", a)
	}
}
