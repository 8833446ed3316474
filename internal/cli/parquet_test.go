package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/tcptrace/tcptrace/internal/parquetout"
)

// runParquet runs analyze --format parquet -o dir on files.
func runParquet(t *testing.T, dir string, force bool, files ...string) error {
	t.Helper()
	var out, errb bytes.Buffer
	stdio := IO{Out: &out, Err: &errb, Getenv: func(string) string { return "" }}
	return RunAnalyze(AnalyzeOptions{Files: files, Format: "parquet", Output: dir, Force: force, Color: "never",
		IDs: idFlags{ReuseIdle: reuseIdle(60e9)}, Progress: "never"}, stdio)
}

// jsonRecords reads analyze's JSON lines: connections and anomalies.
type jsonConn struct {
	Type, History, Client, Server string
	ID                            int
	ConnState                     string `json:"conn_state"`
	Resets                        []struct {
		Frame                  int64
		Cause, Sender, Verdict string
		LinuxReason            string `json:"linux_reason"`
	}
	Conn  int
	Frame int64
	Kind  string
}

func jsonRecords(t *testing.T, files ...string) (conns []jsonConn, anoms []jsonConn) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(runAnalyzeOut(t, files[0], "json", files[1:]...)))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var r jsonConn
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		switch r.Type {
		case "conn":
			conns = append(conns, r)
		case "anomaly":
			anoms = append(anoms, r)
		}
	}
	return conns, anoms
}

// TestParquet writes the three tables of a few captures, reads them back
// with the same library and checks them against the JSON output: a row
// per connection with its ID, addresses, conn_state and history; a row
// per anomaly; a row per RST with its cause. A second run gives the same
// bytes; an existing export is kept without --force.
func TestParquet(t *testing.T) {
	captures := [][]string{
		{"../../testdata/pcaps/resets.pcap"},
		{"../../testdata/pcaps/anomalies.pcap"},
		{"../../testdata/pcaps/reset-causes.pcap", "../../testdata/pcaps/reset-patterns.pcap"},
	}
	for i, files := range captures {
		t.Run(filepath.Base(files[0]), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), fmt.Sprint(i))
			if err := runParquet(t, dir, false, files...); err != nil {
				t.Fatal(err)
			}
			conns, err := parquet.ReadFile[parquetout.Conn](filepath.Join(dir, parquetout.ConnsFile))
			if err != nil {
				t.Fatal(err)
			}
			anoms, err := parquet.ReadFile[parquetout.Anomaly](filepath.Join(dir, parquetout.AnomaliesFile))
			if err != nil {
				t.Fatal(err)
			}
			resets, err := parquet.ReadFile[parquetout.Reset](filepath.Join(dir, parquetout.ResetsFile))
			if err != nil {
				t.Fatal(err)
			}
			// JSON lines come as connections finish; the tables are in ID
			// order.
			wantConns, wantAnoms := jsonRecords(t, files...)
			sort.SliceStable(wantConns, func(a, b int) bool { return wantConns[a].ID < wantConns[b].ID })
			sort.SliceStable(wantAnoms, func(a, b int) bool { return wantAnoms[a].Conn < wantAnoms[b].Conn })
			capture := strings.Join(files, ", ")
			if len(conns) != len(wantConns) {
				t.Fatalf("%d connection rows, JSON has %d", len(conns), len(wantConns))
			}
			var wantResets []string
			for j, w := range wantConns {
				c := conns[j]
				if c.ID != int64(w.ID) || c.ConnState != w.ConnState || c.History != w.History || c.Capture != capture ||
					joinHostPort(c.ClientIP, fmt.Sprint(c.ClientPort)) != w.Client || joinHostPort(c.ServerIP, fmt.Sprint(c.ServerPort)) != w.Server ||
					c.Resets != int64(len(w.Resets)) {
					t.Errorf("row %d: %+v\nJSON %+v", j, c, w)
				}
				if c.File == "" || c.Start.IsZero() || c.Start.UnixNano()/1000 != c.StartNS/1000 {
					t.Errorf("row %d: file %q start %v start_ns %d", j, c.File, c.Start, c.StartNS)
				}
				for _, r := range w.Resets {
					wantResets = append(wantResets, fmt.Sprintf("%d %d %s %s %s %s", w.ID, r.Frame, r.Sender, r.Verdict, r.Cause, r.LinuxReason))
				}
			}
			var gotResets []string
			for _, r := range resets {
				gotResets = append(gotResets, fmt.Sprintf("%d %d %s %s %s %s", r.Conn, r.Frame, r.Sender, r.Verdict, r.Cause, r.LinuxReason))
				if r.Capture != capture || r.ServerPort == 0 || r.Time.IsZero() {
					t.Errorf("reset row %+v", r)
				}
			}
			if strings.Join(gotResets, "\n") != strings.Join(wantResets, "\n") {
				t.Errorf("resets:\n%s\nJSON:\n%s", strings.Join(gotResets, "\n"), strings.Join(wantResets, "\n"))
			}
			if len(anoms) != len(wantAnoms) {
				t.Fatalf("%d anomaly rows, JSON has %d", len(anoms), len(wantAnoms))
			}
			for j, w := range wantAnoms {
				a := anoms[j]
				if a.Conn != int64(w.Conn) || a.Frame != w.Frame || a.Kind != w.Kind || a.Capture != capture || a.File == "" {
					t.Errorf("anomaly row %d: %+v, JSON %+v", j, a, w)
				}
			}

			// The same run again: the same bytes. Without --force the
			// tables are kept; with it they are replaced.
			err = runParquet(t, dir, false, files...)
			if err == nil || !strings.Contains(err.Error(), "already exists") {
				t.Fatalf("second run without --force: %v", err)
			}
			before := readTables(t, dir)
			if err := runParquet(t, dir, true, files...); err != nil {
				t.Fatal(err)
			}
			if after := readTables(t, dir); !bytes.Equal(before, after) {
				t.Error("a second run wrote different bytes")
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

// readTables is the three tables' bytes, one after the other.
func readTables(t *testing.T, dir string) []byte {
	t.Helper()
	var all []byte
	for _, f := range parquetout.Files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// duckdbQuery is docs/parquet.md's example.
const duckdbQuery = `SELECT cause, server_port, count(*) FROM 'exports/*/resets.parquet' GROUP BY ALL ORDER BY 3 DESC`

// TestParquetDuckDB runs docs/parquet.md's query over two exports with
// DuckDB and checks its counts against the resets the tables hold. DuckDB
// is the duckdb command, or Node.js with the @duckdb/node-api package
// (npm install -g @duckdb/node-api); without either the test skips.
func TestParquetDuckDB(t *testing.T) {
	run := duckdbRunner(t)
	root := t.TempDir()
	for name, file := range map[string]string{"a": "resets.pcap", "b": "reset-causes.pcap"} {
		if err := runParquet(t, filepath.Join(root, "exports", name), false, "../../testdata/pcaps/"+file); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]int{}
	for _, name := range []string{"a", "b"} {
		rows, err := parquet.ReadFile[parquetout.Reset](filepath.Join(root, "exports", name, parquetout.ResetsFile))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			want[fmt.Sprintf("%s,%d", r.Cause, r.ServerPort)]++
		}
	}
	out := run(root, duckdbQuery)
	got := map[string]int{}
	prev := -1
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var cause string
		var port, n int
		f := strings.Split(line, ",")
		if len(f) != 3 {
			t.Fatalf("DuckDB printed %q", out)
		}
		cause = f[0]
		fmt.Sscan(f[1], &port)
		fmt.Sscan(f[2], &n)
		if prev >= 0 && n > prev {
			t.Errorf("not in descending count order: %q", out)
		}
		prev = n
		got[fmt.Sprintf("%s,%d", cause, port)] = n
	}
	if fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(want)) {
		t.Errorf("DuckDB: %v\nthe tables: %v", got, want)
	}
	t.Logf("DuckDB over two exports:\n%s", out)
}

