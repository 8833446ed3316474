// Package gctune sets the garbage collector's policy for a tcptrace run.
//
// Go's default (GOGC=100) collects whenever the heap has doubled since the
// last collection. tcptrace's live heap is small (the connections open at
// once) and it allocates steadily (records of finished connections), so it
// collected many times per second for little. Start lets the heap grow to
// five times the live data (GOGC=400) but caps it with a soft memory limit
// of max(Floor, 2 × live + Slack), updated as the live heap changes:
//
//   - small live heap: fewer collections (the limit, not GOGC, triggers
//     them), and memory stays within Floor;
//   - large live heap (many connections open at once): the limit is twice
//     the live heap, so collections are never more frequent than with
//     GOGC=100, and the limit never drives the collector into running
//     back to back.
//
// A GOGC or GOMEMLIMIT set in the environment is left alone.
package gctune

import (
	"runtime/debug"
	"runtime/metrics"
	"time"
)

const (
	// Floor is the memory limit while the live heap is small.
	Floor = 96 << 20
	// Slack covers what the limit counts beside the heap (stacks, runtime
	// structures).
	Slack = 16 << 20
	// Percent is the GOGC used under the limit.
	Percent = 400
	// Every is how often the limit follows the live heap.
	Every = 50 * time.Millisecond
)

// Limit is the memory limit for a live heap of live bytes.
func Limit(live uint64) int64 {
	return max(Floor, 2*int64(live)+Slack)
}

// Start applies the policy unless the environment sets one; stop restores
// the previous settings.
func Start(getenv func(string) string) (stop func()) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	oldPercent := debug.SetGCPercent(Percent)
	oldLimit := debug.SetMemoryLimit(Floor)
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(Every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				metrics.Read(sample)
				if sample[0].Value.Kind() == metrics.KindUint64 {
					debug.SetMemoryLimit(Limit(sample[0].Value.Uint64()))
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	}
}
