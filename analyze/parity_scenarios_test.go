package analyze

import (
	"slices"
	"testing"
)

// TestDupACKWindowUpdate checks testdata/pcaps/dupack-window-update.pcap
// through the whole analysis: the retransmissions that follow two duplicate
// ACKs and a window update (55001), or a data segment repeating the ACK
// (55002), are fast retransmissions, as tshark says; 25 ms later (55003),
// or after a new ACK number restarted the count (55004, its second), they
// are plain ones.
func TestDupACKWindowUpdate(t *testing.T) {
	rep := analyzeFile(t, "../testdata/pcaps/dupack-window-update.pcap")
	kinds := map[int64][]string{}
	for _, a := range rep.Anomalies {
		kinds[a.Frame] = append(kinds[a.Frame], a.Kind)
	}
	for _, w := range []struct {
		frame int64
		kinds []string
	}{
		{9, []string{"window_update"}},
		{10, []string{"fast_retransmission", "retransmission"}},
		{26, nil},
		{27, []string{"fast_retransmission", "retransmission"}},
		{43, []string{"retransmission"}},
		{59, []string{"fast_retransmission", "retransmission"}},
		{61, []string{"duplicate_ack"}},
		{62, []string{"retransmission"}},
	} {
		if !slices.Equal(kinds[w.frame], w.kinds) {
			t.Errorf("frame %d: %v, want %v", w.frame, kinds[w.frame], w.kinds)
		}
	}
	// Wireshark numbers the duplicate ACKs from the last ACK that changed
	// the ACK number (frame 3, the handshake's), not from the request.
	for _, a := range rep.Anomalies {
		if a.Frame == 8 && a.Kind == "duplicate_ack" && a.Detail != "duplicate ACK #2 of frame 3" {
			t.Errorf("frame 8: %q, want duplicate ACK #2 of frame 3", a.Detail)
		}
	}
}
