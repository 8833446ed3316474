package statemachine

import (
	"testing"

	"github.com/tcptrace/tcptrace/seqnum"
	"github.com/tcptrace/tcptrace/tcp"
)

// TestRSTWithUnknownScale: the client's SYN is not captured and the
// SYN-ACK offers window scale 7. The scale is then unknown (Scale), and a
// RST 1000 bytes past the client's rcv.nxt, while the client's raw window
// field is 512, may well be inside its window (512 << 7 = 65536): it must
// be judged in window (a challenge ACK expected), not out of window against
// a raw 512 bytes.
func TestRSTWithUnknownScale(t *testing.T) {
	c := New()
	const isnC, isnS = 1000, 5000
	step := func(dir tcp.Dir, fl tcp.Flags, seq, ack uint32, n int, win uint16, wscale int) {
		s := &tcp.Segment{Flags: fl, Seq: seqnum.Value(seq), Ack: seqnum.Value(ack), Len: n, Window: win}
		if wscale >= 0 {
			s.Opts.HasWScale, s.Opts.WScale = true, uint8(wscale)
		}
		c.Step(dir, s)
	}
	step(tcp.Server, tcp.SYN|tcp.ACK, isnS, isnC+1, 0, 65535, 7) // the SYN was not captured
	step(tcp.Client, tcp.ACK, isnC+1, isnS+1, 0, 512, -1)
	step(tcp.Client, tcp.ACK|tcp.PSH, isnC+1, isnS+1, 100, 512, -1)
	step(tcp.Server, tcp.RST, isnS+1+1000, 0, 0, 0, -1)
	if _, known := Scale(&c.H[tcp.Client], &c.H[tcp.Server]); known {
		t.Fatal("scale known without the client's SYN")
	}
	r := c.Resets[0]
	if r.Verdict != EvRSTChallenge || r.WindowKnown {
		t.Errorf("verdict %v (window %d, known %v), want in window with the window unknown", r.Verdict, r.Window, r.WindowKnown)
	}
	if c.H[tcp.Client].State != Established {
		t.Errorf("client %v after a RST it need not accept, want ESTABLISHED", c.H[tcp.Client].State)
	}
	// Far beyond any window the field could mean: out of window.
	step(tcp.Server, tcp.RST, isnS+1+(512<<14)+10, 0, 0, 0, -1)
	if v := c.Resets[1].Verdict; v != EvRSTIgnored {
		t.Errorf("a RST beyond 512 << 14: verdict %v, want out of window", v)
	}
}
