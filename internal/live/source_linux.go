//go:build linux

package live

import (
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tcptrace/tcptrace/internal/capture"
)

// statsEvery is how often the kernel counters are read while the reader is
// caught up (see IfaceStats).
const statsEvery = 500 * time.Millisecond

// Source is a live capture on one or several interfaces. It implements
// capture.Source; Next must be called from one goroutine at a time, Close
// and Stats from any.
type Source struct {
	name   string
	opt    Options
	rings  []*ring
	ifaces []Interface
	wakeFD int // eventfd: Close wakes a Next blocked in poll

	mu       sync.Mutex // the rings, the queue, the state below
	polling  int        // Next calls inside poll(2), which use the fds
	released bool       // rings unmapped; the queue holds what was left
	fdsOpen  bool
	queue    queue
	frame    capture.Frame // the frame Next returned last
	buf      []byte        // its bytes
	scratch  capture.Frame // Close's frame and bytes while it drains
	sbuf     []byte
	n        int64

	pollFDs   []unix.PollFd // Next's poll array
	holdStart time.Time     // since when the earliest ready frame waits for another ring
	held      atomic.Uint64 // frames given out of order after waiting in vain

	stopReq atomic.Bool
	stopped chan struct{} // closed when Close has released the rings
	pos     atomic.Int64
	mtus    map[int32]int // "any": MTU by ifindex, 0 when unknown
}

// ring is the socket and mapped ring of one interface.
type ring struct {
	idx       int
	ifc       Interface
	fd        int
	cooked    bool
	mem       []byte
	blockSize int
	blocks    int

	cur     int // block being read, or next to read
	left    int // packets left in the held block (0: none held)
	off     int // offset of the next packet in the held block
	pending uint64
	carry   uint64 // drops to give to the next frame delivered

	draining bool
	deadline time.Time
	err      error // delivered once the ring is drained
	done     bool
	lastRead time.Time

	st struct {
		received, dropped, freeze, delivered, super, skipped atomic.Uint64
		start, end                                           atomic.Int64
	}
}

// Open starts capturing on the named interfaces, or on every interface
// with the single name "any".
func Open(names []string, opt Options) (*Source, error) {
	if err := checkNames(names); err != nil {
		return nil, err
	}
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, &Error{Op: "eventfd", Err: err}
	}
	s := &Source{
		name:    strings.Join(names, ","),
		opt:     opt,
		wakeFD:  wake,
		fdsOpen: true,
		stopped: make(chan struct{}),
		buf:     make([]byte, 0, opt.Snaplen+64),
		mtus:    map[int32]int{},
	}
	for i, name := range names {
		r, err := openRing(i, name, opt)
		if err != nil {
			s.closeFDs()
			return nil, err
		}
		s.rings = append(s.rings, r)
		s.ifaces = append(s.ifaces, r.ifc)
	}
	return s, nil
}

