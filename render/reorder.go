package render

import "container/heap"

// reorder puts what streams in (add) back in the order of its keys through
// a buffer of at most window items: whenever the buffer is over full, the
// first of it goes out. Output is in key order as long as nothing comes
// after window items that follow it have come: all the way on inputs of
// up to window items. An item whose key is before one that is out already
// goes out when it comes, and is counted (late).
type reorder[K, T any] struct {
	less   func(a, b K) bool
	window int
	out    func(T)
	items  []keyed[K, T] // a heap by key
	last   K             // the key that went out last
	began  bool          // something went out
	late   int
}

type keyed[K, T any] struct {
	key K
	v   T
}

func newReorder[K, T any](window int, less func(a, b K) bool, out func(T)) *reorder[K, T] {
	return &reorder[K, T]{less: less, window: window, out: out}
}

// add takes one item.
func (r *reorder[K, T]) add(k K, v T) {
	if r.began && r.less(k, r.last) {
		r.late++
		r.out(v)
		return
	}
	heap.Push((*reorderHeap[K, T])(r), keyed[K, T]{k, v})
	if len(r.items) > r.window {
		r.next()
	}
}

// next sends out the first item held.
func (r *reorder[K, T]) next() {
	x := heap.Pop((*reorderHeap[K, T])(r)).(keyed[K, T])
	r.last, r.began = x.key, true
	r.out(x.v)
}

// flush sends out every item held, in order.
func (r *reorder[K, T]) flush() {
	for len(r.items) > 0 {
		r.next()
	}
}

// reorderHeap is the heap.Interface of a reorder's items.
type reorderHeap[K, T any] reorder[K, T]

func (h *reorderHeap[K, T]) Len() int           { return len(h.items) }
func (h *reorderHeap[K, T]) Less(i, j int) bool { return h.less(h.items[i].key, h.items[j].key) }
func (h *reorderHeap[K, T]) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *reorderHeap[K, T]) Push(x any)         { h.items = append(h.items, x.(keyed[K, T])) }
func (h *reorderHeap[K, T]) Pop() any {
	n := len(h.items) - 1
	x := h.items[n]
	h.items[n] = keyed[K, T]{}
	h.items = h.items[:n]
	return x
}

func intLess(a, b int) bool { return a < b }
