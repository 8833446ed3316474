package cli

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tcptrace/tcptrace/analyze"
	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/report"
)

const pcapDir = "../../testdata/pcaps"

// origFrame is a frame of an input: its index and number.
type origFrame struct {
	file int
	n    int64
}

// selectedRows runs the analysis with timeline rows (Config.Rows: an
// independent account of every connection's segments) and the selection,
// and returns the selected connections, their anomalies and every selected
// frame.
func selectedRows(t *testing.T, files []string, conns string, where []string) ([]*report.Conn, []*report.Anomaly, map[origFrame]bool) {
	t.Helper()
	cfg := analyze.DefaultConfig()
	cfg.Rows = true
	eng := analyze.NewEngine(cfg)
	ids, err := ParseIDs(conns)
	if err != nil {
		t.Fatal(err)
	}
	sel, err := selection("", ids, where)
	if err != nil {
		t.Fatal(err)
	}
	eng.Select(sel)
	names, _, err := runInputs(files, IO{Err: io.Discard}, eng, "never")
	if err != nil {
		t.Fatal(err)
	}
	rep := eng.Report(names)
	want := map[origFrame]bool{}
	for _, c := range rep.Conns {
		for _, r := range c.Rows {
			want[origFrame{r.FileIdx, r.Frame}] = true
		}
	}
	return rep.Conns, rep.Anomalies, want
}

// readFrames reads every frame of a capture (merged when several), copied.
func readFrames(t *testing.T, files ...string) []capture.Frame {
	t.Helper()
	var srcs []capture.Source
	for _, f := range files {
		s, err := capture.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, s)
	}
	src := capture.Merge(srcs)
	defer src.Close()
	var out []capture.Frame
	for {
		f, err := src.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		g := *f
		g.Data = bytes.Clone(f.Data)
		out = append(out, g)
	}
}

// pcapngComments reads the opt_comment options of every enhanced packet
// block of a little-endian pcapng (what PcapngWriter writes), by packet.
func pcapngComments(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	var out [][]string
	for len(b) >= 12 {
		typ, n := le.Uint32(b), int(le.Uint32(b[4:]))
		if n < 12 || n > len(b) {
			t.Fatalf("%s: bad block length %d", path, n)
		}
		if typ == 6 {
			body := b[8 : n-4]
			caplen := int(le.Uint32(body[12:]))
			opts := body[20+(caplen+3)&^3:]
			var cs []string
			for len(opts) >= 4 {
				code, l := le.Uint16(opts), int(le.Uint16(opts[2:]))
				if code == 0 {
					break
				}
				if code == 1 {
					cs = append(cs, string(opts[4:4+l]))
				}
				opts = opts[4+(l+3)&^3:]
			}
			out = append(out, cs)
		}
		b = b[n:]
	}
	return out
}

var origRE = regexp.MustCompile(`^tcptrace conn (\d+) \(orig frame (\d+) of ([^)]+)\): `)