// openRing opens the socket and ring of one interface.
func openRing(idx int, name string, opt Options) (*ring, error) {
	r := &ring{idx: idx, fd: -1, ifc: Interface{Name: name, Snaplen: opt.Snaplen}}
	r.cooked = true
	if name != "any" {
		ni, err := net.InterfaceByName(name)
		if err != nil {
			return nil, noInterface(name)
		}
		if ni.Flags&net.FlagUp == 0 {
			return nil, &Error{Iface: name, Kind: ErrInterfaceDown, Err: ErrInterfaceDown, Hint: "bring it up first (ip link set " + name + " up)"}
		}
		r.ifc.Index, r.ifc.MTU = ni.Index, ni.MTU
		r.ifc.Loopback = ni.Flags&net.FlagLoopback != 0
	} else if opt.Promiscuous {
		return nil, &Error{Iface: name, Op: "promiscuous mode", Err: errors.New(`not supported on "any": name the interfaces`)}
	}
	fail := func(op string, err error) (*ring, error) {
		r.close()
		e := &Error{Iface: name, Op: op, Err: err}
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			e.Kind, e.Hint = ErrPermission, permissionHint()
		}
		return nil, e
	}
	// A packet socket of protocol 0 receives nothing until it is bound with
	// ETH_P_ALL, after the ring and the filter are in place: no packet
	// escapes the filter, none lands outside the ring.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fail("open a packet socket", err)
	}
	r.fd = fd
	if name != "any" {
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			return fail("interface name", err)
		}
		if err := unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, ifr); err != nil {
			return fail("hardware type", err)
		}
		switch ifr.Uint16() {
		case hatypeEther, hatypeLoopback:
			r.cooked = false
		}
	}
	if r.cooked {
		// Cooked: the kernel gives the packet from its network header, and
		// the SLL2 header is made from its sockaddr_ll.
		unix.Close(fd)
		r.fd = -1
		if fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0); err != nil {
			return fail("open a packet socket", err)
		}
		r.fd = fd
		r.ifc.LinkType, r.ifc.FilterLinkType = LinkLinuxSLL2, LinkRaw
	} else {
		r.ifc.LinkType, r.ifc.FilterLinkType = LinkEthernet, LinkEthernet
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return fail("TPACKET_V3", err)
	}
	// The outgoing copies of loopback packets are left out in the kernel:
	// PACKET_IGNORE_OUTGOING on a named loopback interface (Linux 4.20;
	// the cheapest: no clone), else a filter prefix, as on "any".
	dropOutgoing := name == "any"
	if r.ifc.Loopback {
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
			dropOutgoing = true
		}
	}
	var user []Instruction
	if opt.Filter != nil {
		if user, err = opt.Filter(r.ifc.FilterLinkType); err != nil {
			r.close()
			return nil, &Error{Iface: name, Op: "capture filter", Err: err}
		}
	}
	snap := uint32(opt.Snaplen)
	if r.cooked {
		snap -= sll2HdrLen
	}
	prog, err := program(user, dropOutgoing, snap)
	if err != nil {
		r.close()
		return nil, &Error{Iface: name, Op: "capture filter", Err: err}
	}
	if err := attach(fd, prog); err != nil {
		return fail("attach the capture filter", err)
	}
	frame := min(2048, opt.BlockSize)
	req := unix.TpacketReq3{
		Block_size:     uint32(opt.BlockSize),
		Block_nr:       uint32(opt.BlockCount),
		Frame_size:     uint32(frame),
		Frame_nr:       uint32(opt.BlockSize / frame * opt.BlockCount),
		Retire_blk_tov: uint32(opt.BlockTimeout / time.Millisecond),
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return fail("set up the capture ring (try fewer or smaller blocks)", err)
	}
	r.blockSize, r.blocks = opt.BlockSize, opt.BlockCount
	mem, err := unix.Mmap(fd, 0, opt.BlockSize*opt.BlockCount, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fail("map the capture ring", err)
	}
	r.mem = mem
	if opt.Promiscuous {
		mreq := unix.PacketMreq{Ifindex: int32(r.ifc.Index), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return fail("promiscuous mode", err)
		}
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: r.ifc.Index}
	if err := unix.Bind(fd, sa); err != nil {
		if errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENXIO) {
			r.close()
			return nil, noInterface(name)
		}
		return fail("bind", err)
	}
	if e, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR); e != 0 {
		r.close()
		return nil, downError(name, unix.Errno(e))
	}
	now := time.Now()
	r.st.start.Store(now.UnixNano())
	r.lastRead = now
	return r, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func attach(fd int, prog []Instruction) error {
	if len(prog) == 0 {
		return errors.New("empty filter")
	}
	ins := make([]unix.SockFilter, len(prog))
	for i, p := range prog {
		ins[i] = unix.SockFilter(p)
	}
	return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &unix.SockFprog{Len: uint16(len(ins)), Filter: &ins[0]})
}

func downError(name string, errno unix.Errno) error {
	op := "the interface went down"
	if errno == unix.ENODEV || errno == unix.ENXIO {
		op = "the interface was removed"
	}
	return &Error{Iface: name, Kind: ErrInterfaceDown, Op: op, Err: errno}
}

func (r *ring) close() {
	if r.mem != nil {
		_ = unix.Munmap(r.mem)
		r.mem = nil
	}
	if r.fd >= 0 {
		unix.Close(r.fd)
		r.fd = -1
	}
}

// block returns block i of the ring.
func (r *ring) block(i int) []byte {
	return r.mem[i*r.blockSize : (i+1)*r.blockSize]
}

func (r *ring) statusWord(i int) *uint32 {
	return (*uint32)(unsafe.Pointer(&r.mem[i*r.blockSize+blkStatus]))
}

