package render

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	json "github.com/goccy/go-json"

	"github.com/tcptrace/tcptrace/report"
)

// NotInferred is how the counts name the RSTs whose linux_reason the wire
// could not tell.
const NotInferred = "(not inferred)"

// foldFrames is how many frames of the follow-up RSTs folded under a first
// RST the text names before "…".
const foldFrames = 5

// ResetRecord is one RST as a JSON line ("type":"reset", docs/json.md).
type ResetRecord struct {
	Type   string `json:"type"` // always "reset"
	Conn   int    `json:"conn"`
	Client string `json:"client"`
	Server string `json:"server"`
	*report.Reset
}

// ResetsSummary is the summary record that closes `tcptrace resets --format
// json`: the analysis summary ("type":"summary") with the counts of the RSTs
// the report shows.
type ResetsSummary struct {
	*report.Summary
	Resets *ResetCounts `json:"resets"`
}

// ResetCounts counts the RSTs a resets report shows (with --cause, those of
// the selected causes).
type ResetCounts struct {
	RSTs          int            `json:"rsts"`
	Conns         int            `json:"connections"`          // connections with at least one of them
	EndedByRST    int            `json:"ended_by_rst"`         // of those, the connections a RST ended (close reset or fin-then-reset)
	FollowUps     int            `json:"follow_ups"`           // RSTs with follows_frame: a further RST of a sender that had reset already
	ByCause       map[string]int `json:"by_cause"`             // RSTs per cause
	ConnsByCause  map[string]int `json:"connections_by_cause"` // connections with a RST of each cause
	ByLinuxReason map[string]int `json:"by_linux_reason"`      // RSTs per inferred linux_reason
	NotInferred   int            `json:"linux_reason_not_inferred"`
	Kernel        *KernelCounts  `json:"kernel,omitempty"`       // when the kernel's own reasons were read
	Causes        []string       `json:"causes,omitempty"`       // the --cause selection
	RSTsTotal     int            `json:"rsts_total"`             // all RSTs of the selected connections, whatever their cause
	OutOfOrder    int            `json:"out_of_order,omitempty"` // "reset" records written out of capture order (ResetsStream)
}

// KernelCounts sets the kernel's own reasons beside the inferred ones.
type KernelCounts struct {
	ByReason     map[string]int `json:"by_reason"`     // RSTs per kernel_reason
	LinuxMatches map[string]int `json:"linux_matches"` // of those, the RSTs whose linux_reason is the same
}

// ResetsJSON writes one record per RST shown, in capture order, then the
// summary with the counts. With o.Causes only the RSTs of those causes are
// written; with o.Summary only the summary. It is ResetsStream over the
// report's connections.
func ResetsJSON(w io.Writer, r *report.Report, o Options) error {
	s := NewResetsStream(w, true, o)
	forEachConn(r, s.Conn)
	return s.Finish(&r.Summary)
}

// Resets writes the diagnosis of the RSTs for people: first the counts per
// cause and per linux_reason (o.Summary: only those), then one entry per
// connection with each RST — who sent it, in which state, whether it was
// accepted, why it most likely happened and on which frames that rests, the
// reason a Linux sender would have logged (and the kernel's own, when read),
// the signals for and against a forgery, who saw an error — and the
// follow-up RSTs of its sender folded under it. o.Causes selects RSTs by
// cause. It is ResetsStream over the report's connections.
func Resets(w io.Writer, r *report.Report, o Options) error {
	s := NewResetsStream(w, false, o)
	forEachConn(r, s.Conn)
	return s.Finish(&r.Summary)
}

// ResetsWindow is how many RSTs (JSON) or connections with RSTs (text) a
// ResetsStream holds to put them in capture order.
const ResetsWindow = 10_000

// ResetsStream writes the report of tcptrace resets as connections finish
// (Conn), in JSON (one record per RST, then the summary) or text (the
// counts, then one entry per connection). It holds the counts and a
// bounded buffer, nothing per connection:
//
//   - the JSON records are in capture order (time of the RST, then
//     connection ID): each waits in a buffer of ResetsWindow ordered so,
//     and whenever it is full the first is written. A RST that comes after
//     that many later ones (its connection stayed open) is written when it
//     comes, and counted in the summary (resets.out_of_order).
//   - the text entries are in the order of each connection's first RST
//     shown, through the same kind of buffer (ResetsWindow connections).
//     As the counts open the report, the entries that leave the buffer
//     before the end wait in a temporary file (spool) until Finish, which
//     writes the counts and then them. A late entry is written when it
//     comes, and a line after the entries counts them.
//
// Write errors are kept and returned by Finish.
type ResetsStream struct {
	w      *bufio.Writer
	json   bool
	o      Options
	window int
	counts *ResetCounts
	conns  map[string]int // scratch: the causes of one connection

	held  *reorder[resetKey, []byte] // records or entries, rendered, by key
	buf   bytes.Buffer               // a JSON record
	enc   *json.Encoder              // to buf
	out   io.Writer                  // where records or entries go when they leave held: w (JSON) or spool (text)
	spool *spool
	err   error
}

