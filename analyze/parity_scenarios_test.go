package analyze

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/internal/pcapgen"
	"github.com/tcptrace/tcptrace/render"
	"github.com/tcptrace/tcptrace/report"
)

// TestSpanDuplicates checks testdata/pcaps/span-duplicates.pcap: a frame
// captured twice (duplicate_frame) is one packet, counted nowhere as sent
// again — not in the anomaly counts of the connection table, the
// per-direction statistics, the SYN retransmissions, Zeek's history, the
// reassembly's duplicate bytes, the RST records or the worst connections —
// while a real retransmission, and its copy, count exactly once. Each
// connection is also compared with the same capture without the copies:
// only the duplicate_frame records and the frame counters may differ.
func TestSpanDuplicates(t *testing.T) {
	const path = "../testdata/pcaps/span-duplicates.pcap"
	rep := analyzeFile(t, path)
	drop := map[int64]bool{}
	anoms := map[int][]*report.Anomaly{}
	for _, a := range rep.Anomalies {
		anoms[a.Conn] = append(anoms[a.Conn], a)
		if a.Kind == string(kDuplicateFrame) {
			drop[a.Frame] = true
		}
	}
	clean := analyzeBytes(withoutFrames(t, path, drop), "span-duplicates-without-copies.pcap", DefaultConfig())
	type want struct {
		counts      map[string]int64 // the connection's anomaly counts, exactly
		dups        [][2]int64       // duplicate_frame records: frame, frame it copies
		rexmt       [2]int64         // stats rexmt_pkts of the client, the server
		rexmtBytes  [2]int64
		resets      int
		retransmits string // what the worst-connections list says, "" when it lists no retransmitted bytes
	}
	tests := []struct {
		port uint16
		name string
		want want
	}{
		{54001, "SYN, SYN-ACK, request, response, ACK and FIN copied", want{
			counts: map[string]int64{"duplicate_frame": 6},
			dups:   [][2]int64{{2, 1}, {4, 3}, {7, 6}, {10, 9}, {12, 11}, {14, 13}},
		}},
		{54002, "a real retransmission and its copy", want{
			counts: map[string]int64{"retransmission": 1, "duplicate_frame": 1},
			dups:   [][2]int64{{24, 23}}, rexmt: [2]int64{0, 1}, rexmtBytes: [2]int64{0, 366},
			retransmits: "366 B retransmitted",
		}},
		{54003, "equal headers over other bytes: injected data, no copy", want{
			counts: map[string]int64{"retransmission": 1, "conflicting_retransmission": 1},
			rexmt:  [2]int64{0, 1}, rexmtBytes: [2]int64{0, 186}, retransmits: "186 B retransmitted",
		}},
		{54004, "a RST copied", want{
			counts: map[string]int64{"duplicate_frame": 1},
			dups:   [][2]int64{{47, 46}}, resets: 1,
		}},
	}
	var text bytes.Buffer
	if err := render.Overview(&text, rep, render.Options{}); err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(rep.Conns) != len(tests) || len(clean.Conns) != len(tests) {
				t.Fatalf("%d connections, %d without the copies, want %d", len(rep.Conns), len(clean.Conns), len(tests))
			}
			c, cc := rep.Conns[i], clean.Conns[i]
			if clientPort(c) != tt.port {
				t.Fatalf("connection %d is from port %d, want %d", c.ID, clientPort(c), tt.port)
			}
			w := tt.want
			if !mapsEqual(c.Anomalies, w.counts) {
				t.Errorf("anomaly counts %v, want %v", c.Anomalies, w.counts)
			}
			var dups [][2]int64
			for _, a := range anoms[c.ID] {
				if a.Kind == string(kDuplicateFrame) {
					dups = append(dups, [2]int64{a.Frame, a.Related[0]})
				}
			}
			if !slices.Equal(dups, w.dups) {
				t.Errorf("duplicate_frame (frame, copy of) %v, want %v", dups, w.dups)
			}
			st := c.Stats
			if got := [2]int64{st.Client.RexmtPkts, st.Server.RexmtPkts}; got != w.rexmt {
				t.Errorf("stats rexmt_pkts %v, want %v", got, w.rexmt)
			}
			if got := [2]int64{st.Client.RexmtBytes, st.Server.RexmtBytes}; got != w.rexmtBytes {
				t.Errorf("stats rexmt_bytes %v, want %v", got, w.rexmtBytes)
			}
			if len(c.Resets) != w.resets {
				t.Errorf("%d RST records, want %d", len(c.Resets), w.resets)
			}

			// Without the copies: the same analysis.
			noDup := func(m map[string]int64) map[string]int64 {
				out := map[string]int64{}
				for k, v := range m {
					if k != string(kDuplicateFrame) {
						out[k] = v
					}
				}
				return out
			}
			if !mapsEqual(noDup(c.Anomalies), noDup(cc.Anomalies)) {
				t.Errorf("anomaly counts %v, without the copies %v", c.Anomalies, cc.Anomalies)
			}
			for _, side := range []struct {
				name   string
				a, b   report.DirStats
				ra, rb report.StreamStats
			}{
				{"client", st.Client, cc.Stats.Client, c.Reassembly.Client, cc.Reassembly.Client},
				{"server", st.Server, cc.Stats.Server, c.Reassembly.Server, cc.Reassembly.Server},
			} {
				side.a.HWDups, side.b.HWDups = 0, 0 // tcptrace's own count of copies
				if side.a != side.b {
					t.Errorf("%s stats differ from the capture without the copies:\n%+v\n%+v", side.name, side.a, side.b)
				}
				if side.ra != side.rb {
					t.Errorf("%s reassembly %+v, without the copies %+v", side.name, side.ra, side.rb)
				}
			}
			if c.History != cc.History || c.ConnState != cc.ConnState || c.State != cc.State {
				t.Errorf("history %s, conn_state %s, state %q; without the copies %s, %s, %q",
					c.History, c.ConnState, c.State, cc.History, cc.ConnState, cc.State)
			}
			if h, hc := c.Handshake, cc.Handshake; h.SynRetrans != 0 || len(h.Backoff) != 0 || *h.RTTClient != *hc.RTTClient || *h.RTTServer != *hc.RTTServer {
				t.Errorf("syn_retransmissions %d, backoff %v, rtt %v/%v; without the copies rtt %v/%v: the SYN was sent once",
					h.SynRetrans, h.Backoff, *h.RTTClient, *h.RTTServer, *hc.RTTClient, *hc.RTTServer)
			}
			if len(c.Resets) != len(cc.Resets) {
				t.Errorf("%d RST records, without the copies %d", len(c.Resets), len(cc.Resets))
			}

			// The worst connections: the line of this connection names
			// retransmitted bytes only for a real retransmission.
			var line string
			for _, l := range strings.Split(text.String(), "\n") {
				if strings.Contains(l, c.Client+" → ") {
					line = l
				}
			}
			if has := strings.Contains(line, "retransmitted"); has != (w.retransmits != "") || !strings.Contains(line, w.retransmits) {
				t.Errorf("worst connections line %q, want %q", line, w.retransmits)
			}
		})
	}
}