// load makes sure a block is held, taking the next one from the kernel when
// it is ready. It reports whether a packet is available.
func (r *ring) load() bool {
	for tries := 0; r.left == 0 && tries < r.blocks; tries++ {
		status := atomic.LoadUint32(r.statusWord(r.cur))
		if status&statusUser == 0 {
			return false
		}
		if status&statusLosing != 0 {
			r.readStats()
		}
		_, n, first, err := blockInfo(r.block(r.cur))
		if err != nil || n == 0 {
			// A block the kernel describes wrongly: its packets are lost,
			// and counted so.
			r.pending += uint64(n)
			r.st.dropped.Add(uint64(n))
			r.release()
			continue
		}
		r.left, r.off = int(n), int(first)
		r.carry += r.pending
		r.pending = 0
	}
	return r.left > 0
}

// release gives the held block back to the kernel.
func (r *ring) release() {
	atomic.StoreUint32(r.statusWord(r.cur), 0) // TP_STATUS_KERNEL
	r.cur = (r.cur + 1) % r.blocks
	r.left = 0
}

func (r *ring) headTS() int64 { return packetTS(r.block(r.cur), r.off) }

// readStats adds the kernel's counters (which reading resets) to the
// totals; the drops go to the first frame of the next block.
func (r *ring) readStats() {
	r.lastRead = time.Now()
	st, err := unix.GetsockoptTpacketStatsV3(r.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return
	}
	r.st.received.Add(uint64(st.Packets))
	r.st.dropped.Add(uint64(st.Drops))
	r.st.freeze.Add(uint64(st.Freeze_q_cnt))
	r.pending += uint64(st.Drops)
}

// drain stops new packets on the ring and gives the kernel until the
// deadline to hand over its partly filled block.
func (r *ring) drain(wait time.Duration, err error) {
	if r.draining || r.done {
		return
	}
	_ = attach(r.fd, dropAll)
	r.draining, r.deadline, r.err = true, time.Now().Add(wait), err
}

// finish ends a drained ring: the last counters, and its end time.
func (r *ring) finish() {
	r.readStats()
	r.done = true
	r.st.end.Store(time.Now().UnixNano())
}

// Name is the interface list as given ("any", or "eth0,eth1").
func (s *Source) Name() string { return s.name }

// Size is 0: a live capture has no known size.
func (s *Source) Size() int64 { return 0 }

// Pos is the number of bytes delivered so far.
func (s *Source) Pos() int64 { return s.pos.Load() }

// Interfaces describes the interfaces in the order of Frame.Iface.
func (s *Source) Interfaces() []Interface { return append([]Interface(nil), s.ifaces...) }

// Stats returns the statistics so far; after Close (or the io.EOF of Next)
// they are final. Safe from any goroutine.
func (s *Source) Stats() Stats {
	st := Stats{Ifaces: make([]IfaceStats, len(s.rings))}
	for i, r := range s.rings {
		st.Ifaces[i] = IfaceStats{
			Name:            r.ifc.Name,
			Received:        r.st.received.Load(),
			Dropped:         r.st.dropped.Load(),
			FreezeQueue:     r.st.freeze.Load(),
			Delivered:       r.st.delivered.Load(),
			SuperFrames:     r.st.super.Load(),
			LoopbackSkipped: r.st.skipped.Load(),
			Start:           r.st.start.Load(),
			End:             r.st.end.Load(),
		}
	}
	return st
}

// errReleased tells Next that Close released the rings while it polled.
var errReleased = errors.New("released")

// Next returns the next frame: the copy of a packet from the rings, valid
// until the next call. After Close it returns what Close drained, then
// io.EOF.
func (s *Source) Next() (*capture.Frame, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.released {
			return s.fromQueue()
		}
		if s.stopReq.Load() {
			// Close is draining: wait for it, then serve what it kept.
			s.mu.Unlock()
			<-s.stopped
			s.mu.Lock()
			continue
		}
		f, err := s.step(&s.frame, &s.buf, false)
		if err == errReleased {
			continue
		}
		if err == io.EOF {
			s.release()
		}
		return f, err
	}
}

