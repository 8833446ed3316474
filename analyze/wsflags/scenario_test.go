package wsflags_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// tsharkScenarios are scenario captures of testdata/pcaps whose tshark
// per-frame flags are kept in testdata/<capture>.tsv (TShark 4.0.17, the
// version of the corpus oracle, same format as its frames/*.tsv):
//
//	tshark -n -r CAPTURE -T fields -E separator=/t -e frame.number -e tcp.stream \
//	  -e tcp.analysis.retransmission -e tcp.analysis.fast_retransmission … (one -e per flag of tsharkFlagFields)
//
// with each non-empty flag column written as its name, comma-separated.
var tsharkScenarios = []string{"dupack-window-update.pcap", "span-duplicates.pcap", "fin-then-reset.pcap"}

// tsharkFlagFields are the tcp.analysis fields of the TSV, in column order.
var tsharkFlagFields = []string{"retransmission", "fast_retransmission", "spurious_retransmission", "out_of_order",
	"lost_segment", "ack_lost_segment", "duplicate_ack", "zero_window", "zero_window_probe", "zero_window_probe_ack",
	"window_full", "window_update", "keep_alive", "keep_alive_ack", "reused_ports"}

// TestTsharkScenarioFlags compares the flags of the Wireshark-parity
// scenarios frame by frame with tshark's, exactly: two duplicate ACKs, a
// window update (or data repeating the ACK), then the retransmission is a
// fast retransmission; SPAN duplicates keep the flags tshark gives them
// (retransmission, duplicate_ack) at this level — the analysis reports them
// as duplicate_frame instead (analyze.TestSpanDuplicates). When a tshark
// 4.0 is installed it also checks, without -short, that the kept TSV is what
// it prints.
func TestTsharkScenarioFlags(t *testing.T) {
	live := ""
	if !testing.Short() {
		live = tshark40(t)
	}
	for _, name := range tsharkScenarios {
		t.Run(name, func(t *testing.T) {
			pcap := filepath.Join("../../testdata/pcaps", name)
			tsv := filepath.Join("testdata", name+".tsv")
			theirs, ours := tsharkFlags(t, tsv), ourFlags(t, pcap)
			for k := range theirs {
				if !ours[k] {
					t.Errorf("frame %d: tshark flags %s, we do not", k.frame, k.kind)
				}
			}
			for k := range ours {
				if !theirs[k] {
					t.Errorf("frame %d: we flag %s, tshark does not", k.frame, k.kind)
				}
			}
			if live != "" {
				want, err := os.ReadFile(tsv)
				if err != nil {
					t.Fatal(err)
				}
				if got := runTshark(t, live, pcap); !bytes.Equal(got, want) {
					t.Errorf("%s is not what %s prints for %s (regenerate it):\n%s", tsv, live, name, got)
				}
			}
		})
	}
}

// tshark40 returns the path of an installed tshark 4.0.x, or "".
func tshark40(t *testing.T) string {
	p, err := exec.LookPath("tshark")
	if err != nil {
		t.Logf("tshark not installed: comparing with the kept TSV only")
		return ""
	}
	out, err := exec.Command(p, "--version").Output()
	if err != nil || !strings.HasPrefix(string(out), "TShark (Wireshark) 4.0.") {
		t.Logf("%s is not TShark 4.0.x: comparing with the kept TSV only", p)
		return ""
	}
	return p
}

// runTshark prints a capture's flags in the TSV format.
func runTshark(t *testing.T, tshark, pcap string) []byte {
	args := []string{"-n", "-r", pcap, "-T", "fields", "-E", "separator=/t", "-e", "frame.number", "-e", "tcp.stream"}
	for _, f := range tsharkFlagFields {
		args = append(args, "-e", "tcp.analysis."+f)
	}
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("%s: %v", tshark, err)
	}
	var b bytes.Buffer
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		cols := strings.Split(line, "\t")
		var flags []string
		for i, f := range tsharkFlagFields {
			if 2+i < len(cols) && cols[2+i] != "" {
				flags = append(flags, f)
			}
		}
		b.WriteString(cols[0] + "\t" + cols[1] + "\t" + strings.Join(flags, ",") + "\n")
	}
	return b.Bytes()
}
