package kernelev

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `# tracer: nop
#
             gen-1934    [001] ..s1. 1796383116.219355: tcp_send_reset: skbaddr=00000000af7bf4fa skaddr=0000000000000000 src=127.0.0.9:38946 dest=127.0.0.1:18080 state=UNKNOWN reason=NO_SOCKET
             gen-2010    [000] ..s1. 1796383116.940997: tcp_send_reset: skbaddr=00000000ff2f1078 skaddr=0000000000000000 src=[::1]:18999 dest=[::1]:41808 state=UNKNOWN reason=NO_SOCKET
              sh-1       [000] .N... 1796383116.514673: tcp_send_reset: skbaddr=0000000000000000 skaddr=000000005dbd8c5e src=127.0.0.2:34782 dest=127.0.0.1:18080 state=TCP_CLOSE reason=TCP_ABORT_ON_CLOSE
     ksoftirqd/0-14      [000] ..s1. 1796383116.600000: tcp_send_reset: skbaddr=00000000aa skaddr=00000000bb src=127.0.0.1:18080 dest=0.0.0.0:0 state=TCP_LISTEN reason=TCP_FLAGS
     ksoftirqd/0-14      [000] ..s1. 1796383116.514846: tcp_receive_reset: family=AF_INET sport=18080 dport=34782 saddr=127.0.0.1 daddr=127.0.0.2 saddrv6=::ffff:127.0.0.1 daddrv6=::ffff:127.0.0.2 sock_cookie=26f7
             gen-1878    [001] ..s1. 1796383116.217104: tcp_retransmit_skb: skbaddr=000000009848307e skaddr=0000000055b6f05e family=AF_INET6 sport=18080 dport=45636 saddr=0.0.0.0 daddr=0.0.0.0 saddrv6=::1 daddrv6=::1 state=TCP_FIN_WAIT1 err=-16
             gen-1878    [001] ..s1. 1796383116.217105: sched_switch: prev_comm=x
`

func TestParse(t *testing.T) {
	evs, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		kind           Kind
		ts             int64
		line           int
		src, dst       string
		state, reason  string
		active, noPeer bool
	}{
		{SendReset, 1796383116219355000, 3, "127.0.0.9:38946", "127.0.0.1:18080", "UNKNOWN", "NO_SOCKET", false, false},
		{SendReset, 1796383116940997000, 4, "[::1]:18999", "[::1]:41808", "UNKNOWN", "NO_SOCKET", false, false},
		{SendReset, 1796383116514673000, 5, "127.0.0.2:34782", "127.0.0.1:18080", "TCP_CLOSE", "TCP_ABORT_ON_CLOSE", true, false},
		{SendReset, 1796383116600000000, 6, "127.0.0.1:18080", "0.0.0.0:0", "TCP_LISTEN", "TCP_FLAGS", false, true},
		{ReceiveReset, 1796383116514846000, 7, "127.0.0.1:18080", "127.0.0.2:34782", "", "", false, false},
		{Retransmit, 1796383116217104000, 8, "[::1]:18080", "[::1]:45636", "TCP_FIN_WAIT1", "", false, false},
	}
	if len(evs) != len(want) {
		t.Fatalf("%d events, want %d: %+v", len(evs), len(want), evs)
	}
	for i, w := range want {
		e := evs[i]
		if e.Kind != w.kind || e.TS != w.ts || e.Line != w.line || e.Src.String() != w.src || e.Dst.String() != w.dst ||
			e.State != w.state || e.Reason != w.reason || e.Active != w.active || e.HasPeer() == w.noPeer {
			t.Errorf("event %d: %+v (peer %v), want %+v", i, e, e.HasPeer(), w)
		}
	}
}

