package analyze

import (
	"bytes"
	"testing"
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
