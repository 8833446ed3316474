package gctune

import (
	"runtime/debug"
	"testing"
)

func TestLimit(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int64
	}{
		{0, Floor},
		{20 << 20, Floor},
		{40 << 20, Floor},
		{(Floor - Slack) / 2, Floor},
		{100 << 20, 2*(100<<20) + Slack},
		{1 << 30, 2*(1<<30) + Slack},
	} {
		if got := Limit(c.live); got != c.want {
			t.Errorf("Limit(%d) = %d, want %d", c.live, got, c.want)
		}
	}
}

// TestStart: the policy applies and is undone; an environment that sets
// GOGC or GOMEMLIMIT is left alone.
func TestStart(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	before := debug.SetGCPercent(-1)
	debug.SetGCPercent(before)
	stop := Start(getenv)
	if p := debug.SetGCPercent(Percent); p != Percent {
		t.Errorf("GOGC %d under the policy, want %d", p, Percent)
	}
	if l := debug.SetMemoryLimit(-1); l < Floor {
		t.Errorf("memory limit %d under the policy, want at least %d", l, Floor)
	}
	stop()
	if p := debug.SetGCPercent(-1); p != before {
		t.Errorf("GOGC %d after stop, want %d", p, before)
	}
	debug.SetGCPercent(before)

	env["GOGC"] = "100"
	stop = Start(getenv)
	if p := debug.SetGCPercent(-1); p != before {
		t.Errorf("GOGC %d with GOGC set in the environment, want it untouched (%d)", p, before)
	}
	debug.SetGCPercent(before)
	stop()
}
