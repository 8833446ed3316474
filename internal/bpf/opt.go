package bpf

import (
	"fmt"
	"slices"
	"strings"
)

// The optimizer. It makes the program graph smaller the way libpcap's
// optimizer does, with transformations of its own that keep the program's
// verdict on every packet:
//
//   - value numbering: every register (A, X, M[0..15]) holds a value
//     number at each point; the same load from the packet has the same
//     number wherever it is, so a statement that puts into a register the
//     value it already holds is deleted, constants are folded, and a load
//     at [x + k] with a known X becomes a load at a fixed offset;
//   - branch threading: along each edge the outcome of the tests on the
//     way is known (a jeq that was true also says that every other jeq of
//     the same value is false); an edge into a block whose outcome is known
//     goes straight to that outcome, provided the skipped block sets no
//     register that is used later with a different value;
//   - dead code: statements whose result is never used are deleted;
//   - identical blocks are merged.
//
// Where two paths join and bring different values, the register gets a
// fresh value ("phi") that equals nothing else. As in libpcap, moving a
// phi value into a register is never deleted as redundant.

const nAtoms = 2 + memWords

const (
	atomA = 0
	atomX = 1
	atomM = 2 // M[k] is atom atomM+k
)

type vals [nAtoms]int32

// Pseudo opcodes of value keys.
const (
	vConst uint16 = 0xffff
	vPhi   uint16 = 0xfffe
)

type vkey struct {
	op   uint16
	k    uint32
	a, b int32
}

type vinfo struct {
	konst bool
	c     uint32
	phi   bool
}

type vtable struct {
	ids    map[vkey]int32
	info   []vinfo
	memPhi map[string]int32
}

func newVtable() *vtable {
	return &vtable{ids: map[vkey]int32{}, info: []vinfo{{}}, memPhi: map[string]int32{}}
}

// mergedMem names the value of scratch register atom where paths with
// different values join, by the stores that can reach that point: two
// points reached by the same set of stores see the same value on any path
// through both (a store between them would reach the second point and not
// the first, the graph having no cycles). So every test of the VLAN
// offsets after the "vlan" that set them reads the same value, as libpcap
// assumes.
func (t *vtable) mergedMem(atom int, stores []int) int32 {
	key := fmt.Sprint(atom, stores)
	if id, ok := t.memPhi[key]; ok {
		return id
	}
	id := int32(len(t.info))
	t.info = append(t.info, vinfo{phi: true})
	t.memPhi[key] = id
	return id
}

func (t *vtable) get(key vkey, info vinfo) int32 {
	if id, ok := t.ids[key]; ok {
		return id
	}
	id := int32(len(t.info))
	t.ids[key] = id
	t.info = append(t.info, info)
	return id
}

func (t *vtable) konst(c uint32) int32 {
	return t.get(vkey{op: vConst, k: c}, vinfo{konst: true, c: c})
}

func (t *vtable) phi(b *block, atom int) int32 {
	return t.get(vkey{op: vPhi, k: uint32(b.id), a: int32(atom)}, vinfo{phi: true})
}

func (t *vtable) isConst(v int32) (uint32, bool) {
	if v <= 0 || int(v) >= len(t.info) {
		return 0, false
	}
	i := t.info[v]
	return i.c, i.konst
}

// aluFold computes a constant ALU operation; ok is false for a division
// by zero, which stays in the program (it drops the packet at run time).
func aluFold(o uint16, a, b uint32) (uint32, bool) {
	switch o {
	case aluADD:
		return a + b, true
	case aluSUB:
		return a - b, true
	case aluMUL:
		return a * b, true
	case aluDIV:
		if b == 0 {
			return 0, false
		}
		return a / b, true
	case aluMOD:
		if b == 0 {
			return 0, false
		}
		return a % b, true
	case aluOR:
		return a | b, true
	case aluAND:
		return a & b, true
	case aluXOR:
		return a ^ b, true
	case aluLSH:
		return a << (b & 31), true
	case aluRSH:
		return a >> (b & 31), true
	case aluNEG:
		return -a, true
	}
	return 0, false
}

