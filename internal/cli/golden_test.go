package cli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenRun is one command whose output is kept as a golden file.
type goldenRun struct {
	suffix string // testdata/golden/<capture>.<suffix>
	only   []string
	run    func(file string, stdio IO) error
}

var goldenRuns = []goldenRun{
	{suffix: "text", run: func(f string, stdio IO) error { return analyzeGolden(f, "text", stdio) }},
	{suffix: "json", run: func(f string, stdio IO) error { return analyzeGolden(f, "json", stdio) }},
	{suffix: "csv", run: func(f string, stdio IO) error { return analyzeGolden(f, "csv", stdio) }},
	{suffix: "zeek", run: func(f string, stdio IO) error { return analyzeGolden(f, "zeek", stdio) }},
	{suffix: "timeline", run: func(f string, stdio IO) error {
		return RunTimeline(TimelineOptions{Files: []string{f}, Format: "text", Color: "never", Width: 110, Progress: "never"}, stdio)
	}},
	{suffix: "resets", run: func(f string, stdio IO) error {
		return RunResets(ResetsOptions{Files: []string{f}, Format: "text", Color: "never", Progress: "never"}, stdio)
	}},
	{suffix: "resets.json", run: func(f string, stdio IO) error {
		return RunResets(ResetsOptions{Files: []string{f}, Format: "json", Color: "never", Progress: "never"}, stdio)
	}},
	{suffix: "resets-summary", only: []string{"reset.pcap", "resets.pcap", "reset-causes.pcap"}, run: func(f string, stdio IO) error {
		return RunResets(ResetsOptions{Files: []string{f}, Format: "text", Color: "never", Summary: true, Progress: "never"}, stdio)
	}},
	{suffix: "timeline-explain", only: []string{"handshake-data-close.pcap", "closes.pcap", "streams.pcap", "resets.pcap"}, run: func(f string, stdio IO) error {
		return RunTimeline(TimelineOptions{Files: []string{f}, Format: "text", Color: "never", Width: 110, Explain: true, Progress: "never"}, stdio)
	}},
	// follow of every connection: gaps and conflicting copies marked inline.
	{suffix: "follow", only: []string{"streams.pcap", "injected-data.pcap"}, run: followAll},
	// What a terminal shows: colours on.
	{suffix: "timeline-tty", only: []string{"resets.pcap", "anomalies.pcap"}, run: func(f string, stdio IO) error {
		stdio.OutTTY = true
		return RunTimeline(TimelineOptions{Files: []string{f}, Format: "text", Color: "auto", Width: 110, Progress: "never"}, stdio)
	}},
	{suffix: "resets-tty", only: []string{"resets.pcap"}, run: func(f string, stdio IO) error {
		stdio.OutTTY = true
		return RunResets(ResetsOptions{Files: []string{f}, Format: "text", Color: "auto", Progress: "never"}, stdio)
	}},
}

// followAll runs follow on every connection of f in turn.
func followAll(f string, stdio IO) error {
	for id := 1; ; id++ {
		err := RunFollow(FollowOptions{Files: []string{f}, Conn: id, As: "ascii", Dir: "both", Color: "never", Progress: "never"}, stdio)
		if err != nil && id > 1 && strings.Contains(err.Error(), "no connection") {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func analyzeGolden(f, format string, stdio IO) error {
	return RunAnalyze(AnalyzeOptions{Files: []string{f}, Format: format, Color: "never", IDs: idFlags{ReuseIdle: reuseIdle(60e9)}, Progress: "never"}, stdio)
}

// TestGolden runs `analyze` in every output format, `timeline` and `resets`
// on every scenario capture of testdata/pcaps (some runs on chosen ones) and
// compares with testdata/golden/<capture>.<suffix>.
func TestGolden(t *testing.T) {
	pcaps, err := filepath.Glob("../../testdata/pcaps/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(pcaps) == 0 {
		t.Fatal("no scenario captures in testdata/pcaps (go test ./internal/pcapgen -update makes them)")
	}
	for _, p := range pcaps {
		name := filepath.Base(p)
		for _, g := range goldenRuns {
			if len(g.only) > 0 && !slices.Contains(g.only, name) {
				continue
			}
			t.Run(name+"/"+g.suffix, func(t *testing.T) {
				var out, errb bytes.Buffer
				stdio := IO{Out: &out, Err: &errb, Getenv: func(string) string { return "" }}
				// Run from the repository root so file names read as users type them.
				rel := filepath.ToSlash(filepath.Join("testdata/pcaps", name))
				err := runInRoot(t, func() error { return g.run(rel, stdio) })
				if err != nil {
					t.Fatalf("%s %s: %v (stderr: %s)", g.suffix, rel, err, errb.String())
				}
				golden := filepath.Join("../../testdata/golden", name+"."+g.suffix)
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./internal/cli -run TestGolden -update to create it)", err)
				}
				if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(out.String(), "\n")); diff != "" {
					t.Errorf("%s differs from %s (-want +got):\n%s", rel, golden, diff)
				}
			})
		}
	}
}

// runInRoot runs fn with the repository root as working directory.
func runInRoot(t *testing.T, fn func() error) error {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir("../.."); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := os.Chdir(wd); err != nil {
			t.Fatal(err)
		}
	}()
	return fn()
}
