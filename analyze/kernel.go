package analyze

import (
	"net/netip"

	"github.com/tcptrace/tcptrace/internal/kernelev"
	"github.com/tcptrace/tcptrace/report"
)

// KernelJoiner adds the kernel's own word to reset records: each
// tcp_send_reset event of a recorded trace (internal/kernelev) is joined to
// the RST frame it sent, and the record gets kernel_reason and kernel_state.
// Connections are given to Conn in the order the report delivers them, one
// goroutine; each event joins at most one RST.
type KernelJoiner struct {
	events []kernelev.Event // tcp_send_reset only
	bySrc  map[netip.AddrPort][]int
	used   []bool
	local  map[netip.Addr]bool // addresses the traced stack sent from
	first  int64
	last   int64
	Offset int64 // added to the events' times (a trace clock other than the capture's)

	Events    int // tcp_send_reset events read
	Joined    int // ... joined to a RST frame
	NotLogged int // RSTs from a traced local address, within the trace's time, that the kernel did not log
}

// NewKernelJoiner prepares the join of the tcp_send_reset events of evs.
func NewKernelJoiner(evs []kernelev.Event) *KernelJoiner {
	j := &KernelJoiner{bySrc: map[netip.AddrPort][]int{}, local: map[netip.Addr]bool{}}
	for _, e := range evs {
		j.local[e.Src.Addr()] = true
		if j.first == 0 || e.TS < j.first {
			j.first = e.TS
		}
		j.last = max(j.last, e.TS)
		if e.Kind != kernelev.SendReset {
			continue
		}
		j.bySrc[e.Src] = append(j.bySrc[e.Src], len(j.events))
		j.events = append(j.events, e)
	}
	j.used = make([]bool, len(j.events))
	j.Events = len(j.events)
	return j
}

// Conn joins the RSTs of one connection record.
func (j *KernelJoiner) Conn(rc *report.Conn) {
	if len(rc.Resets) == 0 {
		return
	}
	cl, err1 := netip.ParseAddrPort(rc.Client)
	sv, err2 := netip.ParseAddrPort(rc.Server)
	if err1 != nil || err2 != nil {
		return
	}
	frames := make([]kernelev.Frame, len(rc.Resets))
	for i := range rc.Resets {
		x := &rc.Resets[i]
		src, dst := cl, sv
		if x.Sender == "server" {
			src, dst = sv, cl
		}
		frames[i] = kernelev.Frame{N: x.Frame, TS: x.TS, Src: src, Dst: dst}
	}
	var cand []int // indices into j.events
	for _, src := range []netip.AddrPort{cl, sv} {
		peer := sv
		if src == sv {
			peer = cl
		}
		for _, i := range j.bySrc[src] {
			e := &j.events[i]
			if !j.used[i] && (!e.HasPeer() || e.Dst == peer) {
				cand = append(cand, i)
			}
		}
	}
	evs := make([]kernelev.Event, len(cand))
	for k, i := range cand {
		evs[k] = j.events[i]
	}
	got := make([]bool, len(frames))
	for k, fi := range kernelev.Join(evs, frames, j.Offset) {
		if fi < 0 {
			continue
		}
		e := &evs[k]
		j.used[cand[k]], got[fi] = true, true
		j.Joined++
		x := &rc.Resets[fi]
		x.KernelReason, x.KernelState = e.Reason, e.State
	}
	for i, f := range frames {
		if got[i] || !j.local[f.Src.Addr()] || f.TS < j.first+j.Offset || f.TS > j.last+j.Offset {
			continue
		}
		// The traced stack owns this address and was logging, yet it did
		// not send this RST: a third party did (a middlebox, or netfilter's
		// REJECT, which does not pass through tcp_send_reset).
		j.NotLogged++
		rc.Resets[i].Signals = append(rc.Resets[i].Signals, report.Signal{Name: "kernel", Forged: true,
			Value: "the local stack at " + f.Src.Addr().String() + " did not log sending it (no tcp_send_reset)"})
	}
}