// resetKey orders the records (one RST: its time, connection, place in the
// connection) or entries (a connection: the time of its first RST shown).
type resetKey struct {
	ts      int64
	conn, i int
}

func (a resetKey) before(b resetKey) bool {
	if a.ts != b.ts {
		return a.ts < b.ts
	}
	if a.conn != b.conn {
		return a.conn < b.conn
	}
	return a.i < b.i
}

// NewResetsStream returns a stream writing to w, as JSON lines or text.
func NewResetsStream(w io.Writer, asJSON bool, o Options) *ResetsStream {
	return newResetsStream(w, asJSON, o, ResetsWindow)
}

func newResetsStream(w io.Writer, asJSON bool, o Options, window int) *ResetsStream {
	bw := bufio.NewWriterSize(w, 64<<10)
	s := &ResetsStream{w: bw, json: asJSON, o: o, window: window, counts: newResetCounts(o.Causes), conns: map[string]int{}}
	if asJSON {
		s.out = bw
		s.enc = json.NewEncoder(&s.buf)
		s.enc.SetEscapeHTML(false)
	} else {
		s.spool = &spool{}
		s.out = s.spool
	}
	s.held = newReorder(window, resetKey.before, s.put)
	return s
}

// Conn counts the RSTs of one finished connection and queues what the
// report shows of them; the record may not change after.
func (s *ResetsStream) Conn(c *report.Conn, _ []*report.Anomaly) {
	shown := s.counts.add(c, s.conns)
	if len(shown) == 0 || s.o.Summary {
		return
	}
	if s.json {
		for _, x := range shown {
			s.buf.Reset()
			if err := s.enc.Encode(ResetRecord{Type: "reset", Conn: c.ID, Client: c.Client, Server: c.Server, Reset: x.r}); err != nil && s.err == nil {
				s.err = err
			}
			s.held.add(resetKey{x.r.TS, c.ID, x.i}, bytes.Clone(s.buf.Bytes()))
		}
		return
	}
	var b bytes.Buffer
	b.WriteByte('\n')
	resetEntryText(&b, groupResets(c, shown), s.o)
	s.held.add(resetKey{shown[0].r.TS, c.ID, 0}, bytes.Clone(b.Bytes()))
}

func (s *ResetsStream) put(b []byte) {
	if s.err == nil {
		_, s.err = s.out.Write(b)
	}
}

// Finish writes what is held and the end of the report (JSON: the summary
// record with the counts; text: the counts, then the entries), and
// flushes.
func (s *ResetsStream) Finish(sum *report.Summary) error {
	s.held.flush()
	if late := s.held.late; late > 0 {
		if s.json {
			s.counts.OutOfOrder = late
		} else {
			what := "1 connection is"
			if late > 1 {
				what = fmt.Sprintf("%d connections are", late)
			}
			s.put([]byte(fmt.Sprintf("\n(%s printed out of capture order, when they finished: they were still open after %d later ones had)\n", what, s.window)))
		}
	}
	if s.err != nil {
		s.spool.close()
		return s.err
	}
	if s.json {
		if err := s.w.Flush(); err != nil {
			return err
		}
		enc := json.NewEncoder(s.w)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(ResetsSummary{Summary: sum, Resets: s.counts}); err != nil {
			return err
		}
		return s.w.Flush()
	}
	defer s.spool.close()
	if err := s.text(sum); err != nil {
		return err
	}
	return s.w.Flush()
}

