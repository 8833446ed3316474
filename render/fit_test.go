package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
)

func TestCutAddr(t *testing.T) {
	for _, tc := range []struct {
		in   string
		w    int
		want string
	}{
		{"10.0.0.1:80", 20, "10.0.0.1:80"},
		{"[2001:db8:85a3::8a2e:370:7334]:443", 24, "[2001:db8:…370:7334]:443"},
		{"[2001:db8::1]:40000", 16, "[2001…::1]:40000"},
		{"192.168.100.200:65535", 16, "192.1….200:65535"},
		{"host", 3, "ho…"},
	} {
		got := cutAddr(tc.in, tc.w)
		if got != tc.want || twwidth.Width(got) > tc.w {
			t.Errorf("cutAddr(%q, %d) = %q (%d columns), want %q", tc.in, tc.w, got, twwidth.Width(got), tc.want)
		}
	}
}

func TestFitWidths(t *testing.T) {
	cols := []*connColumn{{}, {drop: 2}, {drop: 1}, {shrink: 5, cut: 1}, {shrink: 4, cut: 2}}
	for _, tc := range []struct {
		name   string
		width  int
		chosen bool
		show   string // 1 shown, 0 left out
		widths []int
	}{
		{"fits", 100, false, "11111", []int{4, 10, 10, 10, 10}},
		{"drops the lowest drop first", 50, false, "11011", []int{4, 10, 10, 10, 10}},
		{"then the next", 40, false, "10011", []int{4, 10, 10, 10, 10}},
		{"drops both, then cuts in cut order", 24, false, "10011", []int{4, 10, 10, 5, 9}},
		{"cuts the next one to its shrink width", 20, false, "10011", []int{4, 10, 10, 5, 5}},
		{"chosen columns are never left out", 40, true, "11111", []int{4, 10, 10, 5, 1}},
		{"last resort: the rightmost are cut", 15, false, "10011", []int{4, 10, 10, 4, 1}},
	} {
		show, widths := fitWidths([]int{4, 10, 10, 10, 10}, cols, tc.width, tc.chosen)
		var s strings.Builder
		total := 0
		for i, b := range show {
			if b {
				s.WriteByte('1')
				total += widths[i] + 2
			} else {
				s.WriteByte('0')
			}
		}
		if s.String() != tc.show {
			t.Errorf("%s: shown %s, want %s", tc.name, s.String(), tc.show)
		}
		for i, b := range show {
			if b && widths[i] != tc.widths[i] {
				t.Errorf("%s: widths %v, want %v", tc.name, widths, tc.widths)
				break
			}
		}
		if total > tc.width && tc.width < 100 {
			t.Errorf("%s: %d columns wide, more than %d", tc.name, total, tc.width)
		}
	}
}

func TestFitWriterWraps(t *testing.T) {
	var b bytes.Buffer
	f := &fitWriter{w: &b, width: 20}
	f.Write([]byte("  files:  /a/very/long/path/name.pcap, /b.pcap\nshort\n"))
	f.Write([]byte("no newline at the end of this"))
	f.Close()
	want := "  files:\n    /a/very/long/pat\n    h/name.pcap,\n    /b.pcap\nshort\nno newline at the\n  end of this\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	for _, l := range strings.Split(b.String(), "\n") {
		if len(l) > 20 {
			t.Errorf("line %q wider than 20", l)
		}
	}
}
