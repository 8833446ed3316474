package statemachine

import (
	"testing"
	"time"
)

// TestChallengeACKCreditedToItsRST: a challenge ACK is credited to the
// in-window RST it answers, and to no other record. Once MaxResets records
// are kept, a further in-window RST is checked but not recorded: the
// challenge ACK that answers it must not be credited to the last recorded
// RST (an out-of-window one, or an earlier in-window one).
func TestChallengeACKCreditedToItsRST(t *testing.T) {
	const c1, s1 = isnC + 1, isnS + 1
	ignored := s2c(R, s1+200000, 0, 0) // out of the client's window: no challenge ACK
	inWindow := s2c(R, s1+100, 0, 0)   // in window, not exact: a challenge ACK is due
	challenge := c2s(A, c1, s1, 0)     // the client's pure ACK
	repeat := func(s seg, n int) []seg {
		out := make([]seg, n)
		for i := range out {
			out[i] = s
		}
		return out
	}
	tests := []struct {
		name    string
		segs    []seg
		dropped int
		// credited: index into Resets of the RST the challenge ACK is
		// credited to, -1 for none.
		credited int
	}{
		{name: "under the limit: the ACK answers the in-window RST",
			segs:     cat(hs, repeat(ignored, 3), []seg{inWindow, challenge}),
			credited: 3},
		{name: "the in-window RST is the last record kept",
			segs:     cat(hs, repeat(ignored, MaxResets-1), []seg{inWindow, challenge}),
			credited: MaxResets - 1},
		{name: "the in-window RST is dropped: the ACK is credited to no record",
			segs:    cat(hs, repeat(ignored, MaxResets), []seg{inWindow, challenge}),
			dropped: 1, credited: -1},
		{name: "an in-window RST kept, another dropped: the ACK answers the dropped one",
			segs:    cat(hs, repeat(ignored, MaxResets-1), []seg{inWindow, inWindow, challenge}),
			dropped: 1, credited: -1},
		{name: "dropped, then the limit is still full: a later ACK credits nothing",
			segs:    cat(hs, repeat(ignored, MaxResets), []seg{inWindow, ignored, challenge, challenge}),
			dropped: 2, credited: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := replay(tt.segs)
			if len(c.Resets) > MaxResets || c.ResetsDropped != tt.dropped {
				t.Fatalf("%d RSTs recorded, %d dropped; want at most %d, %d dropped", len(c.Resets), c.ResetsDropped, MaxResets, tt.dropped)
			}
			var ackFrame int64 // the first challenge ACK after the handshake
			for i := len(hs); i < len(tt.segs) && ackFrame == 0; i++ {
				if tt.segs[i] == challenge {
					ackFrame = int64(i + 1)
				}
			}
			for i, r := range c.Resets {
				want := int64(0)
				if i == tt.credited {
					want = ackFrame
				}
				if r.ChallengeSeen != want {
					t.Errorf("Resets[%d] (frame %d, %s): challenge ACK %d, want %d", i, r.Frame, r.Verdict, r.ChallengeSeen, want)
				}
			}
		})
	}
}

// TestChallengeACKWait: the receiver's pure ACK answers an in-window RST
// only within ChallengeWait of it; a later one (a keep-alive's answer, the
// next ACK of data) is no challenge ACK, and ends the wait.
func TestChallengeACKWait(t *testing.T) {
	const c1, s1 = isnC + 1, isnS + 1
	rst := s2c(R, s1+100, 0, 0).at(10 * time.Millisecond) // in the client's window, not exact
	tests := []struct {
		name  string
		after []seg // the client's segments after the RST
		want  int64 // frame of the challenge ACK (0: none)
	}{
		{"at once", []seg{c2s(A, c1, s1, 0).at(11 * time.Millisecond)}, 6},
		{"at the limit", []seg{c2s(A, c1, s1, 0).at(10*time.Millisecond + ChallengeWait)}, 6},
		{"data first, then the ACK", []seg{c2s(PA, c1, s1, 10).at(11 * time.Millisecond), c2s(A, c1+10, s1, 0).at(12 * time.Millisecond)}, 7},
		{"too late", []seg{c2s(A, c1, s1, 0).at(10*time.Millisecond + ChallengeWait + time.Millisecond)}, 0},
		{"a late segment ends the wait", []seg{c2s(PA, c1, s1, 10).at(5 * time.Second), c2s(A, c1+10, s1, 0).at(5*time.Second + time.Millisecond)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := replay(cat(hs, []seg{c2s(A, c1, s1, 0).at(3 * time.Millisecond), rst}, tt.after))
			if len(c.Resets) != 1 || c.Resets[0].Verdict != EvRSTChallenge {
				t.Fatalf("resets %+v, want one in-window RST", c.Resets)
			}
			if got := c.Resets[0].ChallengeSeen; got != tt.want {
				t.Errorf("challenge ACK frame %d, want %d", got, tt.want)
			}
		})
	}
}
