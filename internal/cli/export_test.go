package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/tcptrace/tcptrace/internal/capture"
)

// TestExportMappedMatchesCopy: export writes the same files whether the
// capture is read through a memory mapping (delivered bytes referenced and
// written with writev) or read(2) (bytes copied into blocks), with one or
// two workers.
func TestExportMappedMatchesCopy(t *testing.T) {
	for _, name := range []string{"streams.pcap", "port-reuse.pcap", "handshake-data-close.pcap", "fragments.pcap", "snaplen.pcap"} {
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
