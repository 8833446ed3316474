package analyze

import (
	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/tcp"
)

// A pipelined run splits the work over two goroutines: the reader's, which
// reads frames and decodes them (reader.frame), and the caller's, which owns
// the connection table (tableSide.segment). Segments travel in batches
// whose payload bytes are copied into the batch's own arena, since a frame's
// bytes live only until the next read. Batches are recycled: the steady
// state allocates nothing. The result is identical to Run's: one reader,
// one table, segments in capture order.

const (
	batchSegs  = 512
	batchBytes = 1 << 20
	batchQueue = 8
	// maxLeadBytes bounds how far (in bytes of frames) the reader may be
	// ahead of the goroutines that use the frames' bytes: with a mapped
	// capture those bytes are read in place, and pages further behind the
	// reader than capture.DefaultDropBehind are given back.
	maxLeadBytes = 6 << 20
	// leadBytes ends a batch after this many bytes of frames.
	leadBytes = maxLeadBytes / (batchQueue + 2)
)

type batch struct {
	segBuf
	readErrs // damage met before the first segment of the next batch
}

// readErrs is what the reader passes on besides segments: the input damage
// it met, in order, and with the last batch the reason reading stopped (nil
// at the end of the input).
type readErrs struct {
	errs []error
	end  bool
	err  error
}

// collect records the damage a batch carries and forgets it; it returns the
// run's first error so far, and whether the batch was the last.
func (e *Engine) collect(d *readErrs, first error) (error, bool) {
	for _, err := range d.errs {
		first = e.inputError(first, err)
	}
	if d.end && d.err != nil {
		first = e.inputError(first, d.err)
	}
	d.errs = d.errs[:0]
	return first, d.end
}

// segBuf carries decoded segments from the reader to the goroutine that
// files them, with an arena for their payloads when the input's bytes do
// not outlive the next read.
type segBuf struct {
	segs  []tcp.Segment
	arena []byte
}

// arenaNeed is what segment s takes of an arena: nothing when the input is
// stable (a frame's bytes outlive the run, and a reassembled IP datagram's
// buffer is handed over by the decoder), else its payload and options.
func arenaNeed(s *tcp.Segment, stable bool) int {
	if stable {
		return 0
	}
	return len(s.Payload) + len(s.Opts.Raw)
}

// full reports whether the buffer holds segments and has no room for need
// more bytes of payload.
func (b *segBuf) full(need int) bool {
	return len(b.segs) > 0 && len(b.arena)+need > cap(b.arena)
}

// push appends a copy of s, its payload copied into the arena when need
// is not 0 (a new arena is made when there is no room: a payload larger
// than an arena, jumbo or TSO).
func (b *segBuf) push(s *tcp.Segment, need int) {
	if need > cap(b.arena)-len(b.arena) {
		b.arena = make([]byte, 0, max(need, batchBytes))
	}
	b.segs = append(b.segs, *s)
	if need > 0 {
		c := &b.segs[len(b.segs)-1]
		c.Payload = b.own(s.Payload)
		c.Opts.Raw = b.own(s.Opts.Raw)
	}
}

// own copies p into the arena (which has room) and returns the copy.
func (b *segBuf) own(p []byte) []byte {
	if p == nil {
		return nil
	}
	n := len(b.arena)
	b.arena = append(b.arena, p...)
	return b.arena[n:len(b.arena):len(b.arena)]
}

func (b *segBuf) reset() { b.segs, b.arena = b.segs[:0], b.arena[:0] }

// runPipelined is Run with reading and decoding on a goroutine of their own.
func (e *Engine) runPipelined(src capture.Source) error {
	full := make(chan *batch, batchQueue)
	free := make(chan *batch, batchQueue+2)
	for range batchQueue + 2 {
		free <- &batch{segBuf: segBuf{segs: make([]tcp.Segment, 0, batchSegs), arena: make([]byte, 0, batchBytes)}}
	}
	go e.rd.readBatches(src, full, free, capture.IsStable(src))
	var first error
	for b := range full {
		for i := range b.segs {
			e.tbl.segment(&b.segs[i])
		}
		var last bool
		if first, last = e.collect(&b.readErrs, first); last {
			break
		}
		b.reset()
		free <- b
	}
	return first
}

// readBatches is the reader goroutine of a pipelined run. Input damage is
// passed on in order with the segments; an I/O error that cannot be
// stepped over ends the run.
func (r *reader) readBatches(src capture.Source, full, free chan *batch, stable bool) {
	defer close(full)
	b := <-free
	bytesIn := 0
	send := func() {
		full <- b
		b, bytesIn = <-free, 0
	}
	err := readAll(src, func(f *capture.Frame) {
		s := r.frame(f)
		if s == nil {
			return
		}
		need := arenaNeed(s, stable)
		if len(b.segs) == cap(b.segs) || b.full(need) || len(b.errs) > 0 || bytesIn >= leadBytes {
			send()
		}
		b.push(s, need)
		bytesIn += len(f.Data)
	}, func(err error) {
		if len(b.segs) > 0 {
			send() // keep the error after the segments read before it
		}
		b.errs = append(b.errs, err)
	})
	b.end, b.err = true, err
	full <- b
}