// text writes the text report once every connection is in.
func (s *ResetsStream) text(sum *report.Summary) error {
	w, n := s.w, s.counts
	if sum.Interrupted {
		fmt.Fprintf(w, "Interrupted %s.\n\n", InterruptedText(sum))
	}
	if n.RSTs == 0 {
		switch {
		case n.RSTsTotal == 0:
			fmt.Fprintln(w, "No RST in the selected connections.")
		default:
			fmt.Fprintf(w, "No RST of cause %s in the selected connections (%s of other causes).\n", strings.Join(s.o.Causes, ", "), plural(n.RSTsTotal, "RST"))
		}
		return nil
	}
	if err := resetCountsText(w, n, s.o); err != nil {
		return err
	}
	if k := sum.KernelEvents; k != nil {
		fmt.Fprintf(w, "\nkernel events (%s): %d tcp_send_reset, %d joined to a RST shown", k.File, k.SendResets, k.Joined)
		if k.NotLogged > 0 {
			fmt.Fprintf(w, "; %s from a traced address that the kernel did not send (a third party's)", plural(k.NotLogged, "RST"))
		}
		fmt.Fprintln(w)
	}
	if s.o.Summary {
		return nil
	}
	return s.spool.copyTo(w)
}

type connReset struct {
	i int // the RST's place in its connection
	r *report.Reset
}

func newResetCounts(causes []string) *ResetCounts {
	return &ResetCounts{ByCause: map[string]int{}, ConnsByCause: map[string]int{}, ByLinuxReason: map[string]int{}, Causes: causes}
}

// add counts the RSTs of c and returns those of n.Causes (all when none),
// in capture order. seen is scratch space, left empty.
func (n *ResetCounts) add(c *report.Conn, seen map[string]int) []connReset {
	var shown []connReset
	for i := range c.Resets {
		n.RSTsTotal++
		if len(n.Causes) == 0 || slices.Contains(n.Causes, c.Resets[i].Cause) {
			shown = append(shown, connReset{i, &c.Resets[i]})
		}
	}
	if len(shown) == 0 {
		return nil
	}
	sort.SliceStable(shown, func(i, j int) bool { return shown[i].r.TS < shown[j].r.TS })
	n.Conns++
	if endedByRST(c) {
		n.EndedByRST++
	}
	for _, x := range shown {
		rs := x.r
		n.RSTs++
		if seen[rs.Cause] == 0 {
			seen[rs.Cause] = 1
			n.ConnsByCause[rs.Cause]++
		}
		if rs.FollowsFrame != 0 {
			n.FollowUps++
		}
		n.ByCause[rs.Cause]++
		if rs.LinuxReason == "" {
			n.NotInferred++
		} else {
			n.ByLinuxReason[rs.LinuxReason]++
		}
		if rs.KernelReason != "" {
			if n.Kernel == nil {
				n.Kernel = &KernelCounts{ByReason: map[string]int{}, LinuxMatches: map[string]int{}}
			}
			n.Kernel.ByReason[rs.KernelReason]++
			if rs.LinuxReason == rs.KernelReason {
				n.Kernel.LinuxMatches[rs.KernelReason]++
			}
		}
	}
	clear(seen)
	return shown
}

func endedByRST(c *report.Conn) bool {
	return c.Close != nil && (c.Close.Class == "reset" || c.Close.Class == "fin-then-reset")
}

// resetEntry is one connection of the text report: its RSTs shown, as
// blocks each headed by a RST with the follow-ups folded under it.
type resetEntry struct {
	c      *report.Conn
	rsts   int
	blocks []resetBlock
}

type resetBlock struct {
	first   *report.Reset
	follows []*report.Reset
}

// groupResets makes the entry of one connection from its RSTs shown, in
// capture order. A follow-up RST (follows_frame) goes under the latest
// earlier RST of the same sender at that frame (frame numbers repeat across
// input files); without one shown it is a block of its own.
func groupResets(c *report.Conn, shown []connReset) *resetEntry {
	e := &resetEntry{c: c}
	for _, x := range shown {
		e.rsts++
		folded := false
		if x.r.FollowsFrame != 0 {
			for i := len(e.blocks) - 1; i >= 0; i-- {
				if f := e.blocks[i].first; f.Frame == x.r.FollowsFrame && f.Sender == x.r.Sender {
					e.blocks[i].follows = append(e.blocks[i].follows, x.r)
					folded = true
					break
				}
			}
		}
		if !folded {
			e.blocks = append(e.blocks, resetBlock{first: x.r})
		}
	}
	return e
}

