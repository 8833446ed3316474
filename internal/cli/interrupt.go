package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tcptrace/tcptrace/internal/capture"
)

// Interruption (README "Exit codes"): the first SIGINT or SIGTERM stops the
// reading; what was read is analyzed and reported whole (connections still
// open then as open, as at the end of a capture), the summary says where
// it stopped, and tcptrace exits 130 (SIGINT) or 143 (SIGTERM). A second
// signal exits at once: the output has only whole lines (lineWriter), the
// progress line is cleared.
const (
	ExitInterrupt = 130 // 128 + SIGINT
	ExitTerm      = 143 // 128 + SIGTERM
)

// interrupts watches for the signals of one run.
type interrupts struct {
	stopped atomic.Bool
	sig     atomic.Value // os.Signal, the first
	ch      chan os.Signal
	done    chan struct{}
	out     *lineWriter
	clear   func() // clears the progress line, if any
	mu      sync.Mutex
	exit    func(int)
	spin    chan struct{} // the second phase's spinner, while it turns
	spun    chan struct{} // closed when it has stopped and cleared its line
	live    atomic.Bool   // stopsLive: the first signal ends a live capture normally
}

// stopsLive says that the first signal is how the command ends (tcptrace
// live): it does not make the exit code 130 or 143. A second signal still
// exits at once.
func (in *interrupts) stopsLive() {
	if in != nil {
		in.live.Store(true)
	}
}

// watchInterrupts starts watching; stop ends it.
func watchInterrupts(out *lineWriter, exit func(int)) *interrupts {
	in := &interrupts{ch: make(chan os.Signal, 2), done: make(chan struct{}), out: out, exit: exit}
	signal.Notify(in.ch, os.Interrupt, syscall.SIGTERM)
	go in.loop()
	return in
}

func (in *interrupts) loop() {
	for {
		select {
		case s := <-in.ch:
			if in.stopped.CompareAndSwap(false, true) {
				in.sig.Store(s)
				continue
			}
			// The second: at once, with whole lines only.
			in.mu.Lock()
			clear := in.clear
			in.mu.Unlock()
			if clear != nil {
				clear()
			}
			in.out.abandon()
			in.exit(exitCodeOf(in.sig.Load().(os.Signal)))
		case <-in.done:
			return
		}
	}
}

func (in *interrupts) stop() {
	signal.Stop(in.ch)
	close(in.done)
}

// signal is the first signal received, or nil (and nil for a command
// that a signal ends normally: stopsLive).
func (in *interrupts) signal() os.Signal {
	if in == nil || in.live.Load() {
		return nil
	}
	s, _ := in.sig.Load().(os.Signal)
	return s
}

// setClear sets what clears the progress line on a second signal.
func (in *interrupts) setClear(f func()) {
	if in == nil {
		return
	}
	in.mu.Lock()
	in.clear = f
	in.mu.Unlock()
}

// progress shows the second phase of a run on w (a terminal): a line
// saying that connections are being finished and the output written, with
// a spinner, until endProgress.
func (in *interrupts) progress(w io.Writer) {
	if in == nil || in.spin != nil {
		return
	}
	in.spin, in.spun = make(chan struct{}), make(chan struct{})
	clearLine := func() { fmt.Fprint(w, "\r\033[K") }
	in.setClear(clearLine)
	go func() {
		defer close(in.spun)
		frames := []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}
		t := time.NewTicker(120 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			fmt.Fprintf(w, "\r\033[K%s finishing the connections still open and writing the output", frames[i%len(frames)])
			select {
			case <-in.spin:
				clearLine()
				return
			case <-t.C:
			}
		}
	}()
}

// endProgress stops the second phase's spinner and clears its line.
func (in *interrupts) endProgress() {
	if in == nil || in.spin == nil {
		return
	}
	close(in.spin)
	<-in.spun
	in.spin = nil
	in.setClear(nil)
}

func exitCodeOf(s os.Signal) int {
	if s == syscall.SIGTERM {
		return ExitTerm
	}
	return ExitInterrupt
}

func signalName(s os.Signal) string {
	if s == syscall.SIGTERM {
		return "SIGTERM"
	}
	return "SIGINT"
}

