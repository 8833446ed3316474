package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// PcapngWriter writes a pcapng file (little-endian, one section) from
// captured frames: the section header, one interface description block
// per interface, enhanced packet blocks (with an optional comment and the
// kernel's drop count), and interface statistics blocks.
//
// Every write(2) it makes carries whole blocks only: blocks are built in a
// buffer that is written out when it passes 256 KiB, on Flush and on Close,
// so a capture interrupted between writes (Ctrl-C handled by the caller,
// which then calls Close) never ends inside a block. A PcapngWriter is not
// safe for concurrent use.
type PcapngWriter struct {
	w       io.Writer
	opt     PcapngOptions
	buf     []byte
	ifaces  []PcapngInterface
	started bool
	closed  bool
	err     error
}

// PcapngOptions describe the section. Empty strings are left out.
type PcapngOptions struct {
	Application string // shb_userappl, e.g. "tcptrace"
	OS          string // shb_os, e.g. "Linux 6.18.4"
	Hardware    string // shb_hardware
	Comment     string // opt_comment of the section
}

// PcapngInterface describes one interface (an interface description block).
// Its timestamps are written in nanoseconds (if_tsresol 9).
type PcapngInterface struct {
	Name        string // if_name, e.g. "eth0" or "any"
	Description string // if_description
	LinkType    uint32 // LINKTYPE_* of its frames
	Snaplen     int    // 0: no limit
	Filter      string // if_filter: the capture filter expression (libpcap syntax)
	OS          string // if_os
}

// PcapngStats are an interface's capture statistics (an interface
// statistics block). Times are nanoseconds since the Unix epoch; a zero
// time is left out. Received and Dropped are always written; Delivered
// only when HasDelivered is set.
type PcapngStats struct {
	Time         int64  // when the statistics were taken (the block's timestamp)
	Start, End   int64  // isb_starttime, isb_endtime: the capture's first and last moments
	Received     uint64 // isb_ifrecv: packets received (for Linux, tp_packets: including dropped ones)
	Dropped      uint64 // isb_ifdrop: packets dropped for lack of buffer space (Linux: tp_drops)
	Delivered    uint64 // isb_usrdeliv: packets delivered to the user (written to this file)
	HasDelivered bool
	Comment      string
}

const (
	pngFlushAt = 256 << 10

	blockISB = 0x00000005

	optComment    = 1
	shbHardware   = 2
	shbOS         = 3
	shbUserAppl   = 4
	ifName        = 2
	ifDescription = 3
	ifFilter      = 11
	ifOS          = 12
	epbDropCount  = 4
	isbStartTime  = 2
	isbEndTime    = 3
	isbIfRecv     = 4
	isbIfDrop     = 5
	isbUsrDeliv   = 8
)

// ErrWriterClosed is returned by writes after Close.
var ErrWriterClosed = errors.New("pcapng writer closed")

// NewPcapngWriter returns a writer to w. The section header is written with
// the first interface; nothing reaches w before the first flush.
func NewPcapngWriter(w io.Writer, opt PcapngOptions) *PcapngWriter {
	return &PcapngWriter{w: w, opt: opt, buf: make([]byte, 0, pngFlushAt+64<<10)}
}

var ngLE = binary.LittleEndian

// begin starts a block of type typ in the buffer and returns its offset.
func (p *PcapngWriter) begin(typ uint32) int {
	at := len(p.buf)
	p.buf = ngLE.AppendUint32(p.buf, typ)
	p.buf = ngLE.AppendUint32(p.buf, 0) // total length, set by end
	return at
}

// end pads the block started at at, writes both length fields and flushes
// when the buffer is full.
func (p *PcapngWriter) end(at int) error {
	for len(p.buf)%4 != 0 {
		p.buf = append(p.buf, 0)
	}
	n := uint32(len(p.buf) - at + 4)
	ngLE.PutUint32(p.buf[at+4:], n)
	p.buf = ngLE.AppendUint32(p.buf, n)
	if len(p.buf) >= pngFlushAt {
		return p.Flush()
	}
	return nil
}

