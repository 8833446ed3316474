package cli

import (
	"time"

	"github.com/tcptrace/tcptrace/render"
	"github.com/tcptrace/tcptrace/report"
)

// The outputs of analyze --format zeek.

// zeekOut is analyze's --format zeek: a Zeek conn.log.
type zeekOut struct{ *render.ZeekStream }

// Finish ends the log; its #close line is the capture's last packet.
func (z zeekOut) Finish(s *report.Summary) error {
	return z.ZeekStream.Finish(summaryNS(s.First), summaryNS(s.Last))
}

// summaryNS parses a summary time (RFC 3339); 0 when there is none.
func summaryNS(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0
	}
	return t.UnixNano()
}
