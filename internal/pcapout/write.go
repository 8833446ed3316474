package pcapout

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/tcptrace/tcptrace/internal/capture"
)

// WriteStats says what Write wrote.
type WriteStats struct {
	Frames     int64 // frames written
	Commented  int64 // ... of which with comments
	Comments   int64 // comments written
	Interfaces int   // interfaces of the output
}

// Write reads the inputs again (files, by the index the collector knows
// them by), merged in timestamp order as the analysis read them, and
// copies every selected frame into a pcapng at w: its bytes, original
// length and timestamp unchanged (in nanoseconds), on an interface of its
// input's link type (one per input interface), with its comments.
// Everything else a pcapng record may carry (flags, hashes, other options)
// is left out. Damage in an input is stepped over as the analysis did;
// an input that cannot be opened again, or a write, fails it.
func Write(w io.Writer, files []string, c *Collector) (WriteStats, error) {
	var st WriteStats
	srcs := make([]capture.Source, 0, len(files))
	for _, name := range files {
		s, err := capture.Open(name)
		if err != nil {
			for _, s := range srcs {
				s.Close()
			}
			return st, fmt.Errorf("reading %s again: %w", name, err)
		}
		srcs = append(srcs, s)
	}
	src := capture.Merge(srcs)
	defer src.Close()

	pw := capture.NewPcapngWriter(w, capture.PcapngOptions{
		Application: "tcptrace",
		Comment: fmt.Sprintf("the frames of %d connections that tcptrace selected from %s; its conclusions are in the packet comments (frame.comment)",
			c.Conns(), strings.Join(files, ", ")),
	})
	type ifKey struct {
		file, iface int
		link        uint32
	}
	ifaces := map[ifKey]int{}
	for {
		f, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var ce *capture.Error
			if errors.As(err, &ce) {
				continue // damage: reported by the analysis already
			}
			return st, err
		}
		if !c.Selected(f.File, f.N) {
			continue
		}
		k := ifKey{f.File, f.Iface, f.LinkType}
		id, ok := ifaces[k]
		if !ok {
			desc := fmt.Sprintf("interface %d of %s", f.Iface, files[f.File])
			id, err = pw.AddInterface(capture.PcapngInterface{Name: fmt.Sprintf("%s#%d", filepath.Base(files[f.File]), f.Iface), Description: desc, LinkType: f.LinkType})
			if err != nil {
				return st, err
			}
			ifaces[k] = id
		}
		g := *f
		g.Iface, g.DropsBefore = id, 0
		cs := c.Comments(f.File, f.N)
		if err := pw.WritePacketComments(&g, cs); err != nil {
			return st, err
		}
		st.Frames++
		if len(cs) > 0 {
			st.Commented++
			st.Comments += int64(len(cs))
		}
	}
	st.Interfaces = len(ifaces)
	return st, pw.Close()
}