// TestWritePcap: --write-pcap writes exactly the selected connections'
// frames (by their timeline rows), byte for byte with their timestamps,
// original lengths and link types, and every comment is on the frame it
// names and says what the record says of that frame. Where tshark is
// installed, Wireshark reads the same comments on the same frames, and a
// RST's diagnosis is on a frame with the RST flag.
func TestWritePcap(t *testing.T) {
	tshark, _ := exec.LookPath("tshark")
	if tshark == "" {
		t.Log("tshark not installed: the comments are checked with tcptrace's own reading only")
	}
	for _, tc := range []struct {
		name  string
		cmd   string
		files []string
		conns string
		where []string
	}{
		{name: "reset-patterns", cmd: "analyze", files: []string{"reset-patterns.pcap"}},
		{name: "anomalies", cmd: "analyze", files: []string{"anomalies.pcap"}},
		{name: "multi-iface", cmd: "analyze", files: []string{"multi-iface.pcapng"}},
		{name: "conn", cmd: "analyze", files: []string{"reset-patterns.pcap"}, conns: "2,3"},
		{name: "where", cmd: "resets", files: []string{"reset-patterns.pcap"}, where: []string{"cause=abort,refused"}},
		{name: "where-anomaly", cmd: "analyze", files: []string{"anomalies.pcap"}, where: []string{"anomaly=zero_window,retransmission"}},
		{name: "two-files", cmd: "analyze", files: []string{"reset-patterns.pcap", "resets.pcap", "streams.pcap"}, conns: "1,3-5,19"},
		{name: "fragments", cmd: "analyze", files: []string{"fragments.pcap"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var files []string
			for _, f := range tc.files {
				files = append(files, filepath.Join(pcapDir, f))
			}
			out := filepath.Join(t.TempDir(), "out.pcapng")
			args := append([]string{tc.cmd, "--write-pcap", out, "--format", "json"}, files...)
			if tc.conns != "" {
				args = append(args, "--conn", tc.conns)
			}
			for _, w := range tc.where {
				args = append(args, "--where", w)
			}
			var stdout, stderr bytes.Buffer
			if code := Main(args, IO{Out: &stdout, Err: &stderr, Getenv: func(string) string { return "" }}); code != 0 {
				t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
			}
			conns, anoms, want := selectedRows(t, files, tc.conns, tc.where)
			if len(conns) == 0 {
				t.Fatal("the selection is empty: the case tests nothing")
			}
			// The frames: the selected ones, in the order of the inputs
			// (merged by time), unchanged.
			orig := readFrames(t, files...)
			var exp []capture.Frame
			var expOrig []origFrame
			for _, f := range orig {
				if want[origFrame{f.File, f.N}] {
					exp = append(exp, f)
					expOrig = append(expOrig, origFrame{f.File, f.N})
				}
			}
			got := readFrames(t, out)
			if len(got) != len(exp) {
				t.Fatalf("%d frames written, want %d (the selected connections' timeline rows)", len(got), len(exp))
			}
			for i := range got {
				g, e := &got[i], &exp[i]
				if !bytes.Equal(g.Data, e.Data) || g.TS != e.TS || g.OrigLen != e.OrigLen || g.LinkType != e.LinkType {
					t.Errorf("frame %d (orig frame %d of input %d) differs: ts %d/%d origlen %d/%d link %d/%d, bytes equal %v",
						i+1, e.N, e.File, g.TS, e.TS, g.OrigLen, e.OrigLen, g.LinkType, e.LinkType, bytes.Equal(g.Data, e.Data))
				}
			}
			// The comments: each names the frame it is on, and what the
			// records say of a frame is on it.
			comments := pcapngComments(t, out)
			if len(comments) != len(got) {
				t.Fatalf("%d packet blocks, %d frames", len(comments), len(got))
			}
			byOrig := map[origFrame][]string{}
			for i, cs := range comments {
				for _, c := range cs {
					m := origRE.FindStringSubmatch(c)
					if m == nil {
						t.Errorf("frame %d: comment %q does not name its connection and frame", i+1, c)
						continue
					}
					if n, _ := strconv.ParseInt(m[2], 10, 64); n != expOrig[i].n || m[3] != filepath.Base(files[expOrig[i].file]) {
						t.Errorf("frame %d is frame %d of %s, its comment says %q", i+1, expOrig[i].n, tc.files[expOrig[i].file], c)
					}
					if strings.ContainsAny(c, "\n\r") {
						t.Errorf("frame %d: comment on several lines: %q", i+1, c)
					}
				}
				byOrig[expOrig[i]] = cs
			}
			has := func(at origFrame, id int, what string) {
				t.Helper()
				prefix := fmt.Sprintf("tcptrace conn %d (", id)
				for _, c := range byOrig[at] {
					if strings.HasPrefix(c, prefix) && strings.Contains(c, what) {
						return
					}
				}
				t.Errorf("orig frame %d of input %d: no comment of conn %d with %q; comments: %q", at.n, at.file, id, what, byOrig[at])
			}
			// Transitions, RSTs, evidence: frame numbers alone; with
			// several inputs, the row of the connection with that number.
			fileOf := func(c *report.Conn, n int64) int {
				for _, r := range c.Rows {
					if r.Frame == n {
						return r.FileIdx
					}
				}
				t.Fatalf("conn %d has no frame %d", c.ID, n)
				return 0
			}
			nRST, nAnom := 0, 0
			for _, c := range conns {
				has(origFrame{c.FirstIdx, c.FirstFrame}, c.ID, "connection "+c.Client+" → "+c.Server+": "+c.State)
				for _, tr := range c.Transitions {
					has(origFrame{fileOf(c, tr.Frame), tr.Frame}, c.ID, tr.Endpoint+" "+tr.From+" → "+tr.To)
				}
				for _, r := range c.Resets {
					at := origFrame{fileOf(c, r.Frame), r.Frame}
					has(at, c.ID, "RST from the "+r.Sender)
					has(at, c.ID, "cause "+r.Cause)
					if r.LinuxReason != "" {
						has(at, c.ID, "linux_reason "+r.LinuxReason)
					}
					for _, e := range r.Evidence {
						has(origFrame{fileOf(c, e.Frame), e.Frame}, c.ID, e.What)
					}
					nRST++
				}
			}
			for _, a := range anoms {
				// The record's frame: a row may show an anomaly found later
				// under the frame that revealed it.
				has(origFrame{a.FileIdx, a.Frame}, a.Conn, "anomaly "+a.Kind+" ("+a.Severity)
				nAnom++
			}
			t.Logf("%d frames, %d connections, %d RSTs, %d anomalies", len(got), len(conns), nRST, nAnom)
			if tshark != "" {
				checkTshark(t, tshark, out, comments)
			}
		})
	}
}

