package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tcptrace/tcptrace/report"
)

// Streaming text (tcptrace live): one line per connection as it finishes,
// in fixed-width columns so that no table has to be held, and one line per
// reset and anomaly as it is reported (--events).

// liveCols are the columns of ConnLine: name and width (0: as wide as it is).
var liveCols = []struct {
	name  string
	width int
	right bool
}{
	{"id", 5, true}, {"client → server", 47, false}, {"start (UTC)", 15, false}, {"duration", 11, true},
	{"pkts →", 7, true}, {"pkts ←", 7, true}, {"bytes →", 10, true}, {"bytes ←", 10, true}, {"rtt ms", 8, true},
	{"state", 34, false}, {"end c/s", 21, false}, {"anomalies", 0, false},
}

func liveLine(cells []string) string {
	var b strings.Builder
	for i, c := range cells {
		col := liveCols[i]
		if i > 0 {
			b.WriteString("  ")
		}
		pad := col.width - len([]rune(c))
		if col.right && pad > 0 {
			b.WriteString(strings.Repeat(" ", pad))
		}
		b.WriteString(c)
		if !col.right && pad > 0 && i < len(cells)-1 {
			b.WriteString(strings.Repeat(" ", pad))
		}
	}
	return strings.TrimRight(b.String(), " ")
}

// ConnHeader writes the header of the ConnLine columns.
func ConnHeader(w io.Writer, o Options) error {
	cells := make([]string, len(liveCols))
	for i, c := range liveCols {
		cells[i] = c.name
	}
	_, err := fmt.Fprintln(w, paint(o.Color, boldColor, liveLine(cells)))
	return err
}

// ConnLine writes one finished connection on one line: the columns of the
// analyze table (the frames column aside: a live capture numbers frames
// from the start of the run), in fixed widths.
func ConnLine(w io.Writer, c *report.Conn, o Options) error {
	state := c.State
	if c.RoleBy != "syn" {
		state += " (roles by " + string(c.RoleBy) + ")"
	}
	start := shortTime(c.Start)
	if i := strings.IndexByte(start, ' '); i >= 0 {
		start = start[i+1:] // the time of day; the date is in the summary
	}
	cells := []string{strconv.Itoa(c.ID), c.Client + " → " + c.Server, start, fmt.Sprintf("%.6f", c.Duration),
		strconv.FormatInt(c.Packets.Client, 10), strconv.FormatInt(c.Packets.Server, 10),
		strconv.FormatInt(c.Bytes.Client, 10), strconv.FormatInt(c.Bytes.Server, 10), rttText(c.RTTms),
		state, c.ClientState + "/" + c.ServerState, anomalySummary(c.Anomalies)}
	line := liveLine(cells)
	if o.Color && (strings.Contains(c.State, "reset") || strings.HasPrefix(c.State, "refused")) {
		line = paint(true, causeColors["abort"], line)
	}
	_, err := fmt.Fprintln(w, line)
	return err
}

// ResetLine writes one RST of connection c as an event line: who sent it,
// its cause and the Linux reasons, inferred and (when read) the kernel's.
func ResetLine(w io.Writer, c *report.Conn, rs *report.Reset, o Options) error {
	why := rs.Cause
	var reasons []string
	if rs.LinuxReason != "" {
		reasons = append(reasons, "linux "+rs.LinuxReason)
	}
	if rs.KernelReason != "" {
		reasons = append(reasons, "kernel "+rs.KernelReason)
	}
	for _, s := range rs.Signals {
		if s.Name == "kernel" && s.Forged {
			reasons = append(reasons, "not sent by the local kernel")
		}
	}
	if len(reasons) > 0 {
		why += " (" + strings.Join(reasons, ", ") + ")"
	}
	_, err := fmt.Fprintf(w, "%s  RST   conn %d  %s → %s  frame %d  by the %s (%s): %s\n", shortTime(rs.Time), c.ID, c.Client, c.Server,
		rs.Frame, rs.Sender, rs.SenderState, paint(o.Color, causeColors[rs.Cause], why))
	return err
}

// AnomalyLine writes one anomaly as an event line.
func AnomalyLine(w io.Writer, a *report.Anomaly, o Options) error {
	_, err := fmt.Fprintf(w, "%s  %-5s conn %d  frame %d  %s from the %s: %s\n", shortTime(a.Time), a.Severity, a.Conn, a.Frame, a.Kind, a.Dir, a.Detail)
	return err
}