func (p *PcapngWriter) opt8(code uint16, v []byte) {
	if len(v) > 0xffff {
		v = v[:0xffff]
	}
	p.buf = ngLE.AppendUint16(p.buf, code)
	p.buf = ngLE.AppendUint16(p.buf, uint16(len(v)))
	p.buf = append(p.buf, v...)
	for len(p.buf)%4 != 0 {
		p.buf = append(p.buf, 0)
	}
}

func (p *PcapngWriter) optString(code uint16, s string) {
	if s != "" {
		p.opt8(code, []byte(s))
	}
}

func (p *PcapngWriter) optU64(code uint16, v uint64) {
	p.opt8(code, ngLE.AppendUint64(nil, v))
}

// optTime writes a timestamp option (two 32-bit halves, high first) in ns.
func (p *PcapngWriter) optTime(code uint16, ns int64) {
	b := ngLE.AppendUint32(nil, uint32(uint64(ns)>>32))
	p.opt8(code, ngLE.AppendUint32(b, uint32(ns)))
}

// endOpts closes an option list that has at least one option.
func (p *PcapngWriter) endOpts(start int) {
	if len(p.buf) > start {
		p.buf = append(p.buf, 0, 0, 0, 0) // opt_endofopt
	}
}

func (p *PcapngWriter) check() error {
	if p.err != nil {
		return p.err
	}
	if p.closed {
		return ErrWriterClosed
	}
	return nil
}

func (p *PcapngWriter) start() error {
	if p.started {
		return nil
	}
	p.started = true
	at := p.begin(blockSHB)
	p.buf = ngLE.AppendUint32(p.buf, bomMagic)
	p.buf = ngLE.AppendUint16(p.buf, 1)                  // major
	p.buf = ngLE.AppendUint16(p.buf, 0)                  // minor
	p.buf = ngLE.AppendUint64(p.buf, 0xffffffffffffffff) // section length unknown
	o := len(p.buf)
	p.optString(optComment, p.opt.Comment)
	p.optString(shbHardware, p.opt.Hardware)
	p.optString(shbOS, p.opt.OS)
	p.optString(shbUserAppl, p.opt.Application)
	p.endOpts(o)
	return p.end(at)
}

// AddInterface writes an interface description block and returns the
// interface's index, the value a frame's Iface must have to be written on
// it (live sources number their interfaces in this order).
func (p *PcapngWriter) AddInterface(ifc PcapngInterface) (int, error) {
	if err := p.check(); err != nil {
		return 0, err
	}
	if ifc.LinkType > 0xffff {
		return 0, fmt.Errorf("pcapng: link type %d does not fit an interface description block", ifc.LinkType)
	}
	if ifc.Snaplen < 0 {
		ifc.Snaplen = 0
	}
	if err := p.start(); err != nil {
		return 0, err
	}
	at := p.begin(blockIDB)
	p.buf = ngLE.AppendUint16(p.buf, uint16(ifc.LinkType))
	p.buf = ngLE.AppendUint16(p.buf, 0)
	p.buf = ngLE.AppendUint32(p.buf, uint32(ifc.Snaplen))
	o := len(p.buf)
	p.optString(ifName, ifc.Name)
	p.optString(ifDescription, ifc.Description)
	p.opt8(optTSResol, []byte{9})
	if ifc.Filter != "" {
		p.opt8(ifFilter, append([]byte{0}, ifc.Filter...)) // 0: libpcap filter string
	}
	p.optString(ifOS, ifc.OS)
	p.endOpts(o)
	p.ifaces = append(p.ifaces, ifc)
	return len(p.ifaces) - 1, p.end(at)
}

// WritePacket writes f as an enhanced packet block on interface f.Iface,
// at most that interface's snaplen bytes of f.Data, with f.TS in
// nanoseconds. A non-empty comment is stored as the packet's opt_comment
// (Wireshark shows it as the packet comment, tshark field frame.comment),
// and f.DropsBefore > 0 as epb_dropcount (frame.drop_count).
func (p *PcapngWriter) WritePacket(f *Frame, comment string) error {
	if comment == "" {
		return p.WritePacketComments(f, nil)
	}
	return p.WritePacketComments(f, []string{comment})
}

