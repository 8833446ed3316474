//go:build linux

package bpf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"

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

// TestAttachDropsFilteredPackets attaches filters to a packet socket on
// lo and sends UDP datagrams to port P and to another port: only the
// datagrams the filter selects arrive (a tag test runs the kernel's VLAN
// ancillary loads; lo has no tags).
func TestAttachDropsFilteredPackets(t *testing.T) {
	tests := []struct {
		filter string // %d is P
		keep   bool   // the datagrams to P arrive
	}{
		{"port %d", true},
		{"host 127.0.0.1 and dst port %d", true},
		{"ip and (port 9 or %d)", true},
		{"ip6 and port %d", false},
		{"vlan and port %d", false},
		// As in tcpdump, the tests after "vlan" look inside a tag, also
		// after "not vlan": the port is read 4 bytes too far.
		{"not vlan and port %d", false},
		{"port %d or vlan", true},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			testAttach(t, tt.filter, tt.keep)
		})
	}
}

func testAttach(t *testing.T, filter string, keepWanted bool) {
	fd := packetSocket(t, unix.SOCK_RAW)
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skipf("no lo: %v", err)
	}
	listen := func() (*net.UDPConn, int) {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, c.LocalAddr().(*net.UDPAddr).Port
	}
	_, keepPort := listen()
	_, dropPort := listen()
	send, _ := listen()

	expr := strings.ReplaceAll(filter, "%d", fmt.Sprint(keepPort))
	prog, err := Compile(expr, LinkTypeEthernet, 0)
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
	sendTo := func(port int, payload string) {
		if _, err := send.WriteToUDP([]byte(payload), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}); err != nil {
			t.Fatal(err)
		}
	}

	buf := make([]byte, 65536)
	var kept, dropped, other int
	rounds := 3 // when nothing should arrive
	if keepWanted {
		rounds = 50 // at most, until a datagram arrives
	}
	for round := 0; round < rounds && kept == 0; round++ {
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
	switch {
	case keepWanted && kept == 0:
		t.Errorf("%q: no datagram to port %d came through", expr, keepPort)
	case !keepWanted && kept != 0:
		t.Errorf("%q: %d datagrams to port %d came through", expr, kept, keepPort)
	}
	if dropped != 0 || other != 0 {
		t.Errorf("%q let through %d datagrams of port %d and %d other packets", expr, dropped, dropPort, other)
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
