package analyze

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/internal/pcapgen"
	"github.com/tcptrace/tcptrace/report"
	"github.com/tcptrace/tcptrace/tcp"
)

// copySpec is one server segment of a conflict test: its stream offset and
// bytes, from the server itself or from an injector on the path (TTL 46 and
// IP ID 0xbeef, where the server's packets have 57 and a counter from
// 0x2000).
type copySpec struct {
	off    int
	data   string
	forged bool
}

// conflictCapture builds a connection (handshake, a request) whose server
// sends the copies in order, each one frame (the first is frame 5), then
// the client's ACK and a close; it returns the capture as a pcap file.
func conflictCapture(t *testing.T, copies []copySpec) []byte {
	t.Helper()
	capt := &pcapgen.Capture{}
	cl, sv := netip.MustParseAddrPort("10.0.10.1:51100"), netip.MustParseAddrPort("192.0.2.100:80")
	c := pcapgen.NewConn(pcapgen.ConnConfig{Capture: capt, Client: cl, Server: sv, ClientISN: 1000, ServerISN: 0x7ffffff0,
		ServerIPID: 0x2000, Start: pcapgen.Epoch, RTT: 20 * time.Millisecond})
	c.Handshake()
	c.ClientSend([]byte("GET / HTTP/1.1\r\n\r\n"))
	srv := c.NextSeq(false)
	end := 0
	for _, x := range copies {
		seg := pcapgen.RawSegment{FromClient: false, Seq: srv + uint32(x.off), Ack: c.NextSeq(true), Flags: pcapgen.ACK | pcapgen.PSH, Payload: []byte(x.data)}
		if x.forged {
			f := pcapgen.NewConn(pcapgen.ConnConfig{Capture: capt, Client: cl, Server: sv, Start: c.Now().Add(time.Millisecond),
				ClientTTL: 46, ServerTTL: 46, ClientIPID: 0xbeef, ServerIPID: 0xbeef})
			seg.NoTimestamp = true
			f.Raw(seg)
			c.Advance(2 * time.Millisecond)
		} else {
			c.Raw(seg)
		}
		end = max(end, x.off+len(x.data))
	}
	c.Raw(pcapgen.RawSegment{FromClient: true, Seq: c.NextSeq(true), Ack: srv + uint32(end), Flags: pcapgen.ACK})
	var b bytes.Buffer
	if err := capt.WritePcap(&b, pcapgen.LinkTypeEthernet, 0, false); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestConflictingCopies: two copies of the same bytes that differ are a
// conflicting_retransmission whether the ranges overlap exactly or partly,
// wherever the first copy came from; identical copies are not; the record
// names the copy that looks forged, or says that nothing tells. Each case
// runs on a mapped file (references) and from memory (copies): the records
// must be the same.
func TestConflictingCopies(t *testing.T) {
	const first = 5 // the frame of the first copy
	tests := []struct {
		name   string
		copies []copySpec
		want   *report.Copies // nil: no conflict; Why is a part of the record's
	}{
		{name: "partial overlap, bytes differ",
			copies: []copySpec{{0, "0123456789", false}, {5, "56X89abcde", false}},
			want:   &report.Copies{Offset: 7, Len: 1, Kept: first, Dropped: first + 1, Why: "cannot tell which copy is genuine: both have ttl 57"}},
		{name: "partial overlap, same bytes",
			copies: []copySpec{{0, "0123456789", false}, {5, "56789abcde", false}}},
		{name: "later copy inside the first, bytes differ",
			copies: []copySpec{{0, "0123456789", false}, {3, "3Y5", false}},
			want:   &report.Copies{Offset: 4, Len: 1, Kept: first, Dropped: first + 1, Why: "cannot tell"}},
		{name: "exact overlap, bytes differ",
			copies: []copySpec{{0, "abcdefghij", false}, {0, "abcdefghiJ", false}},
			want:   &report.Copies{Offset: 9, Len: 1, Kept: first, Dropped: first + 1, Why: "both have ttl 57"}},
		{name: "forged first copy (another TTL), partly overlapped by the real one",
			copies: []copySpec{{0, "HTTP/1.1 302 Found", true}, {0, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false}},
			want: &report.Copies{Offset: 9, Len: 9, Kept: first, Dropped: first + 1, Forged: first,
				Why: "ttl 46, sender's other packets 57; ip id 48879, sender's other packets near 8192"}},
		{name: "forged later copy, partly overlapping the real one",
			copies: []copySpec{{0, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false}, {9, "302 Found", true}},
			want: &report.Copies{Offset: 9, Len: 9, Kept: first, Dropped: first + 1, Forged: first + 1,
				Why: "ttl 46, sender's other packets 57"}},
		{name: "forged copy with the same bytes is no conflict",
			copies: []copySpec{{0, "0123456789", true}, {0, "0123456789abc", false}}},
		{name: "forged copy waiting past a hole, the real one overlaps it",
			copies: []copySpec{{10, "klmnopqrst", true}, {12, "mnXp", false}, {0, "0123456789", false}},
			want: &report.Copies{Offset: 14, Len: 1, Kept: first, Dropped: first + 1, Forged: first,
				Why: "ttl 46, sender's other packets 57"}},
	}
	dir := t.TempDir()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := conflictCapture(t, tc.copies)
			path := filepath.Join(dir, "conflict.pcap")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			var records [2][]byte
			old := capture.SetMapThreshold(0) // mapped: the history refers to the payload in place
			mapped := analyzePath(t, path, DefaultConfig())
			capture.SetMapThreshold(old)
			for i, rep := range []*report.Report{mapped, analyzeBytes(data, path, DefaultConfig())} {
				var got []*report.Anomaly
				for _, a := range rep.Anomalies {
					if a.Kind == string(kConflictRetx) {
						got = append(got, a)
					}
				}
				records[i] = recordsJSON(&report.Report{Anomalies: got}, false)
				if tc.want == nil {
					if len(got) != 0 {
						t.Fatalf("unexpected: %s", records[i])
					}
					continue
				}
				if len(got) != 1 || got[0].Copies == nil {
					t.Fatalf("want one conflicting_retransmission with copies, got %s", records[i])
				}
				g, w := *got[0].Copies, *tc.want
				if !strings.Contains(g.Why, w.Why) {
					t.Errorf("why %q, want it to say %q", g.Why, w.Why)
				}
				g.Why, w.Why = "", ""
				g.KeptTTL, g.DroppedTTL, g.SenderTTL = 0, 0, 0
				if g != w {
					t.Errorf("copies %+v, want %+v", g, w)
				}
				if got[0].Frame != w.Dropped || len(got[0].Related) != 1 || got[0].Related[0] != w.Kept {
					t.Errorf("frame %d related %v, want %d and [%d]", got[0].Frame, got[0].Related, w.Dropped, w.Kept)
				}
				if w.Forged != 0 && !strings.Contains(got[0].Detail, "looks forged") {
					t.Errorf("detail %q does not say which copy looks forged", got[0].Detail)
				}
			}
			if !bytes.Equal(records[0], records[1]) {
				t.Errorf("mapped file and memory differ:\n%s\n%s", records[0], records[1])
			}
		})
	}
}