// WritePacketComments is WritePacket with any number of comments, each an
// opt_comment of its own (pcapng allows several; Wireshark lists each).
// Empty comments are left out.
func (p *PcapngWriter) WritePacketComments(f *Frame, comments []string) error {
	if err := p.check(); err != nil {
		return err
	}
	if f.Iface < 0 || f.Iface >= len(p.ifaces) {
		return fmt.Errorf("pcapng: frame %d on interface %d, but %d interfaces are defined", f.N, f.Iface, len(p.ifaces))
	}
	if f.TS < 0 {
		return fmt.Errorf("pcapng: frame %d timestamp before 1970", f.N)
	}
	data := f.Data
	if sl := p.ifaces[f.Iface].Snaplen; sl > 0 && len(data) > sl {
		data = data[:sl]
	}
	if len(data) > MaxBlock-256 {
		data = data[:MaxBlock-256]
	}
	orig := max(f.OrigLen, len(data))
	at := p.begin(blockEPB)
	p.buf = ngLE.AppendUint32(p.buf, uint32(f.Iface))
	p.buf = ngLE.AppendUint32(p.buf, uint32(uint64(f.TS)>>32))
	p.buf = ngLE.AppendUint32(p.buf, uint32(f.TS))
	p.buf = ngLE.AppendUint32(p.buf, uint32(len(data)))
	p.buf = ngLE.AppendUint32(p.buf, uint32(orig))
	p.buf = append(p.buf, data...)
	for len(p.buf)%4 != 0 {
		p.buf = append(p.buf, 0)
	}
	o := len(p.buf)
	for _, c := range comments {
		p.optString(optComment, c)
	}
	if f.DropsBefore > 0 {
		p.optU64(epbDropCount, f.DropsBefore)
	}
	p.endOpts(o)
	return p.end(at)
}

// WriteStats writes an interface statistics block for interface iface.
// Write one per interface at the end of a capture (it may also be written
// periodically: readers take the last one).
func (p *PcapngWriter) WriteStats(iface int, st PcapngStats) error {
	if err := p.check(); err != nil {
		return err
	}
	if iface < 0 || iface >= len(p.ifaces) {
		return fmt.Errorf("pcapng: statistics for interface %d, but %d interfaces are defined", iface, len(p.ifaces))
	}
	at := p.begin(blockISB)
	p.buf = ngLE.AppendUint32(p.buf, uint32(iface))
	p.buf = ngLE.AppendUint32(p.buf, uint32(uint64(st.Time)>>32))
	p.buf = ngLE.AppendUint32(p.buf, uint32(st.Time))
	o := len(p.buf)
	p.optString(optComment, st.Comment)
	if st.Start > 0 {
		p.optTime(isbStartTime, st.Start)
	}
	if st.End > 0 {
		p.optTime(isbEndTime, st.End)
	}
	p.optU64(isbIfRecv, st.Received)
	p.optU64(isbIfDrop, st.Dropped)
	if st.HasDelivered {
		p.optU64(isbUsrDeliv, st.Delivered)
	}
	p.endOpts(o)
	return p.end(at)
}

// Flush writes the buffered blocks (whole blocks only) to the underlying
// writer. A write error is sticky: every later call returns it.
func (p *PcapngWriter) Flush() error {
	if p.err != nil {
		return p.err
	}
	if len(p.buf) == 0 {
		return nil
	}
	_, err := p.w.Write(p.buf)
	p.buf = p.buf[:0]
	if err != nil {
		p.err = fmt.Errorf("pcapng: %w", err)
	}
	return p.err
}

// Close writes what is buffered (the section header at least, so that a
// capture of no interface is still a valid file) and makes further writes
// fail. It does not close the underlying writer.
func (p *PcapngWriter) Close() error {
	if p.closed {
		return p.err
	}
	if p.err == nil {
		_ = p.start()
	}
	err := p.Flush()
	p.closed = true
	return err
}
