package cli

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	json "github.com/goccy/go-json"
	"github.com/spf13/cobra"

	"github.com/tcptrace/tcptrace/analyze"
	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/internal/decode"
	"github.com/tcptrace/tcptrace/internal/kernelev"
	"github.com/tcptrace/tcptrace/internal/live"
	"github.com/tcptrace/tcptrace/render"
	"github.com/tcptrace/tcptrace/report"
	"github.com/tcptrace/tcptrace/tcp"
)

// LiveOptions are the flags of tcptrace live (tcpdump's spelling where
// tcpdump has one).
type LiveOptions struct {
	Ifaces   []string      // -i, repeatable; "any" for every interface
	Filter   string        // -f: capture filter, compiled to BPF in the kernel
	Snaplen  int           // -s
	Count    int64         // -c: stop after this many packets
	Duration time.Duration // --duration: stop after this long
	Write    string        // -w FILE.pcapng: everything captured
	Format   string        // text or json
	Color    string
	Events   bool   // --events: resets and anomalies as lines of their own
	Status   string // --status auto|never: the one-line status on a terminal
	Kernel   string // --kernel auto|off: the kernel's reasons from its tracepoints
	MaxConns int
	Idle     time.Duration
	Stats    bool // --stats: JSON records keep the statistics and transitions
}