// step returns the next frame from the rings in dst and *buf, polling when
// none is ready; io.EOF once every ring is done. Called with s.mu held;
// inClose says that Close is draining (poll then keeps the lock and
// ignores the wake fd).
func (s *Source) step(dst *capture.Frame, buf *[]byte, inClose bool) (*capture.Frame, error) {
	var rings []*ring
	for {
		var best *ring
		for _, r := range s.rings {
			if r.done || !r.load() {
				continue
			}
			if best == nil || r.headTS() < best.headTS() {
				best = r
			}
		}
		if best != nil {
			// Several rings: wait (a bounded time) while another may still
			// hand over an earlier packet.
			var now time.Time
			rings = rings[:0]
			if len(s.rings) > 1 {
				now = time.Now()
				rings = s.earlier(best, now, rings[:0])
			}
			if len(rings) > 0 {
				if s.holdStart.IsZero() {
					s.holdStart = now
				}
				if left := s.opt.drainWait() - now.Sub(s.holdStart); left > 0 {
					if err := s.poll(rings, min(left, holdPoll), inClose); err != nil {
						return nil, err
					}
					continue
				}
				s.held.Add(1)
			}
			s.holdStart = time.Time{}
			if f := s.emit(best, dst, buf); f != nil {
				return f, nil
			}
			continue
		}
		now := time.Now()
		timeout := time.Second
		rings = rings[:0]
		for _, r := range s.rings {
			if r.done {
				continue
			}
			if r.draining {
				if !now.Before(r.deadline) {
					r.finish()
					if err := r.err; err != nil {
						r.err = nil
						return nil, err
					}
					continue
				}
				timeout = min(timeout, r.deadline.Sub(now))
			} else if now.Sub(r.lastRead) >= statsEvery {
				// Caught up: drops read now lie before the next block.
				r.readStats()
			}
			rings = append(rings, r)
		}
		if len(rings) == 0 {
			return nil, io.EOF
		}
		if err := s.poll(rings, timeout, inClose); err != nil {
			return nil, err
		}
	}
}

// holdPoll bounds one wait for an earlier packet of another ring.
const holdPoll = 5 * time.Millisecond

// tsSlack is how much earlier than the moment it is written to the ring a
// packet's timestamp may be (the kernel may have stamped the skb when it
// arrived).
const tsSlack = int64(time.Millisecond)

// earlier appends to out the rings other than best that hold nothing ready
// but may still hand over a packet older than best's next one: the block
// the kernel is filling has packets and was opened before it, or is empty
// and that packet is too recent for a packet still to come to be older.
func (s *Source) earlier(best *ring, now time.Time, out []*ring) []*ring {
	if len(s.rings) == 1 {
		return out
	}
	head := best.headTS()
	for _, r := range s.rings {
		if r == best || r.done || r.left > 0 {
			continue // a ready ring's next packet is not older than best's
		}
		blk := r.block(r.cur)
		bound := now.UnixNano() - tsSlack
		if atomic.LoadUint32((*uint32)(unsafe.Pointer(&blk[blkNumPkts]))) > 0 {
			// The block's open time (ts_first_pkt) precedes its packets.
			bound = int64(ne.Uint32(blk[blkTSFirst:]))*1e9 + int64(ne.Uint32(blk[blkTSFirst+4:])) - tsSlack
		}
		if bound <= head {
			out = append(out, r)
		}
	}
	return out
}

// poll waits until one of rings has a block, an error, or timeout passes
// (or, for Next, Close wakes it: errReleased). Called with s.mu held; Next
// releases it while it waits.
func (s *Source) poll(rings []*ring, timeout time.Duration, inClose bool) error {
	// Next polls without the lock, so Close (which may poll meanwhile)
	// must not share its fd array.
	var fds []unix.PollFd
	if !inClose {
		fds = s.pollFDs[:0]
	}
	for _, r := range rings {
		fds = append(fds, unix.PollFd{Fd: int32(r.fd), Events: unix.POLLIN})
	}
	if !inClose {
		fds = append(fds, unix.PollFd{Fd: int32(s.wakeFD), Events: unix.POLLIN})
		s.pollFDs = fds
		s.polling++
		s.mu.Unlock()
	}
	ms := int((timeout + time.Millisecond - 1) / time.Millisecond)
	_, err := unix.Poll(fds, max(ms, 1))
	if !inClose {
		s.mu.Lock()
		s.polling--
		if s.released {
			s.closeFDsIfIdle()
			return errReleased
		}
		if s.stopReq.Load() {
			return errReleased
		}
	}
	if err != nil && err != unix.EINTR {
		return &Error{Op: "poll", Err: err}
	}
	for i, r := range rings {
		if fds[i].Revents&unix.POLLERR != 0 {
			if e, _ := unix.GetsockoptInt(r.fd, unix.SOL_SOCKET, unix.SO_ERROR); e != 0 {
				r.drain(s.opt.drainWait(), downError(r.ifc.Name, unix.Errno(e)))
			}
		}
	}
	return nil
}

