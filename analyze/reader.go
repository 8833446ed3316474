package analyze

import (
	"errors"
	"io"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/internal/decode"
	"github.com/tcptrace/tcptrace/tcp"
)

// reader decodes frames into segments and counts what it read. It belongs
// to the goroutine that reads the input: the caller's in a run on one
// goroutine, its own in a pipelined or sharded run (whose caller reads the
// counts only after the reader is done).
type reader struct {
	dec *decode.Decoder
	seg tcp.Segment

	frames      int64
	tcp         int64 // TCP segments decoded: the next segment's position is tcp-1 after frame
	skipped     [decode.NumSkips]int64
	truncated   int64
	overSnaplen int64
	firstTS     int64
	lastTS      int64
}

func newReader() *reader { return &reader{dec: decode.NewDecoder()} }

// frame counts a frame and decodes it; nil when it holds no TCP segment. The
// returned segment is the reader's own, valid until the next call.
func (r *reader) frame(f *capture.Frame) *tcp.Segment {
	r.frames++
	if r.frames == 1 || f.TS < r.firstTS {
		r.firstTS = f.TS
	}
	if f.TS > r.lastTS {
		r.lastTS = f.TS
	}
	if f.OverSnaplen {
		r.overSnaplen++
	}
	s := &r.seg
	if k := r.dec.Decode(f, s); k != decode.OK {
		r.skipped[k]++
		return nil
	}
	r.tcp++
	if s.Notes&tcp.NoteTruncated != 0 {
		r.truncated++
	}
	return s
}

// readAll is the one frame-reading loop of every kind of run: it reads src
// to its end, handing each frame to frame and each piece of damage that
// reading can step over (a *capture.Error: a bad record, a truncated file
// among several) to damage, in input order. It returns the error that
// ended reading early (an I/O error it cannot step over), or nil at the end
// of the input.
func readAll(src capture.Source, frame func(*capture.Frame), damage func(error)) error {
	for {
		f, err := src.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var ce *capture.Error
			if !errors.As(err, &ce) {
				return err
			}
			damage(err)
			continue
		}
		frame(f)
	}
}
