package graph

import (
	"math"
	"slices"
	"sort"
)

// Thinning: thousands of segments over a few hundred pixel columns would
// draw one bar on top of another. Bars that fall in the same pixel column
// and touch (within a pixel) are merged into one bar spanning them all;
// lines keep, per pixel column, their first, lowest, highest and last
// vertex; dots on the same pixel become one. Anomaly marks and letters are
// never thinned. Every merged element says how many it stands for in a
// data-n attribute.

// pbar is a bar in pixels: column x, from y lo to y hi (lo ≤ hi), standing
// for n bars.
type pbar struct {
	x, lo, hi float64
	n         int
}

// thinBars merges the bars that share a pixel column and overlap or lie
// within a pixel of each other. The result is ordered by column, then from
// the top; each merged bar is drawn at the middle of its column.
func thinBars(in []pbar) []pbar {
	bs := slices.Clone(in)
	for i := range bs {
		bs[i].x = math.Floor(bs[i].x)
	}
	sort.SliceStable(bs, func(i, j int) bool {
		if bs[i].x != bs[j].x {
			return bs[i].x < bs[j].x
		}
		if bs[i].lo != bs[j].lo {
			return bs[i].lo < bs[j].lo
		}
		return bs[i].hi < bs[j].hi
	})
	var out []pbar
	for _, b := range bs {
		if b.n == 0 {
			b.n = 1
		}
		if k := len(out) - 1; k >= 0 && out[k].x == b.x+0.5 && b.lo <= out[k].hi+1 {
			out[k].hi = max(out[k].hi, b.hi)
			out[k].n += b.n
			continue
		}
		b.x += 0.5
		out = append(out, b)
	}
	return out
}

// ppt is a point in pixels, standing for n points.
type ppt struct {
	x, y float64
	n    int
}

// thinLine keeps, of each run of consecutive vertices in one pixel column,
// the first, the lowest, the highest and the last, in their order: the line
// looks the same.
func thinLine(in []ppt) []ppt {
	var out []ppt
	for i := 0; i < len(in); {
		col := math.Floor(in[i].x)
		j := i
		lo, hi := i, i
		for j < len(in) && math.Floor(in[j].x) == col {
			if in[j].y < in[lo].y {
				lo = j
			}
			if in[j].y > in[hi].y {
				hi = j
			}
			j++
		}
		keep := []int{i, lo, hi, j - 1}
		slices.Sort(keep)
		keep = slices.Compact(keep)
		for _, k := range keep {
			out = append(out, in[k])
		}
		i = j
	}
	return out
}

// thinPoints merges the points that round to the same pixel: the first
// stays, counting the others.
func thinPoints(in []ppt) []ppt {
	type key struct{ x, y float64 }
	at := map[key]int{}
	var out []ppt
	for _, p := range in {
		k := key{math.Round(p.x), math.Round(p.y)}
		if i, ok := at[k]; ok {
			out[i].n += max(p.n, 1)
			continue
		}
		at[k] = len(out)
		p.n = max(p.n, 1)
		out = append(out, p)
	}
	return out
}
