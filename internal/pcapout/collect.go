// Package pcapout takes tcptrace back to Wireshark: it collects the frames
// of the connections a command selected and what tcptrace concluded about
// them (Collector), copies those frames unchanged into a pcapng file with
// one packet comment per conclusion (Write), and names them in a display
// filter (Collector.DisplayFilter). docs/wireshark.md describes the result.
package pcapout

import (
	"fmt"
	"math/bits"
	"path/filepath"
	"strings"

	"github.com/tcptrace/tcptrace/report"
)

// DefaultCommentBudget bounds the bytes of comments a Collector holds
// (they wait for the end of the analysis, when the frames are copied);
// beyond it comments are counted and left out.
const DefaultCommentBudget = 128 << 20

// PerFrameComments bounds the comments of one frame (a frame could collect
// many: anomalies of several kinds, evidence for several RSTs).
const PerFrameComments = 32

// Collector gathers, from the records of the selected connections as the
// engine hands them over (analyze.Config.Frames must be set), the frames
// of each input to copy and the comments to put on them. Memory: a bitmap
// per input (one bit per frame up to its highest selected frame) and the
// comments.
type Collector struct {
	files    []string
	short    []string // the inputs as comments name them
	sets     []bitmap
	comments map[frameKey][]string
	bytes    int64
	budget   int64
	dropped  int64
	ids      []int
	frames   int64
}

type frameKey struct {
	file  int32
	frame int64
}

// NewCollector returns a collector for the inputs named files (by index).
func NewCollector(files []string) *Collector {
	return &Collector{files: files, short: shortNames(files), sets: make([]bitmap, len(files)), comments: map[frameKey][]string{}, budget: DefaultCommentBudget}
}

// shortNames are the inputs' base names, or the names as given when two
// inputs share a base name.
func shortNames(files []string) []string {
	short := make([]string, len(files))
	seen := map[string]bool{}
	for i, f := range files {
		short[i] = filepath.Base(f)
		if seen[short[i]] {
			return files
		}
		seen[short[i]] = true
	}
	return short
}

// Conns is the number of connections collected; Frames their frames.
func (c *Collector) Conns() int     { return len(c.ids) }
func (c *Collector) Frames() int64  { return c.frames }
func (c *Collector) Dropped() int64 { return c.dropped }

// Selected reports whether frame n of input file is one of the selected
// connections'.
func (c *Collector) Selected(file int, n int64) bool {
	return file >= 0 && file < len(c.sets) && c.sets[file].has(n)
}

// Comments returns the comments of frame n of input file.
func (c *Collector) Comments(file int, n int64) []string {
	return c.comments[frameKey{int32(file), n}]
}

// Conn takes a selected connection's record and anomalies: its frames
// (rc.Frames, released afterwards) and its conclusions.
func (c *Collector) Conn(rc *report.Conn, anoms []*report.Anomaly) {
	c.ids = append(c.ids, rc.ID)
	rc.Frames.Each(func(file int, n int64) bool {
		if file < len(c.sets) {
			c.sets[file].set(n)
			c.frames++
		}
		return true
	})
	loc := c.locator(rc)
	rc.Frames = nil // the record may be held by the output (--sort): not its frames

	put := func(file int, n int64, format string, args ...any) {
		c.add(rc.ID, file, n, fmt.Sprintf(format, args...))
	}
	put(rc.FirstIdx, rc.FirstFrame, "connection %s → %s: %s", rc.Client, rc.Server, rc.State)
	at := 0
	for _, t := range rc.Transitions {
		file, pos := loc.find(t.Frame, at, true)
		at = pos
		put(file, t.Frame, "%s %s → %s", t.Endpoint, t.From, t.To)
	}
	for _, a := range anoms {
		d := ""
		if a.Detail != "" {
			d = ": " + a.Detail
		}
		put(a.FileIdx, a.Frame, "anomaly %s (%s, sent by the %s)%s", a.Kind, a.Severity, a.Dir, d)
	}
	at = 0
	for i := range rc.Resets {
		r := &rc.Resets[i]
		file, pos := loc.find(r.Frame, at, true)
		at = pos
		put(file, r.Frame, "%s", resetComment(r))
		ev := func(n int64, what string) {
			if n <= 0 {
				return
			}
			f, _ := loc.find(n, pos, false)
			if n == r.Frame {
				put(f, n, "evidence for this RST: %s", what)
			} else {
				put(f, n, "evidence for the RST of frame %d: %s", r.Frame, what)
			}
		}
		for _, e := range r.Evidence {
			ev(e.Frame, e.What)
		}
		for _, s := range r.Signals {
			if s.Frame != 0 && s.Frame != r.Frame {
				ev(s.Frame, s.Value+signalSide(s.Forged))
			}
		}
		if r.ChallengeACK > 0 {
			f, _ := loc.find(r.ChallengeACK, pos, false)
			put(f, r.ChallengeACK, "challenge ACK answering the RST of frame %d (RFC 5961)", r.Frame)
		}
	}
	for _, g := range rc.Gaps {
		if g.Frame > 0 {
			put(g.FileIdx, g.Frame, "gap in the %s's stream: %d bytes at offset %d never captured (%s)", g.Dir, g.Len, g.Offset, g.Reason)
		}
	}
}

