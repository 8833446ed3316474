// Package seqnum implements TCP's 32-bit sequence-number arithmetic (RFC 9293
// §3.4, "serial number arithmetic" of RFC 1982). It is the only place in
// tcptrace where sequence numbers are compared: never use < on them directly,
// because they wrap at 2³².
//
// It has no dependencies and is public so that any program can use it on its
// own, and so that one embedding tcptrace's statemachine or reassembly can
// build the tcp.Segments they take: their sequence numbers are Values and
// lengths in sequence space are Sizes.
package seqnum

// Value is a TCP sequence or acknowledgement number.
type Value uint32

// Size is a length in sequence space (bytes + one for each SYN and FIN).
type Size uint32

// LessThan reports whether v comes before w in sequence space: w is less than
// 2³¹ ahead of v. At a distance of exactly 2³¹ the order is undefined (RFC 1982
// §3.2) and LessThan is false both ways, which keeps it antisymmetric.
func (v Value) LessThan(w Value) bool { d := uint32(w - v); return d != 0 && d < 1<<31 }

// LessThanEq reports whether v comes before w or equals it.
func (v Value) LessThanEq(w Value) bool { return v == w || v.LessThan(w) }

// InRange reports whether a <= v < b in sequence space.
func (v Value) InRange(a, b Value) bool { return v-a < b-a }

// InWindow reports whether v lies in the window [first, first+size).
func (v Value) InWindow(first Value, size Size) bool { return v.InRange(first, first.Add(size)) }

// Add returns v advanced by s.
func (v Value) Add(s Size) Value { return v + Value(s) }

// Size returns the distance from v to w (w - v) as a Size; meaningful when
// v.LessThanEq(w).
func (v Value) Size(w Value) Size { return Size(w - v) }

// Diff returns the signed distance w - v.
func Diff(v, w Value) int64 { return int64(int32(w - v)) }

// Max returns the later of v and w in sequence space.
func Max(v, w Value) Value {
	if v.LessThan(w) {
		return w
	}
	return v
}
