// Package export writes each direction of each connection's reassembled
// stream to its own file, tcpflow-style, plus an index.json describing them.
//
// File names are made only from addresses and ports (tcpflow's
// %A.%a-%B.%b: zero-padded IPv4 octets and a 5-digit port; IPv6 in its
// expanded form), with tcpflow's "c<N>" suffix when a tuple is used again,
// so a capture cannot choose where bytes land. Files are opened with
// O_NOFOLLOW and, unless Force, O_EXCL: an existing file (or a symlink
// planted in the directory) is never written through (O_NOFOLLOW on Linux).
//
// Bytes are buffered per stream in fixed blocks (recycled, so the steady
// state allocates nothing) and written by a goroutine of their own while the
// analysis goes on; a file is open only while a block is written, so any
// number of connections needs one file descriptor. Gaps are not filled with invented bytes: the
// index gives, for each gap, its stream offset and the file offset where the
// missing bytes would have been.
package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/tcptrace/tcptrace/analyze"
	"github.com/tcptrace/tcptrace/reassembly"
	"github.com/tcptrace/tcptrace/tcp"
)

// IndexName is the index file written in the output directory.
const IndexName = "index.json"

const (
	blockSize = 128 << 10 // a stream's buffer is written when it is full
	maxBlocks = 512       // blocks in use at once (64 MiB): beyond, every buffer is written out
	queueLen  = 64        // blocks handed to the writer goroutine and not yet written
	// maxRefs bounds the referenced bytes not yet handed to a writer: well
	// under the distance behind which the capture reader gives mapped pages
	// back, so that writev finds them still resident.
	maxRefs = 8 << 20
)

// Writer exports the streams of many connections into one directory.
type Writer struct {
	dir     string // the export's directory
	stage   string // where the files are written until Close moves them into dir
	dirfd   int    // stage's
	force   bool
	only    map[int]bool
	used    map[[2]netip.AddrPort]int // client, server → connections that used the pair
	live    map[*conn]struct{}
	entries []Entry
	files   int
	bytes   int64

	// Stable: the bytes handed to Data stay valid until Close (a mapped
	// capture: see capture.IsStable), so they are referenced, not copied.
	Stable      bool
	pendingRefs int // bytes referenced and not yet handed to the writer

	free     [][]byte          // blocks ready for reuse
	recycled chan []byte       // blocks the writer is done with
	blocks   int               // blocks allocated and not in free
	jobs     [writers]chan job // by connection ID: one file's writes stay in order
	wg       sync.WaitGroup
	done     chan struct{}
	// written by the writer goroutine: read only after done is closed, or
	// through errMu
	errMu sync.Mutex
	err   error

	interrupted string // Interrupted: the index says so

	// Keep, if set, says at its end whether a connection is exported
	// (export --filter: one of its segments matched). The streams of one
	// it rejects are written while it runs, as any other's, and removed
	// at Close: dropped lists their staged files.
	Keep    func(*analyze.Conn) bool
	dropped []string
}

// job is one write for the writer goroutine: b (or the slices of vec) to
// the file name (a new file when first), then b goes back to the free list.
type job struct {
	name  string
	b     []byte
	vec   [][]byte
	first bool
}

// Entry describes one exported direction.
type Entry struct {
	Conn  int        `json:"conn"`
	Dir   string     `json:"dir"` // client (client → server) or server
	File  string     `json:"file,omitempty"`
	Src   string     `json:"src"`
	Dst   string     `json:"dst"`
	Bytes int64      `json:"bytes"` // bytes written (delivered, captured)
	FIN   bool       `json:"fin"`
	Gaps  []GapEntry `json:"gaps,omitempty"`
	// Conflicts: where two copies of the same bytes differed (the file
	// holds the first, as the receiver kept it).
	Conflicts  []ConflictEntry `json:"conflicts,omitempty"`
	FirstFrame int64           `json:"first_frame"`
	LastFrame  int64           `json:"last_frame"`
}

