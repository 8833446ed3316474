package pcapgen

import (
	"bufio"
	"encoding/binary"
	"io"
	"net/netip"
	"time"
)

// FloodKind says what each connection of a flood capture is.
type FloodKind int

const (
	// FloodSYN: one SYN per connection, never answered (a SYN flood, or a
	// scan of filtered ports).
	FloodSYN FloodKind = iota
	// FloodScan: a SYN answered by the server's RST+ACK (a port scan of
	// closed ports).
	FloodScan
	// FloodExchange: a whole short connection: handshake, a 64-byte
	// request, a 512-byte answer, the four-way close (ten frames), as a
	// busy server's capture holds them by the million.
	FloodExchange
)

// WriteFlood writes a pcap (Ethernet, µs) of n connections of kind from
// distinct tuples (client 10.x.y.z, ports cycling from 1024, server
// 10.200.0.1:80), one microsecond apart: the capture of a SYN flood or a
// port scan, which real captures hold by the million. Each SYN is 54
// bytes on the wire (no options), so a million make a 70 MB
// capture.
func WriteFlood(w io.Writer, n int, kind FloodKind) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	c := NewConn(ConnConfig{
		Client: netip.MustParseAddrPort("10.0.0.1:1024"), Server: netip.MustParseAddrPort("10.200.0.1:80"),
		ClientISN: 1000, ServerISN: 5000, Start: Epoch, NoTimestamps: true, NoSACKPerm: true, NoWindowScale: true,
	})
	switch kind {
	case FloodExchange:
		c.Handshake()
		c.ClientSend(make([]byte, 64))
		c.ServerSend(make([]byte, 512))
		c.ACKFromClient()
		c.ClientFIN()
		c.ACKFromServer()
		c.ServerFIN()
		c.ACKFromClient()
	default:
		c.Segment(true, SYN, nil)
		if kind == FloodScan {
			c.Segment(false, RST|ACK, nil)
		}
	}
	var tmpl [][]byte
	for _, f := range c.Capture().Sorted() {
		tmpl = append(tmpl, f.Data)
	}
	pw := NewPcapWriter(bw, LinkTypeEthernet, 65535, false)
	buf := make([]byte, 0, 128)
	for i := range n {
		at := Epoch.Add(time.Duration(i) * time.Microsecond)
		for k, f := range tmpl {
			buf = PatchFlow(append(buf[:0], f...), i)
			if err := pw.WriteFrame(at.Add(time.Duration(k)*100*time.Nanosecond), buf, len(buf)); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

// PatchFlow gives the frame b (IPv4 in Ethernet, of a connection whose
// client is 10.0.0.1) the client address 10.x.y.z and port of connection i,
// in whichever direction it goes, in place, and fixes the IPv4 header
// checksum (the TCP checksum is left as it was: tcptrace verifies TCP
// checksums only with --checksum). It returns b.
func PatchFlow(b []byte, i int) []byte {
	ip := b[14:]
	addr := [4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}
	port := uint16(1024 + i%60000)
	ihl := int(ip[0]&15) * 4
	if ip[12] == 10 && ip[13] == 0 && ip[14] == 0 && ip[15] == 1 { // from the client
		copy(ip[12:16], addr[:])
		binary.BigEndian.PutUint16(ip[ihl:], port)
	} else {
		copy(ip[16:20], addr[:])
		binary.BigEndian.PutUint16(ip[ihl+2:], port)
	}
	ip[10], ip[11] = 0, 0
	binary.BigEndian.PutUint16(ip[10:], Checksum(ip[:ihl]))
	return b
}
