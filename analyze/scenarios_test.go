package analyze

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tcptrace/tcptrace/report"
)

// scenarioConn is what TCP (RFC 9293, RFC 5961) says about one connection of
// a generated scenario capture (internal/pcapgen, doc.go describes each).
// The values come from the segments on the wire, not from the tool's output.
type scenarioConn struct {
	port      uint16 // client port
	nth       int    // which connection on that client port (0 = first)
	handshake string
	close     string
	closedBy  string
	client    string // final RFC 9293 state of the client
	server    string // and of the server
	verdicts  []string
	rstFrame  int64 // close.rst_frame: the RST that ended the connection (0: none did)
	check     func(t *testing.T, c *report.Conn)
}

var scenarioTable = []struct {
	file  string
	conns []scenarioConn
}{
	{"handshakes.pcap", []scenarioConn{
		{port: 41001, handshake: "complete", close: "four-way", closedBy: "client", client: "TIME-WAIT", server: "CLOSED"},
		// Both bare SYNs (11, 12) cross, then SYN-ACKs (13, 14): each side
		// goes SYN-SENT → SYN-RECEIVED → ESTABLISHED (RFC 9293 figure 7).
		{port: 41002, handshake: "simultaneous-open", close: "four-way", closedBy: "client", client: "TIME-WAIT", server: "CLOSED"},
		// SYN 22, again at 63 (+1 s) and 66 (+2 s), SYN-ACK 67, ACK 68.
		{port: 41003, handshake: "complete", close: "four-way", closedBy: "client", client: "TIME-WAIT", server: "CLOSED",
			check: synBackoff(67, 68, 1, 2)},
		// SYNs 23, 64, 76; no answer: the client stays in SYN-SENT, the
		// server is assumed listening.
		{port: 41004, handshake: "syn-unanswered", close: "never-opened", client: "SYN-SENT", server: "LISTEN",
			check: synBackoff(0, 0, 1, 2)},
		// RST/ACK 25 acknowledges the SYN: acceptable in SYN-SENT (§3.10.7.3).
		{port: 41005, handshake: "refused", close: "reset", closedBy: "server", client: "CLOSED", server: "CLOSED",
			verdicts: []string{"accepted"}, rstFrame: 25},
		{port: 41006, handshake: "syn-ack-without-syn", close: "four-way", closedBy: "client", client: "TIME-WAIT", server: "CLOSED"},
		// SYN-ACK 35 captured before the SYN 36, ACK 37.
		{port: 41007, handshake: "reordered", close: "four-way", closedBy: "client", client: "TIME-WAIT", server: "CLOSED"},
		// SYN 45, SYN-ACK 46, no ACK: neither side is synchronized.
		{port: 41008, handshake: "incomplete", close: "never-opened", client: "SYN-SENT", server: "SYN-RECEIVED"},
		{port: 41009, handshake: "not-captured", close: "four-way", closedBy: "client", client: "TIME-WAIT", server: "CLOSED"},
		// SYN 54, then the client's own RST 65: it aborted its attempt. The
		// server never answered: a RST to LISTEN is ignored (§3.10.7.2).
		{port: 41010, handshake: "aborted", close: "reset", closedBy: "client", client: "CLOSED", server: "LISTEN",
			verdicts: []string{"out_of_window"}, rstFrame: 65},
		// SYN 55 with ECE+CWR and 86 bytes of TFO data, SYN-ACK 56 with ECE.
		{port: 41011, handshake: "complete", close: "four-way", closedBy: "client", client: "TIME-WAIT", server: "CLOSED",
			check: func(t *testing.T, c *report.Conn) {
				if h := c.Handshake; !h.ECN || !h.TFO || h.SynData != 86 {
					t.Errorf("ecn %v, tfo %v, syn_data %d; want ECN, TFO, 86 bytes", h.ECN, h.TFO, h.SynData)
				}
			}},
	}},
	{"closes.pcap", []scenarioConn{
		// Last packet at 0.02 s, capture ends at 400.07 s: silent > 5 min.
		{port: 42007, handshake: "complete", close: "idle", client: "ESTABLISHED", server: "ESTABLISHED",
			check: func(t *testing.T, c *report.Conn) {
				if c.Close.IdleFor < 400 {
					t.Errorf("idle_before_end %v, want about 400 s", c.Close.IdleFor)
				}
			}},
		// FIN 13, ACK 14, FIN 15, ACK 16.
		{port: 42001, handshake: "complete", close: "four-way", closedBy: "client", client: "TIME-WAIT", server: "CLOSED"},
		// FIN 23, FIN/ACK 24 acknowledging it, ACK 25.
		{port: 42002, handshake: "complete", close: "three-way", closedBy: "client", client: "TIME-WAIT", server: "CLOSED"},
		// FIN 32 (ack = server's FIN seq), FIN 33 (ack = client's FIN seq):
		// both FIN-WAIT-1 → CLOSING → TIME-WAIT once ACKs 34, 35 arrive.
		{port: 42003, handshake: "complete", close: "simultaneous", closedBy: "client", client: "TIME-WAIT", server: "TIME-WAIT"},
		// FIN 40, ACK 41, 3067 bytes of response (42-44), FIN 46, ACK 47.
		{port: 42004, handshake: "complete", close: "four-way", closedBy: "client", client: "TIME-WAIT", server: "CLOSED",
			check: halfCloseBytes(3067)},
		// FIN 60, ACK 61, 2000 bytes more (62-63), no FIN from the server.
		{port: 42005, handshake: "complete", close: "half-closed", closedBy: "client", client: "FIN-WAIT-2", server: "CLOSE-WAIT",
			check: halfCloseBytes(2000)},
		{port: 42006, handshake: "complete", close: "open", client: "ESTABLISHED", server: "ESTABLISHED"},
		// FIN 53; the server acknowledges it with data 54 and keeps
		// writing; the client's RST 55 at its snd.nxt (= the server's
		// rcv.nxt) resets the server in CLOSE-WAIT.
		{port: 42008, handshake: "complete", close: "fin-then-reset", closedBy: "client", client: "CLOSED", server: "CLOSED",
			verdicts: []string{"accepted"}, rstFrame: 55, check: halfCloseBytes(1119)},
	}},
	{"resets.pcap", []scenarioConn{
		// RST/ACK 5 at exactly the client's rcv.nxt (RFC 5961 §3.2).
		{port: 43001, handshake: "complete", close: "reset", closedBy: "server", client: "CLOSED", server: "CLOSED",
			verdicts: []string{"accepted"}, rstFrame: 5},
		// RST/ACK 12 at the client's snd.nxt, right after data 10-11.
		{port: 43002, handshake: "complete", close: "reset", closedBy: "client", client: "CLOSED", server: "CLOSED",
			verdicts: []string{"accepted"}, rstFrame: 12},
		// RST 17 is 5000 bytes past the client's rcv.nxt, inside its window:
		// the client answers the challenge ACK 18 and stays synchronized
		// (RFC 5961 §3.2); the server goes on sending (19-20) and the
		// connection closes with FIN 22, ACK 23, FIN 24, ACK 25. Nothing was
		// reset.
		{port: 43003, handshake: "complete", close: "four-way", closedBy: "client", client: "TIME-WAIT", server: "CLOSED",
			verdicts: []string{"in_window"}, rstFrame: 0,
			check: func(t *testing.T, c *report.Conn) {
				if len(c.Resets) == 1 && c.Resets[0].ChallengeACK != 18 {
					t.Errorf("challenge_ack_frame %d, want 18", c.Resets[0].ChallengeACK)
				}
			}},
		// RST 30 is 2^30 past the server's rcv.nxt: silently dropped
		// (RFC 5961 §3.2, RFC 9293 §3.10.7.4); the connection goes on and
		// closes with FIN 34, ACK 35, FIN 36, ACK 37.
		{port: 43004, handshake: "complete", close: "four-way", closedBy: "client", client: "TIME-WAIT", server: "CLOSED",
			verdicts: []string{"out_of_window"}, rstFrame: 0},
		// Captured at the server. Four-way close 44-47; the delayed
		// duplicate 60 of the request reaches the CLOSED server, whose
		// RST 61 carries SEQ=SEG.ACK (the server's ISN+1): below the
		// client's rcv.nxt, so the client in TIME-WAIT ignores it. It ends
		// nothing.
		{port: 43005, handshake: "complete", close: "four-way", closedBy: "client", client: "TIME-WAIT", server: "CLOSED",
			verdicts: []string{"out_of_window"}, rstFrame: 0},
		// FIN+RST 54 at rcv.nxt: the RST is processed first (RFC 9293
		// §3.10.7.4, second check) and resets; the FIN is never processed.
		{port: 43006, handshake: "complete", close: "reset", closedBy: "server", client: "CLOSED", server: "CLOSED",
			verdicts: []string{"accepted"}, rstFrame: 54},
		// RST/ACK 59 at rcv.nxt with 33 bytes of diagnostic text.
		{port: 43007, handshake: "complete", close: "reset", closedBy: "server", client: "CLOSED", server: "CLOSED",
			verdicts: []string{"accepted"}, rstFrame: 59,
			check: func(t *testing.T, c *report.Conn) {
				if len(c.Resets) == 1 && c.Resets[0].Len != 33 {
					t.Errorf("RST len %d, want 33", c.Resets[0].Len)
				}
			}},
	}},
	{"wrap.pcap", []scenarioConn{
		{port: 44001, handshake: "complete", close: "four-way", closedBy: "client", client: "TIME-WAIT", server: "CLOSED",
			check: func(t *testing.T, c *report.Conn) {
				if c.Bytes.Client != 3000 || c.Bytes.Server != 12068 {
					t.Errorf("bytes %d/%d, want 3000/12068", c.Bytes.Client, c.Bytes.Server)
				}
			}},
	}},
	{"early-fin.pcap", []scenarioConn{
		// The server's FIN 7 is captured before its last data segment 8;
		// the client acknowledges everything and the FIN (9), then FIN 10,
		// ACK 11.
		{port: 45001, handshake: "complete", close: "four-way", closedBy: "server", client: "CLOSED", server: "TIME-WAIT"},
	}},
	{"port-reuse-timewait.pcap", []scenarioConn{
		// Server FIN 7, ACK 8, client FIN 9, ACK 10, the client's FIN again
		// at 11 and its ACK 12: the server is in TIME-WAIT.
		{port: 46001, handshake: "complete", close: "four-way", closedBy: "server", client: "CLOSED", server: "TIME-WAIT"},
		// The new SYN 13 with a higher ISN 0.3 s later: a new connection.
		{port: 46001, nth: 1, handshake: "complete", close: "four-way", closedBy: "client", client: "TIME-WAIT", server: "CLOSED",
			check: func(t *testing.T, c *report.Conn) {
				if !c.Reused || c.FirstFrame != 13 {
					t.Errorf("reused_tuple %v, first frame %d; want a reused tuple from frame 13", c.Reused, c.FirstFrame)
				}
			}},
	}},
}

