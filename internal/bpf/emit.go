package bpf

import "fmt"

// emit lays the program graph out as instructions, in libpcap's order: a
// block, then what its true branch leads to, then what its false branch
// leads to (each block once). A conditional jump reaches at most 255
// instructions ahead; a farther target gets a "ja" right after the jump.
func emit(root *block) ([]Instruction, error) {
	order := reversePostorder(root)

	type layout struct {
		jump          bool // a jump instruction after the statements
		longT, longF  bool // a ja after the jump, for a far target
		pos, jumpPos  int
		fallthroughTo bool // an unconditional block followed by its target
	}
	lay := make(map[*block]*layout, len(order))
	for i, b := range order {
		l := &layout{}
		switch {
		case b.isLeaf():
			l.jump = true
		case !b.hasTest():
			l.fallthroughTo = i+1 < len(order) && order[i+1] == b.jt
			l.jump = !l.fallthroughTo
		default:
			l.jump = true
		}
		lay[b] = l
	}
	for iter := 0; ; iter++ {
		pos := 0
		for _, b := range order {
			l := lay[b]
			l.pos = pos
			pos += len(b.stmts)
			l.jumpPos = pos
			if l.jump {
				pos++
			}
			if l.longT {
				pos++
			}
			if l.longF {
				pos++
			}
		}
		if pos > MaxInstructions {
			return nil, fmt.Errorf("the filter compiles to %d instructions, over the kernel's limit of %d", pos, MaxInstructions)
		}
		grew := false
		for _, b := range order {
			l := lay[b]
			if b.isLeaf() || !b.hasTest() {
				continue
			}
			next := l.jumpPos + 1
			if !l.longT && lay[b.jt].pos-next > 255 {
				l.longT, grew = true, true
			}
			if !l.longF && lay[b.jf].pos-next > 255 {
				l.longF, grew = true, true
			}
		}
		if !grew {
			break
		}
	}
	var prog []Instruction
	for _, b := range order {
		l := lay[b]
		prog = append(prog, b.stmts...)
		switch {
		case b.isLeaf():
			prog = append(prog, Instruction{Code: b.code, K: b.k})
		case !b.hasTest():
			if l.jump {
				prog = append(prog, Instruction{Code: classJMP | jmpJA, K: uint32(lay[b.jt].pos - (l.jumpPos + 1))})
			}
		default:
			next := l.jumpPos + 1
			extra := next // where the long jumps go
			jt := lay[b.jt].pos - next
			if l.longT {
				jt = extra - next
				extra++
			}
			jf := lay[b.jf].pos - next
			if l.longF {
				jf = extra - next
			}
			prog = append(prog, Instruction{Code: b.code, Jt: uint8(jt), Jf: uint8(jf), K: b.k})
			after := next
			if l.longT {
				after++
				prog = append(prog, Instruction{Code: classJMP | jmpJA, K: uint32(lay[b.jt].pos - after)})
			}
			if l.longF {
				after++
				prog = append(prog, Instruction{Code: classJMP | jmpJA, K: uint32(lay[b.jf].pos - after)})
			}
		}
	}
	return prog, nil
}

// reversePostorder lists the blocks reachable from root, each once, every
// block before the blocks it jumps to: the block, then what its true branch
// leads to, then what its false branch leads to (libpcap's layout order).
func reversePostorder(root *block) []*block {
	var post []*block
	seen := map[*block]bool{}
	var visit func(b *block)
	visit = func(b *block) {
		if seen[b] {
			return
		}
		seen[b] = true
		if !b.isLeaf() {
			visit(b.jf)
			visit(b.jt)
		}
		post = append(post, b)
	}
	visit(root)
	for i, j := 0, len(post)-1; i < j; i, j = i+1, j-1 {
		post[i], post[j] = post[j], post[i]
	}
	return post
}
