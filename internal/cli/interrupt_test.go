package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/internal/pcapgen"
)

// tcptraceBinary is this test binary under the name tcptrace: TestMain
// (testscript) runs Main when it is called so.
func tcptraceBinary(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "tcptrace")
	if err := os.Symlink(self, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// floodFile writes a generated capture of n connections of kind.
func floodFile(t *testing.T, n int, kind pcapgen.FloodKind) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "flood.pcap")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := pcapgen.WriteFlood(f, n, kind); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// interrupted runs tcptrace with args, interrupted by SIGINT after the
// frame at (TCPTRACE_TEST_INTERRUPT: the process signals itself, times
// times), and returns its stdout, stderr and exit code.
func interrupted(t *testing.T, bin, at string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "TCPTRACE_TEST_INTERRUPT="+at, "NO_COLOR=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// TestInterrupt: SIGINT in the middle of a run (at frame 40,000 of
// 240,000) ends every command cleanly: exit 130, every line of the output
// whole and parseable, the summary saying where the reading stopped, and
// the export's index listing exactly its files. A second SIGINT exits at
// once, still with whole lines.
func TestInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the interruption tests run whole captures")
	}
	bin := tcptraceBinary(t)
	scan := floodFile(t, 120_000, pcapgen.FloodScan) // 240,000 frames
	const at = "40000"
	stoppedAt := regexp.MustCompile(`interrupted:  by SIGINT at frame (\d+): `)
	lastFrame := func(t *testing.T, s string) {
		t.Helper()
		m := stoppedAt.FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("the summary does not say where the run was interrupted:\n%s", tail(s, 800))
		}
	}

	t.Run("json", func(t *testing.T) {
		out, errs, code := interrupted(t, bin, at, "analyze", "--format", "json", scan)
		if code != ExitInterrupt {
			t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitInterrupt, errs)
		}
		var sum map[string]any
		conns := 0
		for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("line %d does not parse: %v\n%q", i+1, err, line)
			}
			switch rec["type"] {
			case "conn":
				conns++
			case "summary":
				sum = rec
			}
		}
		if sum == nil || sum["interrupted"] != true || sum["signal"] != "SIGINT" {
			t.Fatalf("the summary record does not say it was interrupted: %v", sum)
		}
		last := sum["last_frame"].(float64)
		if last < 40000 || last >= 240000 {
			t.Errorf("last_frame %v: want the frame the reading stopped at, from 40000 on and before the end", last)
		}
		if conns == 0 || conns != int(sum["connections"].(float64)) || conns >= 120_000 {
			t.Errorf("%d connection records, summary %v, capture 120000: want every connection read and no more", conns, sum["connections"])
		}
		if !strings.Contains(errs, "tcptrace: interrupted (SIGINT) after frame ") {
			t.Errorf("stderr does not say the run was interrupted:\n%s", errs)
		}
	})
	t.Run("csv", func(t *testing.T) {
		out, errs, code := interrupted(t, bin, at, "analyze", "--format", "csv", scan)
		if code != ExitInterrupt {
			t.Fatalf("exit %d; stderr:\n%s", code, errs)
		}
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatalf("the CSV does not parse: %v", err)
		}
		if len(rows) < 2 || len(rows) > 120_001 {
			t.Fatalf("%d rows", len(rows))
		}
		if !strings.Contains(errs, "interrupted (SIGINT) after frame") {
			t.Errorf("stderr does not say where the run stopped:\n%s", errs)
		}
	})
	t.Run("text", func(t *testing.T) {
		out, errs, code := interrupted(t, bin, at, "analyze", scan)
		if code != ExitInterrupt {
			t.Fatalf("exit %d; stderr:\n%s", code, errs)
		}
		lastFrame(t, out)
		if !strings.HasSuffix(out, "\n") {
			t.Errorf("the text output ends in the middle of a line")
		}
	})
	t.Run("resets", func(t *testing.T) {
		out, errs, code := interrupted(t, bin, at, "resets", scan)
		if code != ExitInterrupt {
			t.Fatalf("exit %d; stderr:\n%s", code, errs)
		}
		if !strings.HasPrefix(out, "Interrupted by SIGINT at frame ") || !strings.HasSuffix(out, "\n") {
			t.Errorf("the resets report does not open with where it stopped, or ends mid-line:\n%s", tail(out, 400))
		}
		out, errs, code = interrupted(t, bin, at, "resets", "--format", "json", scan)
		if code != ExitInterrupt {
			t.Fatalf("exit %d; stderr:\n%s", code, errs)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		for i, line := range lines {
			if !json.Valid([]byte(line)) {
				t.Fatalf("line %d does not parse: %q", i+1, line)
			}
		}
		if !strings.Contains(lines[len(lines)-1], `"interrupted":true`) {
			t.Errorf("the last record is not an interrupted summary: %s", lines[len(lines)-1])
		}
	})
	t.Run("export", func(t *testing.T) {
		exch := floodFile(t, 8_000, pcapgen.FloodExchange) // 80,000 frames, 16,000 streams
		dir := filepath.Join(t.TempDir(), "out")
		_, errs, code := interrupted(t, bin, "30000", "export", exch, "-o", dir)
		if code != ExitInterrupt {
			t.Fatalf("exit %d; stderr:\n%s", code, errs)
		}
		var idx struct {
			Interrupted bool  `json:"interrupted"`
			LastFrame   int64 `json:"last_frame"`
			Files       int   `json:"files"`
			Streams     []struct {
				File  string `json:"file"`
				Bytes int64  `json:"bytes"`
			} `json:"streams"`
		}
		b, err := os.ReadFile(filepath.Join(dir, "index.json"))
		if err != nil {
			t.Fatalf("no index after the interruption: %v", err)
		}
		if err := json.Unmarshal(b, &idx); err != nil {
			t.Fatal(err)
		}
		if !idx.Interrupted || idx.LastFrame < 30000 || idx.LastFrame >= 80000 {
			t.Errorf("the index does not say where the export was interrupted: interrupted %v, last_frame %d", idx.Interrupted, idx.LastFrame)
		}
		var listed []string
		for _, s := range idx.Streams {
			if s.File == "" {
				continue
			}
			listed = append(listed, s.File)
			st, err := os.Stat(filepath.Join(dir, s.File))
			if err != nil || st.Size() != s.Bytes {
				t.Errorf("%s: listed with %d bytes, on disk: %v", s.File, s.Bytes, err)
			}
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var onDisk []string
		for _, e := range ents {
			if e.Name() != "index.json" {
				onDisk = append(onDisk, e.Name())
			}
		}
		slices.Sort(listed)
		slices.Sort(onDisk)
		if !slices.Equal(listed, onDisk) || len(listed) == 0 || len(listed) >= 16_000 {
			t.Errorf("the index lists %d files, the directory holds %d (capture: 16000 streams); they must be the same files", len(listed), len(onDisk))
		}
	})
	t.Run("twice", func(t *testing.T) {
		// The second SIGINT comes while the first's output is written.
		big := floodFile(t, 400_000, pcapgen.FloodScan)
		for _, args := range [][]string{{"analyze", "--format", "json", big}, {"analyze", "--format", "csv", big}, {"resets", "--format", "json", big}} {
			out, errs, code := interrupted(t, bin, "600000,2,40", args...)
			if code != ExitInterrupt {
				t.Fatalf("%v: exit %d; stderr:\n%s", args, code, errs)
			}
			if out == "" || !strings.HasSuffix(out, "\n") {
				t.Errorf("%v: the output is empty or ends in the middle of a line: %q", args, tail(out, 100))
			}
			if strings.Contains(out, `"interrupted":true`) {
				t.Errorf("%v: the run finished its output: the second SIGINT came too late to test anything", args)
			}
			if slices.Contains(args, "json") {
				for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
					if line != "" && !json.Valid([]byte(line)) {
						t.Fatalf("line %d does not parse: %q", i+1, line)
					}
				}
			}
		}
	})
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// TestStopSourceKeepsStability: the wrapper passes on a mapped capture's
// stability, without which the engine copies every frame (a 60 % slower
// run, seen on the bench capture).
func TestStopSourceKeepsStability(t *testing.T) {
	defer capture.SetMapThreshold(capture.SetMapThreshold(1))
	src, err := capture.Open("../../testdata/pcaps/tso.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if !capture.IsStable(src) {
		t.Skip("this platform reads captures without a mapping")
	}
	if !capture.IsStable(&stopSource{Source: src}) {
		t.Error("stopSource hides its source's stability")
	}
}
