package pcapout

import (
	"strings"
	"testing"

	"github.com/tcptrace/tcptrace/report"
)

func TestRanges(t *testing.T) {
	for _, tc := range []struct {
		in   []int64
		want string
	}{
		{nil, ""},
		{[]int64{3}, "3"},
		{[]int64{3, 4}, "3, 4"},
		{[]int64{1, 2, 3, 7, 9, 10, 11, 12}, "1..3, 7, 9..12"},
	} {
		var r ranges
		for _, n := range tc.in {
			r.add(n)
		}
		if got := r.String(); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestLocateSeveralInputs: a frame number that is a frame of the
// connection in two inputs gets its comment on the right one: transitions
// and RSTs in the order of the connection's frames, evidence nearest to
// its RST.
func TestLocateSeveralInputs(t *testing.T) {
	files := []string{"a.pcap", "b.pcap"}
	c := NewCollector(files)
	fl := &report.FrameList{}
	for _, f := range [][2]int64{{0, 5}, {1, 5}, {0, 6}, {1, 6}, {1, 7}} {
		fl.Add(int(f[0]), f[1])
	}
	rc := &report.Conn{ID: 4, FirstFrame: 5, Client: "c", Server: "s", State: "complete, reset by server", Frames: fl,
		Transitions: []report.Transition{{Frame: 5, Endpoint: "client", From: "CLOSED", To: "SYN-SENT"}, {Frame: 6, Endpoint: "server", From: "LISTEN", To: "SYN-RECEIVED"}, {Frame: 7, Endpoint: "server", From: "ESTABLISHED", To: "CLOSED"}},
		Resets:      []report.Reset{{Frame: 7, Sender: "server", Cause: "abort", Evidence: []report.Evidence{{Frame: 6, What: "window shrank"}}}},
	}
	c.Conn(rc, []*report.Anomaly{{Conn: 4, Frame: 6, FileIdx: 0, Kind: "retransmission", Severity: "note", Dir: "client"}})
	if rc.Frames != nil {
		t.Error("the record keeps its frame list")
	}
	for _, tc := range []struct {
		file int
		n    int64
		want []string
	}{
		{0, 5, []string{"(orig frame 5 of a.pcap): connection c → s", "client CLOSED → SYN-SENT"}},
		{1, 5, nil},
		{0, 6, []string{"anomaly retransmission (note, sent by the client)", "(orig frame 6 of a.pcap): server LISTEN → SYN-RECEIVED"}},
		{1, 6, []string{"(orig frame 6 of b.pcap): evidence for the RST of frame 7: window shrank"}},
		{1, 7, []string{"server ESTABLISHED → CLOSED", "RST from the server", "cause abort"}},
	} {
		got := strings.Join(c.Comments(tc.file, tc.n), "\n")
		if tc.want == nil && got != "" {
			t.Errorf("frame %d of %s: comments %q", tc.n, files[tc.file], got)
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("frame %d of %s: comments %q lack %q", tc.n, files[tc.file], got, w)
			}
		}
		if !c.Selected(tc.file, tc.n) {
			t.Errorf("frame %d of %s not selected", tc.n, files[tc.file])
		}
	}
	if c.Selected(0, 7) || c.Frames() != 5 {
		t.Errorf("frames: %d, frame 7 of a.pcap selected %v", c.Frames(), c.Selected(0, 7))
	}
	if got := c.DisplayFilter(true); len(got) != 2 || got[0].Filter != "frame.number in {5, 6}" || got[1].Filter != "frame.number in {5..7}" {
		t.Errorf("display filter of two inputs: %+v", got)
	}
}