// checkTshark reads the output with tshark: every frame has the comments
// tcptrace wrote on it, and a RST's diagnosis is on a RST.
func checkTshark(t *testing.T, tshark, path string, want [][]string) {
	t.Helper()
	out, err := exec.Command(tshark, "-n", "-r", path, "-T", "json", "-e", "frame.number", "-e", "frame.comment", "-e", "tcp.flags.reset", "-e", "tcp.flags.syn").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var pkts []struct {
		Source struct {
			Layers map[string][]string `json:"layers"`
		} `json:"_source"`
	}
	if err := json.Unmarshal(out, &pkts); err != nil {
		t.Fatalf("tshark's JSON: %v", err)
	}
	if len(pkts) != len(want) {
		t.Fatalf("tshark reads %d frames, tcptrace %d", len(pkts), len(want))
	}
	for i, p := range pkts {
		l := p.Source.Layers
		if n := l["frame.number"]; len(n) != 1 || n[0] != strconv.Itoa(i+1) {
			t.Fatalf("tshark's frame %d numbered %v", i+1, n)
		}
		got := l["frame.comment"]
		if !slices.Equal(got, want[i]) {
			t.Errorf("frame %d: tshark reads comments %q, tcptrace wrote %q", i+1, got, want[i])
		}
		isFlag := func(f string) bool { v := l[f]; return len(v) == 1 && (v[0] == "1" || v[0] == "True") }
		for _, c := range got {
			if strings.Contains(c, "): RST from the ") && !isFlag("tcp.flags.reset") {
				t.Errorf("frame %d: RST diagnosis on a frame without RST (for tshark): %q", i+1, c)
			}
			if strings.HasSuffix(c, "CLOSED → SYN-SENT") && !isFlag("tcp.flags.syn") {
				t.Errorf("frame %d: SYN-SENT on a frame without SYN (for tshark): %q", i+1, c)
			}
		}
	}
}

// TestWiresharkFilter: on every shipped capture, the display filter
// --wireshark-filter prints shows in tshark exactly the frames of the
// selected connections (all of them, and the second and third): a
// tcp.stream filter only where connection ID - 1 is Wireshark's stream.
func TestWiresharkFilter(t *testing.T) {
	tshark, _ := exec.LookPath("tshark")
	if tshark == "" {
		t.Skip("tshark not installed: cannot check what the filters show in Wireshark")
	}
	pcaps, err := filepath.Glob(filepath.Join(pcapDir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	if testing.Short() {
		pcaps = []string{filepath.Join(pcapDir, "reset-patterns.pcap"), filepath.Join(pcapDir, "anomalies.pcap"), filepath.Join(pcapDir, "fragments.pcap")}
	}
	streams := 0
	for _, p := range pcaps {
		for _, conns := range []string{"", "2,3"} {
			var stdout, stderr bytes.Buffer
			args := []string{"analyze", p, "--wireshark-filter"}
			if conns != "" {
				args = append(args, "--conn", conns)
			}
			// --conn 2,3 on a capture of fewer connections: the filter of
			// those it has, then the missing-ID error (exit 1).
			if code := Main(args, IO{Out: &stdout, Err: &stderr, Getenv: func(string) string { return "" }}); code != 0 &&
				!(code == ExitUsage && conns != "" && strings.Contains(stderr.String(), "no connection ")) {
				t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
			}
			filter := strings.TrimSpace(stdout.String())
			if strings.Contains(filter, "\n") {
				t.Fatalf("%v: several lines for one file: %q", args, filter)
			}
			if strings.HasPrefix(filter, "tcp.stream") {
				streams++
			}
			_, _, want := selectedRows(t, []string{p}, conns, nil)
			out, err := exec.Command(tshark, "-n", "-r", p, "-Y", filter, "-T", "fields", "-e", "frame.number").Output()
			if err != nil {
				t.Fatalf("%s: tshark -Y %q: %v", filepath.Base(p), filter, err)
			}
			var got []int64
			for _, f := range strings.Fields(string(out)) {
				n, _ := strconv.ParseInt(f, 10, 64)
				got = append(got, n)
			}
			var exp []int64
			for f := range want {
				exp = append(exp, f.n)
			}
			slices.Sort(exp)
			if !slices.Equal(got, exp) {
				t.Errorf("%s --conn %q: %q shows frames %v in tshark; the connections' frames are %v", filepath.Base(p), conns, filter, got, exp)
			}
		}
	}
	if streams == 0 {
		t.Error("no capture got a tcp.stream filter")
	}
}
