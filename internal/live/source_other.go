//go:build !linux

package live

import (
	"io"

	"github.com/tcptrace/tcptrace/internal/capture"
)

// Source is a live capture; on this system Open always fails.
type Source struct{}

// Open fails: AF_PACKET capture exists on Linux only.
func Open(names []string, opt Options) (*Source, error) {
	if err := checkNames(names); err != nil {
		return nil, err
	}
	return nil, &Error{Err: ErrUnsupported}
}

func (s *Source) Next() (*capture.Frame, error) { return nil, io.EOF }
func (s *Source) Name() string                  { return "" }
func (s *Source) Size() int64                   { return 0 }
func (s *Source) Pos() int64                    { return 0 }
func (s *Source) Close() error                  { return nil }
func (s *Source) Interfaces() []Interface       { return nil }
func (s *Source) Stats() Stats                  { return Stats{} }
