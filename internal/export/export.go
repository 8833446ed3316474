// Package export writes each direction of each connection's reassembled
// stream to its own file, tcpflow-style, plus an index.json describing them.
//
// File names are made only from addresses and ports (tcpflow's
// %A.%a-%B.%b: zero-padded IPv4 octets and a 5-digit port; IPv6 in its
// expanded form), with tcpflow's "c<N>" suffix when a tuple is used again,
// so a capture cannot choose where bytes land. Files are opened with
// O_NOFOLLOW and, unless Force, O_EXCL: an existing file (or a symlink
// planted in the directory) is never written through.
//
// Bytes are buffered per stream and written in large blocks; a file is open
// only while a block is written, so any number of connections needs no more
// than one file descriptor. Gaps are not filled with invented bytes: the
// index gives, for each gap, its stream offset and the file offset where the
// missing bytes would have been.
package export

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tcptrace/tcptrace/analyze"
	"github.com/tcptrace/tcptrace/reassembly"
)

// IndexName is the index file written in the output directory.
const IndexName = "index.json"

const (
	blockSize  = 256 << 10 // a stream's buffer is written when it reaches this
	maxPending = 64 << 20  // all buffers together
)

// Writer exports the streams of many connections into one directory.
type Writer struct {
	dir     string
	force   bool
	only    map[int]bool
	used    map[string]int // base name → connections that used it
	live    map[*conn]struct{}
	pending int64
	entries []Entry
	err     error
	files   int
	bytes   int64
}

// Entry describes one exported direction.
type Entry struct {
	Conn       int        `json:"conn"`
	Dir        string     `json:"dir"` // client (client → server) or server
	File       string     `json:"file,omitempty"`
	Src        string     `json:"src"`
	Dst        string     `json:"dst"`
	Bytes      int64      `json:"bytes"` // bytes written (delivered, captured)
	FIN        bool       `json:"fin"`
	Gaps       []GapEntry `json:"gaps,omitempty"`
	FirstFrame int64      `json:"first_frame"`
	LastFrame  int64      `json:"last_frame"`
}

// GapEntry is a gap of an exported stream.
type GapEntry struct {
	Offset     int64  `json:"offset"`      // stream offset (0 = first byte after the SYN)
	FileOffset int64  `json:"file_offset"` // where in the file the missing bytes would be
	Len        int64  `json:"len"`
	Reason     string `json:"reason"`
	Frame      int64  `json:"frame,omitempty"`
}

// Index is the content of index.json.
type Index struct {
	Version     int     `json:"version"`
	Connections int     `json:"connections"`
	Files       int     `json:"files"`
	Bytes       int64   `json:"bytes"`
	Streams     []Entry `json:"streams"`
}

// New prepares dir (created if missing). Unless force, an existing index in
// it is an error: another export's files are not mixed with this one's.
// only, if non-empty, restricts the export to these connection IDs.
func New(dir string, force bool, only map[int]bool) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if !force {
		if _, err := os.Lstat(filepath.Join(dir, IndexName)); err == nil {
			return nil, fmt.Errorf("%s already holds an export (%s); use --force to overwrite", dir, IndexName)
		}
	}
	return &Writer{dir: dir, force: force, only: only, used: map[string]int{}, live: map[*conn]struct{}{}}, nil
}

// Tap returns the handler of a new connection (analyze.Config.Tap).
func (w *Writer) Tap(c *analyze.Conn) reassembly.Handler {
	if len(w.only) > 0 && !w.only[c.ID] {
		return nil
	}
	base := Name(c.Client, c.Server)
	n := w.used[base]
	w.used[base] = n + 1
	suffix := ""
	if n > 0 {
		suffix = fmt.Sprintf("c%d", n)
	}
	k := &conn{w: w, c: c}
	k.s[analyze.C2S].name = Name(c.Client, c.Server) + suffix
	k.s[analyze.S2C].name = Name(c.Server, c.Client) + suffix
	w.live[k] = struct{}{}
	return k
}

// Name is tcpflow's file name of the direction src → dst.
func Name(src, dst netip.AddrPort) string { return addrName(src) + "-" + addrName(dst) }

