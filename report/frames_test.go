package report

import (
	"math/rand/v2"
	"testing"
)

func TestFrameList(t *testing.T) {
	type fr struct {
		file  int
		frame int64
	}
	cases := map[string][]fr{
		"empty":       nil,
		"one":         {{0, 7}},
		"run":         {{0, 1}, {0, 2}, {0, 3}, {0, 4}},
		"interleaved": {{0, 1}, {0, 3}, {0, 5}, {0, 6}, {0, 9}},
		"files":       {{0, 5}, {1, 5}, {0, 6}, {1, 2}, {1, 3}, {2, 1_000_000_000_000}, {0, 7}},
		"backwards":   {{0, 10}, {0, 4}, {0, 5}},
	}
	r := rand.New(rand.NewPCG(1, 2))
	var big []fr
	next := [3]int64{1, 1, 1}
	for range 10000 {
		f := r.IntN(3)
		next[f] += int64(r.IntN(3))
		big = append(big, fr{f, next[f]})
		next[f]++
	}
	cases["random"] = big
	for name, want := range cases {
		var l FrameList
		for _, f := range want {
			l.Add(f.file, f.frame)
		}
		var got []fr
		l.Each(func(file int, frame int64) bool { got = append(got, fr{file, frame}); return true })
		if len(got) != len(want) || l.Len() != int64(len(want)) {
			t.Fatalf("%s: %d frames back (Len %d), want %d", name, len(got), l.Len(), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: frame %d is %v, want %v", name, i, got[i], want[i])
			}
		}
	}
	// A connection alone on its link: one run, a few bytes.
	var l FrameList
	for i := range int64(1_000_000) {
		l.Add(0, i+1)
	}
	l.Add(0, 2_000_000) // closes the run
	if l.Size() > 64 {
		t.Errorf("a million consecutive frames take %d bytes", l.Size())
	}
	var nilList *FrameList
	nilList.Each(func(int, int64) bool { t.Fatal("nil list has frames"); return false })
}