func synBackoff(synAck, ack int64, backoff ...float64) func(*testing.T, *report.Conn) {
	return func(t *testing.T, c *report.Conn) {
		h := c.Handshake
		if h.SynRetrans != len(backoff) || !slices.Equal(h.Backoff, backoff) {
			t.Errorf("syn_retransmissions %d, syn_backoff %v; want %d, %v", h.SynRetrans, h.Backoff, len(backoff), backoff)
		}
		if h.SynAckFrame != synAck || h.AckFrame != ack {
			t.Errorf("synack_frame %d, ack_frame %d; want %d, %d", h.SynAckFrame, h.AckFrame, synAck, ack)
		}
	}
}

func halfCloseBytes(n int64) func(*testing.T, *report.Conn) {
	return func(t *testing.T, c *report.Conn) {
		if c.Close.HalfCloseData != n {
			t.Errorf("half_close_bytes %d, want %d", c.Close.HalfCloseData, n)
		}
	}
}

func clientPort(c *report.Conn) uint16 {
	p, _ := strconv.ParseUint(c.Client[strings.LastIndexByte(c.Client, ':')+1:], 10, 16)
	return uint16(p)
}

// TestScenarioClasses checks the handshake and close classes, final states
// and RST verdicts of every connection of the state-machine scenarios.
func TestScenarioClasses(t *testing.T) {
	for _, sc := range scenarioTable {
		t.Run(sc.file, func(t *testing.T) {
			rep := analyzeFile(t, filepath.Join("../testdata/pcaps", sc.file))
			byPort := map[uint16][]*report.Conn{}
			for _, c := range rep.Conns {
				byPort[clientPort(c)] = append(byPort[clientPort(c)], c)
			}
			if len(rep.Conns) != len(sc.conns) {
				t.Errorf("%d connections, want %d", len(rep.Conns), len(sc.conns))
			}
			for _, w := range sc.conns {
				t.Run(fmt.Sprintf("%d#%d", w.port, w.nth), func(t *testing.T) {
					if len(byPort[w.port]) <= w.nth {
						t.Fatalf("no connection %d from client port %d", w.nth, w.port)
					}
					c := byPort[w.port][w.nth]
					if c.Handshake == nil || c.Close == nil {
						t.Fatalf("no handshake or close record")
					}
					if c.Handshake.Class != w.handshake {
						t.Errorf("handshake %q, want %q", c.Handshake.Class, w.handshake)
					}
					if c.Close.Class != w.close {
						t.Errorf("close %q, want %q", c.Close.Class, w.close)
					}
					if c.ClosedBy != w.closedBy {
						t.Errorf("closed_by %q, want %q", c.ClosedBy, w.closedBy)
					}
					if c.ClientState != w.client || c.ServerState != w.server {
						t.Errorf("final states %s/%s, want %s/%s", c.ClientState, c.ServerState, w.client, w.server)
					}
					var verdicts []string
					for _, r := range c.Resets {
						verdicts = append(verdicts, r.Verdict)
					}
					if !slices.Equal(verdicts, w.verdicts) {
						t.Errorf("RST verdicts %v, want %v", verdicts, w.verdicts)
					}
					if c.Close.ResetFrame != w.rstFrame {
						t.Errorf("close rst_frame %d, want %d", c.Close.ResetFrame, w.rstFrame)
					}
					if w.check != nil {
						w.check(t, c)
					}
				})
			}
		})
	}
}
