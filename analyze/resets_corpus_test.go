package analyze

import (
	"bytes"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/internal/pcapgen"
)

// TestResetCausesLoopback: on the real loopback capture, whose generator
// knows why each connection was reset, every reset on port 18999 (nothing
// listening) is refused; every reset on 18091 (server closes with unread
// data) and 18094 (server SO_LINGER 0) is sent by the server and classed an
// abort; on 18080, every RST of a connection the client aborted (SO_LINGER 0
// while downloading: the client sent no FIN and reset first) is classed an
// abort, and sent by the client.
func TestResetCausesLoopback(t *testing.T) {
	files := corpusFiles(t)
	const rel = "loopback/real-lo-dev.pcap"
	found := false
	for _, f := range files {
		found = found || f == rel
	}
	if !found {
		t.Skipf("%s not in the corpus", rel)
	}
	r := analyzeFile(t, filepath.Join(corpusDir, "raw", rel))
	count := map[string]int{}
	for _, c := range r.Conns {
		port := c.Server[strings.LastIndexByte(c.Server, ':')+1:]
		clientAbort := c.FIN.Client == 0 && len(c.Resets) > 0 && c.Resets[0].Sender == "client"
		for _, x := range c.Resets {
			key := fmt.Sprintf("%s %s %s", port, x.Sender, x.Cause)
			count[key]++
			bad := false
			switch port {
			case "18999":
				bad = x.Cause != CauseRefused || x.Sender != "server"
			case "18091", "18094":
				bad = x.Sender != "server" || x.Cause != CauseAbort
			case "18080":
				bad = clientAbort && x.Sender == "client" && x.Cause != CauseAbort
			}
			if bad {
				t.Errorf("conn %d (%s → %s) frame %d: RST by the %s classed %s (%s), want the expected cause for port %s",
					c.ID, c.Client, c.Server, x.Frame, x.Sender, x.Cause, x.Detail, port)
			}
		}
	}
	for _, want := range []string{"18999 server refused", "18091 server abort", "18094 server abort", "18080 client abort"} {
		if count[want] == 0 {
			t.Errorf("no reset %q found", want)
		}
	}
	t.Logf("resets by port, sender and cause: %v", count)
}

// TestIgnoredResetsAreNotAborts: across the corpus and the scenarios, a RST
// the receiver would not accept (out of window, or in window but not exact)
// on a synchronized connection is never classed a plain abort.
func TestIgnoredResetsAreNotAborts(t *testing.T) {
	files := scenarioAndCorpus(t)
	n := 0
	for _, f := range files {
		r := analyzeFile(t, f)
		for _, c := range r.Conns {
			for _, x := range c.Resets {
				if x.Accepted != "in-window" && x.Accepted != "out-of-window" {
					continue
				}
				n++
				if x.Cause == CauseAbort {
					t.Errorf("%s conn %d frame %d: a RST the receiver ignores (%s) classed abort", f, c.ID, x.Frame, x.Accepted)
				}
			}
		}
	}
	t.Logf("%d unacceptable RSTs checked", n)
}

// TestResetCauseScenarios: each scenario connection built for one cause is
// classed so, by the expected sender.
func TestResetCauseScenarios(t *testing.T) {
	for _, tc := range []struct {
		file   string
		conn   int
		sender string
		cause  string
	}{
		{"reset-causes.pcap", 1, "server", CauseIdleTimeout},
		{"reset-causes.pcap", 2, "client", CauseRetransTimeout},
		{"reset-causes.pcap", 3, "server", CauseHalfOpen},
		{"resets.pcap", 1, "server", CauseAbort},
		{"resets.pcap", 3, "server", CauseMiddlebox},
		{"resets.pcap", 4, "client", CauseMiddlebox},
		{"reset.pcap", 1, "server", CauseRefused},
		{"anomalies.pcap", 8, "server", CauseMiddlebox}, // TTL and IP ID unlike the server's
	} {
		r := analyzeFile(t, filepath.Join("../testdata/pcaps", tc.file))
		found := false
		for _, c := range r.Conns {
			if c.ID != tc.conn {
				continue
			}
			for _, x := range c.Resets {
				found = true
				if x.Sender != tc.sender || x.Cause != tc.cause {
					t.Errorf("%s conn %d frame %d: %s, %s (%s); want %s, %s", tc.file, c.ID, x.Frame, x.Sender, x.Cause, x.Detail, tc.sender, tc.cause)
				}
			}
		}
		if !found {
			t.Errorf("%s conn %d: no RST", tc.file, tc.conn)
		}
	}
}

