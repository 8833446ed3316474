// Package live captures packets from Linux network interfaces for
// `tcptrace live`: AF_PACKET sockets with a TPACKET_V3 memory-mapped ring,
// written in pure Go on golang.org/x/sys/unix — no cgo, no libpcap.
// (gopacket's afpacket package needs cgo, which the static CGO_ENABLED=0
// binary cannot use, hence this package.) A *Source is a capture.Source.
//
// # Interfaces and link types
//
// Open takes one or several interface names, or "any" alone. An Ethernet
// interface (and lo, whose header is a zeroed Ethernet header) is read
// through a SOCK_RAW socket: its frames are LINKTYPE_ETHERNET (1). "any"
// (ifindex 0) and every interface without an Ethernet header (tun,
// WireGuard, GRE…) are read through a SOCK_DGRAM socket, as libpcap does,
// and their frames are LINKTYPE_LINUX_SLL2 (276): the 20-byte SLL2 header
// is built from the ring's sockaddr_ll (protocol, ifindex, hatype,
// pkttype, halen, address) in front of the network-layer packet.
//
// Several interfaces get one socket and one ring each, and Next merges
// them in timestamp order. A ring hands a block over when it is full or
// when the block timeout expires, so the earliest frame ready may not be
// the earliest captured: Next holds it while another ring's open block
// (whose header says whether it has packets and when it was opened) may
// still hold an older packet, at most until that block is handed over
// (one block timeout; never more than 1.5 timeouts + 10 ms). Frame.Iface
// is the index of the frame's interface in Interfaces(), so a pcapng
// writer can give each its own interface description block.
//
// # Known traps, and what is done about them
//
//   - On a loopback interface AF_PACKET sees every packet twice, the
//     PACKET_OUTGOING copy and the incoming one. Only the incoming copy is
//     kept: a named loopback socket sets PACKET_IGNORE_OUTGOING, "any"
//     (and a loopback socket on kernels before 4.20) drops outgoing
//     packets of ARPHRD_LOOPBACK devices in its kernel filter, and Next
//     drops any that still arrive (Stats.LoopbackSkipped), so the kernel's
//     counters count each packet once. Outgoing packets of other
//     interfaces are kept.
//   - The kernel strips 802.1Q/802.1ad tags into tp_vlan_tci/tp_vlan_tpid
//     (TP_STATUS_VLAN_VALID): the tag is put back, after the MAC addresses
//     for Ethernet frames and after the SLL2 header (whose protocol becomes
//     the TPID) for cooked ones, so the frame is what was on the wire and
//     OrigLen counts it. (libpcap loses the tag on SLL2; with "any" a
//     packet of a VLAN subinterface shows twice: tagged on the parent and
//     untagged on the subinterface.) Only the outer tag is stripped; an
//     inner QinQ tag stays in the packet (on "any", recent kernels name the
//     innermost protocol in sll_protocol: the inner TPID is then written as
//     0x8100).
//   - GRO/TSO super-frames (a network-layer length above the interface's
//     MTU, or TP_STATUS_GSO_TCP) are passed as they are and counted in
//     Stats.SuperFrames, so the caller can say so once.
//   - Kernel drops (the ring was full): the counters of PACKET_STATISTICS
//     (tp_packets, tp_drops, tp_freeze_q_cnt) are read when a block comes
//     flagged TP_STATUS_LOSING, every half second while Next waits, and at
//     the end, and kept in Stats. A TPACKET_V3 ring drops only when all its
//     blocks are full, so the gap lies just before the first packet of a
//     block: the drops are given to that frame as Frame.DropsBefore. When
//     the reader lags by several ring-fulls, the drops of later gaps may be
//     given to the first one; the totals are exact.
//
// Timestamps are the kernel's, in nanoseconds (tp_sec, tp_nsec). They
// follow ring order, which on a multi-core machine may step back by a few
// microseconds when two CPUs deliver at once.
//
// # Frame lifetime, stopping, errors
//
// Frames are copied out of the ring, and the ring block is given back to
// the kernel as soon as its last packet has been copied: Frame.Data stays
// valid until the next call to Next and is never invalidated by Close
// (zero-copy was not chosen: Close, called from another goroutine on
// Ctrl-C, would unmap memory a reader may be reading).
//
// Close may be called from any goroutine, at any time, also while Next is
// blocked: it stops the capture (a filter that rejects everything), waits
// up to one block timeout for the kernel to hand over its last partly
// filled block, copies every packet still in the rings, reads the final
// statistics and releases the rings. Next then returns those packets and
// io.EOF: nothing the kernel captured before Close is lost.
//
// An interface that goes down (or is removed) ends its ring: Next returns
// the frames already captured, then an *Error naming the interface
// (errors.Is(err, ErrInterfaceDown)), then goes on with the other
// interfaces, and io.EOF when none is left. Open's errors say what to do:
// without CAP_NET_RAW how to grant it (ErrPermission), for an unknown
// interface the list of interfaces (ErrNoInterface).
package live

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tcptrace/tcptrace/internal/capture"
)

