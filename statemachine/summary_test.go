package statemachine

import (
	"testing"
	"time"
)

// TestCloseNamesWhoEndedIt: closed_by is the first FIN's sender for the FIN
// closes and the sender of the RST that ended the connection for reset and
// fin-then-reset; FirstFINBy always names the first FIN's sender.
func TestCloseNamesWhoEndedIt(t *testing.T) {
	const c1, s1 = isnC + 1, isnS + 1
	tests := []struct {
		name               string
		segs               []seg
		close              string
		closedBy, finBy    string
		resetBy            string
		firstFIN, rstFrame int64
	}{
		{name: "the client's FIN, then the server's RST", segs: cat(hs, []seg{c2s(FA, c1, s1, 0), s2c(RA, s1, c1+1, 0)}),
			close: CloseFINThenReset, closedBy: "server", finBy: "client", resetBy: "server", firstFIN: 4, rstFrame: 5},
		{name: "the server's FIN, then the client's RST", segs: cat(hs, []seg{s2c(FA, s1, c1, 0), c2s(RA, c1, s1+1, 0)}),
			close: CloseFINThenReset, closedBy: "client", finBy: "server", resetBy: "client", firstFIN: 4, rstFrame: 5},
		{name: "the client's FIN, acknowledged, then its own RST", segs: cat(hs, []seg{c2s(FA, c1, s1, 0), s2c(A, s1, c1+1, 0), c2s(R, c1+1, 0, 0)}),
			close: CloseFINThenReset, closedBy: "client", finBy: "client", resetBy: "client", firstFIN: 4, rstFrame: 6},
		{name: "a FIN close names the first FIN's sender", segs: cat(hs, []seg{s2c(FA, s1, c1, 0), c2s(FA, c1, s1+1, 0), s2c(A, s1+1, c1+1, 0)}),
			close: CloseThreeWay, closedBy: "server", finBy: "server", firstFIN: 4},
		{name: "a RST without FIN names its sender", segs: cat(hs, []seg{s2c(RA, s1, c1, 0)}),
			close: CloseReset, closedBy: "server", resetBy: "server", rstFrame: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := replay(tt.segs)
			last := int64(len(tt.segs)) * int64(time.Millisecond)
			cl := c.Finish(last, last, int64(time.Minute)).Close
			if cl.Class != tt.close || cl.ClosedBy != tt.closedBy || cl.FirstFINBy != tt.finBy || cl.ResetBy != tt.resetBy ||
				cl.FirstFIN != tt.firstFIN || cl.ResetFrame != tt.rstFrame {
				t.Errorf("close %+v; want class %s, closed by %q, first FIN %d by %q, RST %d by %q",
					cl, tt.close, tt.closedBy, tt.firstFIN, tt.finBy, tt.rstFrame, tt.resetBy)
			}
		})
	}
}
