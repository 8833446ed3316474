package kernelev

import (
	"net"
	"os"
	"testing"
	"time"
)

// TestTracerSeesARefusal: as root on Linux 6.10+, a connection to a closed
// port on loopback makes the kernel send a RST; the tracer reads its
// tcp_send_reset with reason NO_SOCKET, near the wall clock, and Close
// removes the instance.
func TestTracerSeesARefusal(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("not root: the kernel's trace needs root (or CAP_SYS_ADMIN)")
	}
	tr, err := OpenTracer()
	if err != nil {
		t.Skipf("no kernel trace here: %v", err)
	}
	// A port that nothing listens on: bind one, close it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().(*net.TCPAddr)
	l.Close()
	before := time.Now().UnixNano()
	if c, err := net.DialTimeout("tcp", addr.String(), time.Second); err == nil {
		c.Close()
		t.Fatal("the closed port accepted")
	}
	deadline := time.After(5 * time.Second)
	found := false
	for !found {
		select {
		case e := <-tr.Events():
			if e.Kind == SendReset && e.Src.Port() == uint16(addr.Port) {
				found = true
				if e.Reason != "NO_SOCKET" {
					t.Errorf("reason %q, want NO_SOCKET", e.Reason)
				}
				if d := e.TS - before; d < -1e9 || d > 5e9 {
					t.Errorf("event time %d is %d ns from the wall clock at the dial", e.TS, d)
				}
			}
		case <-deadline:
			t.Fatal("no tcp_send_reset for the refused connection within 5 s")
		}
	}
	dir := tr.dir
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("instance %s still there after Close: %v", dir, err)
	}
	for range tr.Events() {
	}
}
