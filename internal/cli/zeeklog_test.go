package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tcptrace/tcptrace/render"
)

// zeekLog is a Zeek ASCII log read as zeek-cut reads it: the columns are
// named by the #fields line (or, in zeek-cut -m output, by the first line),
// the separator by #separator.
type zeekLog struct {
	meta   map[string]string // #separator, #set_separator, #path, ... → value
	fields []string
	types  []string
	rows   [][]string
}

// readZeekLog parses a log; it fails the test on a row whose width differs
// from the header's.
func readZeekLog(t *testing.T, data []byte) *zeekLog {
	t.Helper()
	l := &zeekLog{meta: map[string]string{}}
	sep := "\t"
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#separator "):
			v := strings.TrimPrefix(line, "#separator ")
			if v != `\x09` {
				t.Fatalf("#separator %q, want \\x09", v)
			}
			l.meta["separator"] = v
		case strings.HasPrefix(line, "##"):
		case strings.HasPrefix(line, "#"):
			k, v, _ := strings.Cut(line[1:], sep)
			switch k {
			case "fields":
				l.fields = strings.Split(v, sep)
			case "types":
				l.types = strings.Split(v, sep)
			default:
				l.meta[k] = v
			}
		case l.fields == nil:
			l.fields = strings.Split(line, sep) // zeek-cut -m
		default:
			cells := strings.Split(line, sep)
			if len(cells) != len(l.fields) {
				t.Fatalf("row of %d cells under %d fields: %q", len(cells), len(l.fields), line)
			}
			l.rows = append(l.rows, cells)
		}
	}
	return l
}

// cut returns the named columns of every row, as zeek-cut does ("" for a
// column the log lacks).
func (l *zeekLog) cut(names ...string) [][]string {
	idx := make([]int, len(names))
	for i, n := range names {
		idx[i] = -1
		for j, f := range l.fields {
			if f == n {
				idx[i] = j
			}
		}
	}
	out := make([][]string, len(l.rows))
	for r, row := range l.rows {
		for _, j := range idx {
			v := ""
			if j >= 0 {
				v = row[j]
			}
			out[r] = append(out[r], v)
		}
	}
	return out
}

