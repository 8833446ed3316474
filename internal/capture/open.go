package capture

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync/atomic"
)

const (
	bufSize    = 1 << 20 // bufio size on the input (and on the decompressed stream)
	minBufSize = 4096

	// MaxSnaplen is libpcap's largest snapshot length (MAXIMUM_SNAPLEN): a
	// pcap record longer than its file's snaplen but not longer than this is
	// delivered (with Frame.OverSnaplen set).
	MaxSnaplen = 262144
	// MaxRecord is the hard limit for one pcap record when the file declares
	// a snaplen above MaxSnaplen.
	MaxRecord = 16 << 20
	// MaxBlock is the largest pcapng block accepted.
	MaxBlock = 256 << 20
)

// Open opens a capture file: pcap (µs or ns, either byte order), pcapng, or
// either one gzip-compressed. "-" reads standard input (Size is 0 then).
// Errors are *Error: ErrOpen when the file cannot be read, ErrNotCapture
// when it is none of the formats, ErrTruncated or ErrCorrupt when its file
// header is damaged.
func Open(path string) (Source, error) {
	if path == "-" {
		return openStream(path, os.Stdin, 0, nil)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Kind: ErrOpen, Offset: -1, Msg: pathErrMsg(err)}
	}
	var size int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	if size >= minMapped {
		if src, ok := openMapped(path, f, size); ok {
			return src, nil
		}
	}
	src, err := openStream(path, f, size, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return src, nil
}

// minMapped is the smallest file read through a memory mapping; smaller
// ones are read with read(2), which costs less to set up.
var minMapped int64 = 32 << 20

// SetMapThreshold sets the smallest file read through a memory mapping and
// returns the previous value (tests use it to exercise the mapped path on
// small files).
func SetMapThreshold(n int64) int64 {
	old := minMapped
	minMapped = n
	return old
}

// dropBehind is how far behind the read position mapped pages are given
// back (see dropMapped): frames handed out recently stay resident. Between
// one and 1.25 times this much of the file is resident at once.
var dropBehind atomic.Int64

// DefaultDropBehind suits consumers that are done with a frame's bytes
// once it is a few MiB behind the reader: the analysis, whose goroutines
// are fed at most that far behind (analyze: maxLeadBytes).
const DefaultDropBehind = 8 << 20

func init() { dropBehind.Store(DefaultDropBehind) }

// SetDropBehind sets how far behind the read position the pages of mapped
// files opened from now on are given back, and returns the previous value.
// A consumer that keeps references to frame bytes for a while (export's
// writers) sets it above its lag: pages faulted back in behind the window
// would stay resident.
func SetDropBehind(n int64) int64 { return dropBehind.Swap(n) }

// openMapped opens an uncompressed capture file through a memory mapping.
// It reports false (and the caller reads the file normally) when the file
// cannot be mapped or is compressed.
func openMapped(path string, f *os.File, size int64) (Source, bool) {
	mm, err := mapFile(f, size)
	if err != nil {
		return nil, false
	}
	if len(mm) >= 2 && [2]byte(mm[:2]) == magicGzip {
		unmapFile(mm)
		return nil, false
	}
	src, err := openStream(path, bytes.NewReader(mm), size, mappedCloser{mm, f})
	if err != nil {
		unmapFile(mm)
		return nil, false // let the normal path report the error
	}
	switch r := src.(type) {
	case *pcapReader:
		r.mm, r.dropBehind = mm, dropBehind.Load()
	case *pcapngReader:
		r.mm, r.dropBehind = mm, dropBehind.Load()
	}
	return src, true
}

type mappedCloser struct {
	mm []byte
	f  *os.File
}

func (c mappedCloser) Close() error {
	err := unmapFile(c.mm)
	return errors.Join(err, c.f.Close())
}

// OpenReader is Open on an already open stream; name is used in errors and
// by Name, size (0 if unknown) by Size. Close does not close r.
func OpenReader(name string, r io.Reader, size int64) (Source, error) {
	return openStream(name, r, size, nil)
}

