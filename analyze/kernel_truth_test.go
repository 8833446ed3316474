package analyze

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/tcptrace/tcptrace/internal/kernelev"
	"github.com/tcptrace/tcptrace/report"
)

const kernelTruthDir = "../../shared/kernel-truth"

type joinedReset struct {
	ev   kernelev.Event
	conn *report.Conn
	rst  *report.Reset
}

// kernelTruth analyzes the kernel-truth capture and joins every
// tcp_send_reset event to its RST record; it skips when the directory is
// absent.
func kernelTruth(t *testing.T) (joined []joinedReset, events int) {
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
	var sends []kernelev.Event
	for _, e := range all {
		if e.Kind == kernelev.SendReset {
			sends = append(sends, e)
		}
	}
	r := analyzeFile(t, pcap)
	var frames []kernelev.Frame
	var recs []joinedReset
	for _, c := range r.Conns {
		cl, _ := netip.ParseAddrPort(c.Client)
		sv, _ := netip.ParseAddrPort(c.Server)
		for i := range c.Resets {
			x := &c.Resets[i]
			src, dst := cl, sv
			if x.Sender == "server" {
				src, dst = sv, cl
			}
			frames = append(frames, kernelev.Frame{N: x.Frame, TS: x.TS, Src: src, Dst: dst})
			recs = append(recs, joinedReset{conn: c, rst: x})
		}
	}
	for i, fi := range kernelev.Join(sends, frames, 0) {
		if fi >= 0 {
			j := recs[fi]
			j.ev = sends[i]
			joined = append(joined, j)
		}
	}
	sort.Slice(joined, func(a, b int) bool { return joined[a].rst.Frame < joined[b].rst.Frame })
	return joined, len(sends)
}

func TestKernelTruthDump(t *testing.T) {
	joined, n := kernelTruth(t)
	t.Logf("%d of %d tcp_send_reset events joined", len(joined), n)
	count := map[string]int{}
	for _, j := range joined {
		k := fmt.Sprintf("%-20s %-22s %-12s %-12s %-10s", j.ev.Reason, j.rst.Cause, j.rst.SenderState, j.rst.ReceiverState, j.rst.Accepted)
		count[k]++
		if os.Getenv("KT_DUMP") != "" {
			fmt.Printf("%s frame %d conn %d %s->%s sender %s ev %s state=%s unacked=%v since=%v\n", k, j.rst.Frame, j.conn.ID, j.conn.Client, j.conn.Server, j.rst.Sender, j.ev.Dst, j.ev.State, *j.rst.Unacked, *j.rst.SinceData)
			for _, s := range j.rst.Recent {
				fmt.Printf("      %d %s %s %d %s\n", s.Frame, s.Sender, s.Flags, s.Len, s.Time[17:])
			}
		}
	}
	var keys []string
	for k := range count {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("%4d %s", count[k], k)
	}
}