func newLiveCmd(stdio IO) *cobra.Command {
	o := LiveOptions{}
	cmd := &cobra.Command{
		Use:   "live -i IFACE [flags]",
		Short: "Sniff an interface and analyze TCP as it flows, with the kernel's own reason for every RST",
		Long: `live captures from one or more interfaces (AF_PACKET, in pure Go: no libpcap)
and runs the same analysis as analyze: each connection is printed when it closes or
idles out, with the same row and the same JSON records. With --events every RST
(with its diagnosis) and every anomaly is printed as its connection is reported.

On Linux 6.10 or later, as root, tcptrace also reads the kernel's own record of the
RSTs its stack sends (tracepoint tcp:tcp_send_reset, from a private ftrace instance
removed on exit): each reset record gets kernel_reason and kernel_state, and a RST
on the wire from a local address that the local stack never sent is flagged as a
third party's. --kernel off disables it; otherwise one line says why it is off.

Ctrl-C, SIGTERM, -c or the end of --duration stop the capture: everything still open
is reported and the summary printed. Needs root or CAP_NET_RAW (and CAP_SYS_ADMIN or
tracefs access for the kernel's word).`,
		Example: `  tcptrace live -i eth0 -f 'tcp port 443'
  tcptrace live -i lo -i eth0 --events -w capture.pcapng
  tcptrace live -i any --format json --duration 1h > conns.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return RunLive(o, stdio)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.Ifaces, "interface", "i", nil, "interface to capture on (repeatable; any: all of them)")
	f.StringVarP(&o.Filter, "filter", "f", "", `capture filter in tcpdump's language, run in the kernel, e.g. "tcp port 443 and host 10.0.0.1" (docs/filter.md)`)
	f.IntVarP(&o.Snaplen, "snaplen", "s", 262144, "bytes kept of each packet")
	f.Int64VarP(&o.Count, "count", "c", 0, "stop after this many packets (0: no limit)")
	f.DurationVar(&o.Duration, "duration", 0, "stop after this long (0: until Ctrl-C)")
	f.StringVarP(&o.Write, "write", "w", "", "also write everything captured to this pcapng file (with the kernel's RST reasons as packet comments)")
	f.StringVar(&o.Format, "format", "text", "output format: text or json (JSON lines, docs/json.md)")
	f.StringVar(&o.Color, "color", "auto", "colour: auto (on a terminal, unless NO_COLOR is set), always or never")
	statsFlag(f, &o.Stats)
	f.BoolVar(&o.Events, "events", false, "print every RST with its diagnosis and every anomaly (JSON: reset and anomaly records)")
	f.StringVar(&o.Status, "status", "auto", "one-line status on stderr (packets/s, connections open, drops): auto (on a terminal) or never")
	f.StringVar(&o.Kernel, "kernel", "auto", "the kernel's reasons for its RSTs: auto (when root on Linux 6.10+) or off")
	f.IntVar(&o.MaxConns, "max-conns", analyze.DefaultMaxConns, "connections held at once; beyond it the least recently active is finished early")
	f.DurationVar(&o.Idle, "idle", 5*time.Minute, "a connection silent for this long is reported (idle) and forgotten")
	return cmd
}

// liveSource is a running capture: frames, and the kernel's counters.
type liveSource interface {
	capture.Source
	// Stats are the kernel's counters so far, per interface.
	Stats() []report.LiveIface
	// SuperFrames counts packets larger than the interface's MTU (GRO/TSO).
	SuperFrames() int64
}

// packetWriter writes what was captured (-w).
type packetWriter interface {
	// WritePacket writes one frame, with a comment (may be empty).
	WritePacket(f *capture.Frame, comment string) error
	// Close writes the interface statistics and flushes.
	Close(stats []report.LiveIface) error
}

// liveRun is everything a live run needs besides its options: the pieces
// RunLive opens on a real interface, and tests give from files.
type liveRun struct {
	src    liveSource
	names  []string
	writer packetWriter
	kernel kernelFeed    // nil: the kernel's word is off
	kOff   string        // why it is off
	stop   chan struct{} // closed to stop (Ctrl-C): the run then reports everything
	now    func() int64  // the wall clock (tests: the frames' clock)
	hold   time.Duration // how long a finished connection waits for the kernel's events
	filter string
	// listening is the line said once the capture runs (as tcpdump's).
	listening string
}

// kernelFeed delivers the kernel's events as they are read.
type kernelFeed interface {
	Events() <-chan kernelev.Event
	Close() error
	Offset() int64
}

// RunLive runs the live command.
func RunLive(o LiveOptions, stdio IO) error {
	if _, err := textOrJSON(o.Format, o.Color, stdio); err != nil {
		return err
	}
	if len(o.Ifaces) == 0 {
		return &ExitError{Code: ExitUsage, Err: errors.New("live needs an interface: -i IFACE (or -i any); interfaces: " + strings.Join(interfaceNames(), ", "))}
	}
	r, err := openLive(o, stdio)
	if err != nil {
		return err
	}
	if o.Kernel != "off" {
		if tr, err := kernelev.OpenTracer(); err != nil {
			r.kOff = err.Error()
			fmt.Fprintf(stdio.Err, "tcptrace: the kernel's reasons for its RSTs are off: %v\n", err)
		} else {
			r.kernel = tr
		}
	} else {
		r.kOff = "off (--kernel off)"
	}
	kw := "on"
	if r.kernel == nil {
		kw = "off"
	}
	fmt.Fprintf(stdio.Err, "tcptrace: %s; the kernel's reasons for its RSTs: %s\n", r.listening, kw)
	r.stop = make(chan struct{})
	stdio.intr.stopsLive() // Ctrl-C is how live ends: exit 0, as tcpdump
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	var once sync.Once
	go func() {
		select {
		case <-sigs:
			once.Do(func() { close(r.stop) })
		case <-r.stop:
		}
	}()
	r.now = func() int64 { return time.Now().UnixNano() }
	r.hold = 300 * time.Millisecond
	return runLive(o, stdio, r)
}

// slot is one frame copied out of the capture for the analysis.
type slot struct {
	f capture.Frame
}

// liveBatch is what the reader hands over: frames, or the end.
type liveBatch struct {
	slots []*slot
	err   error // io.EOF at the end of the capture; another error stopped it
	why   string
}

// runLive is the live loop: a reader goroutine copies frames out of the
// capture (and writes -w), the caller's goroutine owns the engine: it feeds
// the frames, sweeps on the wall clock while the link is quiet, joins the
// kernel's events and prints each connection when it is finished.
func runLive(o LiveOptions, stdio IO, r *liveRun) error {
	useColor, _ := textOrJSON(o.Format, o.Color, stdio)
	cfg := analyze.DefaultConfig()
	cfg.Workers = 1
	cfg.MaxConns = o.MaxConns
	if o.Idle > 0 {
		cfg.Idle, cfg.EvictIdle = o.Idle, o.Idle
	}
	cfg.Lean = o.Format == "json" && !o.Stats // liveOut.write: render.JSONRecord
	eng := analyze.NewEngine(cfg)
	kj := analyze.NewKernelJoiner(nil)
	if r.kernel != nil {
		kj.Offset = 0 // the tracer already shifted its events to the capture's clock
	}
	out := &liveOut{w: bufio.NewWriterSize(stdio.Out, 64<<10), o: o, color: useColor, kj: kj, kernel: r.kernel != nil, hold: r.hold, now: r.now}
	if o.Format == "json" {
		out.enc = json.NewEncoder(out.w)
		out.enc.SetEscapeHTML(false)
	}
	eng.Stream(r.names, out.add)

	status := o.Status != "never" && stdio.ErrTTY
	batches := make(chan liveBatch, 4)
	free := make(chan []*slot, 4)
	var seen int64
	var werr error
	var wq *delayedWriter
	if r.writer != nil {
		wq = newDelayedWriter(r.writer, out, r.hold)
	}
	go func() { // the reader
		var n int64
		why := ""
		var arena []byte // frames are copied into 1 MiB chunks: one allocation per chunk
		for {
			b := <-free
			b = b[:0]
			var err error
			deadline := time.Now().Add(5 * time.Millisecond)
			for len(b) < cap(b) {
				var f *capture.Frame
				f, err = r.src.Next()
				if err != nil {
					break
				}
				if len(arena)+f.CapLen > cap(arena) {
					arena = make([]byte, 0, max(1<<20, f.CapLen))
				}
				start := len(arena)
				arena = append(arena, f.Data[:f.CapLen]...)
				s := &slot{f: *f}
				s.f.Data = arena[start:len(arena):len(arena)]
				b = append(b, s)
				n++
				if wq != nil {
					wq.in <- queuedFrame{&s.f, time.Now()}
				}
				if o.Count > 0 && n >= o.Count {
					// Enough: stop the capture and let it finish (its last
					// counters are read at its end), dropping what is left.
					r.src.Close()
					for {
						if _, e := r.src.Next(); e != nil {
							break
						}
					}
					err, why = io.EOF, "count"
					break
				}
				if time.Now().After(deadline) {
					break
				}
			}
			batches <- liveBatch{slots: b, err: err, why: why}
			if err != nil {
				return
			}
		}
	}()
	for range cap(free) {
		free <- make([]*slot, 0, 256)
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var durC <-chan time.Time
	if o.Duration > 0 {
		t := time.NewTimer(o.Duration)
		defer t.Stop()
		durC = t.C
	}
	var kev <-chan kernelev.Event
	if r.kernel != nil {
		kev = r.kernel.Events()
	}
	stopped, stopWhy := false, ""
	stopCapture := func(why string) {
		if !stopped {
			stopped, stopWhy = true, why
			r.src.Close() // the reader then sees the end
		}
	}
	lastDrops, dropConns := int64(0), 0
	saidSuper := false
	checkDrops := func() {
		var d int64
		for _, s := range r.src.Stats() {
			d += s.Dropped
		}
		if d > lastDrops {
			n := eng.CaptureLoss()
			dropConns += n
			if !status {
				fmt.Fprintf(stdio.Err, "tcptrace: the kernel dropped %d packets (%d in all; its ring was full): %d open connections are marked incomplete_capture\n", d-lastDrops, d, n)
			}
			lastDrops = d
		}
	}
	started := r.now()
	var lastSeen int64
	lastStatus := started
	var readErr error
loop:
	for {
		select {
		case b := <-batches:
			for _, s := range b.slots {
				eng.Feed(&s.f)
				seen++
			}
			if b.err != nil {
				if b.why != "" {
					stopWhy = b.why
				}
				if b.err != io.EOF {
					readErr = b.err
					stopWhy = "error"
				}
				break loop
			}
			free <- b.slots
		case e, ok := <-kev:
			// Everything the tracer has read, at once: the events must be
			// in before the frames they name are written (-w comments).
			for ok {
				kj.Add(e)
				out.kernelEvent(e)
				select {
				case e, ok = <-kev:
				default:
					ok = false
					continue
				}
				if !ok {
					kev = nil
				}
			}
		case <-tick.C:
			now := r.now()
			checkDrops()
			if !saidSuper && r.src.SuperFrames() > 0 {
				saidSuper = true
				fmt.Fprintln(stdio.Err, "tcptrace: packets larger than the MTU (GRO/TSO super-frames): analyzed as they are, one segment each (counted in the summary)")
			}
			eng.Idle(now)
			if err := out.flush(now, false); err != nil {
				stopCapture("error")
			}
			if status && now-lastStatus >= 5e8 {
				rate := float64(seen-lastSeen) / (float64(now-lastStatus) / 1e9)
				fmt.Fprintf(stdio.Err, "\r\033[K%d packets (%.0f/s) · %d connections open, %d reported · %d dropped by the kernel", seen, rate, eng.Open(), out.conns, lastDrops)
				lastSeen, lastStatus = seen, now
			}
		case <-durC:
			stopCapture("duration")
		case <-r.stop:
			stopCapture("interrupt")
		}
	}
	if status {
		fmt.Fprint(stdio.Err, "\r\033[K")
	}
	if !stopped {
		r.src.Close() // -c, an error or the end of the input: the counters' end
	}
	if stopWhy == "" {
		stopWhy = "end of input"
	}
	// The end: the kernel's last events, then every connection still open.
	if r.kernel != nil {
		time.Sleep(r.hold) // active resets are logged just after they leave
		r.kernel.Close()
		for e := range r.kernel.Events() {
			kj.Add(e)
			out.kernelEvent(e)
		}
	}
	checkDrops()
	rep := eng.Report(r.names)
	out.flush(0, true)
	stats := r.src.Stats()
	live := &report.Live{Interfaces: stats, Filter: r.filter, Snaplen: o.Snaplen, Stopped: stopWhy,
		SuperFrames: r.src.SuperFrames(), KernelTrace: "on", Written: o.Write, Dropped: lastDrops, DropConns: dropConns}
	if r.kernel == nil {
		live.KernelTrace = r.kOff
	}
	rep.Summary.Live = live
	if r.kernel != nil {
		rep.Summary.KernelEvents = kj.Summary("live")
	}
	if wq != nil {
		werr = wq.close(stats)
	}
	var err error
	if o.Format == "json" {
		err = out.enc.Encode(&rep.Summary)
	} else {
		fmt.Fprintln(out.w)
		err = render.Summary(out.w, &rep.Summary, render.Options{Color: useColor})
	}
	if ferr := out.w.Flush(); err == nil {
		err = ferr
	}
	if err == nil {
		err = out.err
	}
	if err != nil {
		return writeFailed(err)
	}
	if werr != nil {
		return &ExitError{Code: ExitOutput, Err: fmt.Errorf("-w %s: %w", o.Write, werr)}
	}
	if readErr != nil {
		return &ExitError{Code: ExitPartial, Err: fmt.Errorf("capture stopped: %w", readErr)}
	}
	return nil
}

// liveOut prints finished connections: each waits hold for the kernel's
// events about its RSTs, then is joined and written.
type liveOut struct {
	w       *bufio.Writer
	enc     *json.Encoder
	o       LiveOptions
	color   bool
	kj      *analyze.KernelJoiner
	kernel  bool
	hold    time.Duration
	now     func() int64
	pending []pendingConn
	header  bool
	conns   int
	err     error

	mu     sync.Mutex       // the reader's comments for -w read recent events
	recent []kernelev.Event // the latest tcp_send_reset events, for -w comments
}

type pendingConn struct {
	due   int64
	c     *report.Conn
	anoms []*report.Anomaly
}

func (l *liveOut) add(c *report.Conn, anoms []*report.Anomaly) {
	due := int64(0)
	if l.kernel && len(c.Resets) > 0 {
		due = l.now() + int64(l.hold)
	}
	l.pending = append(l.pending, pendingConn{due, c, anoms})
	if due == 0 && len(l.pending) == 1 {
		l.flush(0, false)
	}
}

// flush writes the pending connections that are due (all at the end), in
// the order they finished.
func (l *liveOut) flush(now int64, all bool) error {
	n := 0
	for _, p := range l.pending {
		if !all && p.due > now {
			break
		}
		n++
		l.kj.Conn(p.c)
		l.write(p.c, p.anoms)
	}
	l.pending = slices.Delete(l.pending, 0, n)
	if n > 0 && l.err == nil {
		l.err = l.w.Flush()
	}
	return l.err
}

func (l *liveOut) write(c *report.Conn, anoms []*report.Anomaly) {
	if l.err != nil {
		return
	}
	l.conns++
	ro := render.Options{Color: l.color}
	if l.enc != nil {
		render.JSONRecord(c, l.o.Stats)
		if l.err = l.enc.Encode(c); l.err != nil {
			return
		}
		for _, a := range anoms {
			if l.err = l.enc.Encode(a); l.err != nil {
				return
			}
		}
		if l.o.Events {
			for i := range c.Resets {
				if l.err = l.enc.Encode(render.ResetRecord{Type: "reset", Conn: c.ID, Client: c.Client, Server: c.Server, Reset: &c.Resets[i]}); l.err != nil {
					return
				}
			}
		}
		return
	}
	if !l.header {
		l.header = true
		if l.err = render.ConnHeader(l.w, ro); l.err != nil {
			return
		}
	}
	if l.err = render.ConnLine(l.w, c, ro); l.err != nil {
		return
	}
	if l.o.Events {
		for i := range c.Resets {
			if l.err = render.ResetLine(l.w, c, &c.Resets[i], ro); l.err != nil {
				return
			}
		}
		for _, a := range anoms {
			if a.Severity == "chat" {
				continue
			}
			if l.err = render.AnomalyLine(l.w, a, ro); l.err != nil {
				return
			}
		}
	}
}

// kernelEvent keeps the latest tcp_send_reset events for the comments of
// -w (a few seconds' worth).
func (l *liveOut) kernelEvent(e kernelev.Event) {
	if e.Kind != kernelev.SendReset {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recent = append(l.recent, e)
	if len(l.recent) > 4096 {
		l.recent = slices.Delete(l.recent, 0, len(l.recent)-4096)
	}
}

// comment is the -w packet comment of a RST sent from src to dst at ts:
// the kernel's reason when the kernel logged it.
func (l *liveOut) comment(src, dst netip.AddrPort, ts int64) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	best, bestDT := -1, int64(kernelev.Window)
	for i, e := range l.recent {
		if e.Src != src || (e.HasPeer() && e.Dst != dst) {
			continue
		}
		dt := ts - e.TS
		if dt < 0 {
			dt = -dt
		}
		if dt <= bestDT {
			best, bestDT = i, dt
		}
	}
	if best < 0 {
		return ""
	}
	e := l.recent[best]
	l.recent = slices.Delete(l.recent, best, best+1)
	return fmt.Sprintf("tcp_send_reset: reason=%s state=%s", e.Reason, e.State)
}

// delayedWriter writes -w from a goroutine of its own, each frame hold
// after it was read: by then the kernel has logged the RSTs among them (an
// active reset is logged just after it leaves) and the loop has taken the
// events in, so that their comments can name the kernel's reason.
type delayedWriter struct {
	w    packetWriter
	out  *liveOut
	hold time.Duration
	in   chan queuedFrame
	done chan struct{}
	err  error
	fast chan struct{} // closed at the end: no more waiting
}

type queuedFrame struct {
	f    *capture.Frame
	read time.Time
}

func newDelayedWriter(w packetWriter, out *liveOut, hold time.Duration) *delayedWriter {
	d := &delayedWriter{w: w, out: out, hold: hold, in: make(chan queuedFrame, 1<<16),
		done: make(chan struct{}), fast: make(chan struct{})}
	go d.loop()
	return d
}

func (d *delayedWriter) loop() {
	defer close(d.done)
	dec := decode.NewDecoder()
	var seg tcp.Segment
	for q := range d.in {
		if wait := time.Until(q.read.Add(d.hold)); wait > 0 {
			select {
			case <-time.After(wait):
			case <-d.fast:
			}
		}
		if d.err != nil {
			continue
		}
		comment := ""
		if dec.Decode(q.f, &seg) == decode.OK && seg.Flags&tcp.RST != 0 {
			comment = d.out.comment(seg.Src, seg.Dst, seg.TS)
		}
		d.err = d.w.WritePacket(q.f, comment)
	}
}

// close writes what is queued without more waiting, then the statistics.
func (d *delayedWriter) close(stats []report.LiveIface) error {
	close(d.fast)
	close(d.in)
	<-d.done
	if err := d.w.Close(stats); d.err == nil {
		d.err = err
	}
	return d.err
}

func interfaceNames() []string {
	ifs, _ := net.Interfaces()
	var out []string
	for _, i := range ifs {
		out = append(out, i.Name)
	}
	return out
}

// openLive opens the interfaces (internal/live) with the capture filter
// compiled for each, and the -w file.
func openLive(o LiveOptions, stdio IO) (*liveRun, error) {
	opt := live.Options{Snaplen: o.Snaplen}
	if o.Filter != "" {
		// Compile once up front, so that a bad filter is a usage error
		// naming its position before any socket is opened.
		if _, err := compileFilter(o.Filter, live.LinkEthernet, o.Snaplen); err != nil {
			return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("-f: %w", err)}
		}
		opt.Filter = func(lt uint32) ([]live.Instruction, error) { return compileFilter(o.Filter, lt, o.Snaplen) }
	}
	src, err := live.Open(o.Ifaces, opt)
	if err != nil {
		code := ExitUnreadable
		if errors.Is(err, live.ErrNoInterface) {
			code = ExitUsage
		}
		return nil, &ExitError{Code: code, Err: err}
	}
	r := &liveRun{src: &liveSrc{src}, filter: o.Filter}
	var kinds []string
	for _, i := range src.Interfaces() {
		r.names = append(r.names, i.Name)
		kinds = append(kinds, fmt.Sprintf("%s (%s)", i.Name, linkName(i.LinkType)))
	}
	if o.Write != "" {
		f, err := os.OpenFile(o.Write, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			src.Close()
			return nil, &ExitError{Code: ExitOutput, Err: fmt.Errorf("-w: %w", err)}
		}
		w := capture.NewPcapngWriter(f, capture.PcapngOptions{Application: "tcptrace live"})
		for _, i := range src.Interfaces() {
			if _, err := w.AddInterface(i.Pcapng()); err != nil {
				src.Close()
				f.Close()
				return nil, &ExitError{Code: ExitOutput, Err: fmt.Errorf("-w %s: %w", o.Write, err)}
			}
		}
		r.writer = &pcapngOut{w: w, f: f, src: src}
	}
	r.listening = fmt.Sprintf("listening on %s, snapshot length %d bytes", strings.Join(kinds, ", "), cmp.Or(o.Snaplen, live.DefaultSnaplen))
	return r, nil
}

func linkName(lt uint32) string {
	switch lt {
	case live.LinkEthernet:
		return "Ethernet"
	case live.LinkLinuxSLL2:
		return "Linux cooked v2"
	}
	return fmt.Sprintf("LINKTYPE %d", lt)
}

// liveSrc gives a live.Source the counters the run reports.
type liveSrc struct{ *live.Source }

func (s *liveSrc) Stats() []report.LiveIface {
	var out []report.LiveIface
	for _, i := range s.Source.Stats().Ifaces {
		out = append(out, report.LiveIface{Name: i.Name, Received: int64(i.Received), Dropped: int64(i.Dropped)})
	}
	return out
}

func (s *liveSrc) SuperFrames() int64 { return int64(s.Source.Stats().Total().SuperFrames) }

// pcapngOut is -w: a pcapng file with an interface block per interface and
// their statistics at the end.
type pcapngOut struct {
	w   *capture.PcapngWriter
	f   *os.File
	src *live.Source
}

func (p *pcapngOut) WritePacket(f *capture.Frame, comment string) error {
	return p.w.WritePacket(f, comment)
}

func (p *pcapngOut) Close([]report.LiveIface) error {
	var err error
	for i, st := range p.src.Stats().Ifaces {
		if e := p.w.WriteStats(i, st.Pcapng()); err == nil {
			err = e
		}
	}
	if e := p.w.Close(); err == nil {
		err = e
	}
	if e := p.f.Close(); err == nil {
		err = e
	}
	return err
}
