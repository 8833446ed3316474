package capture

import (
	"fmt"
	"io"
	"math"
	"math/bits"
)

// pcapng block types.
const (
	blockSHB = 0x0a0d0d0a // section header
	blockIDB = 0x00000001 // interface description
	blockPB  = 0x00000002 // packet (obsolete)
	blockSPB = 0x00000003 // simple packet
	blockEPB = 0x00000006 // enhanced packet

	bomMagic = 0x1a2b3c4d

	optEndOfOpt = 0
	optTSResol  = 9
	optTSOffset = 14

	shbMinLen = 28 // header, BOM, versions, section length, trailer
	idbMinLen = 20
	epbMinLen = 32
	spbMinLen = 16
)

// tsconv converts timestamp ticks of one interface to nanoseconds.
type tsconv struct {
	mul   uint64 // ns = ticks * mul (base 10, resolution >= 1 ns)
	div   uint64 // ns = ticks / div (base 10, finer than 1 ns)
	shift uint   // ns = ticks * 1e9 >> shift (base 2)
	pow2  bool
}

func newTSConv(tsresol byte) tsconv {
	v := uint(tsresol & 0x7f)
	if tsresol&0x80 != 0 {
		return tsconv{pow2: true, shift: v}
	}
	if v <= 9 {
		return tsconv{mul: pow10(9 - v)}
	}
	if v-9 <= 19 {
		return tsconv{div: pow10(v - 9)}
	}
	return tsconv{div: math.MaxUint64}
}

func pow10(n uint) uint64 {
	p := uint64(1)
	for ; n > 0; n-- {
		p *= 10
	}
	return p
}

func (c *tsconv) ns(t uint64) int64 {
	switch {
	case c.pow2:
		hi, lo := bits.Mul64(t, 1e9)
		switch {
		case c.shift == 0:
			return int64(lo)
		case c.shift < 64:
			return int64(hi<<(64-c.shift) | lo>>c.shift)
		default:
			return int64(hi >> (c.shift - 64))
		}
	case c.div != 0:
		return int64(t / c.div)
	}
	return int64(t * c.mul)
}

type ngIface struct {
	linkType uint32
	snaplen  uint32
	conv     tsconv
	offset   int64 // if_tsoffset in ns
}

// pcapngReader reads pcapng (several sections, any byte order each).
type pcapngReader struct {
	*stream
	order  order
	ifaces []ngIface
	lastTS int64 // timestamp of the previous packet, given to SPBs (which have none)
}

func newPcapng(s *stream) (Source, error) {
	r := &pcapngReader{stream: s}
	// The first block is a section header: read it here so that a file
	// with a bad byte-order magic is reported as not a capture file.
	f, err := r.block(true)
	if err != nil {
		return nil, err
	}
	if f != nil { // cannot happen: the first block is an SHB
		return nil, s.notCapture("pcapng does not start with a section header")
	}
	s.publishPos()
	return r, nil
}

// Next returns the next packet block (EPB, SPB or PB), skipping every other
// block.
func (r *pcapngReader) Next() (*Frame, error) {
	if r.done {
		return nil, io.EOF
	}
	for {
		f, err := r.block(false)
		if err != nil || f != nil {
			if err == nil {
				r.publishPos()
			}
			return f, err
		}
	}
}

func blockName(typ uint32) string {
	switch typ {
	case blockSHB:
		return "section header block"
	case blockIDB:
		return "interface description block"
	case blockPB:
		return "packet block"
	case blockSPB:
		return "simple packet block"
	case blockEPB:
		return "enhanced packet block"
	}
	return fmt.Sprintf("block type 0x%08x", typ)
}

