package pcapgen

import (
	"cmp"
	"io"
	"slices"
	"time"
)

// Frame is one captured frame.
type Frame struct {
	Time    time.Time
	Data    []byte // the whole frame, link header included
	OrigLen int    // length on the wire; 0 means len(Data)
	Iface   int    // pcapng interface index
}

// Capture is an ordered list of frames that several connections can share;
// it is written in timestamp order (frames of equal time keep the order in
// which they were added).
type Capture struct {
	Frames []Frame
}

// Add appends a frame.
func (c *Capture) Add(f Frame) { c.Frames = append(c.Frames, f) }

// Sorted returns the frames in timestamp order (stable).
func (c *Capture) Sorted() []Frame {
	fs := slices.Clone(c.Frames)
	slices.SortStableFunc(fs, func(a, b Frame) int { return cmp.Compare(a.Time.UnixNano(), b.Time.UnixNano()) })
	return fs
}

// WritePcap writes the frames, in timestamp order, as a little-endian pcap
// file (see NewPcapWriter for the parameters).
func (c *Capture) WritePcap(w io.Writer, linkType uint32, snaplen int, nano bool) error {
	pw := NewPcapWriter(w, linkType, snaplen, nano)
	if err := pw.WriteHeader(); err != nil {
		return err
	}
	for _, f := range c.Sorted() {
		if err := pw.WriteFrame(f.Time, f.Data, f.OrigLen); err != nil {
			return err
		}
	}
	return nil
}

// Interface describes one pcapng interface.
type Interface struct {
	LinkType uint32
	Snaplen  int // DefaultSnaplen when <= 0
	TSResol  int // timestamp resolution exponent: 6 µs, 9 ns
}

// WritePcapng writes the frames, in timestamp order, as a little-endian
// pcapng file with the given interfaces (Frame.Iface indexes them).
func (c *Capture) WritePcapng(w io.Writer, ifaces ...Interface) error {
	nw := NewPcapngWriter(w)
	nw.Application = "tcptrace pcapgen"
	for _, i := range ifaces {
		nw.AddInterface(i.LinkType, i.Snaplen, i.TSResol)
	}
	if err := nw.Err(); err != nil {
		return err
	}
	for _, f := range c.Sorted() {
		if err := nw.WriteFrame(f.Iface, f.Time, f.Data, f.OrigLen); err != nil {
			return err
		}
	}
	return nil
}