// signalSide says which way a signal about a RST points.
func signalSide(forged bool) string {
	if forged {
		return " (a sign of forgery)"
	}
	return " (speaks for the claimed sender)"
}

// resetComment is the one-line diagnosis of a RST.
func resetComment(r *report.Reset) string {
	var b strings.Builder
	fmt.Fprintf(&b, "RST from the %s (%s; the %s was %s)", r.Sender, r.SenderState, peer(r.Sender), r.ReceiverState)
	if r.Accepted != "" {
		fmt.Fprintf(&b, ", accepted %s", r.Accepted)
	} else if r.Verdict != "" {
		fmt.Fprintf(&b, ", %s", r.Verdict)
	}
	if r.FollowsFrame > 0 {
		fmt.Fprintf(&b, ", follows its RST of frame %d", r.FollowsFrame)
	}
	if r.Cause != "" {
		fmt.Fprintf(&b, ": cause %s", r.Cause)
	}
	if r.LinuxReason != "" {
		fmt.Fprintf(&b, ", linux_reason %s", r.LinuxReason)
	}
	if r.KernelReason != "" {
		fmt.Fprintf(&b, ", kernel_reason %s", r.KernelReason)
	}
	if r.Detail != "" {
		fmt.Fprintf(&b, ": %s", r.Detail)
	}
	return b.String()
}

func peer(side string) string {
	if side == "client" {
		return "server"
	}
	return "client"
}

// add puts a comment on frame n of input file, with the connection and
// the original frame it is about (the output numbers frames anew).
func (c *Collector) add(id, file int, n int64, text string) {
	if file < 0 || file >= len(c.files) || n <= 0 {
		return
	}
	k := frameKey{int32(file), n}
	cs := c.comments[k]
	text = strings.Join(strings.Fields(text), " ") // one line
	s := fmt.Sprintf("tcptrace conn %d (orig frame %d of %s): %s", id, n, c.short[file], text)
	if len(cs) >= PerFrameComments || c.bytes+int64(len(s)) > c.budget {
		c.dropped++
		return
	}
	for _, o := range cs {
		if o == s {
			return
		}
	}
	c.bytes += int64(len(s))
	c.comments[k] = append(cs, s)
}

// bitmap is a set of frame numbers.
type bitmap []uint64

func (b *bitmap) set(n int64) {
	if n < 0 {
		return
	}
	w := int(n / 64)
	if w >= len(*b) {
		*b = append(*b, make([]uint64, w+1-len(*b)+len(*b)/4)...)
	}
	(*b)[w] |= 1 << (n % 64)
}

func (b bitmap) has(n int64) bool {
	w := int(n / 64)
	return n >= 0 && w < len(b) && b[w]&(1<<(n%64)) != 0
}

// each calls fn with every member in increasing order.
func (b bitmap) each(fn func(int64)) {
	for w, x := range b {
		for x != 0 {
			i := int64(w)*64 + int64(bits.TrailingZeros64(x))
			fn(i)
			x &= x - 1
		}
	}
}
