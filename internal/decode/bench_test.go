package decode

import (
	"testing"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/tcp"
)

// benchFrames is a realistic mix: bulk data and pure ACKs with timestamps,
// SACK, a handshake, VLAN-tagged and IPv6 traffic.
func benchFrames() []*capture.Frame {
	data := tcpSpec{sport: 443, dport: 51000, seq: 1e6, ack: 5e5, flags: tcp.ACK, win: 501, opts: tsOpt(1, 2), payload: pattern(1448)}
	ack := tcpSpec{sport: 51000, dport: 443, seq: 5e5, ack: 1e6 + 1448, flags: tcp.ACK, win: 2000, opts: tsOpt(3, 1)}
	sack := tcpSpec{sport: 51000, dport: 443, seq: 5e5, ack: 1e6, flags: tcp.ACK, win: 2000, opts: cat(tsOpt(3, 1), sackOpt(1e6+2896, 1e6+4344))}
	syn := tcpSpec{sport: 51000, dport: 443, seq: 7, flags: tcp.SYN, win: 64240, opts: cat(mssOpt(1460), sackPermOpt(), tsOpt(1, 0), []byte{OptNOP}, wsOpt(7))}
	var frames []*capture.Frame
	add := func(link uint32, b []byte, times int) {
		for range times {
			f := frame(link, b)
			frames = append(frames, f)
		}
	}
	add(LinkEthernet, eth(etherIPv4, ipv4TCP(data)), 8)
	add(LinkEthernet, append(eth(etherIPv4, ipv4TCP(ack)), 0, 0), 4)
	add(LinkEthernet, eth(etherIPv4, ipv4TCP(sack)), 1)
	add(LinkEthernet, eth(etherIPv4, ipv4TCP(syn)), 1)
	add(LinkEthernet, eth(etherIPv4, ipv4TCP(data), [2]uint16{etherVLAN, 100}), 2)
	add(LinkEthernet, eth(etherIPv6, ipv6TCP(data)), 4)
	add(LinkEthernet, eth(etherIPv6, ipv6TCP(ack)), 2)
	add(LinkLinuxSLL2, cat([]byte{0x08, 0, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 2, 0, 0, 0, 0, 2, 0, 0}, ipv4TCP(ack)), 1)
	return frames
}

func BenchmarkDecode(b *testing.B) {
	frames := benchFrames()
	d := NewDecoder()
	var s tcp.Segment
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if d.Decode(frames[n%len(frames)], &s) != OK {
			b.Fatal("frame not decoded")
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "packets/s")
}
