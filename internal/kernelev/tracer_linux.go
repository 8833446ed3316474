package kernelev

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// tracefsRoots are where tracefs may be mounted.
var tracefsRoots = []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}

// Tracer reads the TCP tracepoints live from a private ftrace instance of
// its own (instances/tcptrace-PID: the global trace buffer and its settings
// are left alone), with the "tai" clock, converted to the capture's realtime
// clock. Close disables the events and removes the instance.
type Tracer struct {
	dir    string
	pipe   *os.File
	offset int64 // realtime - tai, ns: added to every event's time
	events chan Event
	stop   chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	err    error
	lost   int // lines that could not be read
}

// TracedEvents are the tracepoints a Tracer enables; tcp_send_reset must
// carry the reason field (Linux 6.10 and later).
var TracedEvents = []string{"tcp_send_reset", "tcp_receive_reset", "tcp_retransmit_skb"}

// OpenTracer sets up the instance and starts reading. The error says in
// one line why the kernel's word is not available (no permission, no
// tracefs, a kernel without the reason field) so the caller can print it.
func OpenTracer() (*Tracer, error) {
	root, err := tracefs()
	if err != nil {
		return nil, err
	}
	format, err := os.ReadFile(filepath.Join(root, "events/tcp/tcp_send_reset/format"))
	if err != nil {
		return nil, fmt.Errorf("no tcp:tcp_send_reset tracepoint in %s: %w", root, err)
	}
	if !bytes.Contains(format, []byte("sk_rst_reason")) {
		return nil, errors.New("this kernel's tcp:tcp_send_reset has no reason field (Linux 6.10 or later has it)")
	}
	dir := filepath.Join(root, "instances", fmt.Sprintf("tcptrace-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		return nil, fmt.Errorf("cannot make an ftrace instance (needs root or CAP_SYS_ADMIN): %w", err)
	}
	t := &Tracer{dir: dir, events: make(chan Event, 4096), stop: make(chan struct{})}
	fail := func(err error) (*Tracer, error) {
		t.teardown()
		return nil, err
	}
	if err := write(filepath.Join(dir, "trace_clock"), "tai"); err != nil {
		return fail(fmt.Errorf("ftrace clock tai: %w", err))
	}
	_ = write(filepath.Join(dir, "buffer_size_kb"), "4096") // bursts of resets; the default is small
	for _, ev := range TracedEvents {
		if err := write(filepath.Join(dir, "events/tcp", ev, "enable"), "1"); err != nil {
			return fail(fmt.Errorf("enable tcp:%s: %w", ev, err))
		}
	}
	var tai, real unix.Timespec
	if unix.ClockGettime(unix.CLOCK_TAI, &tai) == nil && unix.ClockGettime(unix.CLOCK_REALTIME, &real) == nil {
		// Whole seconds: the TAI offset is an integer number of seconds.
		t.offset = (real.Nano() - tai.Nano() + sign(real.Nano()-tai.Nano())*5e8) / 1e9 * 1e9
	}
	p, err := os.OpenFile(filepath.Join(dir, "trace_pipe"), os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return fail(fmt.Errorf("open trace_pipe: %w", err))
	}
	t.pipe = p
	t.wg.Add(1)
	go t.read()
	return t, nil
}

func sign(x int64) int64 {
	if x < 0 {
		return -1
	}
	return 1
}

// tracefs finds (or, as root, mounts) tracefs.
func tracefs() (string, error) {
	for _, r := range tracefsRoots {
		if _, err := os.Stat(filepath.Join(r, "instances")); err == nil {
			return r, nil
		}
	}
	if err := unix.Mount("nodev", tracefsRoots[0], "tracefs", 0, ""); err != nil {
		return "", fmt.Errorf("tracefs is not mounted and cannot be (mount -t tracefs nodev %s needs root): %w", tracefsRoots[0], err)
	}
	return tracefsRoots[0], nil
}

func write(path, s string) error {
	return os.WriteFile(path, []byte(s), 0)
}

// Events delivers the events as they are read, their times on the
// capture's realtime clock. It is closed after Close.
func (t *Tracer) Events() <-chan Event { return t.events }

// Offset is what was added to the trace's tai times.
func (t *Tracer) Offset() int64 { return t.offset }

// Err is the reading error that stopped the tracer early, if any.
func (t *Tracer) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

func (t *Tracer) read() {
	defer t.wg.Done()
	defer close(t.events)
	fd := int(t.pipe.Fd())
	var pending []byte
	buf := make([]byte, 64<<10)
	line := 0
	flush := func(final bool) {
		for {
			i := bytes.IndexByte(pending, '\n')
			if i < 0 {
				if final && len(pending) > 0 {
					i = len(pending)
				} else {
					return
				}
			}
			l := string(pending[:i])
			pending = pending[min(i+1, len(pending)):]
			line++
			e, ok, err := ParseLine(l)
			if err != nil {
				t.mu.Lock()
				t.lost++
				t.mu.Unlock()
				continue
			}
			if ok {
				e.Line = line
				e.TS += t.offset
				select {
				case t.events <- e:
				case <-t.stop:
					// Closing: what fits is kept, nothing blocks.
					select {
					case t.events <- e:
					default:
						t.mu.Lock()
						t.lost++
						t.mu.Unlock()
					}
				}
			}
		}
	}
	for {
		select {
		case <-t.stop:
			// What the kernel had already logged is still read.
			for {
				n, err := unix.Read(fd, buf)
				if n <= 0 || err != nil {
					break
				}
				pending = append(pending, buf[:n]...)
			}
			flush(true)
			return
		default:
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, 100); err != nil && err != unix.EINTR {
			t.fail(err)
			return
		}
		n, err := unix.Read(fd, buf)
		switch {
		case n > 0:
			pending = append(pending, buf[:n]...)
			flush(false)
		case err == unix.EAGAIN || err == unix.EINTR || err == nil:
		default:
			t.fail(err)
			return
		}
	}
}

func (t *Tracer) fail(err error) {
	t.mu.Lock()
	t.err = fmt.Errorf("reading the kernel's trace: %w", err)
	t.mu.Unlock()
}

// Close stops reading (after what was logged so far, as far as the
// channel has room), disables the events and removes the instance. The
// events still in the channel can be read after Close, until it is closed.
func (t *Tracer) Close() error {
	select {
	case <-t.stop:
		return nil
	default:
	}
	close(t.stop)
	t.wg.Wait()
	return t.teardown()
}

func (t *Tracer) teardown() error {
	if t.pipe != nil {
		t.pipe.Close()
		t.pipe = nil
	}
	for _, ev := range TracedEvents {
		_ = write(filepath.Join(t.dir, "events/tcp", ev, "enable"), "0")
	}
	var err error
	for range 50 { // the kernel may still hold the instance for a moment
		if err = os.Remove(t.dir); err == nil || os.IsNotExist(err) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("remove ftrace instance %s: %w", t.dir, err)
}

// Lost is the number of trace lines that could not be read or kept.
func (t *Tracer) Lost() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lost
}