// Link types of live frames, and of the packet the kernel filter sees.
const (
	LinkEthernet  = 1   // LINKTYPE_ETHERNET
	LinkRaw       = 101 // LINKTYPE_RAW: the packet starts at its IPv4/IPv6 header
	LinkLinuxSLL2 = 276 // LINKTYPE_LINUX_SLL2
)

// Defaults of Options.
const (
	DefaultSnaplen      = 262144
	DefaultBlockSize    = 4 << 20
	DefaultBlockCount   = 16
	DefaultBlockTimeout = 50 * time.Millisecond
)

// Instruction is one classic BPF instruction, laid out as the kernel's
// struct sock_filter (and golang.org/x/sys/unix.SockFilter, to which it
// converts: unix.SockFilter(ins)).
type Instruction struct {
	Code uint16
	Jt   uint8
	Jf   uint8
	K    uint32
}

// Options of Open. The zero value is a good default.
type Options struct {
	// Snaplen is the most bytes kept of each packet, link-layer header
	// included (0: DefaultSnaplen).
	Snaplen int
	// Promiscuous puts each named interface in promiscuous mode while
	// capturing (not allowed with "any").
	Promiscuous bool
	// Filter, when set, is called once per interface with the link type of
	// the packets the kernel filter sees there and returns the classic BPF
	// program to attach: LinkEthernet for Ethernet and loopback interfaces
	// (offsets from the Ethernet header; a tag the NIC stripped is not in
	// the packet, test it with the SKF_AD_VLAN_TAG_PRESENT ancillary load as
	// libpcap does on Linux), LinkRaw for "any" and other cooked interfaces
	// (offsets from the network header: libpcap's fix_offset of SLL
	// programs). Return values of the program above the snaplen are
	// lowered to it. A nil or empty program keeps every packet.
	Filter func(linkType uint32) ([]Instruction, error)
	// BlockSize is the size of one ring block in bytes, a multiple of the
	// page size (0: DefaultBlockSize); BlockCount the number of blocks per
	// interface (0: DefaultBlockCount). The ring of each interface takes
	// BlockSize*BlockCount bytes of kernel memory.
	BlockSize  int
	BlockCount int
	// BlockTimeout is how long the kernel keeps a partly filled block
	// before handing it over, so that a quiet link still delivers
	// (0: DefaultBlockTimeout; at least 1 ms).
	BlockTimeout time.Duration
}

func (o Options) withDefaults() (Options, error) {
	if o.Snaplen == 0 {
		o.Snaplen = DefaultSnaplen
	}
	if o.BlockSize == 0 {
		o.BlockSize = DefaultBlockSize
	}
	if o.BlockCount == 0 {
		o.BlockCount = DefaultBlockCount
	}
	if o.BlockTimeout == 0 {
		o.BlockTimeout = DefaultBlockTimeout
	}
	page := os.Getpagesize()
	switch {
	case o.Snaplen < 64 || o.Snaplen > DefaultSnaplen:
		return o, fmt.Errorf("live: snaplen %d is outside 64..%d", o.Snaplen, DefaultSnaplen)
	case o.BlockSize < page || o.BlockSize%page != 0 || o.BlockSize > 1<<30:
		return o, fmt.Errorf("live: block size %d is not a multiple of the page size (%d) up to 1 GiB", o.BlockSize, page)
	case o.BlockSize < o.Snaplen+256:
		return o, fmt.Errorf("live: block size %d cannot hold a packet of snaplen %d", o.BlockSize, o.Snaplen)
	case o.BlockCount < 1 || o.BlockCount > 1<<16 || int64(o.BlockCount)*int64(o.BlockSize) > 1<<34:
		return o, fmt.Errorf("live: %d blocks of %d bytes is not a ring size", o.BlockCount, o.BlockSize)
	case o.BlockTimeout < time.Millisecond || o.BlockTimeout > time.Minute:
		return o, fmt.Errorf("live: block timeout %v is outside 1ms..1m", o.BlockTimeout)
	}
	return o, nil
}

// drainWait is how long Close and a failed interface wait for the kernel
// to hand over its partly filled block: its retire timer fires at most one
// block timeout after the block's last packet.
func (o Options) drainWait() time.Duration {
	return o.BlockTimeout*3/2 + 10*time.Millisecond
}

// Interface is one interface of a Source, in the order of Frame.Iface.
type Interface struct {
	Name           string // as given, or "any"
	Index          int    // kernel ifindex (0 for "any")
	LinkType       uint32 // of its frames: LinkEthernet or LinkLinuxSLL2
	FilterLinkType uint32 // what the kernel filter sees: LinkEthernet or LinkRaw
	Snaplen        int
	MTU            int // 0 for "any"
	Loopback       bool
}

