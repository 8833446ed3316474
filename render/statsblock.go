package render

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tcptrace/tcptrace/report"
)

// statLine is a line of tcptrace's -l block: its label, its unit and the
// value of one direction.
type statLine struct {
	label, unit string
	val         func(d *report.DirStats) string
}

func yn(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}
func ms1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// statLines are the lines of `tcptrace -l -r`, in its order and with its
// labels and units (docs/statistics.md defines each).
var statLines = []statLine{
	{"total packets", "", func(d *report.DirStats) string { return i64s(d.Packets) }},
	{"resets sent", "", func(d *report.DirStats) string { return i64s(d.RSTs) }},
	{"ack pkts sent", "", func(d *report.DirStats) string { return i64s(d.AckPkts) }},
	{"pure acks sent", "", func(d *report.DirStats) string { return i64s(d.PureAcks) }},
	{"sack pkts sent", "", func(d *report.DirStats) string { return i64s(d.SACKPkts) }},
	{"dsack pkts sent", "", func(d *report.DirStats) string { return i64s(d.DSACKPkts) }},
	{"max sack blks/ack", "", func(d *report.DirStats) string { return strconv.Itoa(d.MaxSACKBlocks) }},
	{"unique bytes sent", "", func(d *report.DirStats) string { return i64s(d.UniqueBytes) }},
	{"actual data pkts", "", func(d *report.DirStats) string { return i64s(d.DataPkts) }},
	{"actual data bytes", "", func(d *report.DirStats) string { return i64s(d.DataBytes) }},
	{"rexmt data pkts", "", func(d *report.DirStats) string { return i64s(d.RexmtPkts) }},
	{"rexmt data bytes", "", func(d *report.DirStats) string { return i64s(d.RexmtBytes) }},
	{"zwnd probe pkts", "", func(d *report.DirStats) string { return i64s(d.ZWndProbePkts) }},
	{"zwnd probe bytes", "", func(d *report.DirStats) string { return i64s(d.ZWndProbeBytes) }},
	{"outoforder pkts", "", func(d *report.DirStats) string { return i64s(d.OutOfOrderPkts) }},
	{"pushed data pkts", "", func(d *report.DirStats) string { return i64s(d.PushedPkts) }},
	{"SYN/FIN pkts sent", "", func(d *report.DirStats) string { return fmt.Sprintf("%d/%d", d.SYNs, d.FINs) }},
	{"req 1323 ws/ts", "", func(d *report.DirStats) string { return yn(d.WScaleReq) + "/" + yn(d.TimestampsReq) }},
	{"adv wind scale", "", func(d *report.DirStats) string { return strconv.Itoa(d.AdvWindowScale) }},
	{"req sack", "", func(d *report.DirStats) string { return yn(d.SACKReq) }},
	{"urgent data pkts", "pkts", func(d *report.DirStats) string { return i64s(d.UrgentPkts) }},
	{"urgent data bytes", "bytes", func(d *report.DirStats) string { return i64s(d.UrgentBytes) }},
	{"mss requested", "bytes", func(d *report.DirStats) string { return strconv.Itoa(d.MSS) }},
	{"max segm size", "bytes", func(d *report.DirStats) string { return i64s(d.SegSizeMax) }},
	{"min segm size", "bytes", func(d *report.DirStats) string { return i64s(d.SegSizeMin) }},
	{"avg segm size", "bytes", func(d *report.DirStats) string {
		return strconv.Itoa(int(float64(d.DataBytes) / (float64(d.DataPkts) + .001)))
	}},
	{"max win adv", "bytes", func(d *report.DirStats) string { return i64s(d.WinMax) }},
	{"min win adv", "bytes", func(d *report.DirStats) string { return i64s(d.WinMin) }},
	{"zero win adv", "times", func(d *report.DirStats) string { return i64s(d.ZeroWinAdv) }},
	{"avg win adv", "bytes", func(d *report.DirStats) string { return i64s(int64(d.WinAvg)) }},
	{"max owin", "bytes", func(d *report.DirStats) string { return i64s(d.MaxInFlight) }},
	{"initial window", "bytes", func(d *report.DirStats) string { return i64s(d.InitWinBytes) }},
	{"initial window", "pkts", func(d *report.DirStats) string { return i64s(d.InitWinPkts) }},
	{"ttl stream length", "", func(d *report.DirStats) string {
		if !d.HasStreamLen {
			return "NA"
		}
		return i64s(d.StreamLength)
	}},
	{"missed data", "", func(d *report.DirStats) string {
		if !d.HasStreamLen {
			return "NA"
		}
		return i64s(d.MissedData)
	}},
	{"truncated data", "bytes", func(d *report.DirStats) string { return i64s(d.TruncBytes) }},
	{"truncated packets", "pkts", func(d *report.DirStats) string { return i64s(d.TruncPkts) }},
	{"data xmit time", "secs", func(d *report.DirStats) string { return strconv.FormatFloat(d.DataXmitSec, 'f', 3, 64) }},
	{"idletime max", "ms", func(d *report.DirStats) string { return ms1(d.IdleMaxMs) }},
	{"hardware dups", "segs", func(d *report.DirStats) string { return i64s(d.HWDups) }},
	{"throughput", "Bps", func(d *report.DirStats) string { return strconv.FormatInt(int64(d.GoodputBps), 10) }},
	{"RTT samples", "", func(d *report.DirStats) string { return i64s(d.RTTSamples) }},
	{"RTT min", "ms", func(d *report.DirStats) string { return ms1(d.RTTMinMs) }},
	{"RTT max", "ms", func(d *report.DirStats) string { return ms1(d.RTTMaxMs) }},
	{"RTT avg", "ms", func(d *report.DirStats) string { return ms1(d.RTTAvgMs) }},
	{"RTT stdev", "ms", func(d *report.DirStats) string { return ms1(d.RTTStdevMs) }},
	{"RTT from 3WHS", "ms", func(d *report.DirStats) string { return ms1(d.HandshakeRTTMs) }},
	{"post-loss acks", "", func(d *report.DirStats) string { return i64s(d.PostLossAcks) }},
	{"ambiguous acks", "", func(d *report.DirStats) string { return i64s(d.AmbiguousAcks) }},
	{"segs cum acked", "", func(d *report.DirStats) string { return i64s(d.CumAcked) }},
	{"duplicate acks", "", func(d *report.DirStats) string { return i64s(d.DupAcks) }},
	{"triple dupacks", "", func(d *report.DirStats) string { return i64s(d.TripleDupAcks) }},
	{"max # retrans", "", func(d *report.DirStats) string { return strconv.Itoa(d.MaxRetrans) }},
	{"min retr time", "ms", func(d *report.DirStats) string { return ms1(d.RetransMinMs) }},
	{"max retr time", "ms", func(d *report.DirStats) string { return ms1(d.RetransMaxMs) }},
	{"avg retr time", "ms", func(d *report.DirStats) string { return ms1(d.RetransAvgMs) }},
}