// resetCountsText writes the opening counts: a line, then a table per
// cause, per linux_reason and, when read, per kernel_reason.
func resetCountsText(w io.Writer, n *ResetCounts, o Options) error {
	line := fmt.Sprintf("%s in %s (%d ended by one)", plural(n.RSTs, "RST"), plural(n.Conns, "connection"), n.EndedByRST)
	if len(n.Causes) > 0 {
		line = fmt.Sprintf("%d of %s (cause %s) in %s (%d ended by one)", n.RSTs, plural(n.RSTsTotal, "RST"), strings.Join(n.Causes, ", "), plural(n.Conns, "connection"), n.EndedByRST)
	}
	switch n.FollowUps {
	case 0:
	case 1:
		line += "; 1 of them follows an earlier RST of its sender"
	default:
		line += fmt.Sprintf("; %d of them follow an earlier RST of their sender", n.FollowUps)
	}
	fmt.Fprintln(w, paint(o.Color, boldColor, line))
	fmt.Fprintln(w)

	tbl := newTable(w)
	tbl.Header("cause", "RSTs", "connections")
	for _, k := range byCount(n.ByCause) {
		if err := tbl.Append(paint(o.Color, causeColors[k], k), fmt.Sprint(n.ByCause[k]), fmt.Sprint(n.ConnsByCause[k])); err != nil {
			return err
		}
	}
	if err := tbl.Render(); err != nil {
		return err
	}
	fmt.Fprintln(w)

	tbl = newTable(w)
	tbl.Header("linux_reason", "RSTs")
	for _, k := range byCount(n.ByLinuxReason) {
		if err := tbl.Append(k, fmt.Sprint(n.ByLinuxReason[k])); err != nil {
			return err
		}
	}
	if n.NotInferred > 0 {
		if err := tbl.Append(paint(o.Color, faintColor, NotInferred), fmt.Sprint(n.NotInferred)); err != nil {
			return err
		}
	}
	if err := tbl.Render(); err != nil {
		return err
	}
	if k := n.Kernel; k != nil {
		fmt.Fprintln(w)
		tbl = newTable(w)
		tbl.Header("kernel_reason", "RSTs", "linux_reason the same")
		for _, r := range byCount(k.ByReason) {
			if err := tbl.Append(r, fmt.Sprint(k.ByReason[r]), fmt.Sprintf("%d of %d", k.LinuxMatches[r], k.ByReason[r])); err != nil {
				return err
			}
		}
		if err := tbl.Render(); err != nil {
			return err
		}
	}
	return nil
}

