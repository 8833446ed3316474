package capture

import (
	"errors"
	"io"
	"strings"
)

// Merge reads several sources as one stream in timestamp order: a k-way
// merge on each source's next frame, ties going to the lower source index.
// The order of frames within one source is never changed, even where its
// timestamps go backwards. Frame.File is the index of the source in srcs;
// Frame.N stays the number within that source.
//
// When a source fails, Next returns its error once, right after that
// source's last frame (where its next frame would have been), and the merge
// goes on with the other sources; io.EOF comes when all are exhausted.
//
// A frame's Data stays valid until the next call to Next: a source is only
// advanced when the frame it last gave has been handed out and Next is
// called again. With a single source, Merge returns it unchanged.
func Merge(srcs []Source) Source {
	if len(srcs) == 1 {
		return srcs[0]
	}
	names := make([]string, len(srcs))
	for i, s := range srcs {
		names[i] = s.Name()
	}
	return &merger{
		srcs:  srcs,
		name:  strings.Join(names, ","),
		heads: make([]*Frame, len(srcs)),
		heap:  make([]int, 0, len(srcs)),
		last:  -1,
	}
}

type merger struct {
	srcs   []Source
	name   string
	heads  []*Frame // next frame of each source in the heap
	heap   []int    // source indices, ordered by (heads[i].TS, i)
	primed int      // sources [0, primed) have been asked for their first frame
	last   int      // source of the frame handed out last, -1 if none
}

func (m *merger) Name() string { return m.name }

func (m *merger) Size() int64 {
	var n int64
	for _, s := range m.srcs {
		n += s.Size()
	}
	return n
}

func (m *merger) Pos() int64 {
	var n int64
	for _, s := range m.srcs {
		n += s.Pos()
	}
	return n
}

func (m *merger) Close() error {
	var first error
	for _, s := range m.srcs {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// advance asks source i for its next frame and puts it in the heap; it
// returns the source's error unless that is io.EOF.
func (m *merger) advance(i int) error {
	f, err := m.srcs[i].Next()
	if err != nil {
		m.heads[i] = nil
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}
	f.File = i
	m.heads[i] = f
	m.push(i)
	return nil
}

func (m *merger) Next() (*Frame, error) {
	if i := m.last; i >= 0 {
		m.last = -1
		if err := m.advance(i); err != nil {
			return nil, err
		}
	}
	for m.primed < len(m.srcs) {
		i := m.primed
		m.primed++
		if err := m.advance(i); err != nil {
			return nil, err
		}
	}
	if len(m.heap) == 0 {
		return nil, io.EOF
	}
	i := m.pop()
	m.last = i
	return m.heads[i], nil
}

func (m *merger) less(a, b int) bool {
	ta, tb := m.heads[a].TS, m.heads[b].TS
	return ta < tb || ta == tb && a < b
}

func (m *merger) push(i int) {
	h := append(m.heap, i)
	j := len(h) - 1
	for j > 0 {
		p := (j - 1) / 2
		if !m.less(h[j], h[p]) {
			break
		}
		h[j], h[p] = h[p], h[j]
		j = p
	}
	m.heap = h
}

func (m *merger) pop() int {
	h := m.heap
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	j := 0
	for {
		l := 2*j + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && m.less(h[r], h[l]) {
			c = r
		}
		if !m.less(h[c], h[j]) {
			break
		}
		h[j], h[c] = h[c], h[j]
		j = c
	}
	m.heap = h
	return top
}

// Stable reports whether every merged source is stable (IsStable).
func (m *merger) Stable() bool {
	for _, s := range m.srcs {
		if !IsStable(s) {
			return false
		}
	}
	return true
}