// statsBlock is a connection's block in the layout of `tcptrace -l -r`:
// the connection, then each direction's statistics side by side (a->b is
// what the client sent). Labels, units and definitions are tcptrace
// 6.6.7's (docs/statistics.md); hosts are named a and b, the client first.
func statsBlock(c *report.Conn, x *cellCtx) string {
	var b strings.Builder
	fmt.Fprintf(&b, "TCP connection %d:\n", c.ID)
	fmt.Fprintf(&b, "\thost a:        %s (client)\n", c.Client)
	fmt.Fprintf(&b, "\thost b:        %s (server)\n", c.Server)
	fmt.Fprintf(&b, "\tstate:         %s\n", stateCell(c, x))
	fmt.Fprintf(&b, "\tfirst packet:  %s\n", shortTime(c.Start))
	fmt.Fprintf(&b, "\tframes:        %s\n", framesCell(c, x))
	fmt.Fprintf(&b, "\telapsed time:  %s s\n", strconv.FormatFloat(c.Duration, 'f', 6, 64))
	fmt.Fprintf(&b, "\ttotal packets: %d\n", c.Packets.Client+c.Packets.Server)
	if c.Stats == nil {
		b.WriteString("\t(no statistics)\n")
		b.WriteString("================================\n")
		return b.String()
	}
	b.WriteString("   a->b:                                        b->a:\n")
	a, z := &c.Stats.Client, &c.Stats.Server
	for _, l := range statLines {
		fmt.Fprintf(&b, "     %-18s%10s %-5s     %-18s%10s %-5s\n", l.label+":", l.val(a), l.unit, l.label+":", l.val(z), l.unit)
	}
	b.WriteString("================================\n")
	return b.String()
}
