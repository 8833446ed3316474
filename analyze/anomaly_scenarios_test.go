package analyze

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tcptrace/tcptrace/analyze/wsflags"
	"github.com/tcptrace/tcptrace/internal/capture"
)

// TestAnomalyScenarios checks the anomalies only tcptrace reports on
// testdata/pcaps/anomalies.pcap: each connection (by client port) was built
// to show exactly one, and nothing else of ours may appear.
func TestAnomalyScenarios(t *testing.T) {
	rep := analyzeFile(t, "../testdata/pcaps/anomalies.pcap")
	// Ours: every kind of the severity table but Wireshark's flags.
	own := map[string]bool{}
	for k := range severities {
		own[string(k)] = true
	}
	wsflags.Flag(^uint16(0)).Each(func(f wsflags.Flag) { delete(own, f.Name()) })
	delete(own, "reused_ports")
	want := map[string]map[string]int{
		"47001": {"data_after_fin": 1},
		"47002": {"after_rst": 1},
		"47003": {"syn_new_isn": 1},
		"47004": {"duplicate_frame": 1},
		"47005": {"rst_out_of_window": 1},
		"47006": {"fin_changed_seq": 1},
		"47007": {"rst_in_window": 1},
		"47008": {"ttl_change": 1, "ipid_break": 1},
		// The window goes 502 → 500 units on the same ACK (256 bytes back),
		// then 500 → 100 units with 600 more bytes acknowledged.
		"47009": {"window_shrink": 2},
		// 502 → 2 units on the same ACK, then 1448 bytes into a 256-byte window.
		"47010": {"window_shrink": 1, "outside_window": 1},
		"47011": {"ack_unsent_data": 1},
		"47012": {"fin_invalid_seq": 1},
		"47013": {"conflicting_retransmission": 1},
		"47014": {}, // its bad checksum shows only with Config.Checksums (TestBadChecksumScenario)
		"47015": {},
	}
	// Not ours only, but named our way: Linux's probe at snd.una-1 into a
	// zero window is a zero_window_probe, not tshark's keep_alive.
	probe := 0
	// Not expected anywhere: data after an ignored RST is not a retransmission.
	forbidden := map[string]map[string]bool{"47005": {"retransmission": true}}
	ports := map[int]string{}
	for _, c := range rep.Conns {
		ports[c.ID] = c.Client[strings.LastIndexByte(c.Client, ':')+1:]
	}
	got := map[string]map[string]int{}
	for _, a := range rep.Anomalies {
		p := ports[a.Conn]
		if p == "47015" && a.Kind == "zero_window_probe" {
			probe++
		}
		if p == "47015" && a.Kind == "keep_alive" {
			t.Errorf("port 47015 frame %d: a zero-window probe called keep_alive", a.Frame)
		}
		if forbidden[p][a.Kind] {
			t.Errorf("port %s frame %d: unexpected %s (%s)", p, a.Frame, a.Kind, a.Detail)
		}
		if !own[a.Kind] {
			continue
		}
		if got[p] == nil {
			got[p] = map[string]int{}
		}
		got[p][a.Kind]++
	}
	for p, kinds := range want {
		for k, n := range kinds {
			if got[p][k] != n {
				t.Errorf("port %s: %d × %s, want %d", p, got[p][k], k, n)
			}
		}
		for k, n := range got[p] {
			if kinds[k] == 0 {
				t.Errorf("port %s: unexpected %d × %s", p, n, k)
			}
		}
	}
	if probe != 1 {
		t.Errorf("port 47015: %d zero_window_probe, want 1", probe)
	}
	if len(rep.Conns) != len(want) {
		t.Errorf("%d connections, want %d", len(rep.Conns), len(want))
	}
}

// TestBadChecksumScenario: with checksum verification on, exactly the one
// segment built with a wrong checksum is reported.
func TestBadChecksumScenario(t *testing.T) {
	src, err := capture.Open("../testdata/pcaps/anomalies.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	cfg := DefaultConfig()
	cfg.Checksums = true
	e := NewEngine(cfg)
	if err := e.Run(src); err != nil {
		t.Fatal(err)
	}
	rep := e.Report([]string{"anomalies.pcap"})
	var got []string
	for _, a := range rep.Anomalies {
		if a.Kind == string(kBadChecksum) {
			got = append(got, fmt.Sprintf("conn %d frame %d", a.Conn, a.Frame))
		}
	}
	if len(got) != 1 || !strings.HasSuffix(got[0], "frame 95") {
		t.Errorf("bad_checksum on %v, want one, on frame 95 (port 47014's request)", got)
	}
}
