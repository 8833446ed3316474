package analyze

import (
	"bytes"
	"testing"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/report"
)

// runWorkers analyzes path with the given number of workers and returns the
// report as JSON.
func runWorkers(t *testing.T, path string, workers int) []byte {
	t.Helper()
	return recordsJSON(analyzePath(t, path, withWorkers(workers)), true)
}

// TestWorkersIdentical: the pipelined run (reader and decoder on their own
// goroutine) gives byte-identical results to the single-goroutine run, on
// every corpus capture and every scenario capture.
func TestWorkersIdentical(t *testing.T) {
	for _, f := range scenarioAndCorpus(t) {
		one, two := runWorkers(t, f, 1), runWorkers(t, f, 2)
		if !bytes.Equal(one, two) {
			t.Errorf("%s: --workers 1 and 2 differ (%d vs %d bytes of JSON)", f, len(one), len(two))
		}
	}
}

// TestMappedIdentical: a capture read through a memory mapping (whose
// payload bytes outlive the run, so checks keep references to them instead
// of hashes) gives byte-identical results to the same capture read with
// read(2), with one worker and with two.
func TestMappedIdentical(t *testing.T) {
	files := scenarioAndCorpus(t)
	read := make([][]byte, len(files))
	for i, f := range files {
		read[i] = runWorkers(t, f, 1)
	}
	old := capture.SetMapThreshold(0)
	defer capture.SetMapThreshold(old)
	for i, f := range files {
		for _, w := range []int{1, 2} {
			if m := runWorkers(t, f, w); !bytes.Equal(read[i], m) {
				t.Errorf("%s: mapped (--workers %d) and read differ (%d vs %d bytes of JSON)", f, w, len(m), len(read[i]))
			}
		}
	}
}

// streamJSON analyzes path streaming (as `analyze --format json` does) and
// returns the records in the order they were emitted, then the summary.
func streamJSON(t *testing.T, path string, workers int) []byte {
	t.Helper()
	src, err := capture.Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer src.Close()
	e := NewEngine(withWorkers(workers))
	r := &report.Report{}
	e.Stream([]string{path}, func(c *report.Conn, as []*report.Anomaly) {
		r.Conns = append(r.Conns, c)
		r.Anomalies = append(r.Anomalies, as...)
	})
	_ = e.Run(src)
	r.Summary = e.Report([]string{path}).Summary
	return recordsJSON(r, true)
}

// TestShardedStreamIdentical: with 2 and 3 workers the connection table is
// sharded by flow; the streamed records (IDs, order of emission, summary
// with the reassembly peak) are byte-identical to one goroutine's.
func TestShardedStreamIdentical(t *testing.T) {
	for _, f := range scenarioAndCorpus(t) {
		one := streamJSON(t, f, 1)
		for _, w := range []int{2, 3} {
			if got := streamJSON(t, f, w); !bytes.Equal(one, got) {
				t.Errorf("%s: streamed with --workers %d differs from --workers 1 (%d vs %d bytes of JSON)", f, w, len(got), len(one))
			}
		}
	}
}