func addrName(a netip.AddrPort) string {
	ip := a.Addr().Unmap()
	if ip.Is4() {
		b := ip.As4()
		return fmt.Sprintf("%03d.%03d.%03d.%03d.%05d", b[0], b[1], b[2], b[3], a.Port())
	}
	return fmt.Sprintf("%s.%05d", ip.WithZone("").StringExpanded(), a.Port())
}

// Close flushes what is left, writes index.json and returns the first error.
func (w *Writer) Close() error {
	for k := range w.live {
		k.Close()
	}
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
	idx := Index{Version: 1, Connections: len(conns), Files: w.files, Bytes: w.bytes, Streams: w.entries}
	if idx.Streams == nil {
		idx.Streams = []Entry{}
	}
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	if err := w.write(IndexName, append(b, '\n'), true); err != nil {
		w.fail(err)
	}
	return w.err
}

// Stats returns the files and bytes written so far.
func (w *Writer) Stats() (files int, bytes int64) { return w.files, w.bytes }

func (w *Writer) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// write writes b to the file name in the directory: a new file when first,
// else appended.
func (w *Writer) write(name string, b []byte, first bool) error {
	if !filepath.IsLocal(name) || strings.ContainsAny(name, `/\`) {
		return fmt.Errorf("export: refusing file name %q outside %s", name, w.dir)
	}
	flags := os.O_WRONLY | noFollow
	switch {
	case !first:
		flags |= os.O_APPEND
	case w.force:
		flags |= os.O_CREATE | os.O_TRUNC
	default:
		flags |= os.O_CREATE | os.O_EXCL
	}
	f, err := os.OpenFile(filepath.Join(w.dir, name), flags, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s already exists; use --force to overwrite", filepath.Join(w.dir, name))
		}
		return err
	}
	_, err = f.Write(b)
	return errors.Join(err, f.Close())
}

// conn is the handler of one connection's two streams.
type conn struct {
	w *Writer
	c *analyze.Conn
	s [2]stream
}

type stream struct {
	name    string
	buf     []byte
	written int64
	created bool
	fin     bool
	gaps    []GapEntry
}

func (k *conn) Data(d int, off int64, b []byte, frame int64, file int) {
	s := &k.s[d]
	s.buf = append(s.buf, b...)
	k.w.pending += int64(len(b))
	if len(s.buf) >= blockSize {
		k.flush(s)
	}
	if k.w.pending > maxPending {
		for o := range k.w.live {
			o.flush(&o.s[0])
			o.flush(&o.s[1])
		}
	}
}

func (k *conn) flush(s *stream) {
	if len(s.buf) == 0 {
		return
	}
	if k.w.err == nil {
		if err := k.w.write(s.name, s.buf, !s.created); err != nil {
			k.w.fail(err)
		} else if !s.created {
			s.created = true
			k.w.files++
		}
	}
	s.written += int64(len(s.buf))
	k.w.bytes += int64(len(s.buf))
	k.w.pending -= int64(len(s.buf))
	if cap(s.buf) > blockSize {
		s.buf = nil
	} else {
		s.buf = s.buf[:0]
	}
}

func (k *conn) Gap(d int, g reassembly.Gap) {
	s := &k.s[d]
	if len(s.gaps) < 1000 {
		s.gaps = append(s.gaps, GapEntry{Offset: g.Off, FileOffset: s.written + int64(len(s.buf)), Len: g.Len, Reason: g.Reason.String(), Frame: g.Frame})
	}
}

func (k *conn) Conflict(d int, c reassembly.Conflict) {}

func (k *conn) FIN(d int, off int64, frame int64, file int) { k.s[d].fin = true }

// Close implements the engine's end-of-connection hook: the rest is written
// and the connection's index entries recorded.
func (k *conn) Close() {
	if _, ok := k.w.live[k]; !ok {
		return
	}
	delete(k.w.live, k)
	ends := [2][2]netip.AddrPort{{k.c.Client, k.c.Server}, {k.c.Server, k.c.Client}}
	for d := range k.s {
		s := &k.s[d]
		k.flush(s)
		e := Entry{Conn: k.c.ID, Dir: [...]string{"client", "server"}[d], Src: ends[d][0].String(), Dst: ends[d][1].String(),
			Bytes: s.written, FIN: s.fin, Gaps: s.gaps, FirstFrame: k.c.FirstFrame, LastFrame: k.c.LastFrame}
		if s.created {
			e.File = s.name
		}
		k.w.entries = append(k.w.entries, e)
	}
}