// TestResetPatterns: each RST of the reset-patterns scenario (and the other
// scenario RSTs built for one pattern) gets the cause, the linux_reason and
// the forgery signals its pattern calls for.
func TestResetPatterns(t *testing.T) {
	type want struct {
		sender, cause, linux string
		forged               []string // names of the forged signals, in order
		follows              int64
		verdict              string
	}
	for _, tc := range []struct {
		file  string
		frame int64
		want
	}{
		// Forged RSTs racing a handshake: TTL 46 and a foreign IP ID; with a
		// wrong ACK, SYN-SENT drops it and the handshake goes on.
		{"reset-patterns.pcap", 2, want{"server", CauseMiddlebox, "", []string{"ttl", "ip_id", "ack_beyond_sent", "sender_alive"}, 0, "out_of_window"}},
		{"reset-patterns.pcap", 13, want{"server", CauseMiddlebox, "", []string{"ttl", "sender_alive", "timing"}, 0, "accepted"}},
		{"reset-patterns.pcap", 15, want{"client", CauseUnknown, linuxNoSocket, nil, 0, "accepted"}},
		// Random IP IDs are no evidence. The server had received data: read
		// (TCP_STATE) or not (TCP_ABORT_ON_CLOSE), the wire cannot tell.
		{"reset-patterns.pcap", 26, want{"server", CauseAbort, "", nil, 0, "accepted"}},
		// Unprompted after 120 s of silence: an idle timeout, not half-open.
		{"reset-patterns.pcap", 33, want{"server", CauseIdleTimeout, "", nil, 0, "accepted"}},
		// Request and FIN retransmitted with backoff, then a RST.
		{"reset-patterns.pcap", 43, want{"client", CauseRetransTimeout, "", nil, 0, "accepted"}},
		// A refused SYN and its retries.
		{"reset-patterns.pcap", 45, want{"server", CauseRefused, linuxNoSocket, nil, 0, "accepted"}},
		{"reset-patterns.pcap", 47, want{"server", CauseRefused, linuxNoSocket, nil, 45, "accepted"}},
		{"reset-patterns.pcap", 49, want{"server", CauseRefused, linuxNoSocket, nil, 45, "accepted"}},
		// A host talking to itself: signals, but no middlebox.
		{"reset-patterns.pcap", 56, want{"server", CauseAbort, "", []string{"ttl", "ip_id"}, 0, "accepted"}},
		// 5 s after acknowledged data: an abort with unread data, not half-open.
		{"reset-patterns.pcap", 65, want{"server", CauseAbort, linuxAbortOnClose, nil, 0, "accepted"}},
		// The older scenarios.
		{"resets.pcap", 5, want{"server", CauseAbort, linuxAbortOnClose, nil, 0, "accepted"}},
		{"resets.pcap", 17, want{"server", CauseMiddlebox, "", []string{"seq_beyond_sent", "sender_alive"}, 0, "in_window"}},
		{"resets.pcap", 61, want{"server", CauseResetAfterClose, linuxFlags, nil, 0, "out_of_window"}},
		{"anomalies.pcap", 64, want{"server", CauseMiddlebox, "", []string{"ttl", "ip_id"}, 0, "accepted"}},
		{"reset-causes.pcap", 18, want{"server", CauseHalfOpen, linuxFlags, nil, 0, "unchecked"}},
		{"reset.pcap", 2, want{"server", CauseRefused, linuxNoSocket, nil, 0, "accepted"}},
	} {
		r := analyzeFile(t, filepath.Join("../testdata/pcaps", tc.file))
		var got *want
		for _, c := range r.Conns {
			for _, x := range c.Resets {
				if x.Frame != tc.frame {
					continue
				}
				g := want{x.Sender, x.Cause, x.LinuxReason, nil, x.FollowsFrame, x.Verdict}
				for _, s := range x.Signals {
					if s.Forged {
						g.forged = append(g.forged, s.Name)
					}
				}
				got = &g
			}
		}
		if got == nil {
			t.Errorf("%s frame %d: no RST record", tc.file, tc.frame)
			continue
		}
		if fmt.Sprint(*got) != fmt.Sprint(tc.want) {
			t.Errorf("%s frame %d:\n got %+v\nwant %+v", tc.file, tc.frame, *got, tc.want)
		}
	}
}

