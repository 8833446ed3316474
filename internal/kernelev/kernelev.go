// Package kernelev reads the Linux kernel's own record of its TCP resets and
// retransmissions — the text of the tracepoints tcp:tcp_send_reset,
// tcp:tcp_receive_reset and tcp:tcp_retransmit_skb as ftrace prints them
// (a trace_pipe or trace file) — and joins each event to the frame of a
// capture that shows it.
//
// The kernel's `reason` (enum sk_rst_reason, include/net/rstreason.h, Linux
// 6.10 and later) is kept as the name the kernel prints, never as a number:
// the numbers change between kernels. The same names are the vocabulary of
// the reset diagnosis's linux_reason (what a Linux sender would have logged,
// inferred from the wire) and of kernel_reason (what the kernel said).
package kernelev

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Kind is the tracepoint an event came from.
type Kind uint8

const (
	SendReset    Kind = iota + 1 // tcp:tcp_send_reset: the stack sent a RST
	ReceiveReset                 // tcp:tcp_receive_reset: the stack accepted a RST
	Retransmit                   // tcp:tcp_retransmit_skb: the stack retransmitted a segment
)

func (k Kind) String() string {
	switch k {
	case SendReset:
		return "tcp_send_reset"
	case ReceiveReset:
		return "tcp_receive_reset"
	case Retransmit:
		return "tcp_retransmit_skb"
	}
	return "unknown"
}

// Event is one tracepoint record.
type Event struct {
	Kind Kind
	TS   int64 // the trace clock, ns since the epoch (tai or realtime; see Offset)
	Line int   // 1-based line in the input
	// Src is the local end (for tcp_send_reset, the RST's source; for
	// tcp_receive_reset, the socket that accepted the RST; for
	// tcp_retransmit_skb, the retransmitting socket); Dst its peer. A
	// listener's tcp_send_reset has an unspecified Dst (0.0.0.0:0 or [::]:0):
	// the peer is not recorded.
	Src, Dst netip.AddrPort
	State    string // the socket's state as the kernel prints it (TCP_LISTEN, TCP_CLOSE, UNKNOWN…)
	Reason   string // tcp_send_reset only: the sk_rst_reason name (NO_SOCKET, TCP_STATE…)
	// Active: a tcp_send_reset with no segment that caused it (skbaddr 0):
	// the socket reset on its own (close with unread data, SO_LINGER 0,
	// keep-alive timeout…), not in answer to a segment. The kernel logs such
	// a RST after sending it, and an answering RST before.
	Active bool
}

// HasPeer says whether the event names the peer's address and port.
func (e *Event) HasPeer() bool {
	return e.Dst.IsValid() && !e.Dst.Addr().IsUnspecified() && e.Dst.Port() != 0
}

// Parse reads every TCP event of a trace in ftrace's text format; other
// lines (comments, other tracepoints) are skipped. A line of one of the three
// TCP tracepoints that cannot be read is an error naming its line.
func Parse(r io.Reader) ([]Event, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var out []Event
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		e, ok, err := ParseLine(line)
		if err != nil {
			return out, fmt.Errorf("line %d: %w", n, err)
		}
		if ok {
			e.Line = n
			out = append(out, e)
		}
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("line %d: %w", n+1, err)
	}
	return out, nil
}