// emit copies the next packet of r into dst and *buf, or returns nil when
// the packet is not delivered (a loopback outgoing copy, or a damaged
// block).
func (s *Source) emit(r *ring, dst *capture.Frame, buf *[]byte) *capture.Frame {
	blk := r.block(r.cur)
	p, err := parsePacket(blk, r.off)
	if err == nil && r.left > 1 && (p.next == 0 || uint64(r.off)+uint64(p.next) >= uint64(len(blk))) {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		r.pending += uint64(r.left)
		r.st.dropped.Add(uint64(r.left))
		r.release()
		return nil
	}
	r.off += int(p.next)
	r.left--
	if p.loopbackOutgoing() {
		r.st.skipped.Add(1)
		if r.left == 0 {
			r.release()
		}
		return nil
	}
	data, orig := appendFrame((*buf)[:0], &p, r.cooked, s.opt.Snaplen)
	*buf = data
	if r.left == 0 {
		r.release()
	}
	if p.status&statusGSOTCP != 0 || s.overMTU(r, &p) {
		r.st.super.Add(1)
	}
	r.st.delivered.Add(1)
	s.n++
	s.pos.Add(int64(len(data)))
	*dst = capture.Frame{
		N:           s.n,
		TS:          p.ts,
		LinkType:    r.ifc.LinkType,
		Iface:       r.idx,
		CapLen:      len(data),
		OrigLen:     orig,
		Data:        data,
		DropsBefore: r.carry,
	}
	r.carry = 0
	return dst
}

// overMTU reports a packet longer than its interface's MTU.
func (s *Source) overMTU(r *ring, p *packet) bool {
	mtu := r.ifc.MTU
	if r.ifc.Index == 0 {
		m, ok := s.mtus[p.ifindex]
		if !ok {
			m = mtuOf(r.fd, p.ifindex)
			s.mtus[p.ifindex] = m
		}
		mtu = m
	}
	return mtu > 0 && p.netLen() > mtu
}

// mtuOf asks, through the packet socket (so in its network namespace), the
// MTU of interface ifindex; 0 when it cannot be known.
func mtuOf(fd int, ifindex int32) int {
	ifr, err := unix.NewIfreq("")
	if err != nil {
		return 0
	}
	ifr.SetUint32(uint32(ifindex))
	if unix.IoctlIfreq(fd, unix.SIOCGIFNAME, ifr) != nil {
		return 0
	}
	byName, err := unix.NewIfreq(ifr.Name())
	if err != nil || unix.IoctlIfreq(fd, unix.SIOCGIFMTU, byName) != nil {
		return 0
	}
	return int(byName.Uint32())
}

// Close stops the capture and keeps what the rings still hold for Next
// (see the package documentation). Safe from any goroutine, more than once.
func (s *Source) Close() error {
	if s.stopReq.Swap(true) {
		<-s.stopped
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer close(s.stopped)
	if s.released {
		return nil
	}
	// Wake a Next blocked in poll (it does not hold the lock there; the
	// fds stay open while it polls).
	var one [8]byte
	one[0] = 1
	_, _ = unix.Write(s.wakeFD, one[:])
	for _, r := range s.rings {
		r.drain(s.opt.drainWait(), r.err)
	}
	for {
		f, err := s.step(&s.scratch, &s.sbuf, true)
		if err == io.EOF {
			break
		}
		s.queue.add(f, err)
	}
	s.release()
	return nil
}

// release unmaps the rings; the fds are closed unless a Next is in poll
// (it closes them when it returns).
func (s *Source) release() {
	if s.released {
		return
	}
	now := time.Now().UnixNano()
	for _, r := range s.rings {
		if !r.done {
			r.readStats()
			r.done = true
		}
		if r.st.end.Load() == 0 {
			r.st.end.Store(now)
		}
		if r.mem != nil {
			_ = unix.Munmap(r.mem)
			r.mem = nil
		}
	}
	s.released = true
	s.closeFDsIfIdle()
}

func (s *Source) closeFDsIfIdle() {
	if s.polling == 0 && s.fdsOpen {
		s.closeFDs()
	}
}

func (s *Source) closeFDs() {
	for _, r := range s.rings {
		r.close()
	}
	if s.wakeFD >= 0 {
		unix.Close(s.wakeFD)
		s.wakeFD = -1
	}
	s.fdsOpen = false
}

// fromQueue serves what Close drained, then io.EOF.
func (s *Source) fromQueue() (*capture.Frame, error) {
	f, err, ok := s.queue.next(&s.frame)
	if !ok {
		return nil, io.EOF
	}
	return f, err
}