// eval gives the register a statement sets and its new value, with the
// statement rewritten where a known value makes it simpler (a constant
// load, a load at a fixed offset).
func (t *vtable) eval(s Instruction, v *vals) (Instruction, int, int32) {
	c, k := s.Code, s.K
	switch class(c) {
	case classLD:
		switch mode(c) {
		case modeIMM:
			return s, atomA, t.konst(k)
		case modeMEM:
			m := v[atomM+int(k%memWords)]
			if cv, ok := t.isConst(m); ok {
				return stmt(classLD|modeIMM, cv), atomA, m
			}
			return s, atomA, m
		case modeIND:
			if xv, ok := t.isConst(v[atomX]); ok && uint64(xv)+uint64(k) < 0x80000000 {
				s = stmt(classLD|modeABS|size(c), xv+k)
				return s, atomA, t.get(vkey{op: s.Code, k: s.K}, vinfo{})
			}
			return s, atomA, t.get(vkey{op: c, k: k, a: v[atomX]}, vinfo{})
		default: // ABS, LEN
			return s, atomA, t.get(vkey{op: c, k: k}, vinfo{})
		}
	case classLDX:
		switch mode(c) {
		case modeIMM:
			return s, atomX, t.konst(k)
		case modeMEM:
			m := v[atomM+int(k%memWords)]
			if cv, ok := t.isConst(m); ok {
				return stmt(classLDX|modeIMM, cv), atomX, m
			}
			return s, atomX, m
		default: // MSH, LEN
			return s, atomX, t.get(vkey{op: c, k: k}, vinfo{})
		}
	case classST:
		return s, atomM + int(k%memWords), v[atomA]
	case classSTX:
		return s, atomM + int(k%memWords), v[atomX]
	case classALU:
		o := op(c)
		if src(c) == srcX {
			if xv, ok := t.isConst(v[atomX]); ok {
				s = stmt(classALU|o|srcK, xv)
				c, k = s.Code, s.K
			} else {
				return s, atomA, t.get(vkey{op: c, a: v[atomA], b: v[atomX]}, vinfo{})
			}
		}
		if av, ok := t.isConst(v[atomA]); ok {
			if r, ok := aluFold(o, av, k); ok {
				return stmt(classLD|modeIMM, r), atomA, t.konst(r)
			}
		}
		if o == aluNEG {
			k = 0
		}
		return s, atomA, t.get(vkey{op: c, k: k, a: v[atomA]}, vinfo{})
	case classMISC:
		if c&0xf8 == miscTXA {
			return s, atomA, v[atomX]
		}
		return s, atomX, v[atomA]
	}
	return s, atomA, t.get(vkey{op: c, k: k}, vinfo{})
}

// uses and defs of a statement, as bit sets of atoms.
func stmtUse(s Instruction) uint32 {
	c := s.Code
	switch class(c) {
	case classLD:
		switch mode(c) {
		case modeIND:
			return 1 << atomX
		case modeMEM:
			return 1 << (atomM + s.K%memWords)
		}
	case classLDX:
		if mode(c) == modeMEM {
			return 1 << (atomM + s.K%memWords)
		}
	case classST:
		return 1 << atomA
	case classSTX:
		return 1 << atomX
	case classALU:
		if src(c) == srcX {
			return 1<<atomA | 1<<atomX
		}
		return 1 << atomA
	case classMISC:
		if c&0xf8 == miscTXA {
			return 1 << atomX
		}
		return 1 << atomA
	}
	return 0
}

