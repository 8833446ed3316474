package cli

import (
	"time"

	"github.com/spf13/cobra/doc"
)

// manDate is the date on the man pages: fixed, so that docs/man only
// changes when a command does (TestManPages keeps it in step).
var manDate = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// GenManPages writes a man page per command to dir (tcptrace.1,
// tcptrace-analyze.1…), generated from the commands' help.
func GenManPages(dir string) error {
	root := NewRoot(IO{Getenv: func(string) string { return "" }})
	root.DisableAutoGenTag = true
	return doc.GenManTree(root, &doc.GenManHeader{
		Title: "TCPTRACE", Section: "1", Date: &manDate,
		Source: "tcptrace", Manual: "tcptrace manual",
	}, dir)
}
