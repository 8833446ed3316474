package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// byteOrder is binary.ByteOrder plus the append methods.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// ---- synthetic pcap ----

type pcapBuilder struct {
	bo  byteOrder
	buf []byte
}

// newPcapFile starts a pcap stream; link is the raw 32-bit link-type field.
func newPcapFile(bigEndian, nano bool, snaplen, link uint32) *pcapBuilder {
	b := &pcapBuilder{bo: binary.LittleEndian}
	if bigEndian {
		b.bo = binary.BigEndian
	}
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	b.buf = b.bo.AppendUint32(b.buf, magic)
	b.buf = b.bo.AppendUint16(b.buf, 2)
	b.buf = b.bo.AppendUint16(b.buf, 4)
	b.buf = b.bo.AppendUint32(b.buf, 0) // thiszone
	b.buf = b.bo.AppendUint32(b.buf, 0) // sigfigs
	b.buf = b.bo.AppendUint32(b.buf, snaplen)
	b.buf = b.bo.AppendUint32(b.buf, link)
	return b
}

// rec appends a record; caplen is len(data) unless overridden by capl >= 0.
func (b *pcapBuilder) rec(sec, frac uint32, origlen int, data []byte) *pcapBuilder {
	return b.recRaw(sec, frac, uint32(len(data)), uint32(origlen), data)
}

func (b *pcapBuilder) recRaw(sec, frac, caplen, origlen uint32, data []byte) *pcapBuilder {
	b.buf = b.bo.AppendUint32(b.buf, sec)
	b.buf = b.bo.AppendUint32(b.buf, frac)
	b.buf = b.bo.AppendUint32(b.buf, caplen)
	b.buf = b.bo.AppendUint32(b.buf, origlen)
	b.buf = append(b.buf, data...)
	return b
}

func (b *pcapBuilder) bytes() []byte { return b.buf }

// ---- synthetic pcapng ----

type ngBuilder struct {
	bo   byteOrder
	buf  []byte
	mark int64 // offset remembered by setMark
}

func (b *ngBuilder) setMark() *ngBuilder {
	b.mark = int64(len(b.buf))
	return b
}

func newNg() *ngBuilder { return &ngBuilder{bo: binary.LittleEndian} }

