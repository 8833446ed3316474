package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"
)

// Version is tcptrace's version: the module version (v1.2.3 when built by
// `go install …@v1.2.3`, "(devel)" from a checkout), the commit and its
// time when the build knows them, and the Go version.
func Version() string {
	v, commit, when, dirty := "(devel)", "", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	out := "tcptrace " + v
	if commit != "" {
		out += " commit " + commit[:min(12, len(commit))]
		if dirty {
			out += "+modified"
		}
	}
	if when != "" {
		if t, err := time.Parse(time.RFC3339, when); err == nil {
			out += " " + t.UTC().Format("2006-01-02")
		}
	}
	return out + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}

func newVersionCmd(stdio IO) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print tcptrace's version, commit and Go version",
		Example: `  tcptrace version
  tcptrace --version`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintln(stdio.Out, Version())
			return err
		},
	}
}