// TestAbortiveRSTLinuxReason: an established endpoint's RST+ACK from its own
// snd.nxt is TCP_STATE only when it had received no data (none could be
// unread); after data from its peer it is TCP_ABORT_ON_CLOSE when its window
// shows the data unread, and unknown otherwise, however much it answered:
// Linux grows the window while the buffer has room, read or not (the bench
// capture's kernel trace: 383 wrong TCP_STATE of 884 before this rule).
func TestAbortiveRSTLinuxReason(t *testing.T) {
	for _, tc := range []struct {
		name  string
		run   func(c *pcapgen.Conn)
		linux string
	}{
		{"server pushes, then aborts; the client sent nothing", func(c *pcapgen.Conn) {
			c.ServerSend(bytes.Repeat([]byte("x"), 3000))
		}, linuxState},
		{"request answered, then the server aborts", func(c *pcapgen.Conn) {
			c.ClientSend([]byte("GET / HTTP/1.1\r\n\r\n"))
			c.ServerSend(bytes.Repeat([]byte("x"), 3000))
		}, ""},
		{"an upload, a short answer, the window still growing", func(c *pcapgen.Conn) {
			c.ClientSend(bytes.Repeat([]byte("u"), 20000))
			c.Segment(false, pcapgen.ACK, nil) // window 509
			c.SetWindow(false, 800)
			c.ServerSend([]byte("HTTP/1.1 413 Payload Too Large\r\n\r\n"))
		}, ""},
		{"an upload, the server's window shrunk", func(c *pcapgen.Conn) {
			c.ClientSend(bytes.Repeat([]byte("u"), 20000))
			c.Segment(false, pcapgen.ACK, nil) // window 509
			c.SetWindow(false, 300)
			c.ServerSend([]byte("HTTP/1.1 413 Payload Too Large\r\n\r\n"))
		}, linuxAbortOnClose},
	} {
		t.Run(tc.name, func(t *testing.T) {
			capt := &pcapgen.Capture{}
			c := pcapgen.NewConn(pcapgen.ConnConfig{Capture: capt, Client: netip.MustParseAddrPort("10.0.11.1:52000"),
				Server: netip.MustParseAddrPort("192.0.2.110:80"), Start: pcapgen.Epoch})
			c.Handshake()
			tc.run(c)
			c.RST(false)
			var b bytes.Buffer
			if err := capt.WritePcap(&b, pcapgen.LinkTypeEthernet, 0, false); err != nil {
				t.Fatal(err)
			}
			r := analyzeBytes(b.Bytes(), "abort.pcap", DefaultConfig())
			if len(r.Conns) != 1 || len(r.Conns[0].Resets) != 1 {
				t.Fatalf("%d connections, want one with one RST", len(r.Conns))
			}
			x := r.Conns[0].Resets[0]
			if x.Cause != CauseAbort || x.LinuxReason != tc.linux {
				t.Errorf("cause %s, linux_reason %q (%s); want abort, %q", x.Cause, x.LinuxReason, x.Detail, tc.linux)
			}
		})
	}
}

// TestClosingRace: a bare RST answering the peer's segment looks half-open,
// unless the sender's own abort (a RST+ACK from its sequence space)
// follows within 10 ms: then the sender was closing its socket with the
// peer's data unread, and both RSTs are its abort (the bench capture's
// kernel trace: NO_SOCKET, then TCP_ABORT_ON_CLOSE 3 µs later).
func TestClosingRace(t *testing.T) {
	for _, tc := range []struct {
		name             string
		abortAfter       time.Duration // 0: no abort follows
		causes           []string
		linuxOfTheSecond string
	}{
		{"the abort follows", 3 * time.Microsecond, []string{CauseAbort, CauseAbort}, linuxAbortOnClose},
		{"no abort", 0, []string{CauseHalfOpen}, ""},
		{"a RST+ACK far later", time.Second, []string{CauseHalfOpen, CauseHalfOpen}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			capt := &pcapgen.Capture{}
			c := pcapgen.NewConn(pcapgen.ConnConfig{Capture: capt, Client: netip.MustParseAddrPort("10.0.12.1:53000"),
				Server: netip.MustParseAddrPort("192.0.2.120:80"), Start: pcapgen.Epoch})
			c.Handshake()
			c.ClientSend([]byte("GET /big HTTP/1.1\r\n\r\n"))
			c.ServerSend(bytes.Repeat([]byte("x"), 4000))
			// The client answers the server's last segment from its ACK
			// field, as a stack without the connection does.
			c.Raw(pcapgen.RawSegment{FromClient: true, Seq: c.NextSeq(true), Flags: pcapgen.RST, NoTimestamp: true})
			if tc.abortAfter > 0 {
				c.Advance(tc.abortAfter)
				c.Raw(pcapgen.RawSegment{FromClient: true, Seq: c.NextSeq(true), Ack: c.NextSeq(false) - 4000 + 1460, Flags: pcapgen.RST | pcapgen.ACK, NoTimestamp: true})
			}
			var b bytes.Buffer
			if err := capt.WritePcap(&b, pcapgen.LinkTypeEthernet, 0, false); err != nil {
				t.Fatal(err)
			}
			r := analyzeBytes(b.Bytes(), "race.pcap", DefaultConfig())
			if len(r.Conns) != 1 {
				t.Fatalf("%d connections, want 1", len(r.Conns))
			}
			var causes []string
			for _, x := range r.Conns[0].Resets {
				causes = append(causes, x.Cause)
			}
			if fmt.Sprint(causes) != fmt.Sprint(tc.causes) {
				t.Fatalf("causes %v, want %v (%+v)", causes, tc.causes, r.Conns[0].Resets)
			}
			if len(causes) == 2 && r.Conns[0].Resets[1].LinuxReason != tc.linuxOfTheSecond {
				t.Errorf("the second RST's linux_reason %q, want %q (%s)", r.Conns[0].Resets[1].LinuxReason, tc.linuxOfTheSecond, r.Conns[0].Resets[1].Detail)
			}
		})
	}
}
