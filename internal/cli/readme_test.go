package cli

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReadmeExamples runs every `$ tcptrace …` example of README.md (a
// fenced block whose first line is the command, the rest its output) and
// compares its output with the README's, so that the examples stay what
// the commands print (trailing spaces aside: editors strip them).
func TestReadmeExamples(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	type example struct{ cmdLine, want string }
	var examples []example
	blocks := strings.Split(string(readme), "```")
	for i := 1; i < len(blocks); i += 2 { // the insides of the fences
		// A block holds one or more examples, each a "$ tcptrace …" line
		// and the output under it.
		for _, line := range strings.Split(strings.TrimPrefix(blocks[i], "\n"), "\n") {
			switch {
			case strings.HasPrefix(line, "$ tcptrace "):
				examples = append(examples, example{cmdLine: line})
			case strings.HasPrefix(line, "$ "):
				examples = append(examples, example{}) // another program: not run
			case len(examples) > 0:
				examples[len(examples)-1].want += line + "\n"
			}
		}
	}
	n := 0
	for _, ex := range examples {
		if ex.cmdLine == "" {
			continue
		}
		cmdLine, want := ex.cmdLine, strings.TrimRight(ex.want, "\n")+"\n"
		n++
		args := strings.Fields(strings.TrimPrefix(cmdLine, "$ tcptrace "))
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			stdio := IO{Out: &out, Err: &errb, Getenv: func(string) string { return "" }}
			if code := runInRootCode(t, func() int { return Main(args, stdio) }); code != ExitOK {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			if w, g := trimLines(want), trimLines(out.String()); !elidedMatch(w, g) {
				diff := cmp.Diff(w, g)
				t.Errorf("README.md's output of %q differs from the command's (-readme +command):\n%s", cmdLine, diff)
			}
		})
	}
	if n < 4 {
		t.Fatalf("%d `$ tcptrace` examples in README.md: the analyze, resets, timeline and follow examples are missing", n)
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

// elidedMatch reports whether got is want, where a line "..." of want
// stands for any number of lines of got (the README shortens long output).
func elidedMatch(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if want[0] == "..." {
		for i := 0; i <= len(got); i++ {
			if elidedMatch(want[1:], got[i:]) {
				return true
			}
		}
		return false
	}
	return len(got) > 0 && want[0] == got[0] && elidedMatch(want[1:], got[1:])
}
