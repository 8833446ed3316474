package capture

import "io"

const (
	pcapFileHeaderLen   = 24
	pcapRecordHeaderLen = 16
)

// pcapReader reads the classic libpcap format.
type pcapReader struct {
	*stream
	order    order
	nano     bool
	snaplen  uint32 // as declared by the file header
	snapEff  uint32 // snaplen used for OverSnaplen (MaxSnaplen when the file says 0)
	limit    uint32 // larger records are corrupt
	linkType uint32
}

func newPcap(s *stream, bigEndian, nano bool) (Source, error) {
	h, err := s.read(pcapFileHeaderLen)
	if err != nil {
		return nil, s.readErr(err, 0, 0, "the pcap file header", len(h), pcapFileHeaderLen)
	}
	r := &pcapReader{stream: s, order: order(bigEndian), nano: nano}
	r.snaplen = r.order.u32(h[16:])
	// The link-type field may carry an FCS length (bits 28-31) and flags
	// above the 16-bit LINKTYPE value.
	r.linkType = r.order.u32(h[20:]) & 0xffff
	r.snapEff = r.snaplen
	if r.snapEff == 0 {
		r.snapEff = MaxSnaplen
	}
	r.limit = MaxSnaplen
	if r.snaplen > MaxSnaplen {
		r.limit = min(r.snaplen, MaxRecord)
	}
	r.f.LinkType = r.linkType
	s.publishPos()
	return r, nil
}

// Next returns the next record.
func (r *pcapReader) Next() (*Frame, error) {
	if r.done {
		return nil, io.EOF
	}
	off := r.off
	h, err := r.read(pcapRecordHeaderLen)
	if err != nil {
		if err == io.EOF {
			return r.eof()
		}
		return r.fail(r.readErr(err, r.n+1, off, "record header", len(h), pcapRecordHeaderLen))
	}
	sec := r.order.u32(h[0:])
	frac := r.order.u32(h[4:])
	caplen := r.order.u32(h[8:])
	origlen := r.order.u32(h[12:])
	if caplen > r.limit {
		return r.corrupt(off, "record caplen %d exceeds %d", caplen, r.limit)
	}
	data, err := r.read(int(caplen))
	if err != nil {
		return r.fail(r.readErr(err, r.n+1, off, "record data", len(data), int(caplen)))
	}
	r.n++
	f := &r.f
	f.N = r.n
	if r.nano {
		f.TS = int64(sec)*1e9 + int64(frac)
	} else {
		f.TS = int64(sec)*1e9 + int64(frac)*1e3
	}
	f.LinkType = r.linkType
	f.Iface = 0
	f.CapLen = int(caplen)
	f.OrigLen = int(origlen)
	f.Offset = off
	f.Data = data
	f.OverSnaplen = caplen > r.snapEff
	r.publishPos()
	return f, nil
}
