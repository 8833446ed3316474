package render

import (
	"bufio"
	"bytes"
	stdjson "encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tcptrace/tcptrace/report"
)

// rst builds a diagnosed RST at frame f (its time is f ms into the capture).
func rst(f int64, sender, cause string) report.Reset {
	ts := f * 1e6
	return report.Reset{
		Frame: f, Sender: sender, SenderState: "ESTABLISHED", ReceiverState: "ESTABLISHED",
		Verdict: "accepted", Seq: 1000, Expected: 1000, Accepted: "exact",
		Time: fmt.Sprintf("2026-01-01T00:00:00.%03d000000Z", f), TS: ts,
		Cause: cause, Detail: cause + " in words",
	}
}

// followUp is a further RST of the sender of first.
func followUp(f int64, first report.Reset) report.Reset {
	r := rst(f, first.Sender, first.Cause)
	r.SenderState, r.ReceiverState = "CLOSED", "CLOSED"
	r.FollowsFrame = first.Frame
	r.Detail = "a further RST"
	return r
}

func resetsReport(conns ...*report.Conn) *report.Report {
	return &report.Report{Conns: conns, Summary: report.Summary{Type: "summary", Files: []string{"x.pcap"}, Connections: len(conns)}}
}

func resetConn(id int, state, closeClass string, resets ...report.Reset) *report.Conn {
	c := &report.Conn{Type: "conn", ID: id, Client: fmt.Sprintf("10.0.0.1:%d", 40000+id), Server: "192.0.2.1:80", State: state, Resets: resets}
	if closeClass != "" {
		c.Close = &report.Close{Class: closeClass}
	}
	return c
}

