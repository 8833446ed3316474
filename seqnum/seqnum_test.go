package seqnum

import "testing"

func TestLessThan(t *testing.T) {
	tests := []struct {
		v, w Value
		want bool
	}{
		{0, 1, true},
		{1, 0, false},
		{0, 0, false},
		{0xFFFFFFFF, 0, true}, // wraps
		{0, 0xFFFFFFFF, false},
		{0x7FFFFFFF, 0x80000000, true},
		{0x80000000, 0x7FFFFFFF, false},
		{0xFFFFFF00, 0x00000100, true},
	}
	for _, tt := range tests {
		if got := tt.v.LessThan(tt.w); got != tt.want {
			t.Errorf("%#x.LessThan(%#x) = %v, want %v", tt.v, tt.w, got, tt.want)
		}
	}
}

func TestInWindow(t *testing.T) {
	tests := []struct {
		v, first Value
		size     Size
		want     bool
	}{
		{5, 0, 10, true},
		{10, 0, 10, false},
		{0, 0, 0, false},
		{0xFFFFFFFF, 0xFFFFFFF0, 0x20, true},
		{0x00000005, 0xFFFFFFF0, 0x20, true},
		{0x00000010, 0xFFFFFFF0, 0x20, false},
		{0xFFFFFFEF, 0xFFFFFFF0, 0x20, false},
	}
	for _, tt := range tests {
		if got := tt.v.InWindow(tt.first, tt.size); got != tt.want {
			t.Errorf("%#x.InWindow(%#x, %d) = %v, want %v", tt.v, tt.first, tt.size, got, tt.want)
		}
	}
}

func TestAddDiffRoundTrip(t *testing.T) {
	for _, v := range []Value{0, 1, 1 << 31, 0xFFFFFFFF, 0x7FFFFFFF} {
		for _, s := range []Size{0, 1, 1000, 1 << 30} {
			w := v.Add(s)
			if v.Size(w) != s {
				t.Errorf("%#x.Add(%d).Size = %d", v, s, v.Size(w))
			}
			if Diff(v, w) != int64(s) {
				t.Errorf("Diff(%#x, %#x) = %d, want %d", v, w, Diff(v, w), s)
			}
			if s > 0 && !v.LessThan(w) {
				t.Errorf("%#x should be before %#x", v, w)
			}
		}
	}
}

func FuzzAntisymmetry(f *testing.F) {
	f.Add(uint32(0), uint32(1))
	f.Add(uint32(0x80000000), uint32(0))
	f.Add(uint32(0xFFFFFFFF), uint32(0))
	f.Fuzz(func(t *testing.T, a, b uint32) {
		v, w := Value(a), Value(b)
		if v.LessThan(w) && w.LessThan(v) {
			t.Fatalf("both %#x<%#x and %#x<%#x", a, b, b, a)
		}
		if v == w && v.LessThan(w) {
			t.Fatalf("%#x < itself", a)
		}
		if Diff(v, w) != -Diff(w, v) && Diff(v, w) != -1<<31 {
			t.Fatalf("Diff not antisymmetric for %#x %#x", a, b)
		}
		if v.Add(v.Size(w)) != w {
			t.Fatalf("round trip failed for %#x %#x", a, b)
		}
	})
}
