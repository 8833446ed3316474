//go:build !linux

package kernelev

import "errors"

// Tracer reads the kernel's TCP tracepoints: Linux only.
type Tracer struct{}

// OpenTracer says why the kernel's word is not available here.
func OpenTracer() (*Tracer, error) {
	return nil, errors.New("the kernel's reasons for its resets are read from Linux tracepoints (Linux 6.10 or later)")
}

// Events is nil: no tracer.
func (t *Tracer) Events() <-chan Event { return nil }

// Offset is 0.
func (t *Tracer) Offset() int64 { return 0 }

// Err is nil.
func (t *Tracer) Err() error { return nil }

// Close does nothing.
func (t *Tracer) Close() error { return nil }

// Lost is 0.
func (t *Tracer) Lost() int { return 0 }