// stopSource ends a source at the first signal: its reader sees the end
// of the input. It remembers the last frame it gave.
type stopSource struct {
	capture.Source
	in    *interrupts
	last  int64
	file  int
	names []string

	// selfAt, selfN, selfGap: the tests' hook
	// (TCPTRACE_TEST_INTERRUPT="N[,K[,MS]]"): after N frames the process
	// sends itself SIGINT, K times (default 1) MS milliseconds apart
	// (default 1), so that an interruption lands at a known point of a run.
	read, selfAt int64
	selfN        int
	selfGap      time.Duration
}

func (s *stopSource) Next() (*capture.Frame, error) {
	if s.in.stopped.Load() {
		return nil, io.EOF
	}
	f, err := s.Source.Next()
	if f != nil {
		s.last, s.file = f.N, f.File
		if s.read++; s.read == s.selfAt {
			syscall.Kill(os.Getpid(), syscall.SIGINT)
			go func() {
				for range s.selfN - 1 {
					time.Sleep(s.selfGap)
					syscall.Kill(os.Getpid(), syscall.SIGINT)
				}
			}()
		}
	}
	return f, err
}

// Stable passes on the source's stability (capture.IsStable): hiding it
// would make the engine copy every frame.
func (s *stopSource) Stable() bool { return capture.IsStable(s.Source) }

// testHook reads TCPTRACE_TEST_INTERRUPT (see selfAt).
func (s *stopSource) testHook(v string) {
	if v == "" {
		return
	}
	f := strings.Split(v, ",")
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || n < 1 {
		return
	}
	s.selfAt, s.selfN, s.selfGap = n, 1, time.Millisecond
	if len(f) > 1 {
		if k, err := strconv.Atoi(f[1]); err == nil && k > 1 {
			s.selfN = k
		}
	}
	if len(f) > 2 {
		if ms, err := strconv.Atoi(f[2]); err == nil && ms > 0 {
			s.selfGap = time.Duration(ms) * time.Millisecond
		}
	}
}

// lastFile is the name of the file of the last frame, when several.
func (s *stopSource) lastFile() string {
	if len(s.names) > 1 && s.file < len(s.names) {
		return s.names[s.file]
	}
	return ""
}

// lineWriter passes on whole lines only, so that an exit at any moment
// leaves no line cut in the output. What follows the last newline waits
// for the next write or Flush; a run of more than maxPartial bytes without
// a newline (raw or binary output) is passed on as it is.
type lineWriter struct {
	mu   sync.Mutex
	w    io.Writer
	tail []byte
	gone bool // abandon: the process is exiting
}

const maxPartial = 1 << 20

func newLineWriter(w io.Writer) *lineWriter { return &lineWriter{w: w} }

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gone {
		select {} // the process is exiting: never return a write half done
	}
	i := bytes.LastIndexByte(p, '\n')
	if i < 0 {
		l.tail = append(l.tail, p...)
		if len(l.tail) > maxPartial {
			_, err := l.w.Write(l.tail)
			l.tail = l.tail[:0]
			return len(p), err
		}
		return len(p), nil
	}
	if len(l.tail) > 0 {
		l.tail = append(l.tail, p[:i+1]...)
		_, err := l.w.Write(l.tail)
		l.tail = append(l.tail[:0], p[i+1:]...)
		return len(p), err
	}
	if _, err := l.w.Write(p[:i+1]); err != nil {
		return 0, err
	}
	l.tail = append(l.tail, p[i+1:]...)
	return len(p), nil
}

// Flush writes what waits (the end of an output without a last newline).
func (l *lineWriter) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.tail) == 0 || l.gone {
		return nil
	}
	_, err := l.w.Write(l.tail)
	l.tail = l.tail[:0]
	return err
}

// abandon waits for a write in progress and lets no other start.
func (l *lineWriter) abandon() {
	l.mu.Lock()
	l.gone = true
	l.mu.Unlock()
}

// interruptedNote is the stderr line of an interrupted run.
func interruptedNote(stdio IO, sig os.Signal, frame int64, file string) {
	at := fmt.Sprintf("frame %d", frame)
	if file != "" {
		at += " of " + file
	}
	fmt.Fprintf(stdio.Err, "tcptrace: interrupted (%s) after %s: finishing what was read (again to quit at once)\n", signalName(sig), at)
}
