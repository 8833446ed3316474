package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/internal/export"
	"github.com/tcptrace/tcptrace/internal/pcapgen"
)

// TestExportMappedMatchesCopy: export writes the same files whether the
// capture is read through a memory mapping (delivered bytes referenced and
// written with writev) or read(2) (bytes copied into blocks), with one or
// two workers.
func TestExportMappedMatchesCopy(t *testing.T) {
	for _, name := range []string{"streams.pcap", "port-reuse.pcap", "handshake-data-close.pcap", "fragments.pcap", "snaplen.pcap", "injected-data.pcap"} {
		in := filepath.Join("../../testdata/pcaps", name)
		run := func(mapped bool, workers int) map[string][]byte {
			old := capture.SetMapThreshold(1 << 62)
			if mapped {
				capture.SetMapThreshold(1)
			}
			defer capture.SetMapThreshold(old)
			dir := t.TempDir()
			var out, errb bytes.Buffer
			err := RunExport(ExportOptions{Files: []string{in}, Out: dir, Progress: "never", Workers: workers},
				IO{Out: &out, Err: &errb, Getenv: func(string) string { return "" }})
			if err != nil {
				t.Fatalf("%s: %v (%s)", name, err, errb.String())
			}
			files := map[string][]byte{}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
				files[e.Name()] = b
			}
			return files
		}
		want := run(false, 1)
		for _, workers := range []int{1, 2} {
			got := run(true, workers)
			if len(got) != len(want) {
				t.Errorf("%s mapped, %d workers: %d files, want %d", name, workers, len(got), len(want))
			}
			for f, b := range want {
				if !bytes.Equal(got[f], b) {
					t.Errorf("%s mapped, %d workers: %s differs", name, workers, f)
				}
			}
		}
	}
}

