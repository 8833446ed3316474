package where

import (
	"strings"
	"testing"

	"github.com/tcptrace/tcptrace/report"
)

func TestKeep(t *testing.T) {
	refused := &report.Conn{ID: 1, Handshake: &report.Handshake{Class: "refused"}, Close: &report.Close{Class: "reset"},
		ConnState: "REJ", ClosedBy: "server", Resets: []report.Reset{{Cause: "refused"}}}
	finRST := &report.Conn{ID: 2, Handshake: &report.Handshake{Class: "complete"}, Close: &report.Close{Class: "fin-then-reset"},
		ConnState: "RSTO", ClosedBy: "client", Resets: []report.Reset{{Cause: "abort"}}, Anomalies: map[string]int64{"zero_window": 2}}
	clean := &report.Conn{ID: 3, Handshake: &report.Handshake{Class: "complete"}, Close: &report.Close{Class: "four-way"},
		ConnState: "SF", ClosedBy: "client"}
	all := []*report.Conn{refused, finRST, clean}
	for _, tc := range []struct {
		where []string
		want  string // the IDs kept
	}{
		{nil, "123"},
		{[]string{"state=reset"}, "12"},
		{[]string{"state=fin-then-reset"}, "2"},
		{[]string{"state=refused,four-way"}, "13"},
		{[]string{"state=sf"}, "3"},
		{[]string{"state!=reset"}, "3"},
		{[]string{"anomaly=zero_window"}, "2"},
		{[]string{"anomaly=any"}, "2"},
		{[]string{"cause=abort,refused"}, "12"},
		{[]string{"closed_by=client"}, "23"},
		{[]string{"closed_by=client", "state=reset"}, "2"},
		{[]string{"closed_by=client;state=reset"}, "2"},
		{[]string{"anomaly!=any"}, "13"},
	} {
		w, err := Parse(tc.where)
		if err != nil {
			t.Fatalf("%q: %v", tc.where, err)
		}
		var got strings.Builder
		for _, c := range all {
			if w.Keep(c) {
				got.WriteByte(byte('0' + c.ID))
			}
		}
		if got.String() != tc.want {
			t.Errorf("%q keeps %s, want %s", tc.where, got.String(), tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{"state", "want KEY=VALUE"},
		{"=x", "want KEY=VALUE"},
		{"color=red", `unknown key "color"`},
		{"state=bogus", `unknown value "bogus"`},
		{"anomaly=zero-window", `unknown value "zero-window"`},
		{"cause=", "want KEY=VALUE"},
	} {
		_, err := Parse([]string{tc.in})
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Parse(%q) = %v, want an error with %q", tc.in, err, tc.err)
		}
	}
}
