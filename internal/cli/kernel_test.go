package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcptrace/tcptrace/report"
)

const kernelTruth = "../../../shared/kernel-truth"

// TestResetsKernelEvents: `resets --kernel-events` on the kernel-truth
// capture joins at least 95 % of the kernel's tcp_send_reset events to
// their RST frames, and every joined record carries the kernel's reason.
func TestResetsKernelEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the kernel-truth capture is 116,000 frames")
	}
	trace := filepath.Join(kernelTruth, "real-lo-kernel.kernel-tcp.txt")
	pcap := filepath.Join(kernelTruth, "real-lo-kernel.pcap")
	if _, err := os.Stat(trace); err != nil {
		t.Skipf("kernel ground truth not found (it lives beside the repository): %v", err)
	}
	var out, errb bytes.Buffer
	stdio := IO{Out: &out, Err: &errb, Getenv: func(string) string { return "" }}
	if code := Main([]string{"resets", "--format", "json", "--kernel-events", trace, pcap}, stdio); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var sum struct {
		Type   string               `json:"type"`
		Kernel *report.KernelEvents `json:"kernel_events"`
	}
	withReason := 0
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var rec report.Reset
		if strings.HasPrefix(l, `{"type":"summary"`) {
			if err := json.Unmarshal([]byte(l), &sum); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.KernelReason != "" && rec.KernelState != "" {
			withReason++
		}
	}
	k := sum.Kernel
	if k == nil {
		t.Fatal("no kernel_events in the summary record")
	}
	if k.Joined*100 < k.SendResets*95 || withReason != k.Joined {
		t.Errorf("%d of %d tcp_send_reset events joined, %d records with the kernel's reason; want 95 %% joined, each with its reason", k.Joined, k.SendResets, withReason)
	}
	if k.NotLogged != 0 {
		t.Errorf("%d RSTs said not sent by the kernel; the kernel logged them all", k.NotLogged)
	}
	t.Logf("%d of %d tcp_send_reset events joined", k.Joined, k.SendResets)
}

func TestKernelEventsErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("  x-1 [000] ..s1. 12.5: tcp_send_reset: src=nonsense dest=1.2.3.4:5\n"), 0o644)
	for _, tc := range []struct {
		trace, want string
	}{
		{filepath.Join(dir, "missing.txt"), "--kernel-events: open"},
		{bad, "bad.txt: line 1: tcp_send_reset: src"},
	} {
		var out, errb bytes.Buffer
		stdio := IO{Out: &out, Err: &errb, Getenv: func(string) string { return "" }}
		code := Main([]string{"resets", "--kernel-events", tc.trace, "../../testdata/pcaps/reset.pcap"}, stdio)
		if code != ExitUnreadable || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%s: exit %d, %q; want exit %d naming %q", tc.trace, code, errb.String(), ExitUnreadable, tc.want)
		}
	}
}