// TestExportConflicts: index.json lists where two copies differed, with
// the place of the kept bytes in the file, also when a gap declared later
// comes before them (the conflict was learnt above a hole).
func TestExportConflicts(t *testing.T) {
	capt := &pcapgen.Capture{}
	c := pcapgen.NewConn(pcapgen.ConnConfig{Capture: capt, Client: netip.MustParseAddrPort("10.0.0.1:40000"), Server: netip.MustParseAddrPort("192.0.2.1:80"),
		ClientISN: 1000, ServerISN: 9000, Start: pcapgen.Epoch, RTT: 10 * time.Millisecond})
	c.Handshake()
	c.ClientSend([]byte("GET / HTTP/1.1\r\n\r\n"))
	srv := c.NextSeq(false)
	send := func(off int, p string) {
		c.Raw(pcapgen.RawSegment{FromClient: false, Seq: srv + uint32(off), Ack: c.NextSeq(true), Flags: pcapgen.ACK, Payload: []byte(p)})
	}
	send(0, "abcde") // [5, 10) is lost before the capture
	send(10, "klmnopqrst")
	send(12, "mXXp")                                                                                     // differs from bytes waiting above the hole: offset 13, 2 bytes
	c.Raw(pcapgen.RawSegment{FromClient: true, Seq: c.NextSeq(true), Ack: srv + 20, Flags: pcapgen.ACK}) // the hole is a gap
	send(15, "pQr")                                                                                      // differs from delivered bytes: offset 16
	var pc bytes.Buffer
	if err := capt.WritePcap(&pc, pcapgen.LinkTypeEthernet, 0, false); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "conflicts.pcap")
	if err := os.WriteFile(in, pc.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	var out, errb bytes.Buffer
	if err := RunExport(ExportOptions{Files: []string{in}, Out: dir, Progress: "never"}, IO{Out: &out, Err: &errb, Getenv: func(string) string { return "" }}); err != nil {
		t.Fatalf("%v (%s)", err, errb.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx struct{ Streams []export.Entry }
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	var got []export.ConflictEntry
	var file string
	for _, e := range idx.Streams {
		if e.Dir == "server" {
			got, file = e.Conflicts, e.File
		}
	}
	want := []export.ConflictEntry{
		{Offset: 13, FileOffset: 8, Len: 2, Kept: 6, Dropped: 7, Why: "cannot tell which copy is genuine: both have ttl 57 like the sender's other packets"},
		{Offset: 16, FileOffset: 11, Len: 1, Kept: 6, Dropped: 9, Why: "cannot tell which copy is genuine: both have ttl 57 like the sender's other packets"},
	}
	if len(got) != len(want) {
		t.Fatalf("conflicts %+v, want %+v", got, want)
	}
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "abcdeklmnopqrst" {
		t.Fatalf("file %q", data)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("conflict %d: %+v, want %+v", i, got[i], want[i])
		}
		if k := data[got[i].FileOffset]; k != "abcdeklmnopqrst"[want[i].FileOffset] {
			t.Errorf("conflict %d: file offset %d holds %q", i, got[i].FileOffset, k)
		}
	}
}

// TestExportFilter: export --filter writes exactly the streams of the
// connections analyze --filter reports (a connection is kept when one of
// its segments matches, possibly its last), the same files, byte for byte,
// as the whole export has for them, an index of those alone, and nothing
// else in the directory.
func TestExportFilter(t *testing.T) {
	exportDir := func(in, filter string) (string, map[string]any) {
		dir := t.TempDir()
		var errb bytes.Buffer
		if err := RunExport(ExportOptions{Files: []string{in}, Out: dir, Progress: "never", Filter: filter},
			IO{Out: io.Discard, Err: &errb, Getenv: func(string) string { return "" }}); err != nil {
			t.Fatalf("export %s --filter %q: %v (%s)", in, filter, err, errb.String())
		}
		var idx map[string]any
		b, err := os.ReadFile(filepath.Join(dir, export.IndexName))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &idx); err != nil {
			t.Fatal(err)
		}
		return dir, idx
	}
	for _, tc := range []struct{ file, filter string }{
		{"anomalies.pcap", "src port 80"}, // only connections whose server sent a segment
		{"anomalies.pcap", "port 47004 or port 47013"},
		{"streams.pcap", "port 48002"},
		{"handshakes.pcap", "port 443"}, // none
	} {
		in := filepath.Join("../../testdata/pcaps", tc.file)
		want := map[float64]bool{} // the IDs analyze --filter reports
		for _, line := range bytes.Split(runAnalyzeOutOpts(t, AnalyzeOptions{Files: []string{in}, Format: "json", Filter: tc.filter}), []byte("\n")) {
			var c struct {
				Type string  `json:"type"`
				ID   float64 `json:"id"`
			}
			if json.Unmarshal(line, &c) == nil && c.Type == "conn" {
				want[c.ID] = true
			}
		}
		allDir, all := exportDir(in, "")
		dir, idx := exportDir(in, tc.filter)
		var wantStreams []any
		files := map[string]bool{export.IndexName: true}
		for _, s := range all["streams"].([]any) {
			e := s.(map[string]any)
			if want[e["conn"].(float64)] {
				wantStreams = append(wantStreams, e)
				if f, ok := e["file"].(string); ok {
					files[f] = true
				}
			}
		}
		got, _ := json.Marshal(idx["streams"])
		exp, _ := json.Marshal(wantStreams)
		if wantStreams == nil {
			exp = []byte("[]")
		}
		if !bytes.Equal(got, exp) {
			t.Errorf("%s --filter %q: index streams\n%s\nwant (the whole export's of connections %v)\n%s", tc.file, tc.filter, got, keysOf(want), exp)
		}
		if int(idx["connections"].(float64)) != len(want) || int(idx["files"].(float64)) != len(files)-1 {
			t.Errorf("%s --filter %q: index says %v connections, %v files; want %d, %d", tc.file, tc.filter, idx["connections"], idx["files"], len(want), len(files)-1)
		}
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if !files[e.Name()] {
				t.Errorf("%s --filter %q: %s is in the directory", tc.file, tc.filter, e.Name())
				continue
			}
			if e.Name() == export.IndexName {
				continue
			}
			a, _ := os.ReadFile(filepath.Join(allDir, e.Name()))
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			if !bytes.Equal(a, b) {
				t.Errorf("%s --filter %q: %s differs from the whole export's", tc.file, tc.filter, e.Name())
			}
		}
		if len(ents) != len(files) {
			t.Errorf("%s --filter %q: %d entries in the directory, want %d", tc.file, tc.filter, len(ents), len(files))
		}
	}
}

func keysOf(m map[float64]bool) []float64 {
	var k []float64
	for x := range m {
		k = append(k, x)
	}
	return k
}

// runAnalyzeOutOpts runs analyze with o (colors and progress off) and
// returns its output.
func runAnalyzeOutOpts(t *testing.T, o AnalyzeOptions) []byte {
	t.Helper()
	var out, errb bytes.Buffer
	o.Color, o.Progress = "never", "never"
	if err := RunAnalyze(o, IO{Out: &out, Err: &errb, Getenv: func(string) string { return "" }}); err != nil {
		t.Fatalf("analyze %v: %v (%s)", o.Files, err, errb.String())
	}
	return out.Bytes()
}
