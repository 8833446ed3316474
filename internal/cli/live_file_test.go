package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/internal/kernelev"
	"github.com/tcptrace/tcptrace/report"
)

// fileLive plays a capture file as if it were live: the clock is the
// frames' clock.
type fileLive struct {
	capture.Source
	last atomic.Int64
}

func (f *fileLive) Next() (*capture.Frame, error) {
	fr, err := f.Source.Next()
	if err == nil {
		f.last.Store(fr.TS)
	}
	return fr, err
}
func (f *fileLive) Stats() []report.LiveIface { return []report.LiveIface{{Name: "file"}} }
func (f *fileLive) SuperFrames() int64        { return 0 }

// traceFeed plays a recorded kernel trace.
type traceFeed struct{ c chan kernelev.Event }

func (t *traceFeed) Events() <-chan kernelev.Event { return t.c }
func (t *traceFeed) Close() error                  { return nil }
func (t *traceFeed) Offset() int64                 { return 0 }

// memWriter keeps what -w would write.
type memWriter struct {
	frames   int
	comments map[int64]string
	stats    []report.LiveIface
}

func (m *memWriter) WritePacket(f *capture.Frame, comment string) error {
	m.frames++
	if comment != "" {
		m.comments[f.N] = comment
	}
	return nil
}
func (m *memWriter) Close(stats []report.LiveIface) error { m.stats = stats; return nil }

func fileRun(t *testing.T, path string) *liveRun {
	src, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	fl := &fileLive{Source: src}
	return &liveRun{src: fl, names: []string{path}, stop: make(chan struct{}), now: func() int64 { return fl.last.Load() }}
}

// TestLiveRecordsEqualAnalyze: fed a capture, the live loop prints the
// same connection and anomaly records as analyze --format json.
func TestLiveRecordsEqualAnalyze(t *testing.T) {
	for _, name := range []string{"resets.pcap", "reset-patterns.pcap", "anomalies.pcap", "closes.pcap"} {
		path := filepath.Join("../../testdata/pcaps", name)
		var live, ana, errb bytes.Buffer
		r := fileRun(t, path)
		o := LiveOptions{Format: "json", Color: "never", Status: "never", Snaplen: 262144, MaxConns: 1000}
		if err := runLive(o, IO{Out: &live, Err: &errb, Getenv: func(string) string { return "" }}, r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if code := Main([]string{"analyze", "--format", "json", path}, IO{Out: &ana, Err: &errb, Getenv: func(string) string { return "" }}); code != 0 {
			t.Fatalf("%s: analyze exit %d: %s", name, code, errb.String())
		}
		records := func(s string) string {
			var keep []string
			for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
				if !strings.HasPrefix(l, `{"type":"summary"`) {
					keep = append(keep, l)
				}
			}
			return strings.Join(keep, "\n")
		}
		if a, b := records(live.String()), records(ana.String()); a != b {
			t.Errorf("%s: live records differ from analyze's:\nlive:    %.400s\nanalyze: %.400s", name, a, b)
		}
		if !strings.Contains(live.String(), `"live":{`) {
			t.Errorf("%s: no live block in the summary", name)
		}
	}
}

// TestLiveKernelJoinAndComments: with the kernel's events arriving as the
// capture is read, every RST the kernel logged gets kernel_reason, and -w
// names the reason in the RST frame's comment.
func TestLiveKernelJoinAndComments(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the kernel-truth capture is 116,000 frames")
	}
	dir := "../../../shared/kernel-truth"
	f, err := os.Open(filepath.Join(dir, "real-lo-kernel.kernel-tcp.txt"))
	if err != nil {
		t.Skipf("kernel ground truth not found (it lives beside the repository): %v", err)
	}
	evs, err := kernelev.Parse(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	feed := &traceFeed{c: make(chan kernelev.Event, len(evs))}
	for _, e := range evs {
		feed.c <- e
	}
	close(feed.c)
	r := fileRun(t, filepath.Join(dir, "real-lo-kernel.pcap"))
	r.kernel = feed
	r.hold = 300 * time.Millisecond // the writer's wait for the events, as live
	w := &memWriter{comments: map[int64]string{}}
	r.writer = w
	var out, errb bytes.Buffer
	o := LiveOptions{Format: "json", Color: "never", Status: "never", Snaplen: 262144, MaxConns: 100000, Events: true, Write: "mem"}
	if err := runLive(o, IO{Out: &out, Err: &errb, Getenv: func(string) string { return "" }}, r); err != nil {
		t.Fatal(err)
	}
	withReason, resets := 0, 0
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, `{"type":"reset"`) {
			resets++
			if strings.Contains(l, `"kernel_reason":`) {
				withReason++
			}
		}
	}
	if resets == 0 || withReason*100 < 336*95 {
		t.Errorf("%d of %d reset records carry the kernel's reason (want 95 %% of 336)", withReason, resets)
	}
	if w.frames != 116256 || len(w.comments) < 300 {
		t.Errorf("-w wrote %d frames with %d comments; want 116256 frames and the kernel's reason on ≥ 300 RSTs", w.frames, len(w.comments))
	}
	t.Logf("%d of %d RSTs with the kernel's reason; %d comments", withReason, resets, len(w.comments))
}