// TestJudgeCopies: the judgment alone, on the sender's habits.
func TestJudgeCopies(t *testing.T) {
	type pkt struct {
		ttl uint8
		id  uint16
	}
	counter := func(n int, ttl uint8, id uint16) []pkt {
		var p []pkt
		for i := range n {
			p = append(p, pkt{ttl, id + uint16(i)})
		}
		return p
	}
	tests := []struct {
		name          string
		before        []pkt // the sender's packets before the copies
		kept, dropped pkt
		forged        string // "kept", "dropped" or ""
		why           string
	}{
		{"foreign TTL on the kept copy", counter(3, 64, 100), pkt{46, 103}, pkt{64, 104}, "kept", "ttl 46, sender's other packets 64"},
		{"foreign TTL on the dropped copy", counter(3, 64, 100), pkt{64, 103}, pkt{50, 104}, "dropped", "ttl 50, sender's other packets 64"},
		{"same TTL, IDs from the counter", counter(5, 64, 100), pkt{64, 105}, pkt{64, 106}, "", "cannot tell which copy is genuine: both have ttl 64"},
		{"same TTL, one ID far from a counting sender", counter(6, 64, 100), pkt{64, 40000}, pkt{64, 106}, "kept", "ip id 40000, sender's other packets near 105"},
		{"same TTL, random IDs prove nothing", []pkt{{64, 9000}, {64, 31000}, {64, 700}, {64, 52000}}, pkt{64, 52100}, pkt{64, 20000}, "", "cannot tell"},
		{"both foreign", counter(3, 64, 100), pkt{46, 103}, pkt{50, 104}, "", "both are unlike the sender's other packets"},
		{"nothing else from the sender", nil, pkt{64, 1}, pkt{46, 2}, "", "no other packets of the sender"},
		{"IPv4 ID supports the TTL", counter(2, 64, 100), pkt{46, 0xbeef}, pkt{64, 102}, "kept", "ttl 46, sender's other packets 64; ip id 48879, sender's other packets near 101"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &Conn{connState: &connState{}}
			var frame int64
			note := func(p pkt) int64 {
				frame++
				c.ip[tcp.Server].note(&tcp.Segment{Frame: frame, TTL: p.ttl, IPID: uint32(p.id)})
				return frame
			}
			for _, p := range tc.before {
				note(p)
			}
			kf := note(tc.kept)
			df := note(tc.dropped)
			cp := c.judgeCopies(tcp.Server, copyIP{kf, tc.kept.ttl, tc.kept.id}, copyIP{df, tc.dropped.ttl, tc.dropped.id}, 0, 1)
			want := map[string]int64{"kept": kf, "dropped": df, "": 0}[tc.forged]
			if cp.Forged != want || !strings.Contains(cp.Why, tc.why) {
				t.Errorf("forged %d (%q), want %d (%q)", cp.Forged, cp.Why, want, tc.why)
			}
		})
	}
}

