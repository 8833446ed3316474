package analyze

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/tcptrace/tcptrace/internal/kernelev"
	"github.com/tcptrace/tcptrace/report"
)

const kernelTruthDir = "../../shared/kernel-truth"

type joinedReset struct {
	conn *report.Conn
	rst  *report.Reset
}

// kernelTruth analyzes the kernel-truth capture and joins its trace to the
// RST records with the KernelJoiner of --kernel-events; it skips when the
// directory is absent.
func kernelTruth(t *testing.T) (joined []joinedReset, j *KernelJoiner, r *report.Report) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the kernel-truth capture is 116,000 frames")
	}
	pcap := filepath.Join(kernelTruthDir, "real-lo-kernel.pcap")
	evf, err := os.Open(filepath.Join(kernelTruthDir, "real-lo-kernel.kernel-tcp.txt"))
	if err != nil {
		t.Skipf("kernel ground truth not found at %s (it lives beside the repository): %v", kernelTruthDir, err)
	}
	defer evf.Close()
	all, err := kernelev.Parse(evf)
	if err != nil {
		t.Fatal(err)
	}
	j = NewKernelJoiner(all)
	r = analyzeFile(t, pcap)
	for _, c := range r.Conns {
		j.Conn(c)
		for i := range c.Resets {
			if c.Resets[i].KernelReason != "" {
				joined = append(joined, joinedReset{c, &c.Resets[i]})
			}
		}
	}
	return joined, j, r
}

// TestLinuxReasonAgainstKernel is the yardstick of the reset diagnosis:
// on a real capture, the linux_reason inferred from the wire alone agrees
// with the reason the kernel itself logged for each RST it sent (goal: 95 %
// of the joined RSTs, 85 % of each reason seen), and middlebox-suspect is
// given to at most 0.2 % of the RSTs the kernel says it sent itself.
func TestLinuxReasonAgainstKernel(t *testing.T) {
	joined, j, _ := kernelTruth(t)
	n := j.Events
	if len(joined)*100 < n*95 {
		t.Errorf("only %d of %d tcp_send_reset events joined to a RST frame (want 95 %%)", len(joined), n)
	}
	if j.NotLogged != 0 {
		t.Errorf("%d RSTs from the traced host that the kernel did not log, want none", j.NotLogged)
	}
	type tally struct{ n, ok int }
	per := map[string]*tally{}
	ok, middlebox := 0, 0
	confusion := map[string]int{}
	for _, j := range joined {
		want, got := j.rst.KernelReason, j.rst.LinuxReason
		if per[want] == nil {
			per[want] = &tally{}
		}
		per[want].n++
		if got == want {
			per[want].ok++
			ok++
		} else {
			confusion[fmt.Sprintf("kernel %s, inferred %q (cause %s, %s→%s)", want, got, j.rst.Cause, j.rst.SenderState, j.rst.ReceiverState)]++
			if os.Getenv("KT_DUMP") != "" {
				t.Logf("frame %d conn %d (%s → %s): kernel %s (%s), inferred %q: %s", j.rst.Frame, j.conn.ID, j.conn.Client, j.conn.Server, want, j.rst.KernelState, got, j.rst.Detail)
			}
		}
		for _, sg := range j.rst.Signals {
			if sg.Forged {
				confusion["forgery signal "+sg.Name]++
				if os.Getenv("KT_DUMP") != "" {
					t.Logf("frame %d conn %d: signal %s: %s", j.rst.Frame, j.conn.ID, sg.Name, sg.Value)
				}
			}
		}
		if j.rst.Cause == CauseMiddlebox {
			middlebox++
			t.Logf("frame %d: middlebox-suspect for a RST the kernel sent (%s): %s", j.rst.Frame, want, j.rst.Detail)
		}
	}
	reasons := make([]string, 0, len(per))
	for r := range per {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		p := per[r]
		t.Logf("%-22s %3d of %3d (%.1f %%)", r, p.ok, p.n, 100*float64(p.ok)/float64(p.n))
		if p.ok*100 < p.n*85 {
			t.Errorf("%s: linux_reason right for %d of %d RSTs (want 85 %%)", r, p.ok, p.n)
		}
	}
	for k, v := range confusion {
		t.Logf("%3d × %s", v, k)
	}
	t.Logf("linux_reason right for %d of %d joined RSTs (%.1f %%); middlebox-suspect on %d", ok, len(joined), 100*float64(ok)/float64(max(1, len(joined))), middlebox)
	if ok*100 < len(joined)*95 {
		t.Errorf("linux_reason right for %d of %d joined RSTs (want 95 %%)", ok, len(joined))
	}
	if middlebox*1000 > len(joined)*2 {
		t.Errorf("middlebox-suspect on %d of %d RSTs the kernel sent (want at most 0.2 %%)", middlebox, len(joined))
	}
}

// TestAcceptanceAgainstKernel: the receiver's verdict on each RST (RFC 5961:
// exact, in window, out of window) agrees with what the traced kernel
// accepted (tcp_receive_reset) for the RSTs sent to a full socket.
func TestAcceptanceAgainstKernel(t *testing.T) {
	_, _, r := kernelTruth(t)
	n, agree := 0, 0
	for _, c := range r.Conns {
		for _, x := range c.Resets {
			if x.KernelAccepted == nil {
				continue
			}
			n++
			ours := x.Verdict == "accepted" || x.Verdict == "unchecked"
			if ours == *x.KernelAccepted {
				agree++
			} else {
				t.Logf("frame %d conn %d: verdict %s (receiver %s), kernel accepted %v", x.Frame, c.ID, x.Verdict, x.ReceiverState, *x.KernelAccepted)
			}
		}
	}
	t.Logf("verdict agrees with the kernel's acceptance for %d of %d RSTs", agree, n)
	if n < 100 || agree*100 < n*99 {
		t.Errorf("verdict agrees with the kernel for %d of %d RSTs (want 99 %% of at least 100)", agree, n)
	}
}
