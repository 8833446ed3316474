package analyze

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/report"
)

// analyzeBytes analyzes an in-memory capture named name with cfg; nil when
// it does not open.
func analyzeBytes(data []byte, name string, cfg Config) *report.Report {
	src, err := capture.OpenReader(name, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil
	}
	defer src.Close()
	e := NewEngine(cfg)
	_ = e.Run(src)
	return e.Report([]string{name})
}

// analyzePath analyzes the capture file at path with cfg.
func analyzePath(t testing.TB, path string, cfg Config) *report.Report {
	t.Helper()
	src, err := capture.Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer src.Close()
	e := NewEngine(cfg)
	if err := e.Run(src); err != nil {
		t.Logf("%s: input damage: %v", path, err)
	}
	return e.Report([]string{path})
}

// recordsJSON encodes a report's connections and anomalies, and its summary
// when withSummary, as JSON lines for comparisons.
func recordsJSON(r *report.Report, withSummary bool) []byte {
	if r == nil {
		return nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, c := range r.Conns {
		enc.Encode(c)
	}
	for _, a := range r.Anomalies {
		enc.Encode(a)
	}
	if withSummary {
		enc.Encode(&r.Summary)
	}
	return b.Bytes()
}

// withWorkers returns the default configuration with n workers.
func withWorkers(n int) Config {
	cfg := DefaultConfig()
	cfg.Workers = n
	return cfg
}

// analyzeFile analyzes a capture file with the default configuration.
func analyzeFile(t *testing.T, path string) *report.Report {
	t.Helper()
	return analyzePath(t, path, DefaultConfig())
}

// scenarioAndCorpus lists the scenario captures of testdata/pcaps and, when
// the corpus is present, every corpus capture.
func scenarioAndCorpus(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob("../testdata/pcaps/*")
	for _, rel := range corpusFilesOrNil(t) {
		files = append(files, filepath.Join(corpusDir, "raw", rel))
	}
	if len(files) == 0 {
		t.Fatal("no captures found")
	}
	return files
}
