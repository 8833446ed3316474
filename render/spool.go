package render

import (
	"bufio"
	"bytes"
	"io"
	"os"
)

// spoolMem is how much a spool keeps in memory before it moves to a
// temporary file.
const spoolMem = 1 << 20

// spool keeps text to be written later (after what can only be written at
// the end): in memory up to spoolMem, then in a temporary file, removed
// when the spool is closed. When no temporary file can be made, it stays
// in memory.
type spool struct {
	mem     bytes.Buffer
	f       *os.File
	bw      *bufio.Writer
	removed bool // the file's name is removed already
}

func (s *spool) Write(p []byte) (int, error) {
	if s.f == nil && s.mem.Len()+len(p) > spoolMem {
		if f, err := os.CreateTemp("", "tcptrace-spool-*"); err == nil {
			if os.Remove(f.Name()) == nil {
				s.removed = true // gone from the directory now (Unix), even if we die
			}
			s.f, s.bw = f, bufio.NewWriterSize(f, 64<<10)
			if _, err := s.mem.WriteTo(s.bw); err != nil {
				return 0, err
			}
		}
	}
	if s.f != nil {
		return s.bw.Write(p)
	}
	return s.mem.Write(p)
}

// copyTo writes what was spooled to w.
func (s *spool) copyTo(w io.Writer) error {
	if s.f == nil {
		_, err := s.mem.WriteTo(w)
		return err
	}
	if err := s.bw.Flush(); err != nil {
		return err
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := io.Copy(w, s.f)
	return err
}

// close removes the temporary file, if any. A nil spool is closed.
func (s *spool) close() {
	if s == nil || s.f == nil {
		return
	}
	s.f.Close()
	if !s.removed {
		os.Remove(s.f.Name())
	}
	s.f = nil
}