// block reads one block. It returns a frame for packet blocks, nil for the
// others, or the error that ends the stream.
func (r *pcapngReader) block(first bool) (*Frame, error) {
	off := r.off
	h, err := r.read(8)
	if err != nil {
		if err == io.EOF {
			return r.eof()
		}
		return r.fail(r.readErr(err, r.n+1, off, "block header", len(h), 8))
	}
	typ := r.order.u32(h[0:])
	lenBytes := [4]byte(h[4:8])
	if typ == blockSHB {
		bom, err := r.read(4)
		if err != nil {
			return r.fail(r.readErr(err, r.n+1, off, blockName(typ), 8+len(bom), shbMinLen))
		}
		switch {
		case order(true).u32(bom) == bomMagic:
			r.order = true
		case order(false).u32(bom) == bomMagic:
			r.order = false
		default:
			if first {
				return nil, r.notCapture(fmt.Sprintf("pcapng byte-order magic % x invalid", bom))
			}
			return r.corrupt(off, "section header byte-order magic % x invalid", bom)
		}
	}
	blen := r.order.u32(lenBytes[:])
	if blen < 12 || blen%4 != 0 || blen > MaxBlock {
		return r.corrupt(off, "%s total length %d invalid", blockName(typ), blen)
	}
	var minLen uint32 = 12
	switch typ {
	case blockSHB:
		minLen = shbMinLen
	case blockIDB:
		minLen = idbMinLen
	case blockEPB, blockPB:
		minLen = epbMinLen
	case blockSPB:
		minLen = spbMinLen
	}
	if blen < minLen {
		return r.corrupt(off, "%s total length %d below minimum %d", blockName(typ), blen, minLen)
	}
	var done uint32 = 8 // bytes of the block consumed
	if typ == blockSHB {
		done = 12
	}
	switch typ {
	case blockSHB, blockIDB, blockEPB, blockPB, blockSPB:
	default:
		// Any other block (NRB, ISB, DSB, custom, unknown) is skipped; its
		// trailing length is still checked.
		body := int(blen - done - 4)
		if m, err := r.skip(body); err != nil {
			return r.fail(r.readErr(err, r.n+1, off, blockName(typ), int(done)+m, int(blen)))
		}
		done = blen - 4
	}
	// rest = remaining body plus the trailing length copy.
	rest, err := r.read(int(blen - done))
	if err != nil {
		return r.fail(r.readErr(err, r.n+1, off, blockName(typ), int(done)+len(rest), int(blen)))
	}
	if t := r.order.u32(rest[len(rest)-4:]); t != blen {
		return r.corrupt(off, "%s total length %d does not match trailing length %d", blockName(typ), blen, t)
	}
	body := rest[:len(rest)-4]
	switch typ {
	case blockSHB:
		// versions and section length are not needed; a section starts
		// a new interface table.
		r.ifaces = r.ifaces[:0]
		return nil, nil
	case blockIDB:
		return nil, r.idb(body, off)
	case blockEPB, blockPB:
		var id uint32
		if typ == blockEPB {
			id = r.order.u32(body[0:])
		} else {
			id = uint32(r.order.u16(body[0:]))
		}
		if id >= uint32(len(r.ifaces)) {
			return r.corrupt(off, "%s interface id %d not defined (%d interfaces)", blockName(typ), id, len(r.ifaces))
		}
		ifc := &r.ifaces[id]
		ticks := uint64(r.order.u32(body[4:]))<<32 | uint64(r.order.u32(body[8:]))
		caplen := r.order.u32(body[12:])
		origlen := r.order.u32(body[16:])
		if room := uint32(len(body) - 20); caplen > room {
			return r.corrupt(off, "%s caplen %d exceeds block room %d", blockName(typ), caplen, room)
		}
		ts := ifc.conv.ns(ticks) + ifc.offset
		return r.packet(off, int(id), ifc, ts, body[20:20+caplen], origlen), nil
	case blockSPB:
		if len(r.ifaces) == 0 {
			return r.corrupt(off, "simple packet block without interface 0")
		}
		ifc := &r.ifaces[0]
		origlen := r.order.u32(body[0:])
		caplen := min(origlen, uint32(len(body)-4))
		if ifc.snaplen != 0 {
			caplen = min(caplen, ifc.snaplen)
		}
		return r.packet(off, 0, ifc, r.lastTS, body[4:4+caplen], origlen), nil
	}
	return nil, nil
}

func (r *pcapngReader) packet(off int64, id int, ifc *ngIface, ts int64, data []byte, origlen uint32) *Frame {
	r.n++
	r.lastTS = ts
	f := &r.f
	f.N = r.n
	f.TS = ts
	f.LinkType = ifc.linkType
	f.Iface = id
	f.CapLen = len(data)
	f.OrigLen = int(origlen)
	f.Offset = off
	f.Data = data
	f.OverSnaplen = ifc.snaplen != 0 && uint32(len(data)) > ifc.snaplen
	return f
}

// idb adds an interface from an interface description block body.
func (r *pcapngReader) idb(body []byte, off int64) error {
	ifc := ngIface{
		linkType: uint32(r.order.u16(body[0:])),
		snaplen:  r.order.u32(body[4:]),
		conv:     newTSConv(6),
	}
	opts := body[8:]
	for len(opts) >= 4 {
		code := r.order.u16(opts[0:])
		l := int(r.order.u16(opts[2:]))
		if code == optEndOfOpt {
			break
		}
		if l > len(opts)-4 {
			_, err := r.corrupt(off, "interface description option %d length %d exceeds block", code, l)
			return err
		}
		val := opts[4 : 4+l]
		switch {
		case code == optTSResol && l >= 1:
			ifc.conv = newTSConv(val[0])
		case code == optTSOffset && l == 8:
			ifc.offset = int64(r.order.u64(val)) * 1e9
		}
		opts = opts[min(4+(l+3)&^3, len(opts)):]
	}
	r.ifaces = append(r.ifaces, ifc)
	return nil
}
