package render

import (
	"bufio"
	"io"
	"net/netip"
	"strconv"
	"time"

	"github.com/tcptrace/tcptrace/report"
)

// ZeekFields are the columns of Zeek's conn.log (Zeek 7's default
// conn.log, base/protocols/conn/main.zeek), in Zeek's order; ZeekTypes are
// their Zeek types. docs/zeek.md maps each to what tcptrace knows.
var (
	ZeekFields = []string{"ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service",
		"duration", "orig_bytes", "resp_bytes", "conn_state", "local_orig", "local_resp", "missed_bytes", "history",
		"orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "tunnel_parents", "ip_proto"}
	ZeekTypes = []string{"time", "string", "addr", "port", "addr", "port", "enum", "string",
		"interval", "count", "count", "string", "bool", "bool", "count", "string",
		"count", "count", "count", "count", "set[string]", "count"}
)

// zeekUnset is Zeek's #unset_field: a field without a value.
const zeekUnset = "-"

// ZeekUID is the uid tcptrace gives connection id in a conn.log: "C"
// followed by id in base 62 (Zeek's digits 0-9, A-Z, a-z), so that it reads
// like Zeek's uids, is the same on every run, and leads back to the
// connection (--conn). Zeek's own uids are random: they cannot be
// reproduced.
func ZeekUID(id int) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	if id <= 0 {
		return "C0"
	}
	var b [16]byte
	i := len(b)
	for n := id; n > 0; n /= 62 {
		i--
		b[i] = digits[n%62]
	}
	i--
	b[i] = 'C'
	return string(b[i:])
}

// zeekTime formats ns since the epoch as Zeek's ASCII writer writes a time:
// seconds with six decimals.
func zeekTime(ns int64) string {
	return strconv.FormatFloat(float64(ns)/1e9, 'f', 6, 64)
}

// zeekOpen formats ns as Zeek's #open and #close lines do (UTC here:
// tcptrace takes them from the capture, not from the clock).
func zeekOpen(ns int64) string {
	return time.Unix(0, ns).UTC().Format("2006-01-02-15-04-05")
}

// ZeekRow appends the conn.log cells of c to row, in ZeekFields order, in
// Zeek's originator/responder frame (c.ZeekFlipped: the originator is
// tcptrace's server).
func ZeekRow(row []string, c *report.Conn) []string {
	orig, resp := c.Client, c.Server
	if c.ZeekFlipped {
		orig, resp = resp, orig
	}
	oh, op := zeekEndpoint(orig)
	rh, rp := zeekEndpoint(resp)
	z := &c.Zeek
	first, last := z.First, z.Last
	if first == 0 && last == 0 {
		first, last = c.StartNS, c.LastNS
	}
	u := func(n uint64) string { return strconv.FormatUint(n, 10) }
	// Zeek sets duration, orig_bytes and resp_bytes only when the
	// connection lasted (conn/main.zeek, set_conn).
	dur, ob, rb := zeekUnset, zeekUnset, zeekUnset
	if last > first {
		dur = strconv.FormatFloat(float64(last-first)/1e9, 'f', 6, 64)
		ob, rb = u(z.OrigBytes), u(z.RespBytes)
	}
	return append(row,
		zeekTime(first), ZeekUID(c.ID), oh, op, rh, rp, "tcp", zeekUnset,
		dur, ob, rb, zeekString(c.ConnState), zeekUnset, zeekUnset, u(z.MissedBytes), zeekString(c.History),
		strconv.FormatInt(z.OrigPkts, 10), u(z.OrigIPBytes), strconv.FormatInt(z.RespPkts, 10), u(z.RespIPBytes), zeekUnset, "6")
}

// zeekString is a string field, unset when empty (Zeek logs no history
// for a connection without a letter).
func zeekString(s string) string {
	if s == "" {
		return zeekUnset
	}
	return s
}

