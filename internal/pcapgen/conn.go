package pcapgen

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"slices"
	"time"
)

// ConnConfig describes one TCP connection for NewConn. Zero fields take the
// defaults given; every default is deterministic (derived from the
// addresses, VLANs and ISNs when it has to differ between connections).
type ConnConfig struct {
	// Capture receives the frames; connections sharing one interleave by
	// time. NewConn makes a new one when nil.
	Capture *Capture

	Client, Server       netip.AddrPort // both IPv4 or both IPv6
	ClientISN, ServerISN uint32         // with no Handshake, the first sequence numbers

	Encap Encap    // link encapsulation (Ethernet by default)
	VLAN  []uint16 // Ethernet VLAN tags, outermost first (see Link.VLAN)
	Iface int      // pcapng interface index of the frames

	ClientMAC, ServerMAC net.HardwareAddr // default 02:00 + the address's last 4 bytes

	Start time.Time     // time of the first frame
	RTT   time.Duration // round-trip time, default 10ms
	Gap   time.Duration // time between frames of one side, default 40µs
	// CaptureAtServer puts the capture point at the server: frames from
	// the client then arrive an RTT after the server's last frame, rather
	// than the other way round.
	CaptureAtServer bool

	MSS           int   // announced MSS; default 1460 (IPv4), 1440 (IPv6)
	NoTimestamps  bool  // no RFC 7323 timestamps (otherwise on every segment but RSTs)
	NoSACKPerm    bool  // no SACK-permitted option in the SYNs
	NoWindowScale bool  // no window scale option in the SYNs
	WindowScale   uint8 // announced shift count; 0 means 7

	// Windows advertised after the SYNs (raw header values); defaults
	// 502/509, or 64240/65160 without window scaling.
	ClientWindow, ServerWindow uint16
	// TTL or hop limit as captured; default 64 on the capture side, 57 on
	// the far side.
	ClientTTL, ServerTTL uint8
	// ClientIPOptions are IPv4 options put on every packet of the client.
	ClientIPOptions []byte
	// First IPv4 identification of each side; derived when zero.
	ClientIPID, ServerIPID uint16
	// ServerRandomIPID gives the server's packets pseudo-random IPv4 IDs
	// (as OpenBSD and some load balancers do) instead of a counter.
	ServerRandomIPID bool
	// Timestamp clock of each side at Start; derived when zero. Clocks tick
	// once a millisecond.
	ClientTSVal, ServerTSVal uint32
}

type connSide struct {
	addr      netip.AddrPort
	mac       net.HardwareAddr
	next      uint32 // next sequence number to send
	window    uint16
	synWindow uint16
	ttl       uint8
	ipid      uint16
	tsBase    uint32
	lastTSVal uint32 // last timestamp value sent
	flow      uint32 // IPv6 flow label
	ipOpts    []byte
	near      bool // on the capture side
}

// Conn builds the frames of one TCP connection, tracking sequence numbers,
// acknowledgments, timestamps, IP IDs and time. Each method appends frames
// to the connection's Capture; time advances by itself: a frame from the far
// side that follows one from the capture side comes an RTT later, any other
// frame a Gap later. Conn methods panic on impossible input (a scenario
// bug), they never fail otherwise.
type Conn struct {
	cfg   ConnConfig
	capt  *Capture
	sides [2]connSide // client, server
	mss   int

	last     time.Time
	lastNear bool
	started  bool

	fragSize int
	fragOOO  bool
	fragID   uint32
	bigSize  int
	tso      bool
}

// RawSegment is a segment given field by field, for Conn.Raw.
type RawSegment struct {
	FromClient bool
	Seq, Ack   uint32
	Flags      TCPFlags
	// Window is the raw window field; 0 means the sender's current window
	// (see SetWindow), or 0 for a RST.
	Window  uint16
	Payload []byte
	// Options, to which a timestamps option is prepended (NOP, NOP, TS)
	// when the connection uses timestamps, the segment is no RST, and
	// neither NoTimestamp is set nor Options hold one already. A timestamp
	// option with nil Data is filled in.
	Options     []TCPOption
	NoTimestamp bool
}

