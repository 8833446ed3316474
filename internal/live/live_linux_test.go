//go:build linux

package live

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcptrace/tcptrace/internal/capture"
)

// collect reads src until io.EOF (or another error) in a goroutine and
// returns copies of the frames.
type collected struct {
	frames []capture.Frame
	errs   []error
}

func collect(src *Source) <-chan collected {
	ch := make(chan collected, 1)
	go func() {
		var c collected
		for {
			f, err := src.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				c.errs = append(c.errs, err)
				continue
			}
			g := *f
			g.Data = bytes.Clone(f.Data)
			c.frames = append(c.frames, g)
		}
		ch <- c
	}()
	return ch
}

func wait(t *testing.T, ch <-chan collected, d time.Duration) collected {
	t.Helper()
	select {
	case c := <-ch:
		return c
	case <-time.After(d):
		t.Fatalf("Next did not return io.EOF within %v of Close", d)
	}
	return collected{}
}

// echo serves one connection on ln: it answers each message "req-NNN" with
// "rsp-NNN".
func echo(ln net.Listener) {
	c, err := ln.Accept()
	if err != nil {
		return
	}
	defer c.Close()
	buf := make([]byte, 64)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		msg := bytes.Replace(buf[:n], []byte("req-"), []byte("rsp-"), 1)
		if _, err := c.Write(msg); err != nil {
			return
		}
	}
}

// listenLo listens on a free TCP port of 127.0.0.1 until the test ends.
func listenLo(t *testing.T) (net.Listener, uint16) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, uint16(ln.Addr().(*net.TCPAddr).Port)
}

// TestLoopbackEachPacketOnce captures a TCP exchange on lo: every segment
// appears once (not also as the outgoing copy), timestamps do not go back,
// and Close from another goroutine ends Next with io.EOF after the last
// frame.
func TestLoopbackEachPacketOnce(t *testing.T) {
	needCapture(t)
	ln, port := listenLo(t)
	src, err := Open([]string{"lo"}, Options{Filter: portFilter(port, false)})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if got := src.Interfaces(); len(got) != 1 || got[0].LinkType != LinkEthernet || !got[0].Loopback {
		t.Fatalf("interfaces = %+v", got)
	}
	frames := collect(src)
	go echo(ln)

	const n = 40
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	for i := range n {
		if _, err := fmt.Fprintf(c, "req-%03d", i); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf[:7]); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	time.Sleep(20 * time.Millisecond) // the closing segments
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	got := wait(t, frames, 5*time.Second)
	if len(got.errs) > 0 {
		t.Fatalf("errors: %v", got.errs)
	}

	seen := map[string]int{}
	segs := map[string]int{}
	var syn, synack, fin int
	var last int64
	for i, f := range got.frames {
		if f.N != int64(i+1) || f.Iface != 0 || f.LinkType != LinkEthernet || f.CapLen != len(f.Data) || f.OrigLen != len(f.Data) {
			t.Errorf("frame %d: N %d iface %d link %d caplen %d origlen %d len %d", i, f.N, f.Iface, f.LinkType, f.CapLen, f.OrigLen, len(f.Data))
		}
		if f.TS < last {
			t.Errorf("frame %d: timestamp %d before the previous %d", f.N, f.TS, last)
		}
		last = f.TS
		fl, err := parseFrame(f.LinkType, f.Data)
		if err != nil {
			t.Fatalf("frame %d: %v", f.N, err)
		}
		if fl.sport != port && fl.dport != port {
			t.Fatalf("frame %d: ports %d→%d passed the filter of port %d", f.N, fl.sport, fl.dport, port)
		}
		segs[fmt.Sprintf("%d>%d seq %d ack %d flags %#x len %d", fl.sport, fl.dport, fl.seq, fl.ack, fl.flags, len(fl.payload))]++
		if len(fl.payload) > 0 {
			seen[string(fl.payload)]++
		}
		switch {
		case fl.flags&0x12 == 0x02:
			syn++
		case fl.flags&0x12 == 0x12:
			synack++
		}
		if fl.flags&0x01 != 0 {
			fin++
		}
	}
	for k, v := range segs {
		if v != 1 {
			t.Errorf("segment %s seen %d times", k, v)
		}
	}
	for i := range n {
		for _, m := range []string{fmt.Sprintf("req-%03d", i), fmt.Sprintf("rsp-%03d", i)} {
			if seen[m] != 1 {
				t.Errorf("payload %s seen %d times", m, seen[m])
			}
		}
	}
	if len(seen) != 2*n {
		t.Errorf("%d distinct payloads, want %d", len(seen), 2*n)
	}
	if syn != 1 || synack != 1 || fin != 2 {
		t.Errorf("SYN %d, SYN-ACK %d, FIN %d; want 1, 1, 2", syn, synack, fin)
	}
	st := src.Stats()
	if len(st.Ifaces) != 1 || st.Ifaces[0].Name != "lo" {
		t.Fatalf("stats = %+v", st)
	}
	s := st.Ifaces[0]
	if s.Delivered != uint64(len(got.frames)) || s.Dropped != 0 || s.Received != s.Delivered || s.End < s.Start || s.Start == 0 {
		t.Errorf("stats %+v, want %d delivered = received, no drops, start ≤ end", s, len(got.frames))
	}
	t.Logf("%d frames, stats %+v", len(got.frames), s)
}