// appendJSON appends e as one JSON object, as encoding/json would write it
// (json.Marshal of 65,000 entries took a tenth of the export's time).
func (e *Entry) appendJSON(b []byte) []byte {
	b = append(b, `{"conn":`...)
	b = strconv.AppendInt(b, int64(e.Conn), 10)
	b = append(b, `,"dir":`...)
	b = strconv.AppendQuote(b, e.Dir)
	if e.File != "" {
		b = append(b, `,"file":`...)
		b = strconv.AppendQuote(b, e.File)
	}
	b = append(b, `,"src":`...)
	b = strconv.AppendQuote(b, e.Src)
	b = append(b, `,"dst":`...)
	b = strconv.AppendQuote(b, e.Dst)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, e.Bytes, 10)
	b = append(b, `,"fin":`...)
	b = strconv.AppendBool(b, e.FIN)
	if len(e.Gaps) > 0 {
		b = append(b, `,"gaps":[`...)
		for i, g := range e.Gaps {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"offset":`...)
			b = strconv.AppendInt(b, g.Offset, 10)
			b = append(b, `,"file_offset":`...)
			b = strconv.AppendInt(b, g.FileOffset, 10)
			b = append(b, `,"len":`...)
			b = strconv.AppendInt(b, g.Len, 10)
			b = append(b, `,"reason":`...)
			b = strconv.AppendQuote(b, g.Reason)
			if g.Frame != 0 {
				b = append(b, `,"frame":`...)
				b = strconv.AppendInt(b, g.Frame, 10)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(e.Conflicts) > 0 {
		b = append(b, `,"conflicts":[`...)
		for i, c := range e.Conflicts {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"offset":`...)
			b = strconv.AppendInt(b, c.Offset, 10)
			b = append(b, `,"file_offset":`...)
			b = strconv.AppendInt(b, c.FileOffset, 10)
			b = append(b, `,"len":`...)
			b = strconv.AppendInt(b, c.Len, 10)
			b = append(b, `,"kept":`...)
			b = strconv.AppendInt(b, c.Kept, 10)
			b = append(b, `,"dropped":`...)
			b = strconv.AppendInt(b, c.Dropped, 10)
			if c.Forged != 0 {
				b = append(b, `,"forged":`...)
				b = strconv.AppendInt(b, c.Forged, 10)
			}
			b = append(b, `,"why":`...)
			b = strconv.AppendQuote(b, c.Why)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"first_frame":`...)
	b = strconv.AppendInt(b, e.FirstFrame, 10)
	b = append(b, `,"last_frame":`...)
	b = strconv.AppendInt(b, e.LastFrame, 10)
	return append(b, '}')
}

// GapEntry is a gap of an exported stream.
type GapEntry struct {
	Offset     int64  `json:"offset"`      // stream offset (0 = first byte after the SYN)
	FileOffset int64  `json:"file_offset"` // where in the file the missing bytes would be
	Len        int64  `json:"len"`
	Reason     string `json:"reason"`
	Frame      int64  `json:"frame,omitempty"`
}

// ConflictEntry is where two copies of the same bytes of an exported stream
// differed (docs/json.md, conflicting_retransmission): the file holds the
// kept one.
type ConflictEntry struct {
	Offset     int64  `json:"offset"`      // stream offset of the first byte that differs
	FileOffset int64  `json:"file_offset"` // where that byte is in the file
	Len        int64  `json:"len"`         // bytes from there to the last one that differs
	Kept       int64  `json:"kept"`        // the frame whose bytes were kept (the first copy)
	Dropped    int64  `json:"dropped"`     // the later copy
	Forged     int64  `json:"forged,omitempty"`
	Why        string `json:"why"`

	pos, gapsAt int64 // stream offset and gaps listed when it was learnt (FileOffset is settled at Close)
}

// New prepares dir (created if missing). Unless force, an existing index in
// it is an error: another export's files are not mixed with this one's.
// only, if non-empty, restricts the export to these connection IDs.
//
// The files are written into a staging directory inside dir
// (.tcptrace-export-*) and moved into dir by Close, once every name is
// known to be free (unless force): a refused export writes nothing, and
// dir never holds a half export. Abort removes the staging directory.
func New(dir string, force bool, only map[int]bool) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if !force {
		if _, err := os.Lstat(filepath.Join(dir, IndexName)); err == nil {
			return nil, fmt.Errorf("%s already holds an export (%s); use --force to overwrite", dir, IndexName)
		}
	}
	stage, err := os.MkdirTemp(dir, ".tcptrace-export-")
	if err != nil {
		return nil, err
	}
	dirfd, err := openDir(stage)
	if err != nil {
		os.Remove(stage)
		return nil, err
	}
	w := &Writer{dir: dir, stage: stage, dirfd: dirfd, force: force, only: only, used: map[[2]netip.AddrPort]int{}, live: map[*conn]struct{}{},
		done: make(chan struct{})}
	w.recycled = make(chan []byte, maxBlocks)
	for i := range w.jobs {
		w.jobs[i] = make(chan job, queueLen)
		w.wg.Add(1)
		go w.loop(w.jobs[i])
	}
	go func() { w.wg.Wait(); close(w.done) }()
	return w, nil
}

// writers is the number of writer goroutines: the kernel's work of
// creating and filling files is most of an export's, and it spreads over
// cores (creates in one directory serialize on its lock, writes do not).
const writers = 2

// loop is a writer goroutine.
func (w *Writer) loop(jobs chan job) {
	defer w.wg.Done()
	for j := range jobs {
		if w.firstErr() == nil {
			iovs := j.vec
			if j.b != nil {
				iovs = [][]byte{j.b}
			}
			if err := w.write(j.name, iovs, j.first); err != nil {
				w.fail(err)
			}
		}
		if j.b == nil {
			continue
		}
		select {
		case w.recycled <- j.b[:0]:
		default: // more blocks than the list holds: let this one go
		}
	}
}

// block returns an empty block, recycled when possible.
func (w *Writer) block() []byte {
	for {
		select {
		case b := <-w.recycled:
			w.free = append(w.free, b)
			continue
		default:
		}
		break
	}
	if n := len(w.free); n > 0 {
		b := w.free[n-1]
		w.free = w.free[:n-1]
		return b
	}
	w.blocks++
	return make([]byte, 0, blockSize)
}

func (w *Writer) firstErr() error {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return w.err
}

// Tap returns the handler of a new connection (analyze.Config.Tap).
func (w *Writer) Tap(c *analyze.Conn) reassembly.Handler {
	// Count every connection, selected or not, so that a connection's
	// file names do not depend on --conn. A pair and its reverse are one
	// tuple (the roles of a reused tuple may differ).
	pair := [2]netip.AddrPort{c.Client, c.Server}
	if c.Server.Compare(c.Client) < 0 {
		pair[0], pair[1] = pair[1], pair[0]
	}
	n := w.used[pair]
	w.used[pair] = n + 1
	if len(w.only) > 0 && !w.only[c.ID] {
		return nil
	}
	k := &conn{w: w, c: c, n: n} // file names are made when first needed
	k.s[tcp.Server].dir = tcp.Server
	w.live[k] = struct{}{}
	return k
}

// name returns the file name of direction d.
func (k *conn) name(d tcp.Dir) string {
	s := &k.s[d]
	if s.name == "" {
		src, dst := k.c.Client, k.c.Server
		if d == tcp.Server {
			src, dst = dst, src
		}
		s.name = Name(src, dst)
		if k.n > 0 {
			s.name += "c" + strconv.Itoa(k.n)
		}
	}
	return s.name
}

// Name is tcpflow's file name of the direction src → dst.
func Name(src, dst netip.AddrPort) string {
	b := make([]byte, 0, 64)
	b = appendAddr(b, src)
	b = append(b, '-')
	return string(appendAddr(b, dst))
}

// appendAddr appends tcpflow's form of an endpoint: zero-padded IPv4
// octets and a 5-digit port ("010.000.000.001.00080"), IPv6 expanded.
func appendAddr(b []byte, a netip.AddrPort) []byte {
	ip := a.Addr().Unmap()
	if ip.Is4() {
		for i, o := range ip.As4() {
			if i > 0 {
				b = append(b, '.')
			}
			b = append(b, '0'+o/100, '0'+o/10%10, '0'+o%10)
		}
	} else {
		b = append(b, ip.WithZone("").StringExpanded()...)
	}
	p := a.Port()
	return append(b, '.', byte('0'+p/10000), byte('0'+p/1000%10), byte('0'+p/100%10), byte('0'+p/10%10), byte('0'+p%10))
}

// Close flushes what is left, writes index.json and returns the first error.
func (w *Writer) Close() error {
	for k := range w.live {
		k.Close()
	}
	for _, ch := range w.jobs {
		close(ch)
	}
	<-w.done
	defer closeDir(w.dirfd)
	sort.Slice(w.entries, func(i, j int) bool {
		a, b := w.entries[i], w.entries[j]
		if a.Conn != b.Conn {
			return a.Conn < b.Conn
		}
		return a.Dir < b.Dir
	})
	conns := map[int]bool{}
	for _, e := range w.entries {
		conns[e.Conn] = true
	}
	// One stream per line: readable, and far cheaper than indenting.
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\"version\":1,\"connections\":%d,\"files\":%d,\"bytes\":%d,", len(conns), w.files, w.bytes)
	if w.interrupted != "" {
		b.WriteString(w.interrupted)
	}
	b.WriteString("\"streams\":[")
	for i := range w.entries {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n  ")
		b.Write(w.entries[i].appendJSON(nil))
	}
	b.WriteString("\n]}\n")
	if w.firstErr() == nil {
		if err := w.write(IndexName, [][]byte{b.Bytes()}, true); err != nil {
			w.fail(err)
		}
	}
	if err := w.firstErr(); err != nil {
		w.Abort()
		return err
	}
	return w.publish()
}

// Interrupted makes the index say that the reading was stopped by signal
// after frame (of file, when several inputs): the streams listed are whole
// up to there.
func (w *Writer) Interrupted(signal string, frame int64, file string) {
	x, _ := json.Marshal(struct {
		Interrupted bool   `json:"interrupted"`
		Signal      string `json:"signal"`
		LastFrame   int64  `json:"last_frame"`
		LastFile    string `json:"last_file,omitempty"`
	}{true, signal, frame, file})
	w.interrupted = string(x[1:len(x)-1]) + ","
}

// publish moves the staged files into dir: first it checks that none of
// their names is taken (unless force), so that a conflict writes nothing;
// index.json goes last.
func (w *Writer) publish() error {
	names := make([]string, 0, len(w.entries)+1)
	for i := range w.entries {
		if f := w.entries[i].File; f != "" {
			names = append(names, f)
		}
	}
	if !w.force {
		for _, n := range append(names, IndexName) {
			if _, err := os.Lstat(filepath.Join(w.dir, n)); err == nil {
				w.Abort()
				return fmt.Errorf("%s already exists: nothing was written (use --force to overwrite)", filepath.Join(w.dir, n))
			}
		}
	}
	for _, n := range append(names, IndexName) {
		if err := os.Rename(filepath.Join(w.stage, n), filepath.Join(w.dir, n)); err != nil {
			return err
		}
	}
	for _, n := range w.dropped {
		if err := os.Remove(filepath.Join(w.stage, n)); err != nil {
			return err
		}
	}
	return os.Remove(w.stage)
}

// errDiscarded is Close's error after Discard.
var errDiscarded = errors.New("export discarded")

// Discard makes Close write nothing: the staged files are removed.
func (w *Writer) Discard() { w.fail(errDiscarded) }

// Abort removes the staging directory and what it holds.
func (w *Writer) Abort() {
	if w.stage != "" {
		os.RemoveAll(w.stage)
	}
}

// Stats returns the files and bytes written so far.
func (w *Writer) Stats() (files int, bytes int64) { return w.files, w.bytes }

func (w *Writer) fail(err error) {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	if w.err == nil {
		w.err = err
	}
}

// write writes the slices of iovs to the file name in the directory: a new
// file when first, else appended.
func (w *Writer) write(name string, iovs [][]byte, first bool) error {
	if !filepath.IsLocal(name) || strings.ContainsAny(name, `/\`) {
		return fmt.Errorf("export: refusing file name %q outside %s", name, w.dir)
	}
	var flags int
	switch {
	case !first:
		flags = os.O_APPEND
	case w.force:
		flags = os.O_CREATE | os.O_TRUNC
	default:
		flags = os.O_CREATE | os.O_EXCL
	}
	err := writeFile(w.dirfd, w.stage, name, iovs, flags)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s already exists; use --force to overwrite", filepath.Join(w.dir, name))
	}
	return err
}

var _ interface {
	reassembly.Handler
	analyze.TapCloser
} = (*conn)(nil)

// conn is the handler of one connection's two streams; it is told when its
// connection ends.
type conn struct {
	w *Writer
	c *analyze.Conn
	n int // earlier connections on the same tuple (tcpflow's c<n> suffix)
	s [2]stream
}

type stream struct {
	vec     [][]byte // references to stable bytes not yet written (Writer.Stable)
	vecLen  int
	dir     tcp.Dir
	name    string
	buf     []byte
	written int64
	created bool
	fin     bool
	gaps    []GapEntry
	gapLen  int64 // bytes of all gaps so far
	confs   []ConflictEntry
}

func (k *conn) Data(d tcp.Dir, off int64, b []byte, frame int64, file int) {
	s := &k.s[d]
	if k.w.Stable {
		// The bytes stay where they are until the run ends: keep a
		// reference and let writev copy them once, into the file.
		if k.w.pendingRefs >= maxRefs {
			k.w.flushAll()
		}
		s.vec = append(s.vec, b)
		s.vecLen += len(b)
		k.w.pendingRefs += len(b)
		if s.vecLen >= blockSize {
			k.flush(s)
		}
		return
	}
	for len(b) > 0 {
		if s.buf == nil {
			if k.w.blocks-len(k.w.free) >= maxBlocks {
				k.w.flushAll()
			}
			s.buf = k.w.block()
		}
		n := copy(s.buf[len(s.buf):cap(s.buf)], b)
		s.buf = s.buf[:len(s.buf)+n]
		b = b[n:]
		if len(s.buf) == cap(s.buf) {
			k.flush(s)
		}
	}
}

// flushAll writes out every buffer (too many blocks in use).
func (w *Writer) flushAll() {
	for o := range w.live {
		o.flush(&o.s[0])
		o.flush(&o.s[1])
	}
}

// flush hands the stream's block (or references) to the writer goroutine.
func (k *conn) flush(s *stream) {
	if s.vec != nil {
		k.w.jobs[k.c.ID%writers] <- job{name: k.name(s.dir), vec: s.vec, first: !s.created}
		if !s.created {
			s.created = true
			k.w.files++
		}
		s.written += int64(s.vecLen)
		k.w.bytes += int64(s.vecLen)
		k.w.pendingRefs -= s.vecLen
		s.vec, s.vecLen = nil, 0
		return
	}
	if s.buf == nil {
		return
	}
	if len(s.buf) == 0 {
		k.w.free = append(k.w.free, s.buf)
		s.buf = nil
		return
	}
	k.w.jobs[k.c.ID%writers] <- job{name: k.name(s.dir), b: s.buf, first: !s.created}
	if !s.created {
		s.created = true
		k.w.files++
	}
	s.written += int64(len(s.buf))
	k.w.bytes += int64(len(s.buf))
	s.buf = nil
}

func (k *conn) Gap(d tcp.Dir, g reassembly.Gap) {
	s := &k.s[d]
	if len(s.gaps) < 1000 {
		s.gaps = append(s.gaps, GapEntry{Offset: g.Off, FileOffset: s.written + int64(len(s.buf)) + int64(s.vecLen), Len: g.Len, Reason: g.Reason.String(), Frame: g.Frame})
	}
	s.gapLen += g.Len
}

// Conflict records where two copies differed, with the judgment of which
// one looks forged.
func (k *conn) Conflict(d tcp.Dir, x reassembly.Conflict) {
	s := &k.s[d]
	if len(s.confs) >= 1000 {
		return
	}
	cp := k.c.JudgeConflict(d, x)
	pos := s.written + int64(len(s.buf)) + int64(s.vecLen) + s.gapLen
	s.confs = append(s.confs, ConflictEntry{Offset: cp.Offset, FileOffset: cp.Offset - s.gapLen, Len: cp.Len, Kept: cp.Kept, Dropped: cp.Dropped,
		Forged: cp.Forged, Why: cp.Why, pos: pos, gapsAt: int64(len(s.gaps))})
}

// settle fixes the file offsets of conflicts on bytes that were still held
// out of order when they were learnt: gaps declared since, before them,
// move them back in the file.
func (s *stream) settle() {
	for i := range s.confs {
		c := &s.confs[i]
		if c.Offset < c.pos {
			continue
		}
		for _, g := range s.gaps[c.gapsAt:] {
			if g.Offset < c.Offset {
				c.FileOffset -= g.Len
			}
		}
	}
}

// FIN: nothing more will be delivered this way; write the rest now rather
// than hold its block until the connection is retired.
func (k *conn) FIN(d tcp.Dir, off int64, frame int64, file int) {
	k.s[d].fin = true
	k.flush(&k.s[d])
}

// Close implements the engine's end-of-connection hook: the rest is written
// and the connection's index entries recorded.
func (k *conn) Close() {
	if _, ok := k.w.live[k]; !ok {
		return
	}
	delete(k.w.live, k)
	if k.w.Keep != nil && !k.w.Keep(k.c) {
		for d := range k.s {
			s := &k.s[d]
			k.flush(s)
			if s.created {
				k.w.dropped = append(k.w.dropped, s.name)
				k.w.files--
				k.w.bytes -= s.written
			}
		}
		return
	}
	ends := [2][2]netip.AddrPort{{k.c.Client, k.c.Server}, {k.c.Server, k.c.Client}}
	for d := range k.s {
		s := &k.s[d]
		k.flush(s)
		s.settle()
		e := Entry{Conn: k.c.ID, Dir: [...]string{"client", "server"}[d], Src: ends[d][0].String(), Dst: ends[d][1].String(),
			Bytes: s.written, FIN: s.fin, Gaps: s.gaps, Conflicts: s.confs, FirstFrame: k.c.FirstFrame, LastFrame: k.c.LastFrame}
		if s.created {
			e.File = s.name
		}
		k.w.entries = append(k.w.entries, e)
	}
}
