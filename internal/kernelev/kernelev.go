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
}

// Window is how far apart in time an event and its frame may be.
const Window = 5e6 // 5 ms

// Join pairs events with frames: the same sender address and port, the
// same peer where the event names one, the nearest time within Window (after
// shifting the events by offset ns), each event and each frame used once.
// Pairs are made nearest first, so an event never takes a frame that fits
// another event better. It returns, for each event, the index of its frame
// in frames, or -1.
func Join(events []Event, frames []Frame, offset int64) []int {
	type key struct{ src netip.AddrPort }
	bySrc := map[key][]int{}
	for i := range frames {
		k := key{frames[i].Src}
		bySrc[k] = append(bySrc[k], i)
	}
	type pair struct {
		ev, fr int
		dt     int64
	}
	var pairs []pair
	for ei := range events {
		e := &events[ei]
		for _, fi := range bySrc[key{e.Src}] {
			f := &frames[fi]
			if e.HasPeer() && f.Dst != e.Dst {
				continue
			}
			dt := f.TS - (e.TS + offset)
			if dt < 0 {
				dt = -dt
			}
			if dt <= Window {
				pairs = append(pairs, pair{ei, fi, dt})
			}
		}
	}
	sort.Slice(pairs, func(a, b int) bool {
		if pairs[a].dt != pairs[b].dt {
			return pairs[a].dt < pairs[b].dt
		}
		if pairs[a].ev != pairs[b].ev {
			return pairs[a].ev < pairs[b].ev
		}
		return pairs[a].fr < pairs[b].fr
	})
	out := make([]int, len(events))
	for i := range out {
		out[i] = -1
	}
	used := make([]bool, len(frames))
	for _, p := range pairs {
		if out[p.ev] < 0 && !used[p.fr] {
			out[p.ev], used[p.fr] = p.fr, true
		}
	}
	return out
}