func TestParseErrorNamesLine(t *testing.T) {
	_, err := Parse(strings.NewReader("x\n  a-1 [000] ..s1. 17.5: tcp_send_reset: src=nonsense dest=1.2.3.4:5\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("error %v, want one naming line 2", err)
	}
}

func ev(ts int64, src, dst string, active bool) Event {
	return Event{Kind: SendReset, TS: ts, Src: netip.MustParseAddrPort(src), Dst: netip.MustParseAddrPort(dst), Active: active}
}

func recv(ts int64, src, dst string) Event {
	e := ev(ts, src, dst, false)
	e.Kind = ReceiveReset
	return e
}

func fr(n, ts int64, src, dst string) Frame {
	return Frame{N: n, TS: ts, Src: netip.MustParseAddrPort(src), Dst: netip.MustParseAddrPort(dst)}
}

// TestJoin: in order per sender and peer, active resets first, listeners
// by sender alone, nothing beyond the window, each frame once.
// bare makes f a RST without ACK.
func bare(f Frame) Frame { f.NoAck = true; return f }

func TestJoin(t *testing.T) {
	const c, s, s2 = "10.0.0.1:40000", "10.0.0.2:80", "10.0.0.3:41000"
	for _, tc := range []struct {
		name   string
		events []Event
		frames []Frame
		want   []int
	}{
		{"nearest in time", []Event{ev(1000, c, s, false)}, []Frame{fr(1, 900, c, s), fr(2, 1100, c, s)}, []int{0}},
		{"outside the window", []Event{ev(0, c, s, false)}, []Frame{fr(1, Window+1, c, s)}, []int{-1}},
		{"another peer never", []Event{ev(0, c, s, false)}, []Frame{fr(1, 0, c, s2)}, []int{-1}},
		// A queue delays every RST by 300 µs: nearest-first would give the
		// second event the first frame.
		{"in order despite a queue", []Event{ev(0, c, s, false), ev(200e3, c, s, false)},
			[]Frame{fr(1, 300e3, c, s), fr(2, 500e3, c, s)}, []int{0, 1}},
		// The active reset is logged after its frame left, the answering one
		// before its frame: they cross.
		{"active before answering", []Event{ev(10e3, c, s, false), ev(15e3, c, s, true)},
			[]Frame{fr(1, 10e3, c, s), fr(2, 34e3, c, s)}, []int{1, 0}},
		// The answering reset logged 12 µs before its bare RST reached the
		// capture, the active one 2 µs after its RST+ACK: nearest in time
		// would give the active event the bare RST, which no socket's own
		// abort sends (bench capture, frames 24980-24981).
		{"an active reset's frame carries ACK", []Event{ev(280e3, c, s, false), ev(292e3, c, s, true)},
			[]Frame{fr(1, 290e3, c, s), bare(fr(2, 292e3, c, s))}, []int{1, 0}},
		{"a listener by sender alone", []Event{ev(0, s, "0.0.0.0:0", false)}, []Frame{fr(1, 50e3, s, c)}, []int{0}},
		// A socket accepts the first RST that reaches it and is gone; its
		// event, logged 43 µs later from the backlog, is that RST's, not
		// the nearest (bench capture, frames 8382 and 8384).
		{"a receive event takes the first RST", []Event{recv(785e3, c, s)},
			[]Frame{fr(1, 742e3, c, s), fr(2, 765e3, c, s)}, []int{0}},
		{"a receive event never takes a later RST", []Event{recv(100e3, c, s)},
			[]Frame{fr(1, 200e3, c, s)}, []int{-1}},
		{"a lost frame leaves its event alone", []Event{ev(0, c, s, false), ev(4e6, c, s, false)},
			[]Frame{fr(1, 4.1e6, c, s)}, []int{-1, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Join(tc.events, tc.frames, 0)
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("Join = %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// TestParseKernelTruth reads the real trace beside the repository.
func TestParseKernelTruth(t *testing.T) {
	f, err := os.Open(filepath.Join("../../../shared/kernel-truth", "real-lo-kernel.kernel-tcp.txt"))
	if err != nil {
		t.Skipf("kernel ground truth not found (it lives beside the repository): %v", err)
	}
	defer f.Close()
	evs, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	n := map[Kind]int{}
	for _, e := range evs {
		n[e.Kind]++
	}
	if n[SendReset] != 346 || n[ReceiveReset] != 163 || n[Retransmit] != 2127 {
		t.Errorf("events per kind %v, want 346 tcp_send_reset, 163 tcp_receive_reset, 2127 tcp_retransmit_skb", n)
	}
}

func FuzzParse(f *testing.F) {
	for _, l := range strings.Split(sample, "\n") {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line string) {
		e, ok, err := ParseLine(line)
		if err == nil && ok && (!e.Src.IsValid() || e.Kind == 0) {
			t.Fatalf("event without a source: %+v", e)
		}
	})
}