// NewConn starts a connection; nothing is captured until a method sends.
func NewConn(cfg ConnConfig) *Conn {
	if !cfg.Client.IsValid() || !cfg.Server.IsValid() || cfg.Client.Addr().Is4() != cfg.Server.Addr().Is4() {
		panic(fmt.Sprintf("pcapgen: bad connection endpoints %v, %v", cfg.Client, cfg.Server))
	}
	if cfg.Capture == nil {
		cfg.Capture = &Capture{}
	}
	cfg.VLAN = slices.Clone(cfg.VLAN)
	if cfg.RTT == 0 {
		cfg.RTT = 10 * time.Millisecond
	}
	if cfg.Gap == 0 {
		cfg.Gap = 40 * time.Microsecond
	}
	v4 := cfg.Client.Addr().Is4()
	if cfg.MSS == 0 {
		cfg.MSS = 1460
		if !v4 {
			cfg.MSS = 1440
		}
	}
	if cfg.WindowScale == 0 {
		cfg.WindowScale = 7
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%v %v %v %d %d %d", cfg.Client, cfg.Server, cfg.VLAN, cfg.ClientISN, cfg.ServerISN, cfg.Iface)
	seed := h.Sum64()

	c := &Conn{cfg: cfg, capt: cfg.Capture, mss: cfg.MSS, fragID: uint32(seed >> 16)}
	cl, sv := &c.sides[0], &c.sides[1]
	cl.addr, sv.addr = cfg.Client, cfg.Server
	cl.mac, sv.mac = cfg.ClientMAC, cfg.ServerMAC
	if cl.mac == nil {
		cl.mac = macFor(cfg.Client.Addr())
	}
	if sv.mac == nil {
		sv.mac = macFor(cfg.Server.Addr())
	}
	cl.next, sv.next = cfg.ClientISN, cfg.ServerISN
	cl.near, sv.near = !cfg.CaptureAtServer, cfg.CaptureAtServer
	cl.window, sv.window = cfg.ClientWindow, cfg.ServerWindow
	if cl.window == 0 {
		cl.window = pick[uint16](cfg.NoWindowScale, 64240, 502)
	}
	if sv.window == 0 {
		sv.window = pick[uint16](cfg.NoWindowScale, 65160, 509)
	}
	cl.synWindow, sv.synWindow = pick[uint16](v4, 64240, 64800), pick[uint16](v4, 65160, 64800)
	cl.ttl, sv.ttl = cfg.ClientTTL, cfg.ServerTTL
	for _, s := range []*connSide{cl, sv} {
		if s.ttl == 0 {
			s.ttl = pick[uint8](s.near, 64, 57)
		}
	}
	cl.ipid, sv.ipid = cfg.ClientIPID, cfg.ServerIPID
	if cl.ipid == 0 {
		cl.ipid = uint16(seed)
	}
	if sv.ipid == 0 {
		sv.ipid = uint16(seed >> 48)
	}
	cl.tsBase, sv.tsBase = cfg.ClientTSVal, cfg.ServerTSVal
	if cl.tsBase == 0 {
		cl.tsBase = uint32(seed>>8) | 1
	}
	if sv.tsBase == 0 {
		sv.tsBase = uint32(seed>>40) | 1
	}
	// As if each side had last sent something 25 ms before Start (seen
	// by connections captured midstream).
	cl.lastTSVal, sv.lastTSVal = cl.tsBase-25, sv.tsBase-25
	if !v4 {
		cl.flow, sv.flow = uint32(seed>>12)&0xfffff, uint32(seed>>32)&0xfffff
	}
	cl.ipOpts = slices.Clone(cfg.ClientIPOptions)
	return c
}

func pick[T any](cond bool, yes, no T) T {
	if cond {
		return yes
	}
	return no
}

func macFor(a netip.Addr) net.HardwareAddr {
	b := a.As16()
	return net.HardwareAddr{0x02, 0x00, b[12], b[13], b[14], b[15]}
}

func addr4(b []byte) netip.Addr { return netip.AddrFrom4([4]byte(b)) }

// Capture is the capture the connection writes to.
func (c *Conn) Capture() *Capture { return c.capt }

// Now is the time of the last frame sent (Start before any).
func (c *Conn) Now() time.Time {
	if !c.started {
		return c.cfg.Start
	}
	return c.last
}

// Advance lets d pass before the next frame (on top of the usual Gap or RTT).
func (c *Conn) Advance(d time.Duration) {
	if !c.started {
		c.cfg.Start = c.cfg.Start.Add(d)
		return
	}
	c.last = c.last.Add(d)
}

// NextSeq is the next sequence number the client (or server) sends.
func (c *Conn) NextSeq(fromClient bool) uint32 { return c.side(fromClient).next }

// SetWindow sets the raw window field of later segments of one side.
func (c *Conn) SetWindow(fromClient bool, w uint16) { c.side(fromClient).window = w }

// SetFragmentation makes later data-bearing segments that do not fit travel
// in IP fragments carrying size bytes each (IPv4 fragments, or IPv6 fragment
// headers), last fragment first with outOfOrder. IPv4 packets lose the DF
// flag while it is on. Size 0 turns it off.
func (c *Conn) SetFragmentation(size int, outOfOrder bool) {
	c.fragSize, c.fragOOO = size, outOfOrder
}

// SetTSO makes ClientSend and ServerSend cut data in segments of size bytes
// instead of the MSS; those sent from the capture side that are larger than
// the MSS are IPv4 TSO super-packets (total length 0). Size 0 turns it off.
func (c *Conn) SetTSO(size int) { c.bigSize, c.tso = size, size > 0 }

// SetGRO makes ClientSend and ServerSend cut data in segments of size
// bytes, as a receiver with generic receive offload captures them (with true
// IP lengths). Size 0 turns it off.
func (c *Conn) SetGRO(size int) { c.bigSize, c.tso = size, false }

func (c *Conn) side(fromClient bool) *connSide {
	if fromClient {
		return &c.sides[0]
	}
	return &c.sides[1]
}

func (c *Conn) peer(fromClient bool) *connSide { return c.side(!fromClient) }

func (c *Conn) stamp(fromClient bool) time.Time {
	near := c.side(fromClient).near
	switch {
	case !c.started:
		c.started = true
		c.last = c.cfg.Start
	case !near && c.lastNear:
		c.last = c.last.Add(c.cfg.RTT)
	default:
		c.last = c.last.Add(c.cfg.Gap)
	}
	c.lastNear = near
	return c.last
}

func (c *Conn) tsval(s *connSide, t time.Time) uint32 {
	return s.tsBase + uint32(t.Sub(c.cfg.Start)/time.Millisecond)
}

// mssPayload is the payload of a full-sized segment.
func (c *Conn) mssPayload() int {
	if c.cfg.NoTimestamps {
		return c.mss
	}
	return c.mss - 12
}

func (c *Conn) synOptions() []TCPOption {
	o := []TCPOption{MSSOption(uint16(c.mss))}
	switch {
	case !c.cfg.NoTimestamps && !c.cfg.NoSACKPerm:
		o = append(o, SACKPermOption(), TCPOption{Kind: OptTimestamp})
	case !c.cfg.NoTimestamps:
		o = append(o, NOPOption(), NOPOption(), TCPOption{Kind: OptTimestamp})
	case !c.cfg.NoSACKPerm:
		o = append(o, NOPOption(), NOPOption(), SACKPermOption())
	}
	if !c.cfg.NoWindowScale {
		o = append(o, NOPOption(), WScaleOption(c.cfg.WindowScale))
	}
	return o
}

// Raw sends a segment exactly as given, leaving the tracked sequence
// numbers alone: for retransmissions, reordering, out-of-window segments.
func (c *Conn) Raw(r RawSegment) {
	s, p := c.side(r.FromClient), c.peer(r.FromClient)
	t := c.stamp(r.FromClient)
	opts := slices.Clone(r.Options)
	hasTS := false
	for i, o := range opts {
		if o.Kind != OptTimestamp {
			continue
		}
		hasTS = true
		if o.Data == nil {
			opts[i] = c.tsOption(r, s, p, t)
		}
	}
	if !hasTS && !c.cfg.NoTimestamps && !r.NoTimestamp && r.Flags&RST == 0 {
		opts = append([]TCPOption{NOPOption(), NOPOption(), c.tsOption(r, s, p, t)}, opts...)
	}
	for _, o := range opts {
		if o.Kind == OptTimestamp && len(o.Data) == 8 {
			s.lastTSVal = binary.BigEndian.Uint32(o.Data)
		}
	}
	win := r.Window
	switch {
	case win != 0:
	case r.Flags&RST != 0:
	case r.Flags&SYN != 0:
		win = s.synWindow
	default:
		win = s.window
	}
	pkt := Packet{
		Src: s.addr.Addr(), Dst: p.addr.Addr(),
		TTL: s.ttl, ID: s.ipid, DF: c.fragSize == 0, FlowLabel: s.flow, IPOptions: s.ipOpts,
		TCP: TCP{
			SrcPort: s.addr.Port(), DstPort: p.addr.Port(),
			Seq: r.Seq, Ack: r.Ack, Flags: r.Flags, Window: win,
			Options: opts, Payload: r.Payload,
		},
	}
	s.ipid++
	if c.cfg.ServerRandomIPID && !r.FromClient {
		s.ipid = s.ipid*25173 + 13849 // a 16-bit LCG: no small steps
	}
	ip := pkt.Marshal()
	pieces := [][]byte{ip}
	var err error
	switch {
	case len(r.Payload) == 0:
	case c.fragSize > 0 && pkt.Src.Is4():
		pieces, err = FragmentIPv4(ip, c.fragSize, c.fragOOO)
	case c.fragSize > 0:
		pieces, err = FragmentIPv6(ip, c.fragSize, c.fragID, c.fragOOO)
		if len(pieces) > 1 {
			c.fragID++
		}
	case c.tso && s.near && pkt.Src.Is4() && len(r.Payload) > c.mssPayload():
		ip, err = MarkTSO(ip)
		pieces = [][]byte{ip}
	}
	if err != nil {
		panic(err)
	}
	link := Link{
		Encap: c.cfg.Encap, Src: s.mac, Dst: p.mac, VLAN: c.cfg.VLAN,
		Outgoing: s.near, Pad: !s.near, IfIndex: 2,
	}
	for i, piece := range pieces {
		if i > 0 {
			t = c.stamp(r.FromClient)
		}
		c.capt.Add(Frame{Time: t, Data: link.Wrap(piece), Iface: c.cfg.Iface})
	}
}

func (c *Conn) tsOption(r RawSegment, s, p *connSide, t time.Time) TCPOption {
	ecr := p.lastTSVal
	if r.Flags&ACK == 0 {
		ecr = 0
	}
	return TimestampOption(c.tsval(s, t), ecr)
}

// Segment sends one segment with the tracked sequence number (and, with the
// ACK flag, acknowledgment number) of the sender, then advances its sequence
// number by the payload plus one for SYN and FIN. See RawSegment for opts.
func (c *Conn) Segment(fromClient bool, flags TCPFlags, payload []byte, opts ...TCPOption) {
	s, p := c.side(fromClient), c.peer(fromClient)
	r := RawSegment{FromClient: fromClient, Seq: s.next, Flags: flags, Payload: payload, Options: opts}
	if flags&ACK != 0 {
		r.Ack = p.next
	}
	c.Raw(r)
	s.next += uint32(len(payload))
	if flags&SYN != 0 {
		s.next++
	}
	if flags&FIN != 0 {
		s.next++
	}
}

// Lost accounts for a segment of payload sent but lost before the capture
// point: the sequence number, IP ID and clock advance, no frame is captured.
func (c *Conn) Lost(fromClient bool, payload []byte) {
	s := c.side(fromClient)
	t := c.stamp(fromClient)
	s.ipid++
	if !c.cfg.NoTimestamps {
		s.lastTSVal = c.tsval(s, t)
	}
	s.next += uint32(len(payload))
}

// Handshake sends SYN, SYN/ACK and ACK with MSS, SACK-permitted,
// timestamps and window scale options (as configured, in Linux's order).
func (c *Conn) Handshake() {
	c.Segment(true, SYN, nil, c.synOptions()...)
	c.Segment(false, SYN|ACK, nil, c.synOptions()...)
	c.Segment(true, ACK, nil)
}

// Refused sends a SYN answered by RST/ACK (sequence 0), as for a closed port.
func (c *Conn) Refused() {
	c.Segment(true, SYN, nil, c.synOptions()...)
	c.Raw(RawSegment{FromClient: false, Seq: 0, Ack: c.sides[0].next, Flags: RST | ACK})
}

func (c *Conn) send(fromClient bool, data []byte) {
	n := c.mssPayload()
	if c.bigSize > 0 {
		n = c.bigSize
	}
	for len(data) > 0 {
		k := min(n, len(data))
		flags := ACK
		if k == len(data) {
			flags |= PSH
		}
		c.Segment(fromClient, flags, data[:k])
		data = data[k:]
	}
}

// ClientSend sends data from the client in full-sized segments, the last
// one with PSH.
func (c *Conn) ClientSend(data []byte) { c.send(true, data) }

// ServerSend sends data from the server in full-sized segments, the last
// one with PSH.
func (c *Conn) ServerSend(data []byte) { c.send(false, data) }

// ClientFIN sends FIN/ACK from the client.
func (c *Conn) ClientFIN() { c.Segment(true, FIN|ACK, nil) }

// ServerFIN sends FIN/ACK from the server.
func (c *Conn) ServerFIN() { c.Segment(false, FIN|ACK, nil) }

// ACKFromClient sends a bare ACK from the client of all the server sent.
func (c *Conn) ACKFromClient() { c.Segment(true, ACK, nil) }

// ACKFromServer sends a bare ACK from the server of all the client sent.
func (c *Conn) ACKFromServer() { c.Segment(false, ACK, nil) }

// RST sends RST/ACK from one side at its next sequence number.
func (c *Conn) RST(fromClient bool) { c.Segment(fromClient, RST|ACK, nil) }
