package analyze

import (
	"net/netip"

	"github.com/tcptrace/tcptrace/internal/kernelev"
	"github.com/tcptrace/tcptrace/report"
)

// KernelJoiner adds the kernel's own word to reset records: each
// tcp_send_reset event of a trace (recorded, internal/kernelev, or read
// live) is joined to the RST frame it sent, and the record gets
// kernel_reason and kernel_state; each tcp_receive_reset to the RST the
// traced stack accepted (kernel_accepted). Connections are given to Conn in
// the order the report delivers them, from one goroutine; each event joins
// at most one RST.
type KernelJoiner struct {
	send, recv kernelIndex
	local      map[netip.Addr]bool // addresses the traced stack sent from
	first      int64
	last       int64
	Offset     int64 // added to the events' times (a trace clock other than the capture's)

	Events    int // tcp_send_reset events read
	Joined    int // ... joined to a RST frame
	NotLogged int // RSTs from a traced local address, within the trace's time, that the kernel did not log
}

// kernelIndex holds the events of one tracepoint by local address and port.
type kernelIndex struct {
	events []kernelev.Event
	bySrc  map[netip.AddrPort][]int
	used   []bool
}

func (x *kernelIndex) add(e kernelev.Event) {
	if x.bySrc == nil {
		x.bySrc = map[netip.AddrPort][]int{}
	}
	x.bySrc[e.Src] = append(x.bySrc[e.Src], len(x.events))
	x.events = append(x.events, e)
	x.used = append(x.used, false)
}

// join aligns the unused events of the local ends srcs (each with the
// peer it may name) with frames, marks what joined and returns, per
// frame, the event joined to it or nil.
func (x *kernelIndex) join(srcs, peers []netip.AddrPort, frames []kernelev.Frame, offset int64) []*kernelev.Event {
	var cand []int
	for k, src := range srcs {
		for _, i := range x.bySrc[src] {
			e := &x.events[i]
			if !x.used[i] && (!e.HasPeer() || e.Dst == peers[k]) {
				cand = append(cand, i)
			}
		}
	}
	evs := make([]kernelev.Event, len(cand))
	for k, i := range cand {
		evs[k] = x.events[i]
	}
	out := make([]*kernelev.Event, len(frames))
	for k, fi := range kernelev.Join(evs, frames, offset) {
		if fi >= 0 {
			x.used[cand[k]] = true
			out[fi] = &x.events[cand[k]]
		}
	}
	return out
}

// NewKernelJoiner prepares the join of the events of a recorded trace.
func NewKernelJoiner(evs []kernelev.Event) *KernelJoiner {
	j := &KernelJoiner{local: map[netip.Addr]bool{}}
	for _, e := range evs {
		j.Add(e)
	}
	return j
}

// Add takes one more event (a live trace).
func (j *KernelJoiner) Add(e kernelev.Event) {
	if j.local == nil {
		j.local = map[netip.Addr]bool{}
	}
	j.local[e.Src.Addr()] = true
	if j.first == 0 || e.TS < j.first {
		j.first = e.TS
	}
	j.last = max(j.last, e.TS)
	switch e.Kind {
	case kernelev.SendReset:
		j.send.add(e)
		j.Events++
	case kernelev.ReceiveReset:
		j.recv.add(e)
	}
}

// traced says whether the traced stack owns address a and was logging at
// time ts (on the capture's clock).
func (j *KernelJoiner) traced(a netip.Addr, ts int64) bool {
	return j.local[a] && ts >= j.first+j.Offset && ts <= j.last+j.Offset
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
	sent := make([]kernelev.Frame, len(rc.Resets))
	got := make([]kernelev.Frame, len(rc.Resets)) // the same RSTs seen from the receiving socket
	for i := range rc.Resets {
		x := &rc.Resets[i]
		src, dst := cl, sv
		if x.Sender == "server" {
			src, dst = sv, cl
		}
		sent[i] = kernelev.Frame{N: x.Frame, TS: x.TS, Src: src, Dst: dst, NoAck: x.NoAck}
		got[i] = kernelev.Frame{N: x.Frame, TS: x.TS, Src: dst, Dst: src}
	}
	ends, peers := []netip.AddrPort{cl, sv}, []netip.AddrPort{sv, cl}
	for i, e := range j.send.join(ends, peers, sent, j.Offset) {
		x, f := &rc.Resets[i], sent[i]
		switch {
		case e != nil:
			j.Joined++
			x.KernelReason, x.KernelState = e.Reason, e.State
		case j.traced(f.Src.Addr(), f.TS):
			// The traced stack owns this address and was logging, yet it
			// did not send this RST: a third party did (a middlebox, or
			// netfilter's REJECT, which does not pass through
			// tcp_send_reset).
			j.NotLogged++
			x.Signals = append(x.Signals, report.Signal{Name: "kernel", Forged: true,
				Value: "the local stack at " + f.Src.Addr().String() + " did not log sending it (no tcp_send_reset)"})
		}
	}
	for i, e := range j.recv.join(ends, peers, got, j.Offset) {
		x, f := &rc.Resets[i], got[i]
		switch {
		case e != nil:
			yes := true
			x.KernelAccepted = &yes
		case j.traced(f.Src.Addr(), f.TS) && len(j.recv.events) > 0 && fullSocket(x.ReceiverState):
			// The receiver's stack was traced and did not accept it: RFC
			// 5961 (out of window, or in window with a challenge ACK), or
			// it had no socket left for it.
			no := false
			x.KernelAccepted = &no
		}
	}
}

// Summary is what the join did, for the summary record; file names the
// trace ("live" for a live one).
func (j *KernelJoiner) Summary(file string) *report.KernelEvents {
	return &report.KernelEvents{File: file, SendResets: j.Events, Joined: j.Joined, NotLogged: j.NotLogged}
}

// fullSocket says whether an endpoint in this state (as the replay names
// it) is a full socket, whose accepted RSTs tcp_receive_reset logs: not a
// listener, a TIME-WAIT mini-socket or nothing at all.
func fullSocket(state string) bool {
	switch state {
	case "LISTEN", "TIME-WAIT", "CLOSED", "":
		return false
	}
	return true
}
