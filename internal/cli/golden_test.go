package cli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGolden runs `analyze` in every output format on every scenario capture
// of testdata/pcaps and compares with testdata/golden/<capture>.<format>.
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
		for _, format := range []string{"text", "json", "csv"} {
			t.Run(name+"/"+format, func(t *testing.T) {
				var out, errb bytes.Buffer
				io := IO{Out: &out, Err: &errb, Getenv: func(string) string { return "" }}
				// Run from the repository root so file names read as users type them.
				rel := filepath.ToSlash(filepath.Join("testdata/pcaps", name))
				err := runInRoot(t, func() error {
					return RunAnalyze(AnalyzeOptions{Files: []string{rel}, Format: format, Color: "never", ReuseIdle: 60e9, Progress: "never"}, io)
				})
				if err != nil {
					t.Fatalf("analyze %s: %v (stderr: %s)", rel, err, errb.String())
				}
				golden := filepath.Join("../../testdata/golden", name+"."+format)
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
