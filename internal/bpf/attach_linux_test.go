//go:build linux

package bpf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// packetSocket opens an AF_PACKET socket that receives nothing until it is
// bound, so that a filter attached first sees every packet; it skips the
// test where that is not allowed.
func packetSocket(t *testing.T, typ int) int {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("not root: cannot open an AF_PACKET socket")
	}
	fd, err := unix.Socket(unix.AF_PACKET, typ|unix.SOCK_CLOEXEC, 0)
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) || errors.Is(err, unix.EAFNOSUPPORT) {
		t.Skipf("cannot open an AF_PACKET socket: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// TestAttachDropsFilteredPackets attaches "port P" to a packet socket on
// lo and sends UDP datagrams to P and to another port: only those of P
// arrive.
func TestAttachDropsFilteredPackets(t *testing.T) {
	fd := packetSocket(t, unix.SOCK_RAW)
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skipf("no lo: %v", err)
	}
	keep, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer keep.Close()
	drop, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer drop.Close()
	keepPort := keep.LocalAddr().(*net.UDPAddr).Port
	dropPort := drop.LocalAddr().(*net.UDPAddr).Port

	prog, err := Compile(fmt.Sprintf("port %d", keepPort), LinkTypeEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := Attach(fd, prog); err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: lo.Index}); err != nil {
		t.Fatal(err)
	}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 100000}); err != nil {
		t.Fatal(err)
	}

	send, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer send.Close()
	sendTo := func(port int, payload string) {
		if _, err := send.WriteToUDP([]byte(payload), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}); err != nil {
			t.Fatal(err)
		}
	}

	buf := make([]byte, 65536)
	var kept, dropped, other int
	deadline := time.Now().Add(5 * time.Second)
	for round := 0; kept == 0 && time.Now().Before(deadline); round++ {
		sendTo(dropPort, "drop me")
		sendTo(keepPort, "keep me")
		for {
			n, _, err := unix.Recvfrom(fd, buf, 0)
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			sport, dport, ok := udpPorts(buf[:n])
			switch {
			case !ok:
				other++
			case sport == dropPort || dport == dropPort:
				dropped++
			case dport == keepPort:
				kept++
			case sport != keepPort:
				other++
			}
		}
	}
	if kept == 0 {
		t.Errorf("no datagram to port %d came through the filter", keepPort)
	}
	if dropped != 0 || other != 0 {
		t.Errorf("the filter let through %d datagrams of port %d and %d other packets", dropped, dropPort, other)
	}
}

// udpPorts reads the ports of an Ethernet/IPv4/UDP frame.
func udpPorts(f []byte) (int, int, bool) {
	if len(f) < 14+20+8 || binary.BigEndian.Uint16(f[12:]) != 0x0800 || f[14+9] != 17 {
		return 0, 0, false
	}
	ihl := int(f[14]&0xf) * 4
	if len(f) < 14+ihl+4 {
		return 0, 0, false
	}
	return int(binary.BigEndian.Uint16(f[14+ihl:])), int(binary.BigEndian.Uint16(f[14+ihl+2:])), true
}

// TestKernelAcceptsPrograms attaches the program of every corpus
// expression the kernel's checker: Ethernet and raw IP programs to a
// SOCK_RAW socket, SLL2 programs made for a SOCK_DGRAM one.
func TestKernelAcceptsPrograms(t *testing.T) {
	raw := packetSocket(t, unix.SOCK_RAW)
	dgram := packetSocket(t, unix.SOCK_DGRAM)
	for _, e := range readCorpus(t) {
		for _, l := range linkTypes {
			prog, err := Compile(e.expr, l.lt, e.snaplen)
			if err != nil {
				continue
			}
			fd := raw
			if l.lt == LinkTypeLinuxSLL2 {
				if prog, err = ForCookedSocket(prog); err != nil {
					t.Errorf("%s: %q: %v", l.name, e.expr, err)
					continue
				}
				fd = dgram
			}
			if err := Attach(fd, prog); err != nil {
				t.Errorf("%s: %q: the kernel refuses the program: %v\n%s", l.name, e.expr, err, Disassemble(prog))
			}
		}
	}
	if err := Detach(raw); err != nil {
		t.Error(err)
	}
}
