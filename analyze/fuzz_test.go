package analyze

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// FuzzEngine runs arbitrary capture files through the whole analysis: table,
// state machine, reassembly, every detector, the report. Invariants: no
// panic; each direction delivers no more bytes than its segments declared;
// every connection's frames are within the file; the sharded run gives the
// same report as the single-goroutine one. Seeds: the scenario captures and
// the small corpus files.
func FuzzEngine(f *testing.F) {
	seeds, _ := filepath.Glob("../testdata/pcaps/*")
	filepath.WalkDir(filepath.Join(corpusDir, "raw"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil && info.Size() < 32<<10 {
				seeds = append(seeds, p)
			}
		}
		return nil
	})
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(30 * time.Second): // a hang, or a decompression bomb
				buf := make([]byte, 1<<20)
				n := runtime.Stack(buf, true)
				panic("slow input:\n" + string(buf[:n]))
			}
		}()
		// With several workers the table is sharded by flow and each shard
		// has its share of the global reassembly budget, so runs are
		// compared with that budget off (the per-connection one stays);
		// a third run checks the invariants under a small global budget.
		one := fuzzRun(t, data, 1, 0)
		two := fuzzRun(t, data, 2, 0)
		if !bytes.Equal(one, two) {
			t.Fatalf("sharded run differs from the single-goroutine one")
		}
		fuzzRun(t, data, 2, 256<<10)
	})
}

func fuzzRun(t *testing.T, data []byte, workers int, globalBudget int64) []byte {
	cfg := withWorkers(workers)
	cfg.ConnBudget, cfg.GlobalBudget = 64<<10, globalBudget
	r := analyzeBytes(data, "fuzz", cfg)
	if r == nil {
		return nil
	}
	for _, c := range r.Conns {
		if ra := c.Reassembly; ra != nil {
			if ra.Client.Delivered > c.Bytes.Client || ra.Server.Delivered > c.Bytes.Server {
				t.Fatalf("conn %d delivered %d/%d bytes of %d/%d sent", c.ID, ra.Client.Delivered, ra.Server.Delivered, c.Bytes.Client, c.Bytes.Server)
			}
		}
		if c.FirstFrame < 1 || c.LastFrame > r.Summary.Frames {
			t.Fatalf("conn %d frames %d-%d of %d", c.ID, c.FirstFrame, c.LastFrame, r.Summary.Frames)
		}
	}
	return recordsJSON(r, true)
}