func stmtDef(s Instruction) uint32 {
	switch class(s.Code) {
	case classLD, classALU:
		return 1 << atomA
	case classLDX:
		return 1 << atomX
	case classST, classSTX:
		return 1 << (atomM + s.K%memWords)
	case classMISC:
		if s.Code&0xf8 == miscTXA {
			return 1 << atomA
		}
		return 1 << atomX
	}
	return 0
}

// conditional: the block has two different successors.
func (b *block) conditional() bool {
	return b.hasTest() && b.jt != b.jf
}

// hasTest: the block ends in a test of A (which is emitted, and reads A,
// also when both branches go to the same place).
func (b *block) hasTest() bool {
	return class(b.code) == classJMP && op(b.code) != jmpJA
}

// fact is the outcome of a test on a value: "value code k" was outcome.
type fact struct {
	code    uint16
	k       uint32
	outcome bool
}

// facts is an immutable list of facts (value, test, outcome) known on a
// path; a list grows by its head, so that the facts of a block's two
// edges share those known on entry.
type facts struct {
	v    int32
	f    fact
	next *facts
	n    int
}

func (l *facts) add(v int32, x fact) *facts {
	n := 1
	if l != nil {
		n = l.n + 1
	}
	return &facts{v: v, f: x, next: l, n: n}
}

func (l *facts) len() int {
	if l == nil {
		return 0
	}
	return l.n
}

// intersect keeps facts known on both lists. It may forget some (which
// is safe): the shared tail of the two lists, and the facts of the first
// list's own part found in the second's own part.
func intersect(a, b *facts) *facts {
	if a == b {
		return a
	}
	pa, pb := a, b
	var ownA, ownB []*facts
	for pa.len() > pb.len() {
		ownA, pa = append(ownA, pa), pa.next
	}
	for pb.len() > pa.len() {
		ownB, pb = append(ownB, pb), pb.next
	}
	for pa != pb {
		ownA, pa = append(ownA, pa), pa.next
		ownB, pb = append(ownB, pb), pb.next
	}
	out := pa
	type key struct {
		v int32
		f fact
	}
	var inB map[key]bool
	if len(ownA)*len(ownB) > 64 {
		inB = make(map[key]bool, len(ownB))
		for _, y := range ownB {
			inB[key{y.v, y.f}] = true
		}
	}
	for i := len(ownA) - 1; i >= 0; i-- {
		x := ownA[i]
		if inB != nil {
			if inB[key{x.v, x.f}] {
				out = out.add(x.v, x.f)
			}
			continue
		}
		for _, y := range ownB {
			if x.v == y.v && x.f == y.f {
				out = out.add(x.v, x.f)
				break
			}
		}
	}
	return out
}

type optimizer struct {
	vt     *vtable
	stored uint32 // the scratch registers some statement stores to
	root   *block
	topo   []*block // reachable blocks, every block before its successors
	change bool
}

// analyze finds the reachable blocks in topological order and their
// predecessors.
func (o *optimizer) analyze() {
	o.topo = append(o.topo[:0], reversePostorder(o.root)...)
	for _, b := range o.topo {
		b.preds = b.preds[:0]
	}
	o.stored = 0
	for _, b := range o.topo {
		for _, s := range b.stmts {
			if c := class(s.Code); c == classST || c == classSTX {
				o.stored |= 1 << (s.K % memWords)
			}
		}
		if !b.isLeaf() {
			b.jt.preds = append(b.jt.preds, b)
			if b.jf != b.jt {
				b.jf.preds = append(b.jf.preds, b)
			}
		}
	}
}

// liveness computes the registers live on entry of every block.
func (o *optimizer) liveness() {
	for i := len(o.topo) - 1; i >= 0; i-- {
		b := o.topo[i]
		b.live = o.liveIn(b, o.liveOut(b))
	}
}

func (o *optimizer) liveOut(b *block) uint32 {
	if b.isLeaf() {
		return 0
	}
	return b.jt.live | b.jf.live
}