// ParseLine reads one line of ftrace output. ok is false for a line that
// is not one of the three TCP tracepoints.
func ParseLine(line string) (e Event, ok bool, err error) {
	var name string
	var i int
	for _, k := range []Kind{SendReset, ReceiveReset, Retransmit} {
		if i = strings.Index(line, " "+k.String()+": "); i >= 0 {
			e.Kind, name = k, k.String()
			break
		}
	}
	if e.Kind == 0 {
		return e, false, nil
	}
	// The timestamp is the field before the event name: "... 1796383116.219040: tcp_send_reset:".
	head := strings.TrimSuffix(strings.TrimSpace(line[:i]), ":")
	if j := strings.LastIndexByte(head, ' '); j >= 0 {
		head = head[j+1:]
	}
	if e.TS, err = parseTS(head); err != nil {
		return e, false, fmt.Errorf("%s: timestamp %q: %w", name, head, err)
	}
	fields := map[string]string{}
	for _, f := range strings.Fields(line[i+len(name)+3:]) {
		if k, v, found := strings.Cut(f, "="); found {
			fields[k] = v
		}
	}
	if _, ok := fields["src"]; ok {
		// tcp_send_reset: src and dest of the RST.
		if e.Src, err = parseEndpoint(fields["src"]); err != nil {
			return e, false, fmt.Errorf("%s: src: %w", name, err)
		}
		if e.Dst, err = parseEndpoint(fields["dest"]); err != nil {
			return e, false, fmt.Errorf("%s: dest: %w", name, err)
		}
	} else {
		// The socket's fields (tcp_receive_reset, tcp_retransmit_skb):
		// saddr/sport is the local end.
		if e.Src, err = addrPort(fields["saddr"], fields["sport"]); err != nil {
			return e, false, fmt.Errorf("%s: saddr/sport: %w", name, err)
		}
		if e.Dst, err = addrPort(fields["daddr"], fields["dport"]); err != nil {
			return e, false, fmt.Errorf("%s: daddr/dport: %w", name, err)
		}
		if fields["family"] == "AF_INET6" {
			// The IPv4 fields of an IPv6 socket are zero: read the v6 ones.
			s6, err1 := addrPort(fields["saddrv6"], fields["sport"])
			d6, err2 := addrPort(fields["daddrv6"], fields["dport"])
			if err1 == nil && err2 == nil {
				e.Src, e.Dst = s6, d6
			}
		}
	}
	e.State, e.Reason = fields["state"], fields["reason"]
	if e.Kind == SendReset {
		sk := strings.TrimLeft(fields["skbaddr"], "0x")
		e.Active = fields["skbaddr"] != "" && sk == ""
	}
	return e, true, nil
}

func parseTS(s string) (int64, error) {
	sec, frac, _ := strings.Cut(s, ".")
	a, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return 0, err
	}
	if len(frac) > 9 {
		frac = frac[:9]
	}
	var b int64
	if frac != "" {
		if b, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return 0, err
		}
		for range 9 - len(frac) {
			b *= 10
		}
	}
	return a*1e9 + b, nil
}

