// Package render writes the report model as text tables, JSON lines or CSV.
// It imports only the report model.
package render

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	json "github.com/goccy/go-json"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/tcptrace/tcptrace/report"
)

// Options control rendering.
type Options struct {
	Color     bool // ANSI colours (decided once by the CLI: TTY, --color, NO_COLOR)
	Anomalies bool // list every anomaly after the connection table
	Summary   bool // only the overview: no connection table (resets: only the counts)
	// Causes selects the RSTs of tcptrace resets by cause (empty: all).
	Causes []string

	// The connection table of analyze (text).
	Width   int      // fit the table in this many columns, wrap longer lines (0: as wide as it takes)
	Columns []string // the columns, in order (ParseColumns; nil: the default table)
	Sort    string   // order the rows by: start, duration, bytes, retrans, rtt, anomalies (SortKeys); "": by ID
	Top     int      // print only the first N rows of that order (0: all)
	Stats   bool     // a tcptrace -l block per connection instead of the table (statsBlock)
}

// JSONRecord readies a connection record for JSON output (docs/json.md,
// "Absent fields"). A connection of one segment has no last_frame (nor
// last_file): it is the first. Unless full (--stats), the record leaves out
// what JSON output carries only with --stats: the per-direction statistics
// (C tcptrace's -l list) and the state machine's detail, the transitions
// and the final state of each endpoint. A one-SYN connection's record is
// then an eighth of the full size.
func JSONRecord(c *report.Conn, full bool) {
	if c.LastFrame == c.FirstFrame && c.LastFile == c.FirstFile {
		c.LastFrame, c.LastFile = 0, ""
	}
	if !full {
		c.Stats, c.Transitions, c.ClientState, c.ServerState = nil, nil, "", ""
	}
}

// JSONStream writes JSON lines as connections finish: each "type":"conn"
// record followed by its "type":"anomaly" records, then, at the end, the
// summary. Encoding runs on a goroutine of its own (it is a fifth of the
// work of a run), fed in order through a bounded queue. Write errors are
// kept and returned by Finish.
type JSONStream struct {
	// Full keeps each record's per-direction statistics and state
	// transitions (analyze --stats); by default they are left out (JSONRecord).
	Full bool
	w    *bufio.Writer
	enc  *json.Encoder
	q    chan streamed
	done chan struct{}
	err  error // written by the encoding goroutine; read after done
}

type streamed struct {
	c     *report.Conn
	anoms []*report.Anomaly
}

// NewJSONStream returns a stream writing to w.
func NewJSONStream(w io.Writer) *JSONStream {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	s := &JSONStream{w: bw, enc: enc, q: make(chan streamed, 1024), done: make(chan struct{})}
	go s.loop()
	return s
}

func (s *JSONStream) loop() {
	defer close(s.done)
	for r := range s.q {
		if s.err != nil {
			continue // keep draining so that Conn never blocks for good
		}
		if s.err = s.enc.Encode(r.c); s.err != nil {
			continue
		}
		for _, a := range r.anoms {
			if s.err = s.enc.Encode(a); s.err != nil {
				break
			}
		}
	}
}

// Conn queues one connection and its anomalies; neither may change after.
func (s *JSONStream) Conn(c *report.Conn, anoms []*report.Anomaly) {
	JSONRecord(c, s.Full)
	s.q <- streamed{c, anoms}
}

// Finish writes what is queued and the summary, and flushes.
func (s *JSONStream) Finish(sum *report.Summary) error {
	close(s.q)
	<-s.done
	if s.err == nil {
		s.err = s.enc.Encode(sum)
	}
	if s.err == nil {
		s.err = s.w.Flush()
	}
	return s.err
}

// CSVHeader is the column list of the CSV format (docs/json.md).
var CSVHeader = []string{
	"id", "client", "server", "vlan", "vlan_server", "role_by", "first_file", "first_frame", "last_file", "last_frame",
	"start", "duration", "packets_client", "packets_server", "bytes_client", "bytes_server",
	"syn_client", "syn_server", "fin_client", "fin_server", "rst_client", "rst_server",
	"state", "handshake", "close", "closed_by", "client_state", "server_state", "conn_state", "history",
	"truncated_packets", "reused_tuple", "anomalies", "rtt_ms",
	"delivered_client", "delivered_server", "out_of_order_client", "out_of_order_server",
	"duplicate_client", "duplicate_server", "gap_bytes_client", "gap_bytes_server",
}