func (o *optimizer) liveIn(b *block, live uint32) uint32 {
	if b.isLeaf() {
		return 0
	}
	if b.hasTest() {
		live |= 1 << atomA
	}
	for i := len(b.stmts) - 1; i >= 0; i-- {
		live = live&^stmtDef(b.stmts[i]) | stmtUse(b.stmts[i])
	}
	return live
}

// inVals merges the values of b's predecessors.
func (o *optimizer) inVals(b *block) vals {
	var v vals
	if len(b.preds) == 0 {
		for a := range v {
			v[a] = o.vt.phi(b, a)
		}
		return v
	}
	v = b.preds[0].out
	var differ uint32
	for _, p := range b.preds[1:] {
		for a := range v {
			if v[a] != p.out[a] {
				differ |= 1 << a
			}
		}
	}
	for a := 0; differ != 0; a++ {
		if differ&(1<<a) == 0 {
			continue
		}
		differ &^= 1 << a
		if a >= atomM && o.stored&(1<<(a-atomM)) != 0 {
			v[a] = o.vt.mergedMem(a, b.reachIn[a-atomM])
		} else {
			v[a] = o.vt.phi(b, a)
		}
	}
	return v
}

// reaching computes the stores of each scratch register that reach b
// (block ids; -1 for the program's entry), from its predecessors'.
func (o *optimizer) reaching(b *block) {
	for r := 0; r < memWords; r++ {
		if o.stored&(1<<r) == 0 {
			continue
		}
		var set []int
		if len(b.preds) == 0 {
			set = []int{-1}
		}
		for _, p := range b.preds {
			for _, id := range p.reachOut[r] {
				if !slices.Contains(set, id) {
					set = append(set, id)
				}
			}
		}
		slices.Sort(set)
		b.reachIn[r] = set
	}
}

func (o *optimizer) reachingOut(b *block) {
	b.reachOut = b.reachIn
	for _, s := range b.stmts {
		if c := class(s.Code); c == classST || c == classSTX {
			b.reachOut[s.K%memWords] = []int{b.id}
		}
	}
}

// simulate runs b's statements on in without changing them.
func (o *optimizer) simulate(b *block, in vals) vals {
	for _, s := range b.stmts {
		_, a, v := o.vt.eval(s, &in)
		in[a] = v
	}
	return in
}

// decide tells the outcome of b's test when A holds a, given the facts
// known on the way: +1 true, -1 false, 0 unknown.
func (o *optimizer) decide(b *block, a int32, known *facts) int {
	if !b.conditional() {
		return 0
	}
	if c, ok := o.vt.isConst(a); ok {
		var r bool
		switch op(b.code) {
		case jmpJEQ:
			r = c == b.k
		case jmpJGT:
			r = c > b.k
		case jmpJGE:
			r = c >= b.k
		case jmpJSET:
			r = c&b.k != 0
		}
		if r {
			return 1
		}
		return -1
	}
	for l := known; l != nil; l = l.next {
		if l.v != a {
			continue
		}
		f := l.f
		if f.code == b.code && f.k == b.k {
			if f.outcome {
				return 1
			}
			return -1
		}
		if f.code == classJMP|jmpJEQ|srcK && f.outcome && op(b.code) == jmpJEQ {
			return -1 // a == f.k, which is not b.k
		}
	}
	return 0
}

// thread moves the edge *e out of p past blocks whose outcome is known
// there.
func (o *optimizer) thread(p *block, e **block, known *facts) {
	for {
		c := *e
		if c.isLeaf() || c.opaque {
			return
		}
		cout := o.simulate(c, p.out)
		var t *block
		switch o.decide(c, cout[atomA], known) {
		case 1:
			t = c.jt
		case -1:
			t = c.jf
		default:
			if c.jt != c.jf {
				return
			}
			t = c.jt
		}
		// Skipping c must not change a value used from t on.
		for a := 0; a < nAtoms; a++ {
			if t.live&(1<<a) != 0 && p.out[a] != cout[a] {
				return
			}
		}
		o.retarget(p, e, t)
	}
}

