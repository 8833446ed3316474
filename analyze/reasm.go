package analyze

import (
	"github.com/tcptrace/tcptrace/reassembly"
	"github.com/tcptrace/tcptrace/report"
	"github.com/tcptrace/tcptrace/tcp"
)

// maxGapsKept is how many gaps a connection record lists (the counts in its
// reassembly statistics cover all of them).
const maxGapsKept = 32

// Tap receives the reassembled streams of a connection (follow, export). It
// is asked for once per connection, when the connection is created; nil
// means the connection's bytes are not wanted. A handler that is also a
// TapCloser is told when its connection is finished.
type Tap func(c *Conn) reassembly.Handler

// TapCloser is a tap's handler that wants to know when nothing more will
// be delivered (export writes the rest of the files then).
type TapCloser interface{ Close() }

// streams is a connection seen as the handler of its own streams: it keeps
// gaps for the report, turns conflicts into anomalies and passes everything
// on to the tap.
type streams struct{ c *Conn }

// Data implements reassembly.Handler.
func (h *streams) Data(dir tcp.Dir, off int64, b []byte, frame int64, file int) {
	if h.c.tap != nil {
		h.c.tap.Data(dir, off, b, frame, file)
	}
}

// Gap implements reassembly.Handler.
func (h *streams) Gap(dir tcp.Dir, g reassembly.Gap) {
	if len(h.c.gaps) < maxGapsKept {
		h.c.gaps = append(h.c.gaps, dirGap{dir, g})
	}
	if h.c.tap != nil {
		h.c.tap.Gap(dir, g)
	}
}

// Conflict implements reassembly.Handler: an overlap whose bytes differ from
// the first copy is a conflicting_retransmission, one per later copy (the
// exact-copy check of anomaly.go defers to it), with the judgment of which
// copy looks forged.
func (h *streams) Conflict(dir tcp.Dir, x reassembly.Conflict) {
	c := h.c
	if c.confFrame[dir] != x.Frame {
		c.confFrame[dir] = x.Frame
		cp := c.JudgeConflict(dir, x)
		c.addAnomaly(anomaly{
			Kind: kConflictRetx, Severity: severities[kConflictRetx], Dir: dir, Frame: x.Frame, File: x.File, TS: c.lastTS,
			Related: []int64{x.FirstFrame}, Detail: conflictDetail(cp, uint32(c.stream[dir].Seq(x.Off))), Copies: cp,
		})
	}
	if h.c.tap != nil {
		h.c.tap.Conflict(dir, x)
	}
}

// FIN implements reassembly.Handler.
func (h *streams) FIN(dir tcp.Dir, off int64, frame int64, file int) {
	if h.c.tap != nil {
		h.c.tap.FIN(dir, off, frame, file)
	}
}

// dirGap is a gap with its direction.
type dirGap struct {
	dir tcp.Dir
	reassembly.Gap
}

// reasmReport turns the streams' results into the connection record's.
func reasmReport(c *Conn, r *report.Reassembly) (*report.Reassembly, []report.Gap) {
	*r = report.Reassembly{Client: c.stream[tcp.Client].Stats, Server: c.stream[tcp.Server].Stats}
	var gaps []report.Gap
	for _, g := range c.gaps {
		gaps = append(gaps, report.Gap{Dir: g.dir.String(), Offset: g.Off, Len: g.Len, Reason: g.Reason.String(), Frame: g.Frame, FileIdx: g.File})
	}
	return r, gaps
}
