package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tcptrace/tcptrace/report"
)

// TestFollowConflictMarks: a conflict mark stands right after the bytes
// that differ, whether it is learnt after they were delivered (held-back
// output), before (bytes waiting above a hole), or too late to be placed
// (then where it is learnt); raw output names it on stderr.
func TestFollowConflictMarks(t *testing.T) {
	forged := &report.Copies{Offset: 2, Len: 3, Kept: 5, Dropped: 7, Forged: 5, Why: "ttl 46, sender's other packets 57"}
	unsure := &report.Copies{Offset: 8, Len: 1, Kept: 6, Dropped: 9, Why: "cannot tell which copy is genuine: both have ttl 57 like the sender's other packets"}
	type step struct {
		data     string // server data
		conflict *report.Copies
		gap      int64
	}
	tests := []struct {
		name   string
		as     string
		window int64
		steps  []step
		want   string // stdout after the header, before the trailer
		stderr string
	}{
		{name: "learnt after the bytes: placed back", as: "ascii", window: 100,
			steps: []step{{data: "abcdef"}, {data: "ghij"}, {conflict: forged}},
			want: "<<< server → client, frame 1, offset 0\nabcde\n" +
				"[conflicting copies of bytes 2–4: frame 5 (kept, first copy, looks forged: ttl 46, sender's other packets 57) differs from frame 7]\nfghij\n"},
		{name: "learnt before the bytes: waits for them", as: "ascii", window: 100,
			steps: []step{{data: "abcdefg"}, {conflict: unsure}, {data: "hijk"}},
			want: "<<< server → client, frame 1, offset 0\nabcdefghi\n" +
				"[conflicting copies of bytes 8–8: frame 6 (kept, first copy) differs from frame 9; cannot tell which copy is genuine: both have ttl 57 like the sender's other packets]\njk\n"},
		{name: "nothing held back: where it is learnt", as: "ascii", window: 0,
			steps: []step{{data: "abcdef"}, {data: "ghij"}, {conflict: forged}},
			want: "<<< server → client, frame 1, offset 0\nabcdefghij\n" +
				"[conflicting copies of bytes 2–4: frame 5 (kept, first copy, looks forged: ttl 46, sender's other packets 57) differs from frame 7]\n\n"},
		{name: "the bytes were printed already", as: "ascii", window: 4,
			steps: []step{{data: "abcdef"}, {data: "ghijklmnop"}, {conflict: forged}},
			want: "<<< server → client, frame 1, offset 0\nabcdefghijklmnop\n" +
				"[conflicting copies of bytes 2–4: frame 5 (kept, first copy, looks forged: ttl 46, sender's other packets 57) differs from frame 7]\n\n"},
		{name: "after a gap, offsets count it", as: "ascii", window: 100,
			steps: []step{{data: "ab"}, {gap: 5}, {data: "hijk"}, {conflict: unsure}},
			want: "<<< server → client, frame 1, offset 0\nab\n[5 bytes missing: never captured, frame 1]\nhi\n" +
				"[conflicting copies of bytes 8–8: frame 6 (kept, first copy) differs from frame 9; cannot tell which copy is genuine: both have ttl 57 like the sender's other packets]\njk\n"},
		{name: "raw: on stderr, the bytes untouched", as: "raw", window: 100,
			steps:  []step{{data: "abcdef"}, {conflict: forged}},
			want:   "abcdef",
			stderr: "tcptrace: 192.0.2.1:80 [conflicting copies of bytes 2–4: frame 5 (kept, first copy, looks forged: ttl 46, sender's other packets 57) differs from frame 7]\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			p := NewFollow(&out, &errb, FollowOptions{As: tc.as, Want: [2]bool{true, true}, Window: tc.window})
			p.Header(1, "10.0.0.1:4000", "192.0.2.1:80", 1)
			off := int64(0)
			for _, s := range tc.steps {
				switch {
				case s.conflict != nil:
					p.Conflict(1, s.conflict)
				case s.gap > 0:
					p.Gap(1, off, s.gap, "loss", 1)
					off += s.gap
				default:
					p.Data(1, []byte(s.data), 1)
					off += int64(len(s.data))
				}
			}
			if err := p.Finish(); err != nil {
				t.Fatal(err)
			}
			got := out.String()
			if tc.as != "raw" {
				i := strings.Index(got, "<<<")
				j := strings.LastIndex(got, strings.Repeat("=", 67))
				if i < 0 || j < i {
					t.Fatalf("no output between header and trailer:\n%s", got)
				}
				if !strings.Contains(got[j:], "1 conflict") {
					t.Errorf("trailer %q does not count the conflict", got[j:])
				}
				got = got[i:j]
			}
			if got != tc.want {
				t.Errorf("output\n%s\nwant\n%s", got, tc.want)
			}
			if errb.String() != tc.stderr {
				t.Errorf("stderr %q, want %q", errb.String(), tc.stderr)
			}
		})
	}
}