// TestZeekLog writes the conn.log of every scenario capture and reads it
// back by its header: the header is Zeek's, every connection of the JSON
// output has its row (uid from its ID), with the same conn_state and
// history, the addresses in Zeek's originator order and the packet counts
// of the connection. Where zeek-cut is installed it must read the same.
func TestZeekLog(t *testing.T) {
	pcaps, err := filepath.Glob("../../testdata/pcaps/*")
	if err != nil || len(pcaps) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	zeekCut, _ := exec.LookPath("zeek-cut")
	if zeekCut == "" {
		t.Log("zeek-cut is not installed: the log is read by the test's own header-driven reader only")
	}
	for _, p := range pcaps {
		t.Run(filepath.Base(p), func(t *testing.T) {
			zl := runAnalyzeOut(t, p, "zeek")
			js := runAnalyzeOut(t, p, "json")
			l := readZeekLog(t, zl)
			if strings.Join(l.fields, " ") != strings.Join(render.ZeekFields, " ") || len(l.types) != len(l.fields) {
				t.Fatalf("#fields %q #types %q", l.fields, l.types)
			}
			for k, want := range map[string]string{"set_separator": ",", "empty_field": "(empty)", "unset_field": "-", "path": "conn"} {
				if l.meta[k] != want {
					t.Errorf("#%s %q, want %q", k, l.meta[k], want)
				}
			}
			if l.meta["open"] == "" || l.meta["close"] == "" {
				t.Errorf("#open %q, #close %q", l.meta["open"], l.meta["close"])
			}
			rows := map[string][]string{}
			for _, r := range l.cut("uid", "conn_state", "history", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "orig_pkts", "resp_pkts", "duration", "ts") {
				rows[r[0]] = r[1:]
			}
			n := 0
			sc := bufio.NewScanner(bytes.NewReader(js))
			sc.Buffer(make([]byte, 1<<20), 1<<24)
			for sc.Scan() {
				var c struct {
					Type, Client, Server, History string
					ID                            int
					Flipped                       bool   `json:"zeek_flipped"`
					ConnState                     string `json:"conn_state"`
					Packets                       struct{ Client, Server int64 }
				}
				if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
					t.Fatal(err)
				}
				if c.Type != "conn" {
					continue
				}
				n++
				uid := render.ZeekUID(c.ID)
				r, ok := rows[uid]
				if !ok {
					t.Errorf("connection %d: no row %s", c.ID, uid)
					continue
				}
				hist := c.History
				if hist == "" {
					hist = "-"
				}
				if r[0] != c.ConnState || r[1] != hist {
					t.Errorf("%s: conn_state %s history %s; JSON %s %s", uid, r[0], r[1], c.ConnState, hist)
				}
				orig, resp, op, rp := c.Client, c.Server, c.Packets.Client, c.Packets.Server
				if c.Flipped {
					orig, resp, op, rp = resp, orig, rp, op
				}
				if got := joinHostPort(r[2], r[3]); got != orig {
					t.Errorf("%s: originator %s, want %s (zeek_flipped %v)", uid, got, orig, c.Flipped)
				}
				if got := joinHostPort(r[4], r[5]); got != resp {
					t.Errorf("%s: responder %s, want %s", uid, got, resp)
				}
				// Zeek counts its own connection's packets: at most the
				// tcptrace connection's (less when Zeek split it, or for
				// SPAN duplicates).
				opk, _ := strconv.ParseInt(r[7], 10, 64)
				rpk, _ := strconv.ParseInt(r[8], 10, 64)
				if r[6] != "tcp" || opk > op || rpk > rp || opk+rpk == 0 {
					t.Errorf("%s: proto %s, pkts %d/%d of %d/%d", uid, r[6], opk, rpk, op, rp)
				}
				if r[9] != "-" {
					if d, err := strconv.ParseFloat(r[9], 64); err != nil || d <= 0 {
						t.Errorf("%s: duration %q", uid, r[9])
					}
				}
			}
			if n != len(l.rows) {
				t.Errorf("%d rows for %d connections", len(l.rows), n)
			}
			if zeekCut != "" {
				cmd := exec.Command(zeekCut, "uid", "conn_state", "history")
				cmd.Stdin = bytes.NewReader(zl)
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("zeek-cut: %v", err)
				}
				var want []string
				for _, r := range l.cut("uid", "conn_state", "history") {
					want = append(want, strings.Join(r, "\t"))
				}
				if got := strings.TrimSpace(string(out)); got != strings.Join(want, "\n") {
					t.Errorf("zeek-cut reads\n%s\nthe test's reader\n%s", got, strings.Join(want, "\n"))
				}
			}
		})
	}
}

// joinHostPort writes an address as tcptrace does: [v6]:port.
func joinHostPort(h, p string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]:" + p
	}
	return h + ":" + p
}

// runAnalyzeOut runs analyze on one capture in a format, returning stdout.
func runAnalyzeOut(t *testing.T, file, format string, files ...string) []byte {
	t.Helper()
	var out, errb bytes.Buffer
	stdio := IO{Out: &out, Err: &errb, Getenv: func(string) string { return "" }}
	if err := RunAnalyze(AnalyzeOptions{Files: append([]string{file}, files...), Format: format, Color: "never",
		IDs: idFlags{ReuseIdle: reuseIdle(60e9)}, Progress: "never"}, stdio); err != nil {
		t.Fatalf("analyze --format %s %s: %v (%s)", format, file, err, errb.String())
	}
	return out.Bytes()
}