// CSV writes one row per connection under CSVHeader. The summary is not part
// of the CSV; it goes to the text or JSON outputs.
func CSV(w io.Writer, r *report.Report) error {
	s := NewCSVStream(w)
	for _, c := range r.Conns {
		s.Conn(c, nil)
	}
	return s.Finish()
}

// CSVWindow is how many rows a CSVStream holds to put them in ID order.
const CSVWindow = 10_000

// CSVStream writes the CSV rows as connections finish, the header first,
// in ID order: each row waits in a buffer of CSVWindow rows ordered by ID,
// and whenever it is full the lowest ID is written. A connection that
// finishes after that many later ones (it stayed open) is written when it
// finishes, after higher IDs. Write errors are kept and returned by
// Finish.
type CSVStream struct {
	w    *bufio.Writer
	line bytes.Buffer
	cw   *csv.Writer // to line
	row  []string
	rows *reorder[int, []byte]
	err  error
}

// NewCSVStream returns a stream writing to w; it writes the header.
func NewCSVStream(w io.Writer) *CSVStream { return newCSVStream(w, CSVWindow) }

func newCSVStream(w io.Writer, window int) *CSVStream {
	s := &CSVStream{w: bufio.NewWriterSize(w, 64<<10)}
	s.cw = csv.NewWriter(&s.line)
	s.rows = newReorder(window, intLess, s.write)
	s.write(s.encode(CSVHeader))
	return s
}

// encode is the CSV line of cells.
func (s *CSVStream) encode(cells []string) []byte {
	s.line.Reset()
	if err := s.cw.Write(cells); err != nil && s.err == nil {
		s.err = err
	}
	s.cw.Flush()
	return bytes.Clone(s.line.Bytes())
}

func (s *CSVStream) write(b []byte) {
	if s.err == nil {
		_, s.err = s.w.Write(b)
	}
}

// Conn queues the row of one connection (its anomalies are not part of
// the CSV).
func (s *CSVStream) Conn(c *report.Conn, _ []*report.Anomaly) {
	s.row = csvRow(s.row[:0], c)
	s.rows.add(c.ID, s.encode(s.row))
}

// Late is the number of rows written after a higher ID.
func (s *CSVStream) Late() int { return s.rows.late }

// Finish writes the rows held and flushes.
func (s *CSVStream) Finish() error {
	s.rows.flush()
	if s.err != nil {
		return s.err
	}
	return s.w.Flush()
}

// csvRow appends the CSV cells of c to row.
func csvRow(row []string, c *report.Conn) []string {
	row = append(row,
		strconv.Itoa(c.ID), c.Client, c.Server, c.VLAN, c.ServerVLAN, string(c.RoleBy), c.FirstFile, i64s(c.FirstFrame),
		c.LastFile, i64s(c.LastFrame), c.Start, strconv.FormatFloat(c.Duration, 'f', 6, 64),
		i64s(c.Packets.Client), i64s(c.Packets.Server), i64s(c.Bytes.Client), i64s(c.Bytes.Server),
		i64s(c.SYN.Client), i64s(c.SYN.Server), i64s(c.FIN.Client), i64s(c.FIN.Server),
		i64s(c.RST.Client), i64s(c.RST.Server), c.State, hsClass(c), closeClass(c), c.ClosedBy,
		c.ClientState, c.ServerState, c.ConnState, c.History, i64s(c.Truncated), strconv.FormatBool(c.Reused), anomalyCSV(c.Anomalies), csvRTT(c.RTTms),
	)
	var ra report.Reassembly
	if c.Reassembly != nil {
		ra = *c.Reassembly
	}
	return append(row, i64s(ra.Client.Delivered), i64s(ra.Server.Delivered), i64s(ra.Client.OutOfOrder), i64s(ra.Server.OutOfOrder),
		i64s(ra.Client.Duplicate), i64s(ra.Server.Duplicate), i64s(ra.Client.GapBytes), i64s(ra.Server.GapBytes))
}

// anomalyTable lists every anomaly in capture order.
func anomalyTable(w io.Writer, anoms []*report.Anomaly, multi bool, o Options) error {
	rows := make([][]string, 0, len(anoms))
	for _, a := range anoms {
		frame := strconv.FormatInt(a.Frame, 10)
		if multi {
			frame = baseName(a.File) + ":" + frame
		}
		c := sevColors[a.Severity]
		sev, kind := paint(o.Color, c, a.Severity), paint(o.Color, c, a.Kind)
		rows = append(rows, []string{frame, strconv.Itoa(a.Conn), a.Dir, sev, kind, a.Detail})
	}
	specs := []*fitSpec{0: {shrink: 12, cut: 2, left: true}, 5: {shrink: 12, cut: 1}}
	return writeTable(w, o.Width, specs, []string{"frame", "conn", "from", "severity", "kind", "detail"}, rows)
}

