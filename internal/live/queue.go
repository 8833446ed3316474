package live

import "github.com/tcptrace/tcptrace/internal/capture"

// queue keeps the frames (and errors) Close drained from the rings, with
// their bytes in one arena, for Next to return after Close.
type queue struct {
	items []queued
	arena []byte
	head  int
}

type queued struct {
	f        capture.Frame // Data unset: arena[off:off+n]
	off, n   int
	err      error
	hasFrame bool
}

func (q *queue) add(f *capture.Frame, err error) {
	it := queued{err: err}
	if f != nil {
		it.f, it.hasFrame = *f, true
		it.f.Data = nil
		it.off, it.n = len(q.arena), len(f.Data)
		q.arena = append(q.arena, f.Data...)
	}
	q.items = append(q.items, it)
}

// next fills dst with the next queued frame; ok is false when the queue is
// empty.
func (q *queue) next(dst *capture.Frame) (*capture.Frame, error, bool) {
	if q.head >= len(q.items) {
		q.items, q.arena = nil, nil
		return nil, nil, false
	}
	it := &q.items[q.head]
	q.head++
	if !it.hasFrame {
		return nil, it.err, true
	}
	*dst = it.f
	dst.Data = q.arena[it.off : it.off+it.n : it.off+it.n]
	return dst, nil, true
}