// retarget points the edge *e of p to t, keeping the predecessor lists.
func (o *optimizer) retarget(p *block, e **block, t *block) {
	old := *e
	*e = t
	o.change = true
	if p.jt != old && p.jf != old {
		removePred(old, p)
	}
	for _, q := range t.preds {
		if q == p {
			return
		}
	}
	t.preds = append(t.preds, p)
}

func removePred(b, p *block) {
	for i, q := range b.preds {
		if q == p {
			b.preds = append(b.preds[:i:i], b.preds[i+1:]...)
			return
		}
	}
}

// unlink removes an unreachable block from its successors' predecessors.
func unlink(b *block) {
	if b.isLeaf() {
		return
	}
	removePred(b.jt, b)
	if b.jf != b.jt {
		removePred(b.jf, b)
	}
}

// sweep visits the blocks top-down, computing their values and the facts
// on their edges; with stmts it also optimizes their statements, and with
// branches it threads their edges.
func (o *optimizer) sweep(stmts, branches bool) {
	o.analyze()
	o.liveness()
	for _, b := range o.topo {
		if b != o.root && len(b.preds) == 0 {
			unlink(b) // no longer reachable: a branch above moved
			continue
		}
		o.reaching(b)
		b.in = o.inVals(b)
		if b.isLeaf() {
			b.out = b.in
			continue
		}
		var known *facts
		for i, p := range b.preds {
			var f *facts
			switch {
			case p.jt == b && p.jf == b:
				f = intersect(p.factsT, p.factsF)
			case p.jt == b:
				f = p.factsT
			default:
				f = p.factsF
			}
			if i == 0 {
				known = f
			} else {
				known = intersect(known, f)
			}
		}
		if stmts && !b.opaque {
			o.optStmts(b)
		}
		b.out = o.simulate(b, b.in)
		o.reachingOut(b)
		if b.isLeaf() {
			continue
		}
		if stmts && b.conditional() {
			switch o.decide(b, b.out[atomA], known) {
			case 1:
				o.retarget(b, &b.jf, b.jt)
			case -1:
				o.retarget(b, &b.jt, b.jf)
			}
		}
		if branches {
			o.thread(b, &b.jt, o.edgeFacts(b, known, true))
			o.thread(b, &b.jf, o.edgeFacts(b, known, false))
		}
		b.factsT, b.factsF = o.edgeFacts(b, known, true), o.edgeFacts(b, known, false)
	}
}

func (o *optimizer) edgeFacts(b *block, known *facts, outcome bool) *facts {
	if !b.conditional() || b.opaque {
		return known
	}
	return known.add(b.out[atomA], fact{code: b.code, k: b.k, outcome: outcome})
}

// optStmts deletes the statements of b that set a register to the value
// it holds, and simplifies those whose operands are known.
func (o *optimizer) optStmts(b *block) {
	v := b.in
	out := b.stmts[:0]
	for _, s := range b.stmts {
		ns, a, nv := o.vt.eval(s, &v)
		if v[a] == nv && !o.vt.info[nv].phi {
			o.change = true
			continue
		}
		if ns != s {
			o.change = true
		}
		v[a] = nv
		out = append(out, ns)
	}
	if len(out) > 0 && o.liveOut(b) == 0 && v[atomA] == b.in[atomA] && v[atomX] == b.in[atomX] &&
		!o.vt.info[v[atomA]].phi && !o.vt.info[v[atomX]].phi {
		// Together the statements leave A and X as they were (A used as
		// scratch to recompute X, say) and nothing after the block uses a
		// register: none is needed. (libpcap's condition: known values.)
		out = out[:0]
		o.change = true
	}
	b.stmts = out
}

