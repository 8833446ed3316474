package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReadmeResets runs every `$ tcptrace resets …` example of README.md
// and compares its output with the README's, so that the examples stay
// what the command prints (trailing spaces aside: editors strip them).
func TestReadmeResets(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(readme), "```")
	n := 0
	for i := 1; i < len(blocks); i += 2 { // the insides of the fences
		body := strings.TrimPrefix(blocks[i], "\n")
		cmdLine, want, ok := strings.Cut(body, "\n")
		if !ok || !strings.HasPrefix(cmdLine, "$ tcptrace resets ") {
			continue
		}
		n++
		args := strings.Fields(strings.TrimPrefix(cmdLine, "$ tcptrace "))
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			stdio := IO{Out: &out, Err: &errb, Getenv: func(string) string { return "" }}
			if code := runInRootCode(t, func() int { return Main(args, stdio) }); code != ExitOK {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			if diff := cmp.Diff(trimLines(want), trimLines(out.String())); diff != "" {
				t.Errorf("README.md's output of %q differs from the command's (-readme +command):\n%s", cmdLine, diff)
			}
		})
	}
	if n == 0 {
		t.Fatal("no `$ tcptrace resets` example in README.md")
	}
}

func runInRootCode(t *testing.T, fn func() int) int {
	t.Helper()
	code := 0
	if err := runInRoot(t, func() error { code = fn(); return nil }); err != nil {
		t.Fatal(err)
	}
	return code
}

// trimLines splits s into lines without their trailing spaces.
func trimLines(s string) []string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return lines
}
