package analyze

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/internal/pcapgen"
)

// TestLingerAbsorbsTrailingACK: a closed connection is kept Config.Linger
// (10 s by default) after its last packet, so that a retransmission of its
// last ACK 4 s after a four-way close belongs to it, not to a new
// connection on its tuple, while other traffic moves the capture clock on
// and sweeps run every second (docs/principles.md#connection-reuse).
func TestLingerAbsorbsTrailingACK(t *testing.T) {
	a := pcapgen.NewConn(pcapgen.ConnConfig{
		Client: netip.MustParseAddrPort("10.0.0.1:40000"), Server: netip.MustParseAddrPort("10.0.0.2:80"),
		ClientISN: 1000, ServerISN: 5000, Start: pcapgen.Epoch, RTT: 10 * time.Millisecond,
	})
	a.Handshake()
	a.ClientSend([]byte("GET / HTTP/1.0\r\n\r\n"))
	a.ServerSend([]byte("HTTP/1.0 200 OK\r\n\r\n"))
	a.ClientFIN()
	a.ACKFromServer()
	a.ServerFIN()
	a.ACKFromClient()
	a.Advance(4 * time.Second)
	a.ACKFromClient() // the last ACK again: the server's FIN was retransmitted unseen

	b := pcapgen.NewConn(pcapgen.ConnConfig{
		Client: netip.MustParseAddrPort("10.0.0.3:41000"), Server: netip.MustParseAddrPort("10.0.0.2:80"),
		ClientISN: 7000, ServerISN: 9000, Start: pcapgen.Epoch, RTT: 10 * time.Millisecond,
	})
	b.Handshake()
	for range 12 {
		b.Advance(500 * time.Millisecond)
		b.ClientSend([]byte("x"))
	}
	var c pcapgen.Capture
	c.Frames = append(append(c.Frames, a.Capture().Frames...), b.Capture().Frames...)
	var buf bytes.Buffer
	if err := c.WritePcap(&buf, pcapgen.LinkTypeEthernet, 0, false); err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 2} {
		rep := analyzeBytes(buf.Bytes(), "linger.pcap", withWorkers(workers))
		if rep.Summary.Connections != 2 {
			t.Errorf("workers %d: %d connections, want 2 (the trailing ACK starts no connection)", workers, rep.Summary.Connections)
		}
		for _, rc := range rep.Conns {
			if rc.Client == "10.0.0.1:40000" && rc.Packets.Client != 6 {
				t.Errorf("workers %d: the closed connection has %d client packets, want 6 (with the trailing ACK)", workers, rc.Packets.Client)
			}
		}
	}
}
