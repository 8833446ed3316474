package analyze

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
	return joinKernel(t, filepath.Join(kernelTruthDir, "real-lo-kernel.pcap"), filepath.Join(kernelTruthDir, "real-lo-kernel.kernel-tcp.txt"))
}

// joinKernel analyzes pcap and joins the kernel's trace in events to its
// RST records; it skips when the trace is absent.
func joinKernel(t *testing.T, pcap, events string) (joined []joinedReset, j *KernelJoiner, r *report.Report) {
	t.Helper()
	evf, err := os.Open(events)
	if err != nil {
		t.Skipf("kernel ground truth not found (%v)", err)
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

// TestLinuxReasonAgainstKernel is the yardstick of the reset diagnosis: on a
// real capture, the linux_reason inferred from the wire alone is the reason
// the kernel itself logged for the RST it sent. A wrong reason is an error;
// none (the wire cannot tell: unknown) is not, but it must stay rare. Goals:
// of the RSTs given a reason, 99 % right, and 95 % of those given each
// reason; a reason given to 90 % of the joined RSTs; middlebox-suspect for
// at most 0.2 % of the RSTs the kernel says it sent itself.
//
// TCPTRACE_KERNEL_TRUTH=CAPTURE,TRACE measures another capture the same
// way: bench/mkcapture.sh's, with the kernel-tcp.txt it records beside it.
func TestLinuxReasonAgainstKernel(t *testing.T) {
	var joined []joinedReset
	var j *KernelJoiner
	if v := os.Getenv("TCPTRACE_KERNEL_TRUTH"); v != "" {
		pcap, events, ok := strings.Cut(v, ",")
		if !ok {
			t.Fatalf("TCPTRACE_KERNEL_TRUTH=%q: want CAPTURE,TRACE", v)
		}
		joined, j, _ = joinKernel(t, pcap, events)
	} else {
		joined, j, _ = kernelTruth(t)
	}
	n := j.Events
	if len(joined)*100 < n*95 {
		t.Errorf("only %d of %d tcp_send_reset events joined to a RST frame (want 95 %%)", len(joined), n)
	}
	if j.NotLogged != 0 {
		t.Errorf("%d RSTs from the traced host that the kernel did not log, want none", j.NotLogged)
	}
	type tally struct{ n, ok int }
	given, truth := map[string]*tally{}, map[string]*tally{} // by the reason inferred, by the kernel's
	count := func(m map[string]*tally, k string, ok bool) {
		if m[k] == nil {
			m[k] = &tally{}
		}
		m[k].n++
		if ok {
			m[k].ok++
		}
	}
	right, wrong, unknown, middlebox := 0, 0, 0, 0
	confusion := map[string]int{}
	for _, j := range joined {
		want, got := j.rst.KernelReason, j.rst.LinuxReason
		count(truth, want, got == want)
		switch {
		case got == "":
			unknown++
		case got == want:
			right++
		default:
			wrong++
		}
		if got != "" {
			count(given, got, got == want)
		}
		if got != want {
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
	for _, r := range slices.Sorted(maps.Keys(truth)) {
		p := truth[r]
		t.Logf("kernel %-22s inferred for %3d of %3d (%.1f %%)", r, p.ok, p.n, 100*float64(p.ok)/float64(p.n))
	}
	for _, r := range slices.Sorted(maps.Keys(given)) {
		p := given[r]
		t.Logf("inferred %-20s right for %3d of %3d (%.1f %%)", r, p.ok, p.n, 100*float64(p.ok)/float64(p.n))
		if p.ok*100 < p.n*95 {
			t.Errorf("linux_reason %s is right for %d of the %d RSTs given it (want 95 %%)", r, p.ok, p.n)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(confusion)) {
		t.Logf("%4d × %s", confusion[k], k)
	}
	t.Logf("linux_reason right for %d of the %d joined RSTs given one (%.1f %%), wrong for %d, unknown for %d (%.1f %% of %d); middlebox-suspect on %d",
		right, right+wrong, 100*float64(right)/float64(max(1, right+wrong)), wrong, unknown, 100*float64(unknown)/float64(max(1, len(joined))), len(joined), middlebox)
	if right*100 < (right+wrong)*99 {
		t.Errorf("linux_reason right for %d of the %d RSTs given one (want 99 %%)", right, right+wrong)
	}
	if (right+wrong)*100 < len(joined)*90 {
		t.Errorf("linux_reason given for %d of %d joined RSTs (want 90 %%)", right+wrong, len(joined))
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