// peephole: "and #k; jeq #0" becomes "jset #k" with the branches swapped
// when nothing after the block uses A.
func (o *optimizer) peephole(b *block) {
	n := len(b.stmts)
	if !b.conditional() || b.code != classJMP|jmpJEQ|srcK || b.k != 0 || n == 0 ||
		b.stmts[n-1].Code != classALU|aluAND|srcK || o.liveOut(b)&(1<<atomA) != 0 {
		return
	}
	b.code, b.k = classJMP|jmpJSET|srcK, b.stmts[n-1].K
	b.stmts = b.stmts[:n-1]
	b.jt, b.jf = b.jf, b.jt
	o.change = true
}

// deadCode deletes statements whose result nothing uses.
func (o *optimizer) deadCode() {
	for i := len(o.topo) - 1; i >= 0; i-- {
		b := o.topo[i]
		if b.isLeaf() {
			b.stmts = nil
			b.live = 0
			continue
		}
		o.peephole(b)
		live := o.liveOut(b)
		if b.hasTest() {
			live |= 1 << atomA
		}
		keep := make([]bool, len(b.stmts))
		for j := len(b.stmts) - 1; j >= 0; j-- {
			s := b.stmts[j]
			if stmtDef(s)&live == 0 {
				o.change = true
				continue
			}
			keep[j] = true
			live = live&^stmtDef(s) | stmtUse(s)
		}
		out := b.stmts[:0]
		for j, s := range b.stmts {
			if keep[j] {
				out = append(out, s)
			}
		}
		b.stmts = out
		b.live = live
	}
}

// intern merges identical blocks, bottom-up.
func (o *optimizer) intern() {
	o.analyze()
	seen := map[string]*block{}
	rep := map[*block]*block{}
	for i := len(o.topo) - 1; i >= 0; i-- {
		b := o.topo[i]
		if !b.isLeaf() {
			if r := rep[b.jt]; r != nil {
				b.jt = r
			}
			if r := rep[b.jf]; r != nil {
				b.jf = r
			}
		}
		var key strings.Builder
		fmt.Fprintf(&key, "%x %x %v", b.code, b.k, b.opaque)
		if !b.isLeaf() {
			fmt.Fprintf(&key, " %d %d", b.jt.id, b.jf.id)
		}
		for _, s := range b.stmts {
			fmt.Fprintf(&key, " %x:%x", s.Code, s.K)
		}
		if r := seen[key.String()]; r != nil {
			rep[b] = r
		} else {
			seen[key.String()] = b
		}
	}
	if r := rep[o.root]; r != nil {
		o.root = r
	}
}

// pure: the block only loads (no stores), so tests can be reordered.
func (b *block) pure() bool {
	if b.opaque || !b.conditional() {
		return false
	}
	for _, s := range b.stmts {
		if c := class(s.Code); c == classST || c == classSTX {
			return false
		}
	}
	return true
}

func defs(b *block) uint32 {
	var d uint32
	for _, s := range b.stmts {
		d |= stmtDef(s)
	}
	return d
}

