// Package where keeps connections by their outcome: the --where flag of
// analyze, resets and report. --filter selects by address and port (what a
// segment carries); --where by what tcptrace concluded about a connection
// (how it began and ended, its anomalies, the causes of its resets).
//
// A condition is KEY=VALUE[,VALUE...]: a connection meets it when it has any
// of the values. Several conditions must all be met. KEY!=VALUE... keeps the
// connections that have none of the values. The keys:
//
//	state      the handshake class, the close class or Zeek's conn_state
//	           (complete, refused, syn-unanswered…; four-way, reset,
//	           fin-then-reset, open, idle…; S0, SF, REJ, RSTO…); "reset" also
//	           matches fin-then-reset: every connection a RST ended
//	anomaly    an anomaly kind the connection has (zero_window,
//	           retransmission…), or "any"
//	cause      the cause of one of its RSTs (abort, refused, half-open…)
//	closed_by  client or server
package where

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tcptrace/tcptrace/analyze"
	"github.com/tcptrace/tcptrace/report"
	"github.com/tcptrace/tcptrace/statemachine"
)

// zeekStates are Zeek's conn_state values (docs/zeek.md).
var zeekStates = []string{"S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH"}

// keys is every key with the values it accepts.
var keys = map[string]func() []string{
	"state": func() []string {
		v := append(slices.Clone(statemachine.HandshakeClasses), statemachine.CloseClasses...)
		return append(v, zeekStates...)
	},
	"anomaly":   func() []string { return append(analyze.AnomalyKinds(), "any") },
	"cause":     analyze.Causes,
	"closed_by": func() []string { return []string{"client", "server"} },
}

// cond is one condition.
type cond struct {
	key    string
	values []string
	not    bool
}

// Where is a parsed list of conditions; the zero value keeps everything.
type Where struct {
	conds []cond
}

// Parse reads the conditions of --where flags. An unknown key or value is
// an error naming it and the values the key accepts.
func Parse(exprs []string) (*Where, error) {
	w := &Where{}
	for _, e := range exprs {
		for _, part := range strings.Fields(strings.ReplaceAll(e, ";", " ")) {
			c, err := parseCond(part)
			if err != nil {
				return nil, err
			}
			w.conds = append(w.conds, c)
		}
	}
	return w, nil
}

func parseCond(s string) (cond, error) {
	key, val, ok := strings.Cut(s, "=")
	if !ok || key == "" || val == "" {
		return cond{}, fmt.Errorf("--where %q: want KEY=VALUE[,VALUE...] (keys: %s)", s, keyList())
	}
	c := cond{key: strings.ToLower(key)}
	if strings.HasSuffix(c.key, "!") {
		c.key, c.not = strings.TrimSuffix(c.key, "!"), true
	}
	valid, ok := keys[c.key]
	if !ok {
		return cond{}, fmt.Errorf("--where %q: unknown key %q (keys: %s)", s, key, keyList())
	}
	accepted := valid()
	for _, v := range strings.Split(val, ",") {
		v = strings.TrimSpace(v)
		if c.key != "state" || !slices.Contains(zeekStates, strings.ToUpper(v)) {
			v = strings.ToLower(v)
		} else {
			v = strings.ToUpper(v)
		}
		if !slices.Contains(accepted, v) {
			return cond{}, fmt.Errorf("--where %s: unknown value %q (one of: %s)", c.key, v, strings.Join(accepted, ", "))
		}
		c.values = append(c.values, v)
	}
	return c, nil
}

func keyList() string {
	k := make([]string, 0, len(keys))
	for n := range keys {
		k = append(k, n)
	}
	slices.Sort(k)
	return strings.Join(k, ", ")
}

// Active reports whether there is any condition.
func (w *Where) Active() bool { return w != nil && len(w.conds) > 0 }

// Keep reports whether the connection meets every condition.
func (w *Where) Keep(c *report.Conn) bool {
	if w == nil {
		return true
	}
	for _, cd := range w.conds {
		if cd.has(c) == cd.not {
			return false
		}
	}
	return true
}

// has reports whether c has any of the condition's values.
func (cd cond) has(c *report.Conn) bool {
	for _, v := range cd.values {
		if hasValue(cd.key, v, c) {
			return true
		}
	}
	return false
}

func hasValue(key, v string, c *report.Conn) bool {
	switch key {
	case "state":
		if c.ConnState == v {
			return true
		}
		if h := c.Handshake; h != nil && h.Class == v {
			return true
		}
		if cl := c.Close; cl != nil {
			return cl.Class == v || v == statemachine.CloseReset && cl.Class == statemachine.CloseFINThenReset
		}
	case "anomaly":
		if v == "any" {
			return len(c.Anomalies) > 0
		}
		return c.Anomalies[v] > 0
	case "cause":
		for i := range c.Resets {
			if c.Resets[i].Cause == v {
				return true
			}
		}
	case "closed_by":
		return c.ClosedBy == v
	}
	return false
}