// zeekOracleRuns are the Zeek runs of the corpus (oracle/zeek/INDEX.md)
// made without checksum validation (-C, or captures without bad
// checksums), as tcptrace analyzes: their conn.log, or the zeek-cut of it,
// and the trace under raw/zeek.
var zeekOracleRuns = []struct{ oracle, trace string }{
	{"http__get-to-ssh-server.conn.log", "http/get-to-ssh-server.pcap"},
	{"http__http-post-large.conn.log", "http/http-post-large.pcap"},
	{"llc.conn.log", "llc.pcap"},
	{"mixed-vlan-mpls.conn.log", "mixed-vlan-mpls.pcap"},
	{"tcp-http-with-padding.conn.log", "tcp-http-with-padding.pcap"},
	{"tcp-syslog.conn.log", "tcp-syslog.pcap"},
	{"tcp__one-sided-2745.conn.log", "tcp/one-sided-2745.pcap"},
	{"tcp__retransmit-timeout.conn.log", "tcp/retransmit-timeout.pcapng"},
	{"tls__irc-starttls.conn.log", "tls/irc-starttls.pcap"},
}

// TestZeekLogOracle compares tcptrace's conn.log with the ones Zeek wrote
// for the same traces: every connection of Zeek's log has a row in
// tcptrace's with the same identifiers (those the oracle kept), and each
// such row has the conn_state and history of one of Zeek's rows of those
// identifiers. Without the corpus (../shared/corpus) it skips.
func TestZeekLogOracle(t *testing.T) {
	dir := "../../../shared/corpus"
	if _, err := os.Stat(filepath.Join(dir, "oracle", "zeek")); err != nil {
		t.Skipf("conformance corpus not found at %s (it lives beside the repository): %v", dir, err)
	}
	ids := []string{"id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p"}
	var compared, agreed, zeekRows int
	for _, r := range zeekOracleRuns {
		data, err := os.ReadFile(filepath.Join(dir, "oracle", "zeek", r.oracle))
		if err != nil {
			t.Fatal(err)
		}
		want := readZeekLog(t, data)
		got := readZeekLog(t, runAnalyzeOut(t, filepath.Join(dir, "raw", "zeek", r.trace), "zeek"))
		has := map[string]bool{}
		for _, f := range want.fields {
			has[f] = true
		}
		key := func(row []string) string { // the identifiers the oracle kept
			var k []string
			for i, id := range ids {
				if has[id] {
					k = append(k, row[i])
				}
			}
			return strings.Join(k, " ")
		}
		// One tcptrace connection is one row, Zeek's main connection of it;
		// Zeek may have split it into several (docs/zeek.md): each
		// tcptrace row must be one of Zeek's rows of its identifiers.
		theirs := map[string][][]string{}
		var keys []string
		for _, row := range want.cut(append(ids, "conn_state", "history", "proto")...) {
			if row[6] != "" && row[6] != "tcp" {
				continue
			}
			k := key(row)
			if theirs[k] == nil {
				keys = append(keys, k)
			}
			theirs[k] = append(theirs[k], row[4:6])
			zeekRows++
		}
		mine := map[string][][]string{}
		for _, row := range got.cut(append(ids, "conn_state", "history")...) {
			mine[key(row)] = append(mine[key(row)], row[4:])
		}
		for _, k := range keys {
			if len(mine[k]) == 0 {
				t.Errorf("%s: %s: no row in tcptrace's log (Zeek: %v)", r.oracle, k, theirs[k])
				continue
			}
			for _, m := range mine[k] {
				compared++
				ok := false
				for _, z := range theirs[k] {
					if (!has["conn_state"] || m[0] == z[0]) && (!has["history"] || m[1] == z[1]) {
						ok = true
					}
				}
				if ok {
					agreed++
				} else {
					t.Errorf("%s: %s: tcptrace %s %s, Zeek %v", r.oracle, k, m[0], m[1], theirs[k])
				}
			}
		}
	}
	t.Logf("%d of %d rows of tcptrace's conn.log agree with Zeek's %d rows (conn_state and history per connection; llc.pcap's 1,333 lone RSTs are 1,333 Zeek connections of one tuple)", agreed, compared, zeekRows)
	if compared == 0 {
		t.Error("nothing compared")
	}
}
