package cli

import (
	"errors"
	"io"
	"path/filepath"
	"slices"
	"testing"
)

// TestResetCausesKnown: every cause the diagnosis gives on the scenario
// captures is one --cause accepts (a new cause must be added to
// resetCauses, the help and docs/json.md).
func TestResetCausesKnown(t *testing.T) {
	pcaps, err := filepath.Glob("../../testdata/pcaps/*")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range pcaps {
		rep, _, err := analyzeForReport([]string{p}, IO{Err: io.Discard, Getenv: func(string) string { return "" }}, connQuery{}, "never", nil)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, c := range rep.Conns {
			for _, r := range c.Resets {
				if !slices.Contains(resetCauses, r.Cause) {
					t.Errorf("%s conn %d frame %d: cause %q is not accepted by --cause", filepath.Base(p), c.ID, r.Frame, r.Cause)
				}
				seen[r.Cause] = true
			}
		}
	}
	if len(seen) < 5 {
		t.Errorf("only causes %v on the scenario captures", seen)
	}
}

func TestParseCauses(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		bad  bool
	}{
		{in: "", want: nil},
		{in: " ", want: nil},
		{in: "abort", want: []string{"abort"}},
		{in: "abort, refused,abort", want: []string{"abort", "refused"}},
		{in: "Abort", bad: true},
		{in: "abort,", bad: true},
		{in: "middlebox", bad: true},
	} {
		got, err := parseCauses(tc.in)
		if tc.bad {
			var ee *ExitError
			if !errors.As(err, &ee) || ee.Code != ExitUsage {
				t.Errorf("parseCauses(%q): error %v, want a usage error", tc.in, err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("parseCauses(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
