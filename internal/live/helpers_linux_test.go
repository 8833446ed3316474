//go:build linux

package live

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// needCapture skips the test unless this process may open packet sockets
// (root, or CAP_NET_RAW).
func needCapture(t testing.TB) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Skipf("live capture tests need root or CAP_NET_RAW (packet socket: %v)", err)
	}
	unix.Close(fd)
}

// portFilter returns a filter for IPv4 TCP (or UDP) packets to or from
// port, as tcpdump -dd 'ip and tcp port P' compiles it for Ethernet, or the
// same from the network header (LinkRaw).
func portFilter(port uint16, udp bool) func(uint32) ([]Instruction, error) {
	proto := uint32(6)
	if udp {
		proto = 17
	}
	p := uint32(port)
	return func(lt uint32) ([]Instruction, error) {
		if lt == LinkRaw {
			return []Instruction{
				{0x30, 0, 0, 0},      // 0  ldb [0]
				{0x54, 0, 0, 0xf0},   // 1  and #0xf0
				{0x15, 0, 10, 0x40},  // 2  jeq #0x40 (IPv4)
				{0x30, 0, 0, 9},      // 3  ldb [9]
				{0x15, 0, 8, proto},  // 4  jeq proto
				{0x28, 0, 0, 6},      // 5  ldh [6]
				{0x45, 6, 0, 0x1fff}, // 6  jset #0x1fff (a fragment)
				{0xb1, 0, 0, 0},      // 7  ldxb 4*([0]&0xf)
				{0x48, 0, 0, 0},      // 8  ldh [x+0]
				{0x15, 2, 0, p},      // 9  jeq port
				{0x48, 0, 0, 2},      // 10 ldh [x+2]
				{0x15, 0, 1, p},      // 11 jeq port
				{0x06, 0, 0, 262144}, // 12 ret #262144
				{0x06, 0, 0, 0},      // 13 ret #0
			}, nil
		}
		return []Instruction{
			{0x28, 0, 0, 12},     // 0  ldh [12]
			{0x15, 0, 10, 0x800}, // 1  jeq #0x800
			{0x30, 0, 0, 23},     // 2  ldb [23]
			{0x15, 0, 8, proto},  // 3  jeq proto
			{0x28, 0, 0, 20},     // 4  ldh [20]
			{0x45, 6, 0, 0x1fff}, // 5  jset #0x1fff
			{0xb1, 0, 0, 14},     // 6  ldxb 4*([14]&0xf)
			{0x48, 0, 0, 14},     // 7  ldh [x+14]
			{0x15, 2, 0, p},      // 8  jeq port
			{0x48, 0, 0, 16},     // 9  ldh [x+16]
			{0x15, 0, 1, p},      // 10 jeq port
			{0x06, 0, 0, 262144}, // 11 ret #262144
			{0x06, 0, 0, 0},      // 12 ret #0
		}, nil
	}
}

// flow is the transport part of a captured frame.
type flow struct {
	vlan             int // -1: untagged
	tpid             uint16
	proto            byte
	sport, dport     uint16
	seq, ack         uint32
	flags            byte
	payload          []byte
	linkHdr, ipStart int
}

// parseFrame decodes just enough of an Ethernet or SLL2 frame carrying
// IPv4 for the tests.
func parseFrame(linkType uint32, b []byte) (flow, error) {
	fl := flow{vlan: -1}
	var et uint16
	var off int
	switch linkType {
	case LinkEthernet:
		if len(b) < 14 {
			return fl, errors.New("short ethernet")
		}
		et, off = binary.BigEndian.Uint16(b[12:]), 14
	case LinkLinuxSLL2:
		if len(b) < 20 {
			return fl, errors.New("short sll2")
		}
		et, off = binary.BigEndian.Uint16(b[0:]), 20
	default:
		return fl, fmt.Errorf("link type %d", linkType)
	}
	if et == 0x8100 || et == 0x88a8 {
		if len(b) < off+4 {
			return fl, errors.New("short vlan")
		}
		fl.tpid = et
		fl.vlan = int(binary.BigEndian.Uint16(b[off:]) & 0xfff)
		et = binary.BigEndian.Uint16(b[off+2:])
		off += 4
	}
	fl.linkHdr = off
	if et != 0x0800 {
		return fl, fmt.Errorf("ethertype %#x", et)
	}
	ip := b[off:]
	if len(ip) < 20 {
		return fl, errors.New("short ip")
	}
	fl.ipStart = off
	ihl := int(ip[0]&0xf) * 4
	tot := int(binary.BigEndian.Uint16(ip[2:]))
	fl.proto = ip[9]
	if len(ip) < ihl+8 || tot > len(ip) {
		return fl, errors.New("short transport")
	}
	tr := ip[ihl:tot]
	fl.sport, fl.dport = binary.BigEndian.Uint16(tr), binary.BigEndian.Uint16(tr[2:])
	switch fl.proto {
	case 6:
		if len(tr) < 20 {
			return fl, errors.New("short tcp")
		}
		fl.seq, fl.ack = binary.BigEndian.Uint32(tr[4:]), binary.BigEndian.Uint32(tr[8:])
		fl.flags = tr[13]
		fl.payload = tr[int(tr[12]>>4)*4:]
	case 17:
		fl.payload = tr[8:]
	}
	return fl, nil
}

// netns is a network namespace made by a test.
type netns struct {
	name string
	path string
}

// run runs a command, failing the test with its output.
func run(t testing.TB, args ...string) {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// newNetns creates a network namespace removed at the end of the test.
func newNetns(t testing.TB, tag string) *netns {
	t.Helper()
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("the ip command (iproute2) is needed to make network namespaces")
	}
	name := fmt.Sprintf("tcptrace-live-%s-%d", tag, os.Getpid())
	_ = exec.Command("ip", "netns", "del", name).Run()
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("cannot create a network namespace: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	return &netns{name: name, path: "/run/netns/" + name}
}

// do runs f on an OS thread switched into the namespace: sockets f opens
// belong to it (and stay there when used from other goroutines).
func (n *netns) do(t testing.TB, f func()) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// The thread is left locked (and so discarded) if it cannot be
		// switched back.
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		target, err := os.Open(n.path)
		if err != nil {
			errc <- err
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		func() {
			defer func() {
				if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
					runtime.UnlockOSThread()
				}
			}()
			f()
		}()
		errc <- nil
	}()
	if err := <-errc; err != nil {
		t.Fatalf("netns %s: %v", n.name, err)
	}
}