// anomalySummary renders the counts of a connection compactly, most frequent
// first: "retransmission 3, duplicate_ack 2".
func anomalySummary(m map[string]int64) string {
	type kv struct {
		k string
		n int64
	}
	var list []kv
	for k, n := range m {
		list = append(list, kv{k, n})
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].n != list[j].n {
			return list[i].n > list[j].n
		}
		return list[i].k < list[j].k
	})
	var parts []string
	for i, e := range list {
		if i == 2 {
			parts = append(parts, fmt.Sprintf("+%d more", len(list)-2))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %d", e.k, e.n))
	}
	return strings.Join(parts, ", ")
}

func summary(w io.Writer, s *report.Summary, o Options) error {
	fmt.Fprintln(w, paint(o.Color, boldColor, "Summary"))
	fmt.Fprintf(w, "  files:        %s\n", strings.Join(s.Files, ", "))
	fmt.Fprintf(w, "  frames:       %d\n", s.Frames)
	fmt.Fprintf(w, "  tcp segments: %d\n", s.TCPSegments)
	if s.Selected {
		fmt.Fprintf(w, "  connections:  %d shown of %d\n", s.Connections, s.ConnsTotal)
	} else {
		fmt.Fprintf(w, "  connections:  %d\n", s.Connections)
	}
	if s.First != "" {
		fmt.Fprintf(w, "  time:         %s .. %s\n", s.First, s.Last)
	}
	if s.Interrupted {
		fmt.Fprintf(w, "  interrupted:  %s\n", InterruptedText(s))
	}
	if len(s.Skipped) > 0 {
		keys := make([]string, 0, len(s.Skipped))
		for k := range s.Skipped {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %d", k, s.Skipped[k]))
		}
		fmt.Fprintf(w, "  skipped:      %s\n", strings.Join(parts, ", "))
	}
	if len(s.UnsupportedLTs) > 0 {
		keys := make([]string, 0, len(s.UnsupportedLTs))
		for k := range s.UnsupportedLTs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("LINKTYPE %s: %d frames", k, s.UnsupportedLTs[k]))
		}
		fmt.Fprintf(w, "  unsupported:  %s\n", strings.Join(parts, ", "))
	}
	if s.Truncated > 0 {
		fmt.Fprintf(w, "  truncated:    %d segments cut by the snaplen (sequence space taken from the IP length)\n", s.Truncated)
	}
	if s.OverSnaplen > 0 {
		fmt.Fprintf(w, "  over snaplen: %d records longer than the file's snaplen\n", s.OverSnaplen)
	}
	if f := s.Fragments; f != nil {
		fmt.Fprintf(w, "  ip fragments: %d, %d datagrams reassembled, %d incomplete, %d evicted, %d timed out, %d overlaps (%d conflicting)\n",
			f.Fragments, f.Completed, f.Pending, f.Evicted, f.TimedOut, f.Overlaps, f.Conflicts)
	}
	if r := s.Reassembly; r != nil && (r.OutOfOrder > 0 || r.Duplicate > 0 || r.GapBytes > 0 || r.BudgetFlushes > 0) {
		fmt.Fprintf(w, "  reassembly:   %d bytes delivered, %d out of order, %d duplicate, %d missing in %d gaps",
			r.Delivered, r.OutOfOrder, r.Duplicate, r.GapBytes, r.Gaps)
		if r.BudgetFlushes > 0 {
			fmt.Fprintf(w, ", %d holes given up to the memory budget (%d per connection, %d in all)", r.BudgetFlushes, r.ConnBudget, r.GlobalBudget)
		}
		fmt.Fprintln(w)
	}
	if s.ConnsEvicted > 0 {
		fmt.Fprintf(w, "  evicted:      %d connections finished early: more than %d were open at once (--max-conns)\n", s.ConnsEvicted, s.MaxConns)
	}
	if l := s.Live; l != nil {
		for _, i := range l.Interfaces {
			fmt.Fprintf(w, "  interface:    %s: %d packets received, %d dropped by the kernel\n", i.Name, i.Received, i.Dropped)
		}
		if l.Filter != "" {
			fmt.Fprintf(w, "  filter:       %s (in the kernel)\n", l.Filter)
		}
		fmt.Fprintf(w, "  stopped:      %s\n", l.Stopped)
		if l.SuperFrames > 0 {
			fmt.Fprintf(w, "  super-frames: %d packets larger than the MTU (GRO/TSO), analyzed as they are\n", l.SuperFrames)
		}
		if l.Dropped > 0 {
			fmt.Fprintln(w, paint(o.Color, errColor, fmt.Sprintf("  incomplete:   the kernel dropped %d packets; %d connections were open then (incomplete_capture: their gaps may be the capture's, not the network's)", l.Dropped, l.DropConns)))
		}
		kernel := l.KernelTrace
		if k := s.KernelEvents; k != nil && kernel == "on" {
			kernel = fmt.Sprintf("on: %d tcp_send_reset, %d joined to a RST", k.SendResets, k.Joined)
			if k.NotLogged > 0 {
				kernel += fmt.Sprintf("; %d RSTs from a local address that the local stack did not send", k.NotLogged)
			}
		}
		fmt.Fprintf(w, "  kernel:       %s\n", kernel)
		if l.Written != "" {
			fmt.Fprintf(w, "  written:      %s\n", l.Written)
		}
	}
	for _, e := range s.Errors {
		fmt.Fprintln(w, paint(o.Color, errColor, "  error:        "+e))
	}
	return nil
}