type ngOpt struct {
	code uint16
	val  []byte
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func (b *ngBuilder) opts(opts []ngOpt) []byte {
	if len(opts) == 0 {
		return nil
	}
	var o []byte
	for _, op := range opts {
		o = b.bo.AppendUint16(o, op.code)
		o = b.bo.AppendUint16(o, uint16(len(op.val)))
		o = pad4(append(o, op.val...))
	}
	return append(o, 0, 0, 0, 0) // opt_endofopt
}

// block appends a block with the given body (padded to 4 bytes).
func (b *ngBuilder) block(typ uint32, body []byte) *ngBuilder {
	body = pad4(append([]byte(nil), body...))
	n := uint32(12 + len(body))
	b.buf = b.bo.AppendUint32(b.buf, typ)
	b.buf = b.bo.AppendUint32(b.buf, n)
	b.buf = append(b.buf, body...)
	b.buf = b.bo.AppendUint32(b.buf, n)
	return b
}

// shb starts a section in the given byte order.
func (b *ngBuilder) shb(bigEndian bool) *ngBuilder {
	b.bo = binary.LittleEndian
	if bigEndian {
		b.bo = binary.BigEndian
	}
	var body []byte
	body = b.bo.AppendUint32(body, bomMagic)
	body = b.bo.AppendUint16(body, 1)
	body = b.bo.AppendUint16(body, 0)
	body = b.bo.AppendUint64(body, ^uint64(0)) // section length unknown
	body = append(body, b.opts([]ngOpt{{4, []byte("test")}})...)
	return b.block(blockSHB, body)
}

func (b *ngBuilder) idb(link uint16, snaplen uint32, opts ...ngOpt) *ngBuilder {
	var body []byte
	body = b.bo.AppendUint16(body, link)
	body = b.bo.AppendUint16(body, 0)
	body = b.bo.AppendUint32(body, snaplen)
	body = append(body, b.opts(opts)...)
	return b.block(blockIDB, body)
}

func tsresol(v byte) ngOpt { return ngOpt{optTSResol, []byte{v}} }

func (b *ngBuilder) tsoffset(sec int64) ngOpt {
	return ngOpt{optTSOffset, b.bo.AppendUint64(nil, uint64(sec))}
}

func (b *ngBuilder) epb(iface uint32, ticks uint64, origlen int, data []byte) *ngBuilder {
	var body []byte
	body = b.bo.AppendUint32(body, iface)
	body = b.bo.AppendUint32(body, uint32(ticks>>32))
	body = b.bo.AppendUint32(body, uint32(ticks))
	body = b.bo.AppendUint32(body, uint32(len(data)))
	body = b.bo.AppendUint32(body, uint32(origlen))
	body = pad4(append(body, data...))
	body = append(body, b.opts([]ngOpt{{1, []byte("comment")}})...)
	return b.block(blockEPB, body)
}

// pb appends an obsolete Packet Block (type 2).
func (b *ngBuilder) pb(iface uint16, ticks uint64, origlen int, data []byte) *ngBuilder {
	var body []byte
	body = b.bo.AppendUint16(body, iface)
	body = b.bo.AppendUint16(body, 0) // drops count
	body = b.bo.AppendUint32(body, uint32(ticks>>32))
	body = b.bo.AppendUint32(body, uint32(ticks))
	body = b.bo.AppendUint32(body, uint32(len(data)))
	body = b.bo.AppendUint32(body, uint32(origlen))
	body = append(body, data...)
	return b.block(blockPB, body)
}

func (b *ngBuilder) spb(origlen int, data []byte) *ngBuilder {
	var body []byte
	body = b.bo.AppendUint32(body, uint32(origlen))
	body = append(body, data...)
	return b.block(blockSPB, body)
}

// nrb appends a name resolution block (skipped by the reader).
func (b *ngBuilder) nrb() *ngBuilder {
	var body []byte
	body = b.bo.AppendUint16(body, 1) // nrb_record_ipv4
	body = b.bo.AppendUint16(body, 10)
	body = append(body, 10, 0, 0, 1, 'h', 'o', 's', 't', '1', 0)
	body = pad4(body)
	body = append(body, 0, 0, 0, 0) // nrb_record_end
	return b.block(4, body)
}

// isb appends an interface statistics block (skipped by the reader).
func (b *ngBuilder) isb(iface uint32) *ngBuilder {
	var body []byte
	body = b.bo.AppendUint32(body, iface)
	body = b.bo.AppendUint64(body, 0)
	return b.block(5, body)
}

func (b *ngBuilder) bytes() []byte { return b.buf }

// ---- helpers ----

// gzw is reused by gz: a new gzip.Writer costs close to a megabyte, which
// slows FuzzGzip down.
var gzw = gzip.NewWriter(nil)

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w := gzw
	w.Reset(&out)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func pkt(n int, fill byte) []byte { return bytes.Repeat([]byte{fill}, n) }

// got is the comparable part of a frame (Data copied).
type got struct {
	N           int64
	File        int
	TS          int64
	LinkType    uint32
	Iface       int
	CapLen      int
	OrigLen     int
	Offset      int64
	Data        string
	OverSnaplen bool
}

func snap(f *Frame) got {
	return got{f.N, f.File, f.TS, f.LinkType, f.Iface, f.CapLen, f.OrigLen, f.Offset, string(f.Data), f.OverSnaplen}
}

// drain reads src to the end, checking the Source invariants, and returns the
// frames and the terminating error (nil for a clean io.EOF).
func drain(t testing.TB, src Source) ([]got, error) {
	t.Helper()
	var frames []got
	var last int64
	for {
		f, err := src.Next()
		if err != nil {
			if f != nil {
				t.Errorf("Next returned a frame with error %v", err)
			}
			if f2, err2 := src.Next(); err2 != io.EOF || f2 != nil {
				t.Errorf("Next after %v = %v, %v; want nil, io.EOF", err, f2, err2)
			}
			if errors.Is(err, io.EOF) {
				return frames, nil
			}
			return frames, err
		}
		if f.CapLen != len(f.Data) {
			t.Errorf("frame %d: CapLen %d != len(Data) %d", f.N, f.CapLen, len(f.Data))
		}
		if _, isMerge := src.(*merger); !isMerge && f.N != last+1 {
			t.Errorf("frame N %d after %d", f.N, last)
		}
		last = f.N
		frames = append(frames, snap(f))
	}
}

func openBytes(t testing.TB, name string, b []byte) Source {
	t.Helper()
	src, err := OpenReader(name, bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("OpenReader(%s): %v", name, err)
	}
	return src
}

func asError(t testing.TB, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not *Error", err, err)
	}
	return e
}