func sorted(m map[string]int) []string {
	var s []string
	for k, v := range m {
		s = append(s, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(s)
	return s
}

// duckdbRunner finds DuckDB: a function running a query in a directory and
// returning its rows as CSV lines without a header.
func duckdbRunner(t *testing.T) func(dir, query string) string {
	if bin, err := exec.LookPath("duckdb"); err == nil {
		return func(dir, query string) string {
			cmd := exec.Command(bin, "-csv", "-noheader", "-c", query)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("duckdb: %v\n%s", err, out)
			}
			return string(out)
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("DuckDB not found: neither the duckdb command nor Node.js (with @duckdb/node-api) is installed")
	}
	npmRoot := ""
	if out, err := exec.Command("npm", "root", "-g").Output(); err == nil {
		npmRoot = strings.TrimSpace(string(out))
	}
	const script = `const { DuckDBInstance } = require('@duckdb/node-api');
(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const r = await con.runAndReadAll(process.argv[1]);
  for (const row of r.getRowsJson()) console.log(row.join(','));
})().catch(e => { console.error(e.message); process.exit(1); });`
	env := append(os.Environ(), "NODE_PATH="+npmRoot)
	probe := exec.Command(node, "-e", "require('@duckdb/node-api')")
	probe.Env = env
	if err := probe.Run(); err != nil {
		t.Skip("DuckDB not found: no duckdb command, and Node.js lacks @duckdb/node-api (npm install -g @duckdb/node-api)")
	}
	return func(dir, query string) string {
		cmd := exec.Command(node, "-e", script, query)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("DuckDB (node): %v\n%s", err, out)
		}
		return string(out)
	}
}
