package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/report"
)

// syncBuf is a buffer written by the command and read by the test.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// loServer listens on 127.0.0.1 and runs handle for each connection.
func loServer(t *testing.T, handle func(net.Conn)) (port int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go handle(c)
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

func dial(t *testing.T, port int) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	return c.(*net.TCPConn)
}

// TestLiveLoopback is the end-to-end test of tcptrace live, run by CI as
// root: it captures on lo while Go clients and servers in the test close
// and reset connections in every common way, and checks each connection's
// close and reset cause, that every packet is counted once, that -f keeps
// only the chosen ports, that the kernel's reason comes with every RST, and
// that the -w file analyzed offline gives the same records.
func TestLiveLoopback(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("not root: live capture needs CAP_NET_RAW")
	}
	if testing.Short() {
		t.Skip("-short: a live capture of a few seconds")
	}
	request := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	response := bytes.Repeat([]byte("r"), 3000)

	// A normal close: request, response, the server closes, then the client.
	normal := loServer(t, func(c net.Conn) {
		io.ReadFull(c, make([]byte, len(request)))
		c.Write(response)
		c.Close()
	})
	// A half-close: the client shuts its write side, the server reads to
	// the end, answers and closes.
	half := loServer(t, func(c net.Conn) {
		io.ReadAll(c)
		c.Write(response)
		c.Close()
	})
	// The client aborts (SO_LINGER 0) with nothing unread.
	abort := loServer(t, func(c net.Conn) {
		io.ReadFull(c, make([]byte, len(request)))
		c.Write(response)
		io.ReadAll(c)
		c.Close()
	})
	// The server closes with unread data.
	unread := loServer(t, func(c net.Conn) {
		io.ReadFull(c, make([]byte, 10))
		time.Sleep(60 * time.Millisecond)
		c.Close()
	})
	// The idle-close race: the server closes a keep-alive connection idle
	// for 10 ms; the client's next request, just after, meets a RST.
	race := loServer(t, func(c net.Conn) {
		io.ReadFull(c, make([]byte, len(request)))
		c.Write(response)
		time.Sleep(10 * time.Millisecond)
		c.Close()
	})
	// Not in the filter.
	other := loServer(t, func(c net.Conn) { io.ReadAll(c); c.Close() })
	// A refused port: bound, then closed.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := l.Addr().(*net.TCPAddr).Port
	l.Close()

	ports := []int{normal, half, abort, unread, race, refused}
	var expr []string
	for _, p := range ports {
		expr = append(expr, fmt.Sprintf("port %d", p))
	}
	dir := t.TempDir()
	pcapng := filepath.Join(dir, "live.pcapng")
	out, errb := &syncBuf{}, &syncBuf{}
	done := make(chan int)
	go func() {
		done <- Main([]string{"live", "-i", "lo", "-f", "tcp and (" + strings.Join(expr, " or ") + ")", "--format", "json", "--events",
			"--duration", "4s", "-w", pcapng}, IO{Out: out, Err: errb, Getenv: func(string) string { return "" }})
	}()
	for start := time.Now(); !strings.Contains(errb.String(), "listening on"); {
		select {
		case code := <-done:
			if strings.Contains(errb.String(), "CAP_NET_RAW") || strings.Contains(errb.String(), "capture filters are not built") {
				t.Skipf("cannot capture here: %s", errb.String())
			}
			t.Fatalf("live ended early (exit %d): %s", code, errb.String())
		default:
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("live did not start: %s", errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)

	c := dial(t, normal)
	c.Write(request)
	io.ReadAll(c)
	c.Close()

	c = dial(t, half)
	c.Write(request)
	c.CloseWrite()
	io.ReadAll(c)
	c.Close()

	c = dial(t, abort)
	c.Write(request)
	io.ReadFull(c, make([]byte, len(response)))
	c.SetLinger(0)
	c.Close()

	// An upload in pieces, as a client streams it: the server's window
	// shrinks ACK after ACK as the data waits unread.
	c = dial(t, unread)
	for range 8 {
		c.Write(bytes.Repeat([]byte("u"), 8000))
		time.Sleep(2 * time.Millisecond)
	}
	io.ReadAll(c)
	c.Close()

	c = dial(t, race)
	c.Write(request)
	io.ReadFull(c, make([]byte, len(response)))
	time.Sleep(40 * time.Millisecond) // the server has closed by now; its FIN is not read yet
	c.Write(request)
	io.ReadAll(c)
	c.Close()

	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", refused), time.Second); err == nil {
		c.Close()
		t.Fatal("the refused port accepted")
	}

	c = dial(t, other)
	c.Write(request)
	c.Close()

	code := <-done
	if code != ExitOK {
		t.Fatalf("live exit %d: %s", code, errb.String())
	}

	// The records, by server port.
	conns := map[int][]*report.Conn{}
	var resets []report.Reset
	var sum report.Summary
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var head struct{ Type string }
		json.Unmarshal([]byte(l), &head)
		switch head.Type {
		case "conn":
			var rc report.Conn
			if err := json.Unmarshal([]byte(l), &rc); err != nil {
				t.Fatal(err)
			}
			_, p, _ := net.SplitHostPort(rc.Server)
			var port int
			fmt.Sscan(p, &port)
			conns[port] = append(conns[port], &rc)
		case "reset":
			var r report.Reset
			json.Unmarshal([]byte(l), &r)
			resets = append(resets, r)
		case "summary":
			json.Unmarshal([]byte(l), &sum)
		}
	}
	if len(conns[other]) != 0 {
		t.Errorf("-f let through the connection to port %d", other)
	}
	kernelOn := sum.Live != nil && sum.Live.KernelTrace == "on"
	if sum.Live == nil || sum.Live.Dropped != 0 {
		t.Fatalf("summary live block %+v: want one with no drops", sum.Live)
	}
	want := []struct {
		name, state, cause, linux string
		port                      int
	}{
		{"normal close", "complete, three-way", "", "", normal},
		{"half-close", "complete, ", "", "", half},
		// The client read everything, then aborted: the wire cannot tell
		// that from closing with the data unread, so linux_reason is empty
		// or, when given, the kernel's.
		{"client abort, SO_LINGER 0", "reset by client", "abort", "", abort},
		{"server close with unread data", "reset by server", "abort", "TCP_ABORT_ON_CLOSE", unread},
		{"idle-close race", "reset by server", "reset-after-close", "", race},
		{"refused", "refused, reset by server", "refused", "NO_SOCKET", refused},
	}
	for _, w := range want {
		cs := conns[w.port]
		if len(cs) != 1 {
			t.Errorf("%s (port %d): %d connection records, want 1", w.name, w.port, len(cs))
			continue
		}
		rc := cs[0]
		if !strings.Contains(rc.State, w.state) && !(w.name == "normal close" && strings.Contains(rc.State, "four-way")) {
			t.Errorf("%s: state %q, want %q", w.name, rc.State, w.state)
		}
		if rc.SYN.Client != 1 || rc.Anomalies["duplicate_frame"] != 0 {
			t.Errorf("%s: %d SYNs from the client, %d duplicate frames: a packet counted twice", w.name, rc.SYN.Client, rc.Anomalies["duplicate_frame"])
		}
		if w.cause == "" {
			if len(rc.Resets) != 0 {
				t.Errorf("%s: %d RSTs, want none", w.name, len(rc.Resets))
			}
			continue
		}
		if len(rc.Resets) == 0 {
			t.Errorf("%s: no RST", w.name)
			continue
		}
		x := rc.Resets[0]
		if x.Cause != w.cause || (w.linux != "" && x.LinuxReason != w.linux) {
			t.Errorf("%s: first RST %s, linux %s (%s); want %s, linux %s", w.name, x.Cause, x.LinuxReason, x.Detail, w.cause, w.linux)
		}
		for _, x := range rc.Resets {
			if kernelOn && x.KernelReason == "" {
				t.Errorf("%s: RST frame %d without the kernel's reason", w.name, x.Frame)
			}
			if x.KernelReason != "" && x.LinuxReason != "" && x.LinuxReason != x.KernelReason {
				t.Errorf("%s: RST frame %d: linux_reason %s, the kernel said %s", w.name, x.Frame, x.LinuxReason, x.KernelReason)
			}
		}
	}
	if !kernelOn {
		t.Logf("the kernel's reasons were off: %s", sum.Live.KernelTrace)
	}

	// The -w file, analyzed offline, gives the same records (the kernel's
	// fields aside).
	var off, e2 bytes.Buffer
	if code := Main([]string{"analyze", "--format", "json", pcapng}, IO{Out: &off, Err: &e2, Getenv: func(string) string { return "" }}); code != ExitOK {
		t.Fatalf("analyze of the -w file: exit %d: %s", code, e2.String())
	}
	strip := func(s string) []string {
		var keep []string
		for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
			if !strings.HasPrefix(l, `{"type":"conn"`) {
				continue
			}
			var m map[string]any
			json.Unmarshal([]byte(l), &m)
			// Live measures the silence before the end to the moment the
			// capture stopped, a file to its last packet.
			if cl, ok := m["close"].(map[string]any); ok {
				delete(cl, "idle_before_end")
			}
			if rs, ok := m["resets"].([]any); ok {
				for _, r := range rs {
					for _, k := range []string{"kernel_reason", "kernel_state", "kernel_accepted"} {
						delete(r.(map[string]any), k)
					}
				}
			}
			b, _ := json.Marshal(m)
			keep = append(keep, string(b))
		}
		return keep
	}
	a, b := strip(out.String()), strip(off.String())
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("the -w file analyzed offline differs from the live records:\nlive:    %.600s\noffline: %.600s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	t.Logf("%d connections, %d RSTs, kernel %s", len(a), len(resets), sum.Live.KernelTrace)
}
