package cli

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var updateMan = flag.Bool("update-man", false, "rewrite docs/man from the commands (scripts/man.sh)")

// TestManPages: docs/man holds the man pages the commands generate, one
// per command; a command whose help changed without scripts/man.sh fails
// here (as in CI).
func TestManPages(t *testing.T) {
	const dir = "../../docs/man"
	tmp := t.TempDir()
	if err := GenManPages(tmp); err != nil {
		t.Fatal(err)
	}
	if *updateMan {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := GenManPages(dir); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, _ := filepath.Glob(filepath.Join(tmp, "*.1"))
	have, _ := filepath.Glob(filepath.Join(dir, "*.1"))
	if len(got) != len(have) {
		t.Errorf("docs/man has %d pages, the commands make %d: run scripts/man.sh", len(have), len(got))
	}
	for _, g := range got {
		want, err := os.ReadFile(filepath.Join(dir, filepath.Base(g)))
		if err != nil {
			t.Errorf("%s: missing from docs/man: run scripts/man.sh", filepath.Base(g))
			continue
		}
		made, _ := os.ReadFile(g)
		if d := cmp.Diff(string(want), string(made)); d != "" {
			t.Errorf("%s is out of date (run scripts/man.sh):\n%s", filepath.Base(g), d)
		}
	}
}