// zeekEndpoint splits "ip:port" / "[ip6]:port" into Zeek's addr and port.
func zeekEndpoint(s string) (string, string) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return zeekUnset, zeekUnset
	}
	return ap.Addr().WithZone("").String(), strconv.Itoa(int(ap.Port()))
}

// ZeekStream writes Zeek's conn.log (ASCII, tab-separated: the format of
// Zeek's default ASCII writer, read by zeek-cut) as connections finish, in
// ID order through the same window as CSVStream. The header is written with
// the first row (or at Finish when there is none): its #open line is the
// first row's ts, the #close line the capture's last packet, so that the
// log is the same on every run. Write errors are kept and returned by
// Finish.
type ZeekStream struct {
	w      *bufio.Writer
	row    []string
	rows   *reorder[int, zeekLine]
	header bool
	last   int64 // the latest packet of the rows written (ns)
	err    error
}

// NewZeekStream returns a stream writing a conn.log to w.
func NewZeekStream(w io.Writer) *ZeekStream {
	s := &ZeekStream{w: bufio.NewWriterSize(w, 64<<10)}
	s.rows = newReorder(CSVWindow, intLess, s.write)
	return s
}

// Conn queues the row of one connection (anomalies are not in conn.log).
func (s *ZeekStream) Conn(c *report.Conn, _ []*report.Anomaly) {
	s.row = ZeekRow(s.row[:0], c)
	var b []byte
	for i, cell := range s.row {
		if i > 0 {
			b = append(b, '\t')
		}
		b = appendZeekEscaped(b, cell)
	}
	b = append(b, '\n')
	first := c.Zeek.First
	if first == 0 {
		first = c.StartNS
	}
	s.rows.add(c.ID, zeekLine{first, b})
	s.last = max(s.last, c.LastNS, c.Zeek.Last)
}

// zeekLine is one row of the log and its ts (ns), for the #open line.
type zeekLine struct {
	ts int64
	b  []byte
}

// appendZeekEscaped appends a cell as Zeek's ASCII writer does: the
// separator and other control bytes as \xNN (no field of tcptrace's holds
// them; a safety measure).
func appendZeekEscaped(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
	}
	return b
}

func (s *ZeekStream) write(l zeekLine) {
	if !s.header {
		s.writeHeader(l.ts)
	}
	if s.err == nil {
		_, s.err = s.w.Write(l.b)
	}
}

// writeHeader writes Zeek's log header, #open at ns.
func (s *ZeekStream) writeHeader(ns int64) {
	s.header = true
	if s.err != nil {
		return
	}
	bw := s.w
	bw.WriteString("#separator \\x09\n")
	bw.WriteString("#set_separator\t,\n")
	bw.WriteString("#empty_field\t(empty)\n")
	bw.WriteString("#unset_field\t-\n")
	bw.WriteString("#path\tconn\n")
	bw.WriteString("#open\t" + zeekOpen(ns) + "\n")
	bw.WriteString("#fields")
	for _, f := range ZeekFields {
		bw.WriteString("\t" + f)
	}
	bw.WriteString("\n#types")
	for _, t := range ZeekTypes {
		bw.WriteString("\t" + t)
	}
	_, s.err = bw.WriteString("\n")
}

// Late is the number of rows written after a higher ID.
func (s *ZeekStream) Late() int { return s.rows.late }

// Finish writes the rows held and the #close line, and flushes. first and
// last are the capture's first and last packet (ns; 0: unknown): the
// #open line of a log without rows, and the #close line.
func (s *ZeekStream) Finish(first, last int64) error {
	s.rows.flush()
	if !s.header {
		s.writeHeader(first)
	}
	if last == 0 {
		last = s.last
	}
	if s.err == nil {
		_, s.err = s.w.WriteString("#close\t" + zeekOpen(last) + "\n")
	}
	if s.err != nil {
		return s.err
	}
	return s.w.Flush()
}
