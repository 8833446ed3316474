package graph

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestThinBars(t *testing.T) {
	in := []pbar{
		{x: 10.2, lo: 100, hi: 110, n: 1},
		{x: 10.7, lo: 110.5, hi: 120, n: 1}, // touches the first (within a pixel): merged
		{x: 10.9, lo: 300, hi: 305, n: 1},   // same column, far below: its own bar
		{x: 11.1, lo: 121, hi: 130, n: 1},   // next column: its own bar
		{x: 10.5, lo: 105, hi: 108, n: 1},   // inside the first: merged
		{x: 12, lo: 50, hi: 50, n: 0},       // n 0 counts as 1
	}
	want := []pbar{
		{x: 10.5, lo: 100, hi: 120, n: 3},
		{x: 10.5, lo: 300, hi: 305, n: 1},
		{x: 11.5, lo: 121, hi: 130, n: 1},
		{x: 12.5, lo: 50, hi: 50, n: 1},
	}
	got := thinBars(in)
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(pbar{})); diff != "" {
		t.Errorf("thinBars (-want +got):\n%s", diff)
	}
	total := 0
	for _, b := range got {
		total += b.n
	}
	if total != len(in) {
		t.Errorf("merged bars stand for %d bars, want %d", total, len(in))
	}
	if in[0].x != 10.2 {
		t.Error("thinBars changed its input")
	}
}

func TestThinLine(t *testing.T) {
	in := []ppt{
		{x: 1.1, y: 50}, {x: 1.2, y: 40}, {x: 1.3, y: 60}, {x: 1.4, y: 45}, {x: 1.9, y: 55}, // one column
		{x: 2.0, y: 30}, {x: 2.5, y: 30}, // the next: first and last
		{x: 3.5, y: 10},
	}
	want := []ppt{
		{x: 1.1, y: 50}, {x: 1.2, y: 40}, {x: 1.3, y: 60}, {x: 1.9, y: 55},
		{x: 2.0, y: 30}, {x: 2.5, y: 30},
		{x: 3.5, y: 10},
	}
	if diff := cmp.Diff(want, thinLine(in), cmp.AllowUnexported(ppt{})); diff != "" {
		t.Errorf("thinLine (-want +got):\n%s", diff)
	}
}

func TestThinPoints(t *testing.T) {
	in := []ppt{{x: 1.1, y: 2.2}, {x: 0.9, y: 1.8}, {x: 5, y: 5}, {x: 1.4, y: 2.4, n: 2}}
	want := []ppt{{x: 1.1, y: 2.2, n: 4}, {x: 5, y: 5, n: 1}}
	if diff := cmp.Diff(want, thinPoints(in), cmp.AllowUnexported(ppt{})); diff != "" {
		t.Errorf("thinPoints (-want +got):\n%s", diff)
	}
}