// IfaceStats are one interface's capture statistics.
type IfaceStats struct {
	Name string
	// Received and Dropped add up the kernel's PACKET_STATISTICS counters
	// as last read: packets that passed the filter (tp_packets, which
	// includes the dropped ones) and packets dropped because the ring was
	// full (tp_drops); FreezeQueue counts the times the ring filled up
	// (tp_freeze_q_cnt). The counters are read when a block comes flagged
	// with a loss, every half second while the reader is caught up, and
	// when the capture ends, so they may lag the frames delivered.
	Received    uint64
	Dropped     uint64
	FreezeQueue uint64
	// Delivered counts the frames returned by Next (or kept for it by
	// Close); SuperFrames those above the MTU (GRO/TSO); LoopbackSkipped
	// the outgoing loopback copies dropped in user space (most are dropped
	// in the kernel and never counted).
	Delivered       uint64
	SuperFrames     uint64
	LoopbackSkipped uint64
	// Start is when the capture of the interface began, End when it ended
	// (0 while it runs), in nanoseconds since the Unix epoch.
	Start, End int64
}

// Stats are a Source's statistics, per interface in the order of
// Interfaces().
type Stats struct {
	Ifaces []IfaceStats
}

// Total adds up the interfaces (Name "total", Start the earliest, End the
// latest).
func (s Stats) Total() IfaceStats {
	t := IfaceStats{Name: "total"}
	for _, i := range s.Ifaces {
		t.Received += i.Received
		t.Dropped += i.Dropped
		t.FreezeQueue += i.FreezeQueue
		t.Delivered += i.Delivered
		t.SuperFrames += i.SuperFrames
		t.LoopbackSkipped += i.LoopbackSkipped
		if i.Start != 0 && (t.Start == 0 || i.Start < t.Start) {
			t.Start = i.Start
		}
		t.End = max(t.End, i.End)
	}
	return t
}

// Pcapng describes the interface for a pcapng writer's interface
// description block; add them in the order of Interfaces() so that
// Frame.Iface is the block's index.
func (i Interface) Pcapng() capture.PcapngInterface {
	p := capture.PcapngInterface{Name: i.Name, LinkType: i.LinkType, Snaplen: i.Snaplen}
	if i.Name == "any" {
		p.Description = "all interfaces (Linux cooked capture v2)"
	}
	return p
}

// Pcapng gives the statistics of an interface statistics block: the
// capture's start and end, the kernel's counters (isb_ifrecv = tp_packets,
// which counts the dropped packets too; isb_ifdrop = tp_drops) and the
// frames delivered (isb_usrdeliv). Take them after Close.
func (i IfaceStats) Pcapng() capture.PcapngStats {
	return capture.PcapngStats{
		Time: i.End, Start: i.Start, End: i.End,
		Received: i.Received, Dropped: i.Dropped,
		Delivered: i.Delivered, HasDelivered: true,
	}
}

// Error kinds, for errors.Is.
var (
	ErrPermission    = errors.New("live capture needs the CAP_NET_RAW capability")
	ErrNoInterface   = errors.New("no such interface")
	ErrInterfaceDown = errors.New("interface is down")
	ErrUnsupported   = errors.New("live capture is supported on Linux only")
)

// Error is an error of one interface (Iface "" when none applies). It
// matches its Kind and its Err with errors.Is.
type Error struct {
	Iface string
	Kind  error // ErrPermission, ErrNoInterface, ErrInterfaceDown or nil
	Op    string
	Err   error
	Hint  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("live: ")
	if e.Iface != "" {
		b.WriteString(e.Iface + ": ")
	}
	if e.Op != "" {
		b.WriteString(e.Op)
	}
	if e.Err != nil {
		if e.Op != "" {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	if e.Hint != "" {
		b.WriteString(": " + e.Hint)
	}
	return b.String()
}

func (e *Error) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// permissionHint says how to grant the capture capability.
func permissionHint() string {
	exe := "tcptrace"
	if p, err := os.Executable(); err == nil && !strings.HasSuffix(filepath.Base(p), ".test") {
		exe = p
	}
	return fmt.Sprintf("live capture needs CAP_NET_RAW: run as root, or grant it once with `sudo setcap cap_net_raw+ep %s`", exe)
}

// noInterface is the error for an interface name that does not exist: it
// lists the interfaces there are.
func noInterface(name string) error {
	var names []string
	if ifs, err := net.Interfaces(); err == nil {
		for _, i := range ifs {
			names = append(names, i.Name)
		}
	}
	sort.Strings(names)
	hint := `the interfaces are: ` + strings.Join(names, ", ") + `, and "any" for all of them`
	if len(names) == 0 {
		hint = `no interface could be listed; "any" captures on all of them`
	}
	return &Error{Iface: name, Kind: ErrNoInterface, Err: ErrNoInterface, Hint: hint}
}

// checkNames validates the list of interfaces given to Open.
func checkNames(names []string) error {
	if len(names) == 0 {
		return errors.New(`live: no interface given (a name, or "any")`)
	}
	seen := map[string]bool{}
	for _, n := range names {
		switch {
		case n == "":
			return errors.New("live: empty interface name")
		case n == "any" && len(names) > 1:
			return errors.New(`live: "any" captures on every interface and cannot be combined with others`)
		case seen[n]:
			return fmt.Errorf("live: interface %s given twice", n)
		}
		seen[n] = true
	}
	return nil
}