func renderResets(t *testing.T, r *report.Report, o Options) string {
	t.Helper()
	var b bytes.Buffer
	if err := Resets(&b, r, o); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestResetsFolded: the follow-up RSTs of an abort are folded under the
// first (five frames named, then "…"), a RST of the other side and a
// follow-up whose first is not there stay entries of their own, and
// connections come in the order of their first RST.
func TestResetsFolded(t *testing.T) {
	first := rst(100, "client", "abort")
	first.LinuxReason = "TCP_ABORT_ON_CLOSE"
	first.Recent = []report.SegBrief{{Frame: 99, Sender: "server", Flags: "..AP.....", Len: 100, TS: 99e6}}
	var follows []report.Reset
	for _, f := range []int64{120, 124, 130, 131, 140, 150} {
		r := followUp(f, first)
		r.LinuxReason = "NO_SOCKET"
		r.Recent = []report.SegBrief{{Frame: f - 1, Sender: "server", Flags: "..A......", Len: 1448, TS: (f - 1) * 1e6}}
		follows = append(follows, r)
	}
	server := rst(160, "server", "reset-after-close")
	orphan := followUp(170, rst(165, "server", "reset-after-close")) // frame 165 is not in the report
	c1 := resetConn(1, "complete, reset by client", "reset", append(append([]report.Reset{first}, follows...), server, orphan)...)
	c2 := resetConn(2, "refused, reset by server", "reset", rst(110, "server", "refused"))
	c3 := resetConn(3, "complete, four-way by client", "four-way") // no RST
	got := renderResets(t, resetsReport(c1, c2, c3), Options{})

	want := `10 RSTs in 2 connections (2 ended by one); 7 of them follow an earlier RST of their sender

 cause              RSTs  connections 
──────────────────────────────────────
 abort              7     1           
 reset-after-close  2     1           
 refused            1     1           

 linux_reason        RSTs 
──────────────────────────
 NO_SOCKET           6    
 TCP_ABORT_ON_CLOSE  1    
 (not inferred)      3    

Connection 1: 10.0.0.1:40001 → 192.0.2.1:80  (complete, reset by client), 9 RSTs
  RST         frame 100 at 2026-01-01 00:00:00.100000
  sent by     client (ESTABLISHED); the server was ESTABLISHED
  accepted    exact: seq 1000 is the server's rcv.nxt, so the server resets (RFC 9293)
  cause       abort: abort in words
  linux       TCP_ABORT_ON_CLOSE
  before it
    frame 99      server → client  ..AP.....  len 100  -0.001000 s
  + 6 further RSTs from the client (frames 120, 124, 130, 131, 140, …), answering segments still in flight; linux NO_SOCKET
  RST         frame 160 at 2026-01-01 00:00:00.160000
  sent by     server (ESTABLISHED); the client was ESTABLISHED
  accepted    exact: seq 1000 is the client's rcv.nxt, so the client resets (RFC 9293)
  cause       reset-after-close: reset-after-close in words
  RST         frame 170 at 2026-01-01 00:00:00.170000
  sent by     server (CLOSED); the client was CLOSED
  accepted    exact: seq 1000 is the client's rcv.nxt, so the client resets (RFC 9293)
  cause       reset-after-close: a further RST

Connection 2: 10.0.0.1:40002 → 192.0.2.1:80  (refused, reset by server), 1 RST
  RST         frame 110 at 2026-01-01 00:00:00.110000
  sent by     server (ESTABLISHED); the client was ESTABLISHED
  accepted    exact: seq 1000 is the client's rcv.nxt, so the client resets (RFC 9293)
  cause       refused: refused in words
`
	if diff := cmp.Diff(strings.Split(want, "\n"), strings.Split(got, "\n")); diff != "" {
		t.Errorf("resets text (-want +got):\n%s", diff)
	}

	// --summary: the counts alone.
	sum := renderResets(t, resetsReport(c1, c2, c3), Options{Summary: true})
	if !strings.HasPrefix(want, sum) || strings.Contains(sum, "Connection") {
		t.Errorf("--summary is not the opening of the report:\n%s", sum)
	}
}

// TestResetsFoldWords: the fold line in the singular, for RSTs answering
// retried SYNs, with mixed linux reasons and where the kernel disagrees.
func TestResetsFoldWords(t *testing.T) {
	first := rst(10, "server", "refused")
	one := followUp(20, first)
	one.Recent = []report.SegBrief{{Frame: 19, Sender: "client", Flags: "S........"}}
	got := foldWords(resetBlock{first: &first, follows: []*report.Reset{&one}}, Options{})
	if want := "+ 1 further RST from the server (frame 20), answering a retried SYN"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}

	a, b, c := followUp(30, first), followUp(40, first), followUp(50, first)
	a.Recent = one.Recent
	a.LinuxReason, b.LinuxReason = "NO_SOCKET", "NO_SOCKET"
	a.KernelReason, b.KernelReason, c.KernelReason = "NO_SOCKET", "TCP_FLAGS", "TCP_FLAGS"
	got = foldWords(resetBlock{first: &first, follows: []*report.Reset{&a, &b, &c}}, Options{})
	want := "+ 3 further RSTs from the server (frames 30, 40, 50), answering segments still in flight and retried SYNs; " +
		"linux NO_SOCKET 2, (not inferred) 1; the kernel's reason differs on frame 40"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestResetsKernelAndSignals: the linux and kernel lines (marked where
// they differ), the signals for and against a forgery, and the kernel table
// of the counts.
func TestResetsKernelAndSignals(t *testing.T) {
	agree := rst(10, "client", "abort")
	agree.LinuxReason, agree.KernelReason, agree.KernelState = "TCP_ABORT_ON_CLOSE", "TCP_ABORT_ON_CLOSE", "TCP_CLOSE"
	differ := rst(20, "server", "abort")
	differ.LinuxReason, differ.KernelReason, differ.KernelState = "TCP_STATE", "TCP_ABORT_ON_CLOSE", "TCP_ESTABLISHED"
	stateOnly := rst(30, "server", "unknown")
	stateOnly.KernelState = "UNKNOWN"
	forged := rst(40, "server", "middlebox-suspect")
	forged.Signals = []report.Signal{
		{Name: "ttl", Value: "ttl 46, sender's other packets 49", Forged: true},
		{Name: "data_after_rst", Value: "the sender's data after its RST", Forged: false, Frame: 44},
	}
	r := resetsReport(
		resetConn(1, "complete, reset by client", "reset", agree),
		resetConn(2, "complete, reset by server", "reset", differ),
		resetConn(3, "complete, open", "", stateOnly),
		resetConn(4, "complete, four-way by client", "four-way", forged),
	)
	got := renderResets(t, r, Options{})
	for _, want := range []string{
		"\n  linux       TCP_ABORT_ON_CLOSE\n  kernel      TCP_ABORT_ON_CLOSE (TCP_CLOSE)\n",
		"\n  linux       TCP_STATE\n  kernel      TCP_ABORT_ON_CLOSE (TCP_ESTABLISHED)  ≠ linux\n",
		"\n  cause       unknown: unknown in words\n  kernel      no reason logged (UNKNOWN)\n",
		"\n  signals\n    for forgery      ttl: ttl 46, sender's other packets 49\n    against forgery  data_after_rst: the sender's data after its RST (frame 44)\n",
		"\n kernel_reason       RSTs  linux_reason the same \n",
		"\n TCP_ABORT_ON_CLOSE  2     1 of 2                \n",
		"\n TCP_ABORT_ON_CLOSE  1    \n TCP_STATE           1    \n (not inferred)      2    \n",
		"4 RSTs in 4 connections (2 ended by one)\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if strings.Contains(got, "\x1b[") {
		t.Error("colour without Options.Color")
	}
	tty := renderResets(t, r, Options{Color: true})
	for _, want := range []string{"\x1b[1m4 RSTs in 4 connections", "\x1b[31m≠ linux\x1b[0m", "\x1b[31mfor forgery\x1b[0m", "\x1b[32magainst forgery\x1b[0m"} {
		if !strings.Contains(tty, want) {
			t.Errorf("missing %q with colours in\n%q", want, tty)
		}
	}
}

// TestResetsCauses: --cause selects the RSTs in text and JSON, and the
// counts say how many there were in all.
func TestResetsCauses(t *testing.T) {
	first := rst(10, "client", "abort")
	r := resetsReport(
		resetConn(1, "complete, reset by client", "reset", first, followUp(12, first)),
		resetConn(2, "refused, reset by server", "reset", rst(11, "server", "refused")),
		resetConn(3, "complete, four-way by client", "four-way", rst(13, "server", "middlebox-suspect")),
	)
	got := renderResets(t, r, Options{Causes: []string{"abort", "refused"}})
	if !strings.HasPrefix(got, "3 of 4 RSTs (cause abort, refused) in 2 connections (2 ended by one); 1 of them follows an earlier RST of its sender\n") {
		t.Errorf("opening line:\n%s", got)
	}
	if strings.Contains(got, "middlebox") || strings.Count(got, "\nConnection ") != 2 {
		t.Errorf("--cause abort,refused shows:\n%s", got)
	}
	got = renderResets(t, r, Options{Causes: []string{"half-open"}})
	if want := "No RST of cause half-open in the selected connections (4 RSTs of other causes).\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	got = renderResets(t, resetsReport(resetConn(1, "complete, four-way by client", "four-way")), Options{Summary: true})
	if want := "No RST in the selected connections.\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestResetsJSON: one record per RST, follow-ups included, in capture
// order; --cause filters them; --summary leaves the summary alone; the
// summary record carries the counts.
func TestResetsJSON(t *testing.T) {
	first := rst(10, "client", "abort")
	first.LinuxReason, first.KernelReason = "TCP_ABORT_ON_CLOSE", "TCP_STATE"
	fu := followUp(13, first)
	fu.LinuxReason, fu.KernelReason = "NO_SOCKET", "NO_SOCKET"
	r := resetsReport(
		resetConn(1, "complete, reset by client", "reset", first, fu),
		resetConn(2, "refused, reset by server", "reset", rst(11, "server", "refused")),
	)
	type rec struct {
		Type         string         `json:"type"`
		Frame        int64          `json:"frame"`
		FollowsFrame int64          `json:"follows_frame"`
		Resets       map[string]any `json:"resets"`
	}
	run := func(o Options) []rec {
		var b bytes.Buffer
		if err := ResetsJSON(&b, r, o); err != nil {
			t.Fatal(err)
		}
		var out []rec
		sc := bufio.NewScanner(&b)
		for sc.Scan() {
			var x rec
			if err := stdjson.Unmarshal(sc.Bytes(), &x); err != nil {
				t.Fatalf("%v: %s", err, sc.Text())
			}
			out = append(out, x)
		}
		return out
	}
	frames := func(rs []rec) (f []int64) {
		for _, x := range rs {
			if x.Type == "reset" {
				f = append(f, x.Frame)
			}
		}
		return f
	}

	all := run(Options{})
	if got, want := frames(all), []int64{10, 11, 13}; !cmp.Equal(got, want) {
		t.Errorf("reset records %v, want %v", got, want)
	}
	if all[2].FollowsFrame != 10 {
		t.Errorf("follows_frame %d, want 10", all[2].FollowsFrame)
	}
	last := all[len(all)-1]
	if last.Type != "summary" {
		t.Fatalf("last record is %q, want the summary", last.Type)
	}
	wantCounts := map[string]any{
		"rsts": 3.0, "connections": 2.0, "ended_by_rst": 2.0, "follow_ups": 1.0,
		"by_cause": map[string]any{"abort": 2.0, "refused": 1.0}, "connections_by_cause": map[string]any{"abort": 1.0, "refused": 1.0},
		"by_linux_reason": map[string]any{"TCP_ABORT_ON_CLOSE": 1.0, "NO_SOCKET": 1.0}, "linux_reason_not_inferred": 1.0,
		"kernel":     map[string]any{"by_reason": map[string]any{"TCP_STATE": 1.0, "NO_SOCKET": 1.0}, "linux_matches": map[string]any{"NO_SOCKET": 1.0}},
		"rsts_total": 3.0,
	}
	if diff := cmp.Diff(wantCounts, last.Resets); diff != "" {
		t.Errorf("summary counts (-want +got):\n%s", diff)
	}

	sel := run(Options{Causes: []string{"abort"}})
	if got, want := frames(sel), []int64{10, 13}; !cmp.Equal(got, want) {
		t.Errorf("--cause abort: reset records %v, want %v", got, want)
	}
	if c := sel[len(sel)-1].Resets; c["rsts"] != 2.0 || c["rsts_total"] != 3.0 || !cmp.Equal(c["causes"], []any{"abort"}) {
		t.Errorf("--cause abort: counts %v", c)
	}

	sum := run(Options{Summary: true})
	if len(sum) != 1 || sum[0].Type != "summary" || sum[0].Resets["rsts"] != 3.0 {
		t.Errorf("--summary: %+v", sum)
	}
}