// regroup reorders a chain of tests that all lead to the same block when
// true (an "or" chain: each next test on the false branch; with andChain,
// an "and" chain: same false target, next test on the true branch) so
// that tests of the same value follow each other: first those of the
// value the chain's predecessors left in A, then the others grouped in
// the order they first appear. That is where libpcap's or_pullup and
// and_pullup, applied until nothing moves, bring a chain: "port 80 or
// 443" tests the source port against both, then the destination port.
// Blocks marked dirty (changed by an earlier reordering of this pass,
// their values no longer known) end the chain. It says whether it
// reordered.
func (o *optimizer) regroup(b *block, andChain bool, dirty map[*block]bool) bool {
	common := func(x *block) *block {
		if andChain {
			return x.jf
		}
		return x.jt
	}
	link := func(x *block) **block {
		if andChain {
			return &x.jt
		}
		return &x.jf
	}
	if !b.pure() || len(b.preds) == 0 || dirty[b] {
		return false
	}
	if p := b.preds[0]; len(b.preds) == 1 && *link(p) == b && p.pure() && common(p) == common(b) {
		return false // inside a chain: its head regroups it
	}
	for _, p := range b.preds {
		if dirty[p] {
			return false
		}
	}
	// The value the predecessors leave in A, if they agree (0: none).
	val := b.preds[0].out[atomA]
	for _, p := range b.preds[1:] {
		if p.out[atomA] != val {
			val = 0
		}
	}
	chain := []*block{b}
	for {
		last := chain[len(chain)-1]
		x := *link(last)
		if x.isLeaf() || dirty[x] || !x.pure() || common(x) != common(b) || len(x.preds) != 1 || x.preds[0] != last {
			break
		}
		chain = append(chain, x)
	}
	if len(chain) < 2 {
		return false
	}
	rest := *link(chain[len(chain)-1])
	// The new order.
	byVal := map[int32][]*block{}
	var vals []int32 // in order of first appearance, val first
	if val != 0 {
		vals = append(vals, val)
		byVal[val] = nil
	}
	for _, x := range chain {
		v := x.out[atomA]
		if _, ok := byVal[v]; !ok {
			vals = append(vals, v)
		}
		byVal[v] = append(byVal[v], x)
	}
	order := make([]*block, 0, len(chain))
	for _, v := range vals {
		order = append(order, byVal[v]...)
	}
	if slices.Equal(order, chain) {
		return false
	}
	// The reordered chain must test the same values, and leave nothing a
	// target uses.
	var touched uint32
	for _, x := range chain {
		touched |= defs(x)
	}
	if common(b).live&touched != 0 || rest.live&touched != 0 {
		return false
	}
	for _, p := range b.preds {
		v := p.out
		for _, x := range order {
			v = o.simulate(x, v)
			if v[atomA] != x.out[atomA] {
				return false
			}
		}
	}
	for i, x := range order {
		if i+1 < len(order) {
			*link(x) = order[i+1]
		} else {
			*link(x) = rest
		}
	}
	head := order[0]
	for _, p := range b.preds {
		if p.jt == b {
			p.jt = head
		}
		if p.jf == b {
			p.jf = head
		}
		dirty[p] = true
	}
	if o.root == b {
		o.root = head
	}
	for _, x := range append(chain, rest, common(b)) {
		if !x.isLeaf() { // a leaf's liveness never changes
			dirty[x] = true
		}
	}
	o.change = true
	return true
}

// pullups reorders chains, bottom-up; each block at most once a pass.
func (o *optimizer) pullups() {
	o.sweep(false, false)
	dirty := map[*block]bool{}
	for i := len(o.topo) - 1; i >= 0; i-- {
		b := o.topo[i]
		if b != o.root && len(b.preds) == 0 {
			continue
		}
		if !o.regroup(b, false, dirty) {
			o.regroup(b, true, dirty)
		}
	}
}

// optimize runs the passes to a fixed point and returns the new root.
func optimize(root *block) *block {
	o := &optimizer{vt: newVtable(), root: root}
	for pass := 0; pass < 1000; pass++ {
		o.change = false
		o.sweep(false, true)
		if !o.change {
			o.pullups()
		}
		if !o.change {
			break
		}
	}
	for pass := 0; pass < 1000; pass++ {
		o.change = false
		o.sweep(true, true)
		o.analyze()
		o.deadCode()
		if !o.change {
			break
		}
	}
	o.intern()
	// A root whose both branches go to the same block: its statements
	// move to that block, as in libpcap's opt_root.
	for !o.root.isLeaf() && o.root.jt == o.root.jf && !o.root.opaque {
		next := o.root.jt
		if !next.isLeaf() {
			next.stmts = append(append([]Instruction{}, o.root.stmts...), next.stmts...)
		}
		o.root = next
	}
	return o.root
}