// udpBurst sends n datagrams of distinct payloads "pkt-NNNNNN" to addr.
func udpBurst(t testing.TB, addr *net.UDPAddr, n int) {
	t.Helper()
	c, err := net.DialUDP("udp4", nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range n {
		if _, err := fmt.Fprintf(c, "pkt-%06d", i); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCloseKeepsCaptured sends a burst, then closes at once, long before
// the block timeout would hand the kernel's last block over: every packet
// must still come out of Next, in order, then io.EOF.
func TestCloseKeepsCaptured(t *testing.T) {
	needCapture(t)
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	addr := sink.LocalAddr().(*net.UDPAddr)
	tests := []struct {
		name    string
		ifaces  []string
		n       int
		blocks  int
		timeout time.Duration
	}{
		{"lo one partial block", []string{"lo"}, 300, 4, 400 * time.Millisecond},
		{"lo several blocks", []string{"lo"}, 5000, 8, 400 * time.Millisecond},
		{"any", []string{"any"}, 1000, 4, 300 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := Open(tt.ifaces, Options{
				Filter:       portFilter(uint16(addr.Port), true),
				Snaplen:      2048,
				BlockSize:    64 << 10,
				BlockCount:   tt.blocks,
				BlockTimeout: tt.timeout,
			})
			if err != nil {
				t.Fatal(err)
			}
			frames := collect(src)
			udpBurst(t, addr, tt.n)
			start := time.Now()
			src.Close()
			if d := time.Since(start); d > 2*tt.timeout+200*time.Millisecond {
				t.Errorf("Close took %v", d)
			}
			got := wait(t, frames, 5*time.Second)
			if len(got.errs) > 0 {
				t.Fatalf("errors: %v", got.errs)
			}
			if len(got.frames) != tt.n {
				t.Fatalf("%d frames, want %d (stats %+v)", len(got.frames), tt.n, src.Stats())
			}
			for i, f := range got.frames {
				fl, err := parseFrame(f.LinkType, f.Data)
				if err != nil {
					t.Fatalf("frame %d: %v", f.N, err)
				}
				if want := fmt.Sprintf("pkt-%06d", i); string(fl.payload) != want {
					t.Fatalf("frame %d carries %q, want %q", f.N, fl.payload, want)
				}
			}
			if st := src.Stats().Total(); st.Dropped != 0 || st.Delivered != uint64(tt.n) {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestCloseUnblocksNext: a Next blocked on a quiet interface returns io.EOF
// soon after Close from another goroutine, and Next keeps returning io.EOF.
func TestCloseUnblocksNext(t *testing.T) {
	needCapture(t)
	nothing := func(uint32) ([]Instruction, error) { return dropAll, nil }
	src, err := Open([]string{"lo"}, Options{Filter: nothing, BlockTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := src.Next()
		done <- err
	}()
	time.Sleep(150 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Next returned %v before Close", err)
	default:
	}
	start := time.Now()
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != io.EOF {
			t.Fatalf("Next after Close = %v, want io.EOF", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Next still blocked 2s after Close")
	}
	t.Logf("unblocked %v after Close", time.Since(start))
	if _, err := src.Next(); err != io.EOF {
		t.Fatalf("second Next = %v, want io.EOF", err)
	}
	if err := src.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
}

// TestOpenErrors: bad names and options are refused with errors that say
// what to do.
func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name   string
		ifaces []string
		opt    Options
		is     error
		want   []string
		root   bool
	}{
		{"no interface", nil, Options{}, nil, []string{"no interface given"}, false},
		{"any and more", []string{"any", "lo"}, Options{}, nil, []string{`"any"`, "cannot be combined"}, false},
		{"twice", []string{"lo", "lo"}, Options{}, nil, []string{"lo given twice"}, false},
		{"snaplen", []string{"lo"}, Options{Snaplen: 10}, nil, []string{"snaplen 10"}, false},
		{"block size", []string{"lo"}, Options{BlockSize: 1000}, nil, []string{"block size 1000"}, false},
		{"block too small for snaplen", []string{"lo"}, Options{BlockSize: 64 << 10}, nil, []string{"cannot hold a packet"}, false},
		{"unknown", []string{"nosuch0"}, Options{}, ErrNoInterface, []string{"nosuch0", "lo", `"any"`}, false},
		{"promiscuous any", []string{"any"}, Options{Promiscuous: true}, nil, []string{"promiscuous", "any"}, true},
		{"filter error", []string{"lo"}, Options{Filter: func(uint32) ([]Instruction, error) { return nil, errors.New("bad expression") }}, nil, []string{"lo: capture filter: bad expression"}, true},
		{"filter rejected", []string{"lo"}, Options{Filter: func(uint32) ([]Instruction, error) { return []Instruction{{Code: 0xff}}, nil }}, unix.EINVAL, []string{"attach the capture filter"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root {
				needCapture(t)
			}
			src, err := Open(tt.ifaces, tt.opt)
			if err == nil {
				src.Close()
				t.Fatal("no error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestPermissionDenied drops CAP_NET_RAW from one thread and opens there:
// the error says how to grant the capability.
func TestPermissionDenied(t *testing.T) {
	needCapture(t)
	errc := make(chan error, 1)
	go func() {
		// This thread loses a capability for good: it stays locked and
		// ends with the goroutine.
		runtime.LockOSThread()
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			errc <- err
			return
		}
		data[0].Effective &^= 1 << unix.CAP_NET_RAW
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			errc <- err
			return
		}
		src, err := Open([]string{"lo"}, Options{})
		if err == nil {
			src.Close()
			err = errors.New("opened without CAP_NET_RAW")
		}
		errc <- err
	}()
	err := <-errc
	if !errors.Is(err, ErrPermission) {
		t.Fatalf("error %v is not ErrPermission", err)
	}
	for _, w := range []string{"lo", "CAP_NET_RAW", "root", "setcap cap_net_raw+ep"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	t.Log(err)
}

// TestWritePcapng is what `tcptrace live -w` does: every frame of a live
// capture to a pcapng file, a comment on one, the statistics at the end.
// The project's reader gives back the same frames; tshark, where
// installed, reads the file and the comment.
func TestWritePcapng(t *testing.T) {
	needCapture(t)
	ln, port := listenLo(t)
	src, err := Open([]string{"lo"}, Options{Filter: portFilter(port, false), BlockTimeout: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "live.pcapng")
	file, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := capture.NewPcapngWriter(file, capture.PcapngOptions{Application: "tcptrace"})
	for _, ifc := range src.Interfaces() {
		if _, err := w.AddInterface(ifc.Pcapng()); err != nil {
			t.Fatal(err)
		}
	}
	type written struct {
		f    capture.Frame
		note string
	}
	done := make(chan []written, 1)
	go func() {
		var out []written
		for {
			f, err := src.Next()
			if err != nil {
				break
			}
			note := ""
			if fl, err := parseFrame(f.LinkType, f.Data); err == nil && fl.flags&0x04 != 0 {
				note = "kernel: TCP_ABORT_ON_CLOSE"
			}
			if err := w.WritePacket(f, note); err != nil {
				t.Error(err)
			}
			g := *f
			g.Data = bytes.Clone(f.Data)
			out = append(out, written{g, note})
		}
		done <- out
	}()
	go echo(ln)
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(c, "req-000")
	io.ReadFull(c, make([]byte, 7))
	c.(*net.TCPConn).SetLinger(0) // the close is a RST
	c.Close()
	time.Sleep(20 * time.Millisecond)
	src.Close()
	frames := <-done
	for i, st := range src.Stats().Ifaces {
		if err := w.WriteStats(i, st.Pcapng()); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := file.Close(); err != nil {
		t.Fatal(err)
	}

	back, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	rst := 0
	for i := 0; ; i++ {
		f, err := back.Next()
		if err == io.EOF {
			if i != len(frames) {
				t.Fatalf("%d frames read back, %d written", i, len(frames))
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		w := frames[i].f
		if f.N != w.N || f.TS != w.TS || f.LinkType != w.LinkType || f.OrigLen != w.OrigLen || !bytes.Equal(f.Data, w.Data) {
			t.Fatalf("frame %d differs after the round trip", i+1)
		}
		if frames[i].note != "" {
			rst++
		}
	}
	if rst == 0 {
		t.Fatal("no RST captured")
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed: the file was not checked with it")
	}
	out, err := exec.Command("tshark", "-r", path, "-T", "fields", "-e", "frame.number", "-e", "tcp.flags.reset", "-e", "frame.comment").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(frames) {
		t.Fatalf("tshark reads %d frames, %d written", len(lines), len(frames))
	}
	for i, l := range lines {
		f := strings.Split(l, "\t")
		isRST := len(f) > 1 && (f[1] == "1" || f[1] == "True")
		hasNote := len(f) > 2 && f[2] == "kernel: TCP_ABORT_ON_CLOSE"
		if f[0] != fmt.Sprint(i+1) || isRST != hasNote || hasNote != (frames[i].note != "") {
			t.Errorf("tshark line %q for frame %d (comment %q)", l, i+1, frames[i].note)
		}
	}
}

// TestKernelDrops overflows a small ring while nobody reads it: the kernel
// drops, the counters say how many, and the first frame after the gap
// carries the count (Frame.DropsBefore), equal to the datagrams missing
// before it.
func TestKernelDrops(t *testing.T) {
	needCapture(t)
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	port := sink.LocalAddr().(*net.UDPAddr).Port
	src, err := Open([]string{"lo"}, Options{Filter: portFilter(uint16(port), true), Snaplen: 256, BlockSize: 64 << 10, BlockCount: 4, BlockTimeout: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	const burst1, burst2 = 5000, 300
	if _, err := udpFlood(port, burst1, 64, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	seqOf := func(f *capture.Frame) uint64 {
		fl, err := parseFrame(f.LinkType, f.Data)
		if err != nil || len(fl.payload) < 8 {
			t.Fatalf("frame %d: %v", f.N, err)
		}
		return binary.BigEndian.Uint64(fl.payload)
	}
	// Read what the ring kept of the first burst: until it holds nothing.
	var kept int
	var prev uint64
	for r := src.rings[0]; r.left > 0 || r.load(); {
		f, err := src.Next()
		if err != nil {
			t.Fatal(err)
		}
		if f.DropsBefore != 0 {
			t.Fatalf("frame %d of the first burst has %d drops before it", f.N, f.DropsBefore)
		}
		if s := seqOf(f); s != uint64(kept) {
			t.Fatalf("frame %d: datagram %d, want %d", f.N, s, kept)
		}
		prev = uint64(kept)
		kept++
	}
	if kept >= burst1 || kept == 0 {
		t.Fatalf("the ring kept %d of %d datagrams: no drops to see", kept, burst1)
	}
	// The second burst arrives after the gap.
	if _, err := udpFloodFrom(port, burst1, burst2, 64, 0); err != nil {
		t.Fatal(err)
	}
	f, err := src.Next()
	if err != nil {
		t.Fatal(err)
	}
	s := seqOf(f)
	if s != burst1 || f.DropsBefore != s-prev-1 {
		t.Fatalf("first frame after the gap: datagram %d with %d drops before it; want datagram %d with %d", s, f.DropsBefore, burst1, burst1-kept)
	}
	got := kept + 1
	go func() {
		time.Sleep(100 * time.Millisecond)
		src.Close()
	}()
	for {
		f, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if f.DropsBefore != 0 {
			t.Errorf("frame %d: %d drops before it", f.N, f.DropsBefore)
		}
		got++
	}
	st := src.Stats().Ifaces[0]
	if got != kept+burst2 || st.Delivered != uint64(got) || st.Dropped != uint64(burst1-kept) || st.Received != burst1+burst2 || st.FreezeQueue == 0 {
		t.Errorf("%d frames (%d kept of the first burst), stats %+v; want %d delivered, %d dropped, %d received", got, kept, st, kept+burst2, burst1-kept, burst1+burst2)
	}
	t.Logf("ring kept %d of %d, dropped %d; stats %+v", kept, burst1, burst1-kept, st)
}
