// Package memtest measures memory for tests that bound it: the largest live
// heap while a function runs.
package memtest

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// HeapPeak returns the largest live heap (as measured by the garbage
// collector at the end of each cycle, sampled every 20 ms) while fn runs:
// what the code holds, without the garbage a collection has not reclaimed
// yet.
func HeapPeak(fn func()) uint64 {
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	go func() {
		defer wg.Done()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	fn()
	close(stop)
	wg.Wait()
	return peak.Load()
}
