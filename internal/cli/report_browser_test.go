package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/tcptrace/tcptrace/report"
)

// chromium is the path of a Chromium or Chrome on this machine, or "".
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// connsOf is the connection records of analyze --format json on files.
func connsOf(t *testing.T, files ...string) []report.Conn {
	t.Helper()
	var out bytes.Buffer
	if err := RunAnalyze(AnalyzeOptions{Files: files, Format: "json", Progress: "never"}, IO{Out: &out, Err: new(bytes.Buffer), Getenv: func(string) string { return "" }}); err != nil {
		t.Fatal(err)
	}
	var conns []report.Conn
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, `{"type":"conn"`) {
			var c report.Conn
			if err := json.Unmarshal([]byte(line), &c); err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
	}
	return conns
}

// TestReportInBrowser opens the report of shipped captures in headless
// Chromium: no console errors, the table lists every connection, sorting,
// filtering and the summary's counts select what they should, and opening a
// connection shows its ladder, its graph and its reset diagnosis. It saves
// a screenshot (JPEG, to $TCPTRACE_SCREENSHOT when set, as docs/img/report.jpg is
// made). It skips where Chromium is absent (.ci/run installs it).
func TestReportInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the browser test runs in the full suite")
	}
	exe := chromium()
	if exe == "" {
		t.Skip("no chromium on this machine (Debian: apt-get install chromium): the report's browser test is skipped")
	}
	files := []string{"../../testdata/pcaps/reset-patterns.pcap", "../../testdata/pcaps/anomalies.pcap", "../../testdata/pcaps/retransmit-sack.pcap"}
	conns := connsOf(t, files...)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := RunReport(ReportOptions{Files: files, Output: page, Details: 2000, Progress: "never"}, IO{Out: new(bytes.Buffer), Err: new(bytes.Buffer), Getenv: func(string) string { return "" }}); err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.WindowSize(1400, 1000))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var (
		mu          sync.Mutex
		consoleErrs []string
	)
	err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value))
				}
				consoleErrs = append(consoleErrs, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
			}
		case *runtime.EventExceptionThrown:
			consoleErrs = append(consoleErrs, fmt.Sprintf("exception: %s (line %d)", ev.ExceptionDetails.Text, ev.ExceptionDetails.LineNumber))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	count := func(sel string) int {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	firstID := func() string {
		a, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`#body tr.conn`), "data-id"))
		if err != nil {
			t.Fatal(err)
		}
		return a.Value
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+page), chromedp.WaitVisible(chromedp.CSS(`#body tr.conn`))); err != nil {
		t.Fatal(err)
	}

	// Every connection is listed (one page of 100 holds them).
	if n := count(`#body tr.conn`); n != len(conns) {
		t.Errorf("the table lists %d connections, want %d", n, len(conns))
	}

	// Sorting by bytes: the connection with the most first; again: the least.
	most, least := conns[0], conns[0]
	for _, c := range conns {
		b := c.Bytes.Client + c.Bytes.Server
		if b > most.Bytes.Client+most.Bytes.Server || b == most.Bytes.Client+most.Bytes.Server && c.ID < most.ID {
			most = c
		}
		if b < least.Bytes.Client+least.Bytes.Server || b == least.Bytes.Client+least.Bytes.Server && c.ID < least.ID {
			least = c
		}
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`th[data-col="bytes"]`))); err != nil {
		t.Fatal(err)
	}
	if got := firstID(); got != fmt.Sprint(most.ID) {
		t.Errorf("sorted by bytes, the first row is connection %s, want %d", got, most.ID)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`th[data-col="bytes"]`))); err != nil {
		t.Fatal(err)
	}
	if got := firstID(); got != fmt.Sprint(least.ID) {
		t.Errorf("sorted by bytes again, the first row is connection %s, want %d", got, least.ID)
	}

	// Filtering by text, by the Show menu and by a count of the summary.
	want := 0
	for _, c := range conns {
		if strings.Contains(c.State, "refused") {
			want++
		}
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`#filter`), "refused")); err != nil {
		t.Fatal(err)
	}
	if n := count(`#body tr.conn`); n != want || want == 0 {
		t.Errorf("filtered by \"refused\": %d rows, want %d", n, want)
	}
	want = 0
	for _, c := range conns {
		if c.Close != nil && (c.Close.Class == "reset" || c.Close.Class == "fin-then-reset") {
			want++
		}
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#clear`)), chromedp.SetValue(chromedp.CSS(`#only`), "reset")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("only").dispatchEvent(new Event("change"))`)); err != nil {
		t.Fatal(err)
	}
	if n := count(`#body tr.conn`); n != want || want == 0 {
		t.Errorf("show: ended by a RST: %d rows, want %d", n, want)
	}
	want = 0
	for _, c := range conns {
		if slices.ContainsFunc(c.Resets, func(r report.Reset) bool { return r.Cause == "abort" }) {
			want++
		}
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#clear`)), chromedp.Click(chromedp.CSS(`a.pick[data-facet="cause"][data-value="abort"]`))); err != nil {
		t.Fatal(err)
	}
	if n := count(`#body tr.conn`); n != want || want == 0 {
		t.Errorf("the summary's abort count picked: %d rows, want %d", n, want)
	}

	// Opening a connection with a RST: its diagnosis, its ladder, its graph.
	var withRST report.Conn
	for _, c := range conns {
		if len(c.Resets) > 0 && c.Resets[0].Cause == "abort" {
			withRST = c
			break
		}
	}
	sel := fmt.Sprintf(`tr.detail[data-id="%d"]`, withRST.ID)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr.conn[data-id="%d"]`, withRST.ID))),
		chromedp.WaitVisible(chromedp.CSS(sel+` pre.ladder`))); err != nil {
		t.Fatal(err)
	}
	ladder, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel+` pre.ladder`)))
	if err != nil {
		t.Fatal(err)
	}
	resets, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel+` pre.resets`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ladder, fmt.Sprintf("Connection %d:", withRST.ID)) || !strings.Contains(ladder, "SYN") {
		t.Errorf("the ladder of connection %d is not there:\n%s", withRST.ID, ladder)
	}
	if !strings.Contains(resets, "abort") {
		t.Errorf("the reset diagnosis of connection %d does not say abort:\n%s", withRST.ID, resets)
	}
	if reportGraphs != nil {
		if n := count(sel + ` figure.graph svg`); n == 0 {
			t.Errorf("connection %d shows no graph", withRST.ID)
		}
	}

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(75))
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "report.jpg")
	if p := os.Getenv("TCPTRACE_SCREENSHOT"); p != "" {
		shot = p
	}
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))
	mu.Lock()
	defer mu.Unlock()
	if len(consoleErrs) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(consoleErrs, "\n"))
	}
}