// TestInjectedDataScenario checks testdata/pcaps/injected-data.pcap: in
// each connection one conflicting_retransmission, naming the forged copy
// when there is one to name.
func TestInjectedDataScenario(t *testing.T) {
	rep := analyzeFile(t, "../testdata/pcaps/injected-data.pcap")
	ports := map[int]string{}
	for _, c := range rep.Conns {
		ports[c.ID] = c.Client[strings.LastIndexByte(c.Client, ':')+1:]
	}
	want := map[string]struct {
		kept, dropped int64
		forged        string // kept, dropped or "" (cannot tell)
		why           string
	}{
		// The injector's redirect (TTL 46) came first and was kept; the
		// real response's first segment overlaps it partly.
		"51001": {5, 7, "kept", "ttl 46, sender's other packets 57; ip id 48879, sender's other packets near 8192"},
		// Both copies from the server: nothing tells them apart.
		"51002": {19, 20, "", "cannot tell which copy is genuine: both have ttl 57 like the sender's other packets"},
		// The real response first; the injector's late copy overlaps it.
		"51003": {30, 31, "dropped", "ttl 46, sender's other packets 57"},
	}
	got := map[string]int{}
	for _, a := range rep.Anomalies {
		if a.Kind != string(kConflictRetx) {
			continue
		}
		p := ports[a.Conn]
		got[p]++
		w, ok := want[p]
		if !ok || a.Copies == nil {
			t.Errorf("port %s: unexpected %+v", p, a)
			continue
		}
		cp := a.Copies
		forged := map[int64]string{0: "", cp.Kept: "kept", cp.Dropped: "dropped"}[cp.Forged]
		if cp.Kept != w.kept || cp.Dropped != w.dropped || a.Frame != w.dropped || forged != w.forged || !strings.Contains(cp.Why, w.why) {
			t.Errorf("port %s: frame %d copies %+v, want kept %d dropped %d forged %q why %q", p, a.Frame, *cp, w.kept, w.dropped, w.forged, w.why)
		}
	}
	for p := range want {
		if got[p] != 1 {
			t.Errorf("port %s: %d conflicting_retransmission, want 1", p, got[p])
		}
	}
}