// byCount returns the keys of m, the largest count first, then by name.
func byCount(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

// resetEntryText writes one connection and its RSTs.
func resetEntryText(w io.Writer, e *resetEntry, o Options) {
	c := e.c
	fmt.Fprintln(w, paint(o.Color, boldColor, fmt.Sprintf("Connection %d: %s → %s  (%s), %s", c.ID, c.Client, c.Server, c.State, plural(e.rsts, "RST"))))
	for _, b := range e.blocks {
		resetBlockText(w, b, o)
	}
}

func resetBlockText(w io.Writer, b resetBlock, o Options) {
	rs := b.first
	fmt.Fprintf(w, "  RST         frame %d at %s\n", rs.Frame, shortTime(rs.Time))
	fmt.Fprintf(w, "  sent by     %s (%s); the %s was %s\n", rs.Sender, rs.SenderState, other(rs.Sender), rs.ReceiverState)
	fmt.Fprintf(w, "  accepted    %s\n", acceptedWords(rs))
	fmt.Fprintf(w, "  cause       %s: %s\n", paint(o.Color, causeColors[rs.Cause], rs.Cause), rs.Detail)
	if rs.LinuxReason != "" {
		fmt.Fprintf(w, "  linux       %s\n", rs.LinuxReason)
	}
	if rs.KernelReason != "" || rs.KernelState != "" {
		fmt.Fprintf(w, "  kernel      %s\n", kernelWords(rs, o))
	}
	if a := rs.KernelAccepted; a != nil {
		words := "accepted it (tcp_receive_reset)"
		if !*a {
			words = "did not accept it (no tcp_receive_reset: RFC 5961)"
		}
		fmt.Fprintf(w, "  received    the %s's kernel %s\n", other(rs.Sender), words)
	}
	for _, e := range rs.Evidence {
		fmt.Fprintf(w, "  evidence    frame %d: %s\n", e.Frame, e.What)
	}
	if len(rs.Signals) > 0 {
		fmt.Fprintln(w, "  signals")
		for _, s := range rs.Signals {
			side, pad := "against forgery", ""
			if s.Forged {
				side, pad = "for forgery", "    "
			}
			v := s.Name + ": " + s.Value
			if s.Frame != 0 {
				v += fmt.Sprintf(" (frame %d)", s.Frame)
			}
			fmt.Fprintf(w, "    %s%s  %s\n", paint(o.Color, forgedColors[s.Forged], side), pad, v)
		}
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
	if len(b.follows) > 0 {
		fmt.Fprintf(w, "  %s\n", foldWords(b, o))
	}
}

// kernelWords renders the kernel's own reason and socket state, marked when
// it is not the reason inferred from the wire.
func kernelWords(rs *report.Reset, o Options) string {
	s := rs.KernelReason
	switch {
	case s == "":
		s = "no reason logged (" + rs.KernelState + ")"
	case rs.KernelState != "":
		s += " (" + rs.KernelState + ")"
	}
	if rs.KernelReason != "" && rs.LinuxReason != "" && rs.KernelReason != rs.LinuxReason {
		s += "  " + paint(o.Color, errColor, "≠ linux")
	}
	return s
}

// foldWords is the line that stands for the follow-up RSTs of a block:
// "+ 4 further RSTs from the client (frames 120, 124, 130, …), answering
// segments still in flight", with the linux_reasons they had and where the
// kernel's reason differs.
func foldWords(b resetBlock, o Options) string {
	f := b.follows
	frames := make([]string, 0, foldFrames+1)
	for i, r := range f {
		if i == foldFrames {
			frames = append(frames, "…")
			break
		}
		frames = append(frames, fmt.Sprint(r.Frame))
	}
	label := "frame"
	if len(f) > 1 {
		label = "frames"
	}
	syns := 0
	for _, r := range f {
		if answersSYN(r) {
			syns++
		}
	}
	var what string
	switch {
	case syns == 0 && len(f) == 1:
		what = "answering a segment still in flight"
	case syns == 0:
		what = "answering segments still in flight"
	case syns == len(f) && len(f) == 1:
		what = "answering a retried SYN"
	case syns == len(f):
		what = "answering retried SYNs"
	default:
		what = "answering segments still in flight and retried SYNs"
	}
	s := fmt.Sprintf("+ %d further %s from the %s (%s %s), %s", len(f), pluralWord(len(f), "RST"), b.first.Sender, label, strings.Join(frames, ", "), what)
	reasons := map[string]int{}
	for _, r := range f {
		reasons[cmp.Or(r.LinuxReason, NotInferred)]++
	}
	if reasons[NotInferred] < len(f) {
		keys := byCount(reasons)
		if len(keys) == 1 {
			s += "; linux " + keys[0]
		} else {
			parts := make([]string, len(keys))
			for i, k := range keys {
				parts[i] = fmt.Sprintf("%s %d", k, reasons[k])
			}
			s += "; linux " + strings.Join(parts, ", ")
		}
	}
	var differs []string
	for _, r := range f {
		if r.KernelReason != "" && r.LinuxReason != "" && r.KernelReason != r.LinuxReason {
			differs = append(differs, fmt.Sprint(r.Frame))
		}
	}
	if len(differs) > 0 {
		if len(differs) > foldFrames {
			differs = append(differs[:foldFrames], "…")
		}
		s += "; " + paint(o.Color, errColor, "the kernel's reason differs") + " on frame"
		if len(differs) > 1 {
			s += "s"
		}
		s += " " + strings.Join(differs, ", ")
	}
	return s
}

// answersSYN says whether the last segment from the peer before the RST was
// a SYN.
func answersSYN(r *report.Reset) bool {
	for i := len(r.Recent) - 1; i >= 0; i-- {
		if s := r.Recent[i]; s.Sender != r.Sender {
			return strings.HasPrefix(s.Flags, "S")
		}
	}
	return false
}

// plural writes n and the word, with an s unless n is 1: "1 RST", "7 RSTs".
func plural(n int, word string) string {
	return fmt.Sprintf("%d %s", n, pluralWord(n, word))
}

func pluralWord(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
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

// ResetText writes the text entry of one connection's RSTs as tcptrace
// resets prints it (the HTML report shows it per connection); nothing
// when the connection has none.
func ResetText(w io.Writer, c *report.Conn, o Options) {
	shown := make([]connReset, 0, len(c.Resets))
	for i := range c.Resets {
		shown = append(shown, connReset{i, &c.Resets[i]})
	}
	if len(shown) == 0 {
		return
	}
	sort.SliceStable(shown, func(i, j int) bool { return shown[i].r.TS < shown[j].r.TS })
	resetEntryText(w, groupResets(c, shown), o)
}
