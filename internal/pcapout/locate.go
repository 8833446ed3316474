package pcapout

import "github.com/tcptrace/tcptrace/report"

// A record names frames by number alone (transitions, RSTs, their
// evidence); with several inputs a number may be a frame of the
// connection in more than one of them. The locator finds the input from the
// connection's own frames: the numbers the record names are looked up in
// its frame list, with their positions in it. Transitions and RSTs come in
// the record in the order of their segments, so each is the first
// occurrence after the one before; evidence is the occurrence nearest to
// its RST. (Two transitions of one number in a row are taken to be of one
// segment, as they usually are: both endpoints moving on one segment.)
type locator struct {
	multi bool
	cands map[int64][]cand
}

type cand struct{ pos, file int }

func (c *Collector) locator(rc *report.Conn) *locator {
	if len(c.files) <= 1 {
		return &locator{}
	}
	need := map[int64]bool{}
	for _, t := range rc.Transitions {
		need[t.Frame] = true
	}
	for _, r := range rc.Resets {
		need[r.Frame], need[r.ChallengeACK] = true, true
		for _, e := range r.Evidence {
			need[e.Frame] = true
		}
		for _, s := range r.Signals {
			need[s.Frame] = true
		}
	}
	l := &locator{multi: true, cands: map[int64][]cand{}}
	pos := 0
	rc.Frames.Each(func(file int, n int64) bool {
		if need[n] {
			l.cands[n] = append(l.cands[n], cand{pos, file})
		}
		pos++
		return true
	})
	return l
}

// find returns the input of frame n of the connection and its position in
// the connection's frames: with ordered, its first occurrence at or after
// position at, else the one nearest to at. The input is -1 when n is not
// a frame of the connection (with one input, 0 always).
func (l *locator) find(n int64, at int, ordered bool) (file, pos int) {
	if !l.multi {
		return 0, at
	}
	cs := l.cands[n]
	if len(cs) == 0 {
		return -1, at
	}
	best := cs[len(cs)-1]
	if ordered {
		for _, c := range cs {
			if c.pos >= at {
				return c.file, c.pos
			}
		}
		return best.file, best.pos
	}
	dist := func(c cand) int { return max(c.pos-at, at-c.pos) }
	for _, c := range cs {
		if dist(c) < dist(best) {
			best = c
		}
	}
	return best.file, best.pos
}