func pathErrMsg(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// countingReader counts the bytes read from the underlying (on-disk) input.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// stream is the state shared by the pcap and pcapng readers: the buffered
// (decompressed) input, the consumed offset, the frame being handed out and
// the reusable buffer for records larger than the bufio buffer.
type stream struct {
	name   string
	br     *bufio.Reader // decoded input (over gzip when compressed)
	raw    *bufio.Reader // compressed input under gzip, nil otherwise
	cr     *countingReader
	closer io.Closer
	size   int64
	pos    atomic.Int64 // on-disk bytes consumed, published after every Next
	off    int64        // bytes consumed from br
	n      int64        // frames delivered
	done   bool         // io.EOF or an *Error was returned
	buf    []byte       // reusable buffer for records that do not fit in br
	f      Frame
	// mm is the whole file when it is read through a memory mapping (then
	// br only served to detect the format); dropped: pages before it were
	// given back.
	mm         []byte
	dropped    int64
	dropBehind int64 // see SetDropBehind
}

func (s *stream) Name() string { return s.name }
func (s *stream) Size() int64  { return s.size }

// Pos may be called from another goroutine (a progress display) while Next
// runs; it is updated after every frame.
func (s *stream) Pos() int64 { return s.pos.Load() }

func (s *stream) Close() error {
	s.done = true
	if s.closer != nil {
		c := s.closer
		s.closer = nil
		return c.Close()
	}
	return nil
}

func (s *stream) publishPos() {
	if s.raw != nil {
		s.pos.Store(s.cr.n - int64(s.raw.Buffered()))
	} else {
		s.pos.Store(s.off)
	}
}

// read consumes the next n bytes and returns them. The slice aliases the
// bufio buffer (or s.buf for large n) and is valid until the next read.
// When the input ends first it returns the bytes present and io.EOF if
// there were none (a clean end, unless the decompressor reported the stream
// cut short), io.ErrUnexpectedEOF otherwise; other errors are passed on.
func (s *stream) read(n int) ([]byte, error) {
	if s.mm != nil {
		return s.readMapped(n)
	}
	if n <= s.br.Size() {
		b, err := s.br.Peek(n)
		if len(b) == n {
			s.br.Discard(n)
			s.off += int64(n)
			return b, nil
		}
		if err == io.EOF && len(b) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return b, err
	}
	return s.readLarge(n)
}

// readMapped is read on a mapped file: the bytes are a slice of the mapping
// and stay valid until Close. Pages far behind are given back.
func (s *stream) readMapped(n int) ([]byte, error) {
	rest := int64(len(s.mm)) - s.off
	if rest <= 0 {
		return nil, io.EOF
	}
	if int64(n) > rest {
		b := s.mm[s.off:]
		s.off = int64(len(s.mm))
		return b, io.ErrUnexpectedEOF
	}
	b := s.mm[s.off : s.off+int64(n) : s.off+int64(n)]
	s.off += int64(n)
	if db := s.dropBehind; s.off-s.dropped >= db+db/4 {
		// Give back the pages more than db behind the read position, every
		// db/4 bytes read: between db and 1.25 db of the file stays
		// resident. The range overlaps the one given back before: a
		// consumer that lags (frames in flight to another goroutine, bytes
		// waiting to be written) may have faulted some of those back in.
		end := (s.off - db) &^ 4095
		dropMapped(s.mm[max(0, s.dropped-db):end])
		s.dropped = end
	}
	return b, nil
}

// Stable reports whether frames stay valid after the next call to Next
// (until Close): true for a mapped file.
func (s *stream) Stable() bool { return s.mm != nil }

// readLarge reads n bytes into s.buf, growing it as data actually arrives so
// that a bogus length in a short input does not allocate its claim.
func (s *stream) readLarge(n int) ([]byte, error) {
	b := s.buf[:0]
	for len(b) < n {
		if len(b) == cap(b) {
			c := max(2*cap(b), 2*s.br.Size())
			nb := make([]byte, len(b), min(c, n))
			copy(nb, b)
			b = nb
			s.buf = b
		}
		m, err := s.br.Read(b[len(b):min(cap(b), n)])
		b = b[:len(b)+m]
		if err != nil && len(b) < n {
			if err == io.EOF && len(b) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return b, err
		}
	}
	s.off += int64(n)
	return b, nil
}

// skip discards n bytes; it returns io.ErrUnexpectedEOF (or a read error)
// when fewer are present.
func (s *stream) skip(n int) (int, error) {
	if s.mm != nil {
		b, err := s.readMapped(n)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return len(b), err
	}
	m, err := s.br.Discard(n)
	s.off += int64(m)
	if m < n && (err == nil || err == io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return m, err
}

// readErr turns a failed read of `what` (need bytes, got present) into an
// *Error for frame and offset.
func (s *stream) readErr(err error, frame, off int64, what string, got, need int) *Error {
	e := &Error{File: s.name, Frame: frame, Offset: off}
	var ce flate.CorruptInputError
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		e.Kind = ErrTruncated
		if got == 0 && s.raw != nil {
			e.Msg = "gzip stream ends early, before " + what
		} else {
			e.Msg = fmt.Sprintf("input ends inside %s (%d of %d bytes)", what, got, need)
		}
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.As(err, &ce):
		e.Kind = ErrCorrupt
		e.Msg = fmt.Sprintf("%v (reading %s)", err, what)
	default:
		e.Kind = ErrOpen
		e.Msg = fmt.Sprintf("read error: %v", err)
	}
	return e
}

// fail makes the source sticky-ended and returns e.
func (s *stream) fail(e *Error) (*Frame, error) {
	s.finish()
	return nil, e
}

func (s *stream) eof() (*Frame, error) {
	s.finish()
	return nil, io.EOF
}

// finish ends the source; Pos becomes the bytes read from the input.
func (s *stream) finish() {
	s.done = true
	if s.mm != nil {
		s.pos.Store(s.off)
		return
	}
	s.pos.Store(s.cr.n)
}

func (s *stream) corrupt(off int64, format string, args ...any) (*Frame, error) {
	return s.fail(&Error{File: s.name, Kind: ErrCorrupt, Frame: s.n + 1, Offset: off, Msg: fmt.Sprintf(format, args...)})
}

func bufSizeFor(size int64) int {
	if size <= 0 || size >= bufSize {
		return bufSize
	}
	return max(int(size), minBufSize)
}

// Magic numbers as they appear in the first four bytes of a file.
var (
	magicPcapLE   = [4]byte{0xd4, 0xc3, 0xb2, 0xa1}
	magicPcapBE   = [4]byte{0xa1, 0xb2, 0xc3, 0xd4}
	magicPcapNsLE = [4]byte{0x4d, 0x3c, 0xb2, 0xa1}
	magicPcapNsBE = [4]byte{0xa1, 0xb2, 0x3c, 0x4d}
	magicPcapng   = [4]byte{0x0a, 0x0d, 0x0d, 0x0a}
	magicGzip     = [2]byte{0x1f, 0x8b}
)

func openStream(name string, r io.Reader, size int64, closer io.Closer) (Source, error) {
	s := &stream{name: name, size: size, closer: closer, cr: &countingReader{r: r}}
	s.br = bufio.NewReaderSize(s.cr, bufSizeFor(size))
	src, err := s.detect(true)
	if err != nil {
		return nil, err
	}
	return src, nil
}

func (s *stream) notCapture(msg string) *Error {
	return &Error{File: s.name, Kind: ErrNotCapture, Offset: -1, Msg: msg}
}

// detect looks at the magic number of s.br and returns the matching reader.
func (s *stream) detect(outer bool) (Source, error) {
	head, err := s.br.Peek(4)
	if len(head) >= 2 && [2]byte(head[:2]) == magicGzip {
		if !outer {
			return nil, s.notCapture("gzip inside gzip")
		}
		gz, err := gzip.NewReader(s.br)
		if err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, &Error{File: s.name, Kind: ErrTruncated, Offset: -1, Msg: "input ends inside the gzip header"}
			}
			return nil, &Error{File: s.name, Kind: ErrCorrupt, Offset: -1, Msg: err.Error()}
		}
		s.raw = s.br
		// The decoded size is unknown: guess 8 times the compressed size.
		s.br = bufio.NewReaderSize(gz, bufSizeFor(min(s.size, bufSize)*8))
		return s.detect(false)
	}
	if len(head) < 4 {
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return nil, s.readErr(err, 0, 0, "file header", len(head), 4)
		}
		if len(head) == 0 && (s.raw == nil || err == io.EOF) {
			return nil, s.notCapture("empty input")
		}
		if isMagicPrefix(head) {
			return nil, s.readErr(io.ErrUnexpectedEOF, 0, 0, "the magic number", len(head), 4)
		}
		return nil, s.notCapture(fmt.Sprintf("unknown magic % x", head))
	}
	switch [4]byte(head) {
	case magicPcapLE:
		return newPcap(s, false, false)
	case magicPcapBE:
		return newPcap(s, true, false)
	case magicPcapNsLE:
		return newPcap(s, false, true)
	case magicPcapNsBE:
		return newPcap(s, true, true)
	case magicPcapng:
		return newPcapng(s)
	}
	return nil, s.notCapture(fmt.Sprintf("unknown magic % x", head))
}

func isMagicPrefix(b []byte) bool {
	for _, m := range [][4]byte{magicPcapLE, magicPcapBE, magicPcapNsLE, magicPcapNsBE, magicPcapng} {
		if string(m[:len(b)]) == string(b) {
			return true
		}
	}
	return false
}

// order is a byte order chosen at run time without interface calls.
type order bool // true: big endian

func (o order) u16(b []byte) uint16 {
	if o {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (o order) u32(b []byte) uint32 {
	if o {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (o order) u64(b []byte) uint64 {
	if o {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}
