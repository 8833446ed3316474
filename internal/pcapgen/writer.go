package pcapgen

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// DefaultSnaplen is the snapshot length used when a writer is given none.
const DefaultSnaplen = 262144

// PcapWriter writes a classic libpcap file, little-endian unless BigEndian is
// set before the first write.
type PcapWriter struct {
	// BigEndian writes the file in big-endian byte order (as captured on a
	// big-endian host). Set it before the first write.
	BigEndian bool

	w        io.Writer
	linkType uint32
	snaplen  int
	nano     bool
	started  bool
}

// NewPcapWriter returns a writer of a pcap file with the given link type and
// snapshot length (DefaultSnaplen when <= 0), with microsecond timestamps, or
// nanosecond ones (magic 0xa1b23c4d) when nano is set. The file header is
// written by WriteHeader or the first WriteFrame.
func NewPcapWriter(w io.Writer, linkType uint32, snaplen int, nano bool) *PcapWriter {
	if snaplen <= 0 {
		snaplen = DefaultSnaplen
	}
	return &PcapWriter{w: w, linkType: linkType, snaplen: snaplen, nano: nano}
}

func (p *PcapWriter) order() binary.AppendByteOrder {
	if p.BigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// WriteHeader writes the file header, once; WriteFrame calls it as needed.
func (p *PcapWriter) WriteHeader() error {
	if p.started {
		return nil
	}
	p.started = true
	o := p.order()
	magic := uint32(0xa1b2c3d4)
	if p.nano {
		magic = 0xa1b23c4d
	}
	b := o.AppendUint32(nil, magic)
	b = o.AppendUint16(b, 2)
	b = o.AppendUint16(b, 4)
	b = o.AppendUint32(b, 0) // thiszone
	b = o.AppendUint32(b, 0) // sigfigs
	b = o.AppendUint32(b, uint32(p.snaplen))
	b = o.AppendUint32(b, p.linkType)
	_, err := p.w.Write(b)
	return err
}

// WriteFrame writes one record: at most snaplen bytes of data are kept, and
// the original length is origLen (len(data) when origLen is smaller).
func (p *PcapWriter) WriteFrame(ts time.Time, data []byte, origLen int) error {
	if err := p.WriteHeader(); err != nil {
		return err
	}
	if origLen < len(data) {
		origLen = len(data)
	}
	data = data[:min(len(data), p.snaplen)]
	o := p.order()
	sec := ts.Unix()
	if sec < 0 || sec > 0xffffffff {
		return fmt.Errorf("pcapgen: time %v does not fit in a pcap record", ts)
	}
	frac := uint32(ts.Nanosecond() / 1000)
	if p.nano {
		frac = uint32(ts.Nanosecond())
	}
	b := make([]byte, 0, 16+len(data))
	b = o.AppendUint32(b, uint32(sec))
	b = o.AppendUint32(b, frac)
	b = o.AppendUint32(b, uint32(len(data)))
	b = o.AppendUint32(b, uint32(origLen))
	b = append(b, data...)
	_, err := p.w.Write(b)
	return err
}

// PcapngWriter writes a pcapng file of one section, little-endian unless
// BigEndian is set before the first write.
type PcapngWriter struct {
	// BigEndian writes the section in big-endian byte order. Set it before
	// the first call.
	BigEndian bool
	// Application, when set before the first call, is written as the
	// section header's shb_userappl option.
	Application string

	w       io.Writer
	ifaces  []ngIface
	started bool
	err     error
}

type ngIface struct {
	snaplen int
	div     int64 // nanoseconds per timestamp tick
}

// NewPcapngWriter returns a pcapng writer; the section header is written
// with the first interface.
func NewPcapngWriter(w io.Writer) *PcapngWriter {
	return &PcapngWriter{w: w}
}

func (p *PcapngWriter) order() binary.AppendByteOrder {
	if p.BigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// block frames a pcapng block: type, total length, body padded to 32 bits,
// total length.
func (p *PcapngWriter) block(typ uint32, body []byte) {
	if p.err != nil {
		return
	}
	o := p.order()
	pad := (4 - len(body)%4) % 4
	n := uint32(12 + len(body) + pad)
	b := o.AppendUint32(make([]byte, 0, n), typ)
	b = o.AppendUint32(b, n)
	b = append(b, body...)
	b = append(b, make([]byte, pad)...)
	b = o.AppendUint32(b, n)
	_, p.err = p.w.Write(b)
}

func appendOption(o binary.AppendByteOrder, b []byte, code uint16, val []byte) []byte {
	b = o.AppendUint16(b, code)
	b = o.AppendUint16(b, uint16(len(val)))
	b = append(b, val...)
	return append(b, make([]byte, (4-len(val)%4)%4)...)
}

func (p *PcapngWriter) start() {
	if p.started {
		return
	}
	p.started = true
	o := p.order()
	b := o.AppendUint32(nil, 0x1a2b3c4d)
	b = o.AppendUint16(b, 1)
	b = o.AppendUint16(b, 0)
	b = o.AppendUint64(b, 0xffffffffffffffff) // section length not given
	if p.Application != "" {
		b = appendOption(o, b, 4, []byte(p.Application)) // shb_userappl
		b = appendOption(o, b, 0, nil)
	}
	p.block(0x0a0d0d0a, b)
}

// AddInterface writes an interface description block and returns the new
// interface's index. Timestamps of the interface tick in units of
// 10^-tsresolExponent seconds (6: microseconds, 9: nanoseconds; 0..9). A
// write error or a bad exponent is reported by the next WriteFrame and Err.
func (p *PcapngWriter) AddInterface(linkType uint32, snaplen int, tsresolExponent int) int {
	p.start()
	if snaplen <= 0 {
		snaplen = DefaultSnaplen
	}
	if (tsresolExponent < 0 || tsresolExponent > 9) && p.err == nil {
		p.err = fmt.Errorf("pcapgen: timestamp resolution exponent %d is outside 0..9", tsresolExponent)
	}
	div := int64(1)
	for i := tsresolExponent; i < 9; i++ {
		div *= 10
	}
	o := p.order()
	b := o.AppendUint16(nil, uint16(linkType))
	b = o.AppendUint16(b, 0)
	b = o.AppendUint32(b, uint32(snaplen))
	if tsresolExponent != 6 {
		b = appendOption(o, b, 9, []byte{byte(tsresolExponent)}) // if_tsresol
		b = appendOption(o, b, 0, nil)
	}
	p.block(1, b)
	p.ifaces = append(p.ifaces, ngIface{snaplen: snaplen, div: div})
	return len(p.ifaces) - 1
}

// WriteFrame writes an enhanced packet block on interface iface: at most the
// interface's snaplen bytes of data, original length origLen (len(data) when
// smaller).
func (p *PcapngWriter) WriteFrame(iface int, ts time.Time, data []byte, origLen int) error {
	if p.err != nil {
		return p.err
	}
	if iface < 0 || iface >= len(p.ifaces) {
		return fmt.Errorf("pcapgen: no interface %d (have %d)", iface, len(p.ifaces))
	}
	if origLen < len(data) {
		origLen = len(data)
	}
	ifc := p.ifaces[iface]
	data = data[:min(len(data), ifc.snaplen)]
	ns := ts.UnixNano()
	if ns < 0 {
		return errors.New("pcapgen: time before 1970")
	}
	ticks := uint64(ns / ifc.div)
	o := p.order()
	b := make([]byte, 0, 20+len(data))
	b = o.AppendUint32(b, uint32(iface))
	b = o.AppendUint32(b, uint32(ticks>>32))
	b = o.AppendUint32(b, uint32(ticks))
	b = o.AppendUint32(b, uint32(len(data)))
	b = o.AppendUint32(b, uint32(origLen))
	b = append(b, data...)
	p.block(6, b)
	return p.err
}

// Err is the first error met by the writer.
func (p *PcapngWriter) Err() error { return p.err }