// Summary writes the summary block alone (tcptrace live ends with it).
func Summary(w io.Writer, s *report.Summary, o Options) error { return summary(w, s, o) }

// streamText sums up the reassembly of both directions: "ok" when every
// byte arrived once and in order, else what went wrong each way
// ("→ 2896 ooo, 1448 dup; ← 1448 missing").
func streamText(r *report.Reassembly) string {
	if r == nil {
		return ""
	}
	one := func(s report.StreamStats) string {
		var parts []string
		if s.GapBytes > 0 {
			parts = append(parts, fmt.Sprintf("%d missing", s.GapBytes))
		}
		if s.OutOfOrder > 0 {
			parts = append(parts, fmt.Sprintf("%d ooo", s.OutOfOrder))
		}
		if s.Duplicate > 0 {
			parts = append(parts, fmt.Sprintf("%d dup", s.Duplicate))
		}
		return strings.Join(parts, ", ")
	}
	a, b := one(r.Client), one(r.Server)
	switch {
	case a == "" && b == "":
		return "ok"
	case b == "":
		return "→ " + a
	case a == "":
		return "← " + b
	}
	return "→ " + a + "; ← " + b
}

// anomalyCSV renders counts as "kind=n;kind=n", sorted by kind.
func anomalyCSV(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, ";")
}

func csvRTT(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

func rttText(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', 3, 64)
}

func hsClass(c *report.Conn) string {
	if c.Handshake == nil {
		return ""
	}
	return c.Handshake.Class
}

func closeClass(c *report.Conn) string {
	if c.Close == nil {
		return ""
	}
	return c.Close.Class
}

// newTable returns the house table style: no borders, a rule under the
// header, left-aligned cells that never wrap.
func newTable(w io.Writer) *tablewriter.Table {
	return tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithTrimSpace(tw.Off),
		tablewriter.WithRendition(tw.Rendition{
			Borders: tw.BorderNone,
			Settings: tw.Settings{
				Separators: tw.Separators{ShowHeader: tw.On, BetweenColumns: tw.Off},
				Lines:      tw.Lines{ShowHeaderLine: tw.On},
			},
		}),
	)
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// shortTime drops the date part of an RFC 3339 time when rendering tables:
// "2026-01-01T00:00:00.123456000Z" → "2026-01-01 00:00:00.123456".
func shortTime(s string) string {
	s = strings.TrimSuffix(s, "Z")
	s = strings.Replace(s, "T", " ", 1)
	if i := strings.IndexByte(s, '.'); i >= 0 && len(s) > i+7 {
		s = s[:i+7]
	}
	return s
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, "/\\"); i >= 0 {
		return p[i+1:]
	}
	return p
}

// InterruptedText says where a run was interrupted: "by SIGINT at frame
// 1234 of x.pcap: …".
func InterruptedText(s *report.Summary) string {
	at := fmt.Sprintf("at frame %d", s.LastFrame)
	if s.LastFile != "" {
		at += " of " + s.LastFile
	}
	return fmt.Sprintf("by %s %s: what was read before is reported, connections still open then as open", s.Signal, at)
}

// i64s is n in decimal.
func i64s(n int64) string { return strconv.FormatInt(n, 10) }
