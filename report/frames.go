package report

import "encoding/binary"

// FrameList is every frame of one connection (each TCP segment the engine
// filed into it), in the order they were read, as (input index, frame
// number) pairs: analyze.Config.Frames. It is kept compact, as runs of
// consecutive frames of one input, varint-encoded: a connection alone on
// its link costs a few bytes in all, and one interleaved with others about
// two bytes per frame. The zero value is an empty list.
type FrameList struct {
	buf []byte // the closed runs
	n   int64  // frames in all

	// The open run: frames start .. start+len-1 of input file.
	file        int32
	start, runN int64
	// The last closed run's input and last frame (deltas are taken from it).
	prevFile int32
	prevEnd  int64
	closed   bool // a run was closed (prevFile, prevEnd are set)
}

// Add appends frame of input file.
func (l *FrameList) Add(file int, frame int64) {
	l.n++
	if l.runN > 0 && int32(file) == l.file && frame == l.start+l.runN {
		l.runN++
		return
	}
	l.flush()
	l.file, l.start, l.runN = int32(file), frame, 1
}

// flush closes the open run: a header (length-1, doubled, plus 1 when the
// input differs from the previous run's), then the input and the first
// frame when it differs, else the first frame's distance from the previous
// run's last.
func (l *FrameList) flush() {
	if l.runN == 0 {
		return
	}
	newFile := !l.closed || l.file != l.prevFile
	h := uint64(l.runN-1) << 1
	if newFile {
		h |= 1
	}
	l.buf = binary.AppendUvarint(l.buf, h)
	if newFile {
		l.buf = binary.AppendUvarint(l.buf, uint64(l.file))
		l.buf = binary.AppendVarint(l.buf, l.start)
	} else {
		l.buf = binary.AppendVarint(l.buf, l.start-l.prevEnd)
	}
	l.prevFile, l.prevEnd, l.closed = l.file, l.start+l.runN-1, true
	l.runN = 0
}

// Len is the number of frames.
func (l *FrameList) Len() int64 {
	if l == nil {
		return 0
	}
	return l.n
}

// Size is the memory the list holds, in bytes (its encoding).
func (l *FrameList) Size() int {
	if l == nil {
		return 0
	}
	return cap(l.buf)
}

// Each calls fn with every frame in order, until fn returns false.
func (l *FrameList) Each(fn func(file int, frame int64) bool) {
	if l == nil {
		return
	}
	b := l.buf
	var file, prevEnd int64
	for len(b) > 0 {
		h, k := binary.Uvarint(b)
		b = b[k:]
		var start int64
		if h&1 != 0 {
			f, k := binary.Uvarint(b)
			b = b[k:]
			file = int64(f)
			start, k = binary.Varint(b)
			b = b[k:]
		} else {
			d, k := binary.Varint(b)
			b = b[k:]
			start = prevEnd + d
		}
		n := int64(h>>1) + 1
		for i := range n {
			if !fn(int(file), start+i) {
				return
			}
		}
		prevEnd = start + n - 1
	}
	for i := range l.runN {
		if !fn(int(l.file), l.start+i) {
			return
		}
	}
}