// parseEndpoint reads "1.2.3.4:80" or "[::1]:80".
func parseEndpoint(s string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return ap, err
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

func addrPort(a, p string) (netip.AddrPort, error) {
	addr, err := netip.ParseAddr(a)
	if err != nil {
		return netip.AddrPort{}, err
	}
	port, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(addr.Unmap(), uint16(port)), nil
}

// Frame is a capture frame that an event may be joined to: a RST (for
// tcp_send_reset and tcp_receive_reset) or a data segment (for
// tcp_retransmit_skb), with its sender and receiver.
type Frame struct {
	N        int64
	TS       int64
	Src, Dst netip.AddrPort
	// NoAck: a bare RST, without ACK. A socket's own abort
	// (tcp_send_active_reset: an Active event) always sets ACK, so such a
	// frame is never its RST.
	NoAck bool
}

// Window is how far apart in time an event and its frame may be.
const Window = 5e6 // 5 ms

// Join pairs events with frames: the same sender address and port, the
// same peer where the event names one, within Window of each other (after
// shifting the events by offset ns), each event and each frame used once.
// It returns, for each event, the index of its frame in frames, or -1.
//
// Between one socket and its peer, the order of the events is the order of
// the frames: the kernel logs a RST before it leaves, and a queue (a qdisc,
// netem) may hold it back for a while, so the nearest frame in time is often
// the previous RST's. Join therefore aligns the two sequences of each
// sender and peer in order (a dynamic programme: a pair costs the time
// between its event and frame, an event or frame left alone costs Window),
// not nearest first: first the active resets, then the answering ones.
// Events that do not name the peer (a listener's) are then aligned, by
// sender alone, with the frames left over.
//
// A tcp_receive_reset is different: a socket accepts one RST and is gone,
// so its event belongs to the first RST that reached it, the earliest frame
// before the event (within Window; RecvSlack after it, for the clocks'
// jitter), not the nearest: a sender closing a socket sends its abort and
// answers to what is in flight microseconds apart, and the receiver logs
// the first one later, when its application releases the socket.
func Join(events []Event, frames []Frame, offset int64) []int {
	out := make([]int, len(events))
	for i := range out {
		out[i] = -1
	}
	used := make([]bool, len(frames))
	type key struct{ src, dst netip.AddrPort }
	// Three passes over the frames still free: the active resets of
	// sockets that name their peer, then their answering resets, then the
	// listeners' events by sender alone. The kernel logs an active reset
	// after sending it and an answering one before, so the two kinds are
	// not in one order with the frames.
	for pass := range 3 {
		evBy, frBy := map[key][]int{}, map[key][]int{}
		var keys []key
		for i := range events {
			e := &events[i]
			var k key
			switch {
			case pass == 0 && e.HasPeer() && e.Active, pass == 1 && e.HasPeer() && !e.Active:
				k = key{e.Src, e.Dst}
			case pass == 2 && !e.HasPeer():
				k = key{src: e.Src}
			default:
				continue
			}
			if evBy[k] == nil {
				keys = append(keys, k)
			}
			evBy[k] = append(evBy[k], i)
		}
		for i := range frames {
			if !used[i] && (pass != 0 || !frames[i].NoAck) {
				k := key{frames[i].Src, frames[i].Dst}
				if pass == 2 {
					k.dst = netip.AddrPort{}
				}
				frBy[k] = append(frBy[k], i)
			}
		}
		for _, k := range keys {
			if events[evBy[k][0]].Kind == ReceiveReset {
				earliest(events, frames, evBy[k], frBy[k], offset, out, used)
				continue
			}
			align(events, frames, evBy[k], frBy[k], offset, out, used)
		}
	}
	return out
}

// RecvSlack is how long after a tcp_receive_reset event its frame may have
// been captured (the capture's and the trace's clocks differ by that much).
const RecvSlack = 20e3 // 20 µs

// earliest pairs each receive event of ev, in time order, with the
// earliest unused frame of fr from Window before it to RecvSlack after.
func earliest(events []Event, frames []Frame, ev, fr []int, offset int64, out []int, used []bool) {
	ev, fr = slices.Clone(ev), slices.Clone(fr)
	sort.SliceStable(ev, func(a, b int) bool { return events[ev[a]].TS < events[ev[b]].TS })
	sort.SliceStable(fr, func(a, b int) bool { return frames[fr[a]].TS < frames[fr[b]].TS })
	for _, i := range ev {
		t := events[i].TS + offset
		for _, f := range fr {
			if !used[f] && frames[f].TS >= t-Window && frames[f].TS <= t+RecvSlack {
				out[i], used[f] = f, true
				break
			}
		}
	}
}

// align pairs the events ev with the frames fr (indices, each in input
// order) in time order at the least cost, writing the pairs into out and
// used.
func align(events []Event, frames []Frame, ev, fr []int, offset int64, out []int, used []bool) {
	if len(ev) == 0 || len(fr) == 0 {
		return
	}
	ev, fr = slices.Clone(ev), slices.Clone(fr)
	sort.SliceStable(ev, func(a, b int) bool { return events[ev[a]].TS < events[ev[b]].TS })
	sort.SliceStable(fr, func(a, b int) bool { return frames[fr[a]].TS < frames[fr[b]].TS })
	// Only frames within Window of some event can pair: trim the rest so
	// that a busy sender's long list costs little.
	lo, hi := events[ev[0]].TS+offset-Window, events[ev[len(ev)-1]].TS+offset+Window
	fr = slices.DeleteFunc(fr, func(i int) bool { return frames[i].TS < lo || frames[i].TS > hi })
	n, m := len(ev), len(fr)
	if m == 0 {
		return
	}
	const gap = Window
	cost := make([]int64, (n+1)*(m+1))
	step := make([]uint8, (n+1)*(m+1)) // 1: event alone, 2: frame alone, 3: pair
	at := func(i, j int) int { return i*(m+1) + j }
	for i := 1; i <= n; i++ {
		cost[at(i, 0)], step[at(i, 0)] = int64(i)*gap, 1
	}
	for j := 1; j <= m; j++ {
		cost[at(0, j)], step[at(0, j)] = int64(j)*gap, 2
	}
	for i := 1; i <= n; i++ {
		for j := 1; j <= m; j++ {
			best, how := cost[at(i-1, j)]+gap, uint8(1)
			if c := cost[at(i, j-1)] + gap; c < best {
				best, how = c, 2
			}
			dt := frames[fr[j-1]].TS - (events[ev[i-1]].TS + offset)
			if dt < 0 {
				dt = -dt
			}
			if dt <= Window {
				if c := cost[at(i-1, j-1)] + dt; c < best {
					best, how = c, 3
				}
			}
			cost[at(i, j)], step[at(i, j)] = best, how
		}
	}
	for i, j := n, m; i > 0 || j > 0; {
		switch step[at(i, j)] {
		case 1:
			i--
		case 2:
			j--
		case 3:
			out[ev[i-1]], used[fr[j-1]] = fr[j-1], true
			i--
			j--
		}
	}
}
