package render

import (
	"fmt"
	"io"
	"sort"
	"strings"

	json "github.com/goccy/go-json"

	"github.com/fatih/color"

	"github.com/tcptrace/tcptrace/report"
)

// ResetRecord is one RST as a JSON line ("type":"reset", docs/json.md).
type ResetRecord struct {
	Type   string `json:"type"` // always "reset"
	Conn   int    `json:"conn"`
	Client string `json:"client"`
	Server string `json:"server"`
	*report.Reset
}

// ResetsJSON writes one record per RST, in capture order, then the summary.
func ResetsJSON(w io.Writer, r *report.Report) error {
	enc := json.NewEncoder(w)
	for _, x := range resetsInOrder(r) {
		if err := enc.Encode(ResetRecord{Type: "reset", Conn: x.c.ID, Client: x.c.Client, Server: x.c.Server, Reset: x.r}); err != nil {
			return err
		}
	}
	return enc.Encode(&r.Summary)
}

type connReset struct {
	c *report.Conn
	r *report.Reset
}

func resetsInOrder(r *report.Report) []connReset {
	var out []connReset
	for _, c := range r.Conns {
		for i := range c.Resets {
			out = append(out, connReset{c, &c.Resets[i]})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].r.TS < out[j].r.TS })
	return out
}

// Resets writes the diagnosis of every RST for people: who sent it, in which
// state, whether it was accepted, why it most likely happened and on which
// frames that rests, who saw an error, then a count per cause.
func Resets(w io.Writer, r *report.Report, o Options) error {
	all := resetsInOrder(r)
	causeColor := map[string]*color.Color{
		"refused": color.New(color.FgYellow), "abort": color.New(color.FgRed), "reset-after-close": color.New(color.FgMagenta),
		"middlebox-suspect": color.New(color.FgRed, color.Bold), "half-open": color.New(color.FgRed), "idle-timeout-suspect": color.New(color.FgRed),
		"retransmission-timeout": color.New(color.FgRed),
	}
	paint := func(c *color.Color, s string) string { return paint(o.Color, c, s) }
	counts := map[string]int{}
	for i, x := range all {
		c, rs := x.c, x.r
		counts[rs.Cause]++
		fmt.Fprintln(w, paint(boldColor, fmt.Sprintf("RST %d of %d: connection %d, %s → %s, frame %d at %s", i+1, len(all), c.ID, c.Client, c.Server, rs.Frame, shortTime(rs.Time))))
		fmt.Fprintf(w, "  sent by     %s (%s); the %s was %s\n", rs.Sender, rs.SenderState, other(rs.Sender), rs.ReceiverState)
		fmt.Fprintf(w, "  accepted    %s\n", acceptedWords(rs))
		fmt.Fprintf(w, "  cause       %s: %s\n", paint(causeColor[rs.Cause], rs.Cause), rs.Detail)
		for _, e := range rs.Evidence {
			fmt.Fprintf(w, "  evidence    frame %d: %s\n", e.Frame, e.What)
		}
		if rs.AppSees != "" {
			fmt.Fprintf(w, "  who saw it  %s\n", rs.AppSees)
		}
		if rs.Unacked != nil {
			fmt.Fprintf(w, "  in flight   client %d bytes, server %d bytes not yet acknowledged\n", rs.Unacked.Client, rs.Unacked.Server)
		}
		if rs.SinceData != nil {
			fmt.Fprintf(w, "  last data   client %s, server %s\n", sinceWords(rs.SinceData.Client, rs.LastDataFrames.Client), sinceWords(rs.SinceData.Server, rs.LastDataFrames.Server))
		}
		if len(rs.Recent) > 0 {
			fmt.Fprintln(w, "  before it")
			for _, s := range rs.Recent {
				arrow := "client → server"
				if s.Sender == "server" {
					arrow = "server → client"
				}
				fmt.Fprintf(w, "    frame %-7d %s  %s  len %d  %+.6f s\n", s.Frame, arrow, s.Flags, s.Len, float64(s.TS-rs.TS)/1e9)
			}
		}
		fmt.Fprintln(w)
	}
	if len(all) == 0 {
		fmt.Fprintln(w, "No RST in the selected connections.")
		return nil
	}
	causes := make([]string, 0, len(counts))
	for k := range counts {
		causes = append(causes, k)
	}
	sort.Slice(causes, func(i, j int) bool {
		if counts[causes[i]] != counts[causes[j]] {
			return counts[causes[i]] > counts[causes[j]]
		}
		return causes[i] < causes[j]
	})
	var parts []string
	for _, k := range causes {
		parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
	}
	ended := 0
	for _, c := range r.Conns {
		if c.Close != nil && (c.Close.Class == "reset" || c.Close.Class == "fin-then-reset") {
			ended++
		}
	}
	fmt.Fprintf(w, "%d RSTs in %d connections (%d ended by one): %s\n", len(all), connsWithResets(r), ended, strings.Join(parts, ", "))
	return nil
}

func connsWithResets(r *report.Report) int {
	n := 0
	for _, c := range r.Conns {
		if len(c.Resets) > 0 {
			n++
		}
	}
	return n
}

func other(side string) string {
	if side == "client" {
		return "server"
	}
	return "client"
}

func acceptedWords(rs *report.Reset) string {
	recv := other(rs.Sender)
	switch rs.Accepted {
	case "exact":
		return fmt.Sprintf("exact: seq %d is the %s's rcv.nxt, so the %s resets (RFC 9293)", rs.Seq, recv, recv)
	case "in-window":
		s := fmt.Sprintf("in window but not exact (seq %d, rcv.nxt %d): a challenge ACK is expected (RFC 5961)", rs.Seq, rs.Expected)
		if rs.ChallengeACK > 0 {
			return s + fmt.Sprintf(", and frame %d is one", rs.ChallengeACK)
		}
		return s + ", none was captured"
	case "out-of-window":
		return fmt.Sprintf("out of window (seq %d, rcv.nxt %d): the %s ignores it", rs.Seq, rs.Expected, recv)
	}
	return "unknown: the capture does not show the receiver's sequence space; taken as accepted"
}

func sinceWords(s float64, frame int64) string {
	if s < 0 || frame == 0 {
		return "none"
	}
	return fmt.Sprintf("%.6f s before (frame %d)", s, frame)
}