// withoutFrames is the pcap at path without the frames in drop.
func withoutFrames(t *testing.T, path string, drop map[int64]bool) []byte {
	t.Helper()
	src, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var b bytes.Buffer
	var w *pcapgen.PcapWriter
	for {
		f, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if w == nil {
			w = pcapgen.NewPcapWriter(&b, f.LinkType, 0, true)
		}
		if !drop[f.N] {
			if err := w.WriteFrame(time.Unix(0, f.TS), f.Data, f.OrigLen); err != nil {
				t.Fatal(err)
			}
		}
	}
	return b.Bytes()
}

func mapsEqual(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestDupACKWindowUpdate checks testdata/pcaps/dupack-window-update.pcap
// through the whole analysis: the retransmissions that follow two duplicate
// ACKs and a window update (55001), or a data segment repeating the ACK
// (55002), are fast retransmissions, as tshark says; 25 ms later (55003),
// or after a new ACK number restarted the count (55004, its second), they
// are plain ones.
func TestDupACKWindowUpdate(t *testing.T) {
	rep := analyzeFile(t, "../testdata/pcaps/dupack-window-update.pcap")
	kinds := map[int64][]string{}
	for _, a := range rep.Anomalies {
		kinds[a.Frame] = append(kinds[a.Frame], a.Kind)
	}
	for _, w := range []struct {
		frame int64
		kinds []string
	}{
		{9, []string{"window_update"}},
		{10, []string{"fast_retransmission", "retransmission"}},
		{26, nil},
		{27, []string{"fast_retransmission", "retransmission"}},
		{43, []string{"retransmission"}},
		{59, []string{"fast_retransmission", "retransmission"}},
		{61, []string{"duplicate_ack"}},
		{62, []string{"retransmission"}},
	} {
		if !slices.Equal(kinds[w.frame], w.kinds) {
			t.Errorf("frame %d: %v, want %v", w.frame, kinds[w.frame], w.kinds)
		}
	}
	// Wireshark numbers the duplicate ACKs from the last ACK that changed
	// the ACK number (frame 3, the handshake's), not from the request.
	for _, a := range rep.Anomalies {
		if a.Frame == 8 && a.Kind == "duplicate_ack" && a.Detail != "duplicate ACK #2 of frame 3" {
			t.Errorf("frame 8: %q, want duplicate ACK #2 of frame 3", a.Detail)
		}
	}
}

// TestFinThenResetBy checks testdata/pcaps/fin-then-reset.pcap: a close
// that a RST ended after a FIN names the RST's sender ("fin-then-reset by
// server" after the client's FIN and the server's RST), in the state column
// and in closed_by, and close.first_fin_by names the FIN's.
func TestFinThenResetBy(t *testing.T) {
	rep := analyzeFile(t, "../testdata/pcaps/fin-then-reset.pcap")
	tests := []struct {
		port                uint16
		name                string
		state, finBy, rstBy string
		firstFIN, rstFrame  int64
	}{
		{56001, "the client's FIN, the server's RST", "complete, fin-then-reset by server", "client", "server", 5, 6},
		{56002, "the server's FIN, the client's RST", "complete, fin-then-reset by client", "server", "client", 13, 14},
		{56003, "the client's FIN, then its own RST", "complete, fin-then-reset by client", "client", "client", 21, 23},
	}
	if len(rep.Conns) != len(tests) {
		t.Fatalf("%d connections, want %d", len(rep.Conns), len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rep.Conns[i]
			if clientPort(c) != tt.port {
				t.Fatalf("connection %d is from port %d, want %d", c.ID, clientPort(c), tt.port)
			}
			if c.State != tt.state || c.ClosedBy != tt.rstBy {
				t.Errorf("state %q, closed_by %q; want %q, %q", c.State, c.ClosedBy, tt.state, tt.rstBy)
			}
			cl := c.Close
			if cl.Class != "fin-then-reset" || cl.FirstFINBy != tt.finBy || cl.ResetBy != tt.rstBy || cl.FirstFIN != tt.firstFIN || cl.ResetFrame != tt.rstFrame {
				t.Errorf("close %+v; want fin-then-reset, first FIN %d by %s, RST %d by %s", *cl, tt.firstFIN, tt.finBy, tt.rstFrame, tt.rstBy)
			}
			if c.ClientState != "CLOSED" || c.ServerState != "CLOSED" || len(c.Resets) != 1 || c.Resets[0].Verdict != "accepted" {
				t.Errorf("final states %s/%s, RSTs %+v: want CLOSED/CLOSED and one accepted RST", c.ClientState, c.ServerState, c.Resets)
			}
		})
	}
}
