//go:build linux

package live

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tcptrace/tcptrace/internal/capture"
)

// vethPair makes two namespaces joined by a veth pair va0 (in a,
// 10.99.0.1) — vb0 (in b, 10.99.0.2).
func vethPair(t *testing.T) (a, b *netns) {
	t.Helper()
	needCapture(t)
	a, b = newNetns(t, "a"), newNetns(t, "b")
	run(t, "ip", "link", "add", "name", "va0", "netns", a.name, "type", "veth", "peer", "name", "vb0", "netns", b.name)
	for _, side := range []struct {
		ns      *netns
		dev, ip string
	}{{a, "va0", "10.99.0.1/24"}, {b, "vb0", "10.99.0.2/24"}} {
		n := side.ns.name
		run(t, "ip", "-n", n, "link", "set", "lo", "up")
		run(t, "ip", "-n", n, "addr", "add", side.ip, "dev", side.dev)
		run(t, "ip", "-n", n, "link", "set", side.dev, "up")
	}
	return a, b
}

// udpEcho opens, in namespace ns, a UDP socket on addr that sends back
// every datagram with its first byte changed to 'R'.
func udpEcho(t *testing.T, ns *netns, addr string) {
	t.Helper()
	var conn *net.UDPConn
	var err error
	ns.do(t, func() {
		var ua *net.UDPAddr
		if ua, err = net.ResolveUDPAddr("udp4", addr); err == nil {
			conn, err = net.ListenUDP("udp4", ua)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			buf[0] = 'R'
			_, _ = conn.WriteToUDP(buf[:n], from)
		}
	}()
}

// exchange sends n datagrams "<prefix>-NNN" from namespace ns to addr and
// reads each echo.
func exchange(t *testing.T, ns *netns, addr, prefix string, n int) {
	t.Helper()
	var conn *net.UDPConn
	var err error
	ns.do(t, func() {
		var ua *net.UDPAddr
		if ua, err = net.ResolveUDPAddr("udp4", addr); err == nil {
			conn, err = net.DialUDP("udp4", nil, ua)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 2048)
	for i := range n {
		msg := fmt.Sprintf("%s-%03d", prefix, i)
		if _, err := conn.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := conn.Read(buf); err != nil {
			t.Fatalf("echo of %s: %v", msg, err)
		}
	}
}

// inject sends raw Ethernet frames on dev from namespace ns.
func inject(t *testing.T, ns *netns, dev string, frames [][]byte) {
	t.Helper()
	var err error
	ns.do(t, func() {
		var ifc *net.Interface
		if ifc, err = net.InterfaceByName(dev); err != nil {
			return
		}
		var fd int
		if fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0); err != nil {
			return
		}
		defer unix.Close(fd)
		for _, f := range frames {
			sa := &unix.SockaddrLinklayer{Ifindex: ifc.Index, Halen: 6}
			copy(sa.Addr[:], f[:6])
			if err = unix.Sendto(fd, f, 0, sa); err != nil {
				return
			}
		}
	})
	if err != nil {
		t.Fatalf("inject on %s: %v", dev, err)
	}
}

// ipv4UDP is an IPv4/UDP packet (checksums left zero: nobody reads them).
func ipv4UDP(payload string) []byte {
	ip := make([]byte, 28, 28+len(payload))
	ip[0], ip[8], ip[9] = 0x45, 64, 17
	binary.BigEndian.PutUint16(ip[2:], uint16(28+len(payload)))
	copy(ip[12:], []byte{10, 99, 0, 1, 10, 99, 0, 2})
	binary.BigEndian.PutUint16(ip[20:], 4000)
	binary.BigEndian.PutUint16(ip[22:], 9999)
	binary.BigEndian.PutUint16(ip[24:], uint16(8+len(payload)))
	return append(ip, payload...)
}

// TestVLANTagReinserted sends tagged frames over a veth pair. The kernel
// strips the outer tag of a received frame into tp_vlan_tci (in core code,
// whether or not a VLAN device exists): the frame captured on the
// receiving side must be byte for byte the frame that was sent, tag
// included, and so must the sender's outgoing copy. On "any" the receiver
// gets SLL2 with the outer tag after the header.
func TestVLANTagReinserted(t *testing.T) {
	a, b := vethPair(t)
	var recv, sent, anySrc *Source
	var err error
	var vbIndex int
	var vbMAC net.HardwareAddr
	opt := Options{BlockTimeout: 10 * time.Millisecond}
	b.do(t, func() {
		if recv, err = Open([]string{"vb0"}, opt); err != nil {
			return
		}
		if anySrc, err = Open([]string{"any"}, opt); err != nil {
			return
		}
		var ifc *net.Interface
		if ifc, err = net.InterfaceByName("vb0"); err == nil {
			vbIndex, vbMAC = ifc.Index, ifc.HardwareAddr
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	a.do(t, func() { sent, err = Open([]string{"va0"}, opt) })
	if err != nil {
		t.Fatal(err)
	}
	recvFrames, sentFrames, anyFrames := collect(recv), collect(sent), collect(anySrc)

	tag := func(tpid, tci uint16) []byte {
		return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, tpid), tci)
	}
	tests := []struct {
		name  string
		tags  [][]byte // outermost first
		outer uint16   // TCI of the outer tag (what the kernel strips)
	}{
		{"untagged", nil, 0},
		{"vlan 100", [][]byte{tag(0x8100, 100)}, 100},
		{"vlan 7 priority 5", [][]byte{tag(0x8100, 5<<13|7)}, 5<<13 | 7},
		{"priority tag vlan 0", [][]byte{tag(0x8100, 3<<13)}, 3 << 13},
		{"qinq 802.1ad 100 then 200", [][]byte{tag(0x88a8, 100), tag(0x8100, 200)}, 100},
	}
	src := net.HardwareAddr{0x02, 0, 0, 0, 0, 0xaa}
	var frames [][]byte
	for _, tt := range tests {
		f := append(append([]byte(nil), vbMAC...), src...)
		for _, tg := range tt.tags {
			f = append(f, tg...)
		}
		f = append(f, 0x08, 0x00)
		frames = append(frames, append(f, ipv4UDP("vlan-test "+tt.name)...))
	}
	inject(t, a, "va0", frames)
	time.Sleep(50 * time.Millisecond)
	recv.Close()
	sent.Close()
	anySrc.Close()
	got := map[string]collected{
		"vb0 (received)": wait(t, recvFrames, 5*time.Second),
		"va0 (sent)":     wait(t, sentFrames, 5*time.Second),
	}
	anyGot := wait(t, anyFrames, 5*time.Second)
	find := func(c collected, name string) []capture.Frame {
		var out []capture.Frame
		for _, f := range c.frames {
			if bytes.HasSuffix(f.Data, []byte("vlan-test "+name)) {
				out = append(out, f)
			}
		}
		return out
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for side, c := range got {
				fs := find(c, tt.name)
				if len(fs) != 1 {
					t.Fatalf("%s: %d copies", side, len(fs))
				}
				if !bytes.Equal(fs[0].Data, frames[i]) || fs[0].OrigLen != len(frames[i]) {
					t.Errorf("%s: captured (origlen %d)\n% x\nsent\n% x", side, fs[0].OrigLen, fs[0].Data, frames[i])
				}
			}
			fs := find(anyGot, tt.name)
			if len(fs) != 1 {
				t.Fatalf("any: %d copies", len(fs))
			}
			d := fs[0].Data
			// SLL2: the outer TPID as protocol (or IPv4), ifindex, ARPHRD_ETHER,
			// PACKET_HOST, the sender's MAC; then the outer tag's TCI and the
			// rest of the frame after the outer tag.
			wantProto := uint16(0x0800)
			rest := frames[i][12:]
			var want []byte
			if len(tt.tags) > 0 {
				wantProto = binary.BigEndian.Uint16(tt.tags[0])
				want = binary.BigEndian.AppendUint16(nil, tt.outer)
				rest = rest[4:]
			}
			want = append(want, rest...)
			if len(tt.tags) == 0 {
				want = want[2:] // the EtherType is the SLL2 protocol
			}
			if len(d) < 20 || binary.BigEndian.Uint16(d[0:]) != wantProto || binary.BigEndian.Uint32(d[4:]) != uint32(vbIndex) ||
				binary.BigEndian.Uint16(d[8:]) != 1 || d[10] != 0 || d[11] != 6 || !bytes.Equal(d[12:18], src) || !bytes.Equal(d[20:], want) {
				t.Errorf("any: captured\n% x\nwant SLL2 protocol %#x ifindex %d then\n% x", d, wantProto, vbIndex, want)
			}
			if fs[0].OrigLen != len(d) {
				t.Errorf("any: origlen %d, caplen %d", fs[0].OrigLen, len(d))
			}
		})
	}
}

// TestInterfaceDown: an interface that goes down ends its capture with an
// error naming it, after the frames captured before.
func TestInterfaceDown(t *testing.T) {
	a, b := vethPair(t)
	udpEcho(t, b, "10.99.0.2:9000")
	var src *Source
	var err error
	a.do(t, func() {
		src, err = Open([]string{"va0"}, Options{BlockTimeout: 200 * time.Millisecond})
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	frames := collect(src)
	const n = 5
	exchange(t, a, "10.99.0.2:9000", "before", n)
	run(t, "ip", "-n", a.name, "link", "set", "va0", "down")
	var got collected
	select {
	case got = <-frames:
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not end within 5s of the interface going down")
	}
	if len(got.errs) != 1 {
		t.Fatalf("errors %v, want one", got.errs)
	}
	err = got.errs[0]
	if !errors.Is(err, ErrInterfaceDown) || !strings.Contains(err.Error(), "va0") || !strings.Contains(err.Error(), "went down") {
		t.Errorf("error %q: want ErrInterfaceDown naming va0", err)
	}
	seen := 0
	for _, f := range got.frames {
		if fl, err := parseFrame(f.LinkType, f.Data); err == nil && fl.proto == 17 {
			seen++
		}
	}
	if seen != 2*n {
		t.Errorf("%d UDP frames before the error, want %d", seen, 2*n)
	}
	t.Log(err)
}

// TestSeveralInterfaces captures lo and va0 at once: each frame says its
// interface, and frames come in timestamp order.
func TestSeveralInterfaces(t *testing.T) {
	a, b := vethPair(t)
	udpEcho(t, b, "10.99.0.2:9000")
	udpEcho(t, a, "127.0.0.1:9000")
	var src *Source
	var err error
	a.do(t, func() {
		src, err = Open([]string{"lo", "va0"}, Options{BlockTimeout: 10 * time.Millisecond})
	})
	if err != nil {
		t.Fatal(err)
	}
	ifs := src.Interfaces()
	if len(ifs) != 2 || ifs[0].Name != "lo" || ifs[1].Name != "va0" || ifs[0].LinkType != LinkEthernet || ifs[1].LinkType != LinkEthernet || src.Name() != "lo,va0" {
		t.Fatalf("interfaces %+v, name %q", ifs, src.Name())
	}
	frames := collect(src)
	const n = 10
	for i := range n {
		exchange(t, a, "127.0.0.1:9000", fmt.Sprintf("lo%d", i), 1)
		exchange(t, a, "10.99.0.2:9000", fmt.Sprintf("veth%d", i), 1)
	}
	time.Sleep(30 * time.Millisecond)
	src.Close()
	got := wait(t, frames, 5*time.Second)
	if len(got.errs) > 0 {
		t.Fatal(got.errs)
	}
	count := map[string]int{}
	var last int64
	for _, f := range got.frames {
		if f.TS < last {
			t.Errorf("frame %d (iface %d) at %d, before the previous frame at %d", f.N, f.Iface, f.TS, last)
		}
		last = f.TS
		fl, err := parseFrame(f.LinkType, f.Data)
		if err != nil || fl.proto != 17 {
			continue
		}
		count[fmt.Sprintf("%d %s", f.Iface, fl.payload[1:])]++
	}
	for i := range n {
		for _, k := range []string{fmt.Sprintf("0 o%d-000", i), fmt.Sprintf("1 eth%d-000", i)} {
			if count[k] != 2 { // the datagram and its echo
				t.Errorf("%q seen %d times, want 2", k, count[k])
			}
		}
	}
	if len(count) != 2*n {
		t.Errorf("%d distinct datagrams: %v", len(count), count)
	}
	if h := src.held.Load(); h != 0 {
		t.Errorf("%d frames given out of order after waiting in vain", h)
	}
	st := src.Stats()
	if len(st.Ifaces) != 2 || st.Ifaces[0].Delivered == 0 || st.Ifaces[1].Delivered == 0 || st.Total().Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}
