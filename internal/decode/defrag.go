package decode

import (
	"bytes"
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/tcptrace/tcptrace/tcp"
)

// DefragLimits bound the memory held by incomplete IP datagrams.
type DefragLimits struct {
	MaxDatagrams int   // incomplete datagrams kept at once (default 4096)
	MaxBytes     int   // bytes buffered for them in total (default 64 MiB)
	Timeout      int64 // capture-time ns after which an incomplete datagram is dropped (default 60 s)
}

// DefragStats counts what the defragmenter did, for the summary.
type DefragStats struct {
	Fragments int // fragments of TCP datagrams seen
	Completed int // datagrams reassembled
	Evicted   int // incomplete datagrams dropped for lack of room
	TimedOut  int // incomplete datagrams dropped after the timeout
	Overlaps  int // fragments overlapping data already held (first copy kept)
	Conflicts int // overlapping fragments whose bytes differ from the first copy
	Invalid   int // fragments that cannot belong to a valid datagram (beyond 64 KiB, …)
}

type fragKey struct {
	src, dst [16]byte
	id       uint32
	proto    uint8
	v6       bool
}

type span struct{ lo, hi int }

type fragDatagram struct {
	gen      uint64
	first    int64  // capture time of the first fragment
	total    int    // datagram payload length, -1 until the last fragment is seen
	data     []byte // reassembly buffer
	declared []span // ranges covered by fragments (declared lengths)
	captured []span // ranges whose bytes are actually present
	ttl      uint8
	ipid     uint32
	haveHead bool
}

type orderEntry struct {
	key fragKey
	gen uint64
}

// Defragmenter reassembles IPv4 and IPv6 fragments (RFC 791, RFC 8200 §4.5)
// within bounded memory. Overlapping fragments keep the first copy.
type Defragmenter struct {
	lim     DefragLimits
	pending map[fragKey]*fragDatagram
	order   []orderEntry
	bytes   int
	gen     uint64
	Stats   DefragStats
}

// NewDefragmenter returns a defragmenter with the given limits (zero values
// take the defaults).
func NewDefragmenter(lim DefragLimits) *Defragmenter {
	if lim.MaxDatagrams <= 0 {
		lim.MaxDatagrams = 4096
	}
	if lim.MaxBytes <= 0 {
		lim.MaxBytes = 64 << 20
	}
	if lim.Timeout <= 0 {
		lim.Timeout = 60e9
	}
	return &Defragmenter{lim: lim, pending: map[fragKey]*fragDatagram{}}
}

// Pending is the number of incomplete datagrams held.
func (df *Defragmenter) Pending() int { return len(df.pending) }

const maxDatagram = 65535

// add records one fragment. offset and declLen are the fragment's place in the
// datagram payload; data holds the bytes captured (≤ declLen). It returns the
// complete datagram payload (the caller's to keep) and how many of its
// leading bytes were captured, or nil while incomplete.
func (df *Defragmenter) add(k fragKey, ts int64, offset, declLen int, more bool, data []byte, ttl uint8, ipid uint32) ([]byte, int) {
	df.Stats.Fragments++
	df.expire(ts)
	end := offset + declLen
	if declLen < 0 || end > maxDatagram || (more && declLen%8 != 0) {
		df.Stats.Invalid++
		return nil, 0
	}
	if len(data) > declLen {
		data = data[:declLen]
	}
	dg := df.pending[k]
	if dg == nil {
		for len(df.pending) >= df.lim.MaxDatagrams {
			if !df.evictOldest(nil) {
				break
			}
		}
		df.gen++
		dg = &fragDatagram{gen: df.gen, first: ts, total: -1}
		df.pending[k] = dg
		df.order = append(df.order, orderEntry{k, df.gen})
	}
	if !more {
		if dg.total >= 0 && dg.total != end {
			df.Stats.Invalid++
		}
		dg.total = end
	}
	if offset == 0 {
		dg.ttl, dg.ipid, dg.haveHead = ttl, ipid, true
	}
	if end > len(dg.data) {
		// Make room within MaxBytes, whether the datagram is new or grows
		// (a late fragment far into it), at the expense of the others.
		grow := end - len(dg.data)
		for df.bytes+grow > df.lim.MaxBytes {
			if !df.evictOldest(dg) {
				break
			}
		}
		df.bytes += grow
		dg.data = append(dg.data, make([]byte, grow)...)
	}
	// First copy wins: write only the captured bytes not yet present.
	overlap := false
	for _, sp := range dg.declared {
		if sp.lo < end && offset < sp.hi {
			overlap = true
			break
		}
	}
	if overlap {
		df.Stats.Overlaps++
		for _, sp := range dg.captured {
			lo, hi := max(sp.lo, offset), min(sp.hi, offset+len(data))
			if lo < hi && !bytes.Equal(dg.data[lo:hi], data[lo-offset:hi-offset]) {
				df.Stats.Conflicts++
				break
			}
		}
	}
	pos := offset
	for pos < offset+len(data) {
		next := offset + len(data)
		skip := false
		for _, sp := range dg.captured {
			if pos >= sp.lo && pos < sp.hi {
				pos = sp.hi
				skip = true
				break
			}
			if sp.lo > pos && sp.lo < next {
				next = sp.lo
			}
		}
		if skip {
			continue
		}
		copy(dg.data[pos:next], data[pos-offset:next-offset])
		pos = next
	}
	dg.declared = addSpan(dg.declared, span{offset, end})
	if len(data) > 0 {
		dg.captured = addSpan(dg.captured, span{offset, offset + len(data)})
	}
	if dg.total < 0 || len(dg.declared) != 1 || dg.declared[0].lo != 0 || dg.declared[0].hi < dg.total {
		return nil, 0
	}
	// Complete.
	df.Stats.Completed++
	delete(df.pending, k)
	df.bytes -= len(dg.data)
	capd := 0
	if len(dg.captured) > 0 && dg.captured[0].lo == 0 {
		capd = min(dg.captured[0].hi, dg.total)
	}
	// The datagram's buffer is no longer the defragmenter's: hand it over,
	// so the payload stays valid as long as anyone holds it (as a mapped
	// frame's bytes do).
	return dg.data[:dg.total:dg.total], capd
}

// addSpan inserts s into a sorted list of disjoint spans, merging neighbours.
func addSpan(list []span, s span) []span {
	if s.hi <= s.lo {
		return list
	}
	out := list[:0:0]
	placed := false
	for _, x := range list {
		if x.hi < s.lo {
			out = append(out, x)
			continue
		}
		if s.hi < x.lo {
			if !placed {
				out = append(out, s)
				placed = true
			}
			out = append(out, x)
			continue
		}
		s.lo, s.hi = min(s.lo, x.lo), max(s.hi, x.hi)
	}
	if !placed {
		out = append(out, s)
	}
	// keep sorted: s may have been appended after larger spans
	for i := len(out) - 1; i > 0 && out[i].lo < out[i-1].lo; i-- {
		out[i], out[i-1] = out[i-1], out[i]
	}
	return out
}

// evictOldest drops the oldest incomplete datagram other than keep.
func (df *Defragmenter) evictOldest(keep *fragDatagram) bool {
	for i := 0; i < len(df.order); i++ {
		e := df.order[i]
		dg, ok := df.pending[e.key]
		if !ok || dg.gen != e.gen {
			if i == 0 {
				df.order = df.order[1:]
				i--
			}
			continue
		}
		if dg == keep {
			continue
		}
		if i == 0 {
			df.order = df.order[1:]
		} else {
			df.order = append(df.order[:i], df.order[i+1:]...)
		}
		delete(df.pending, e.key)
		df.bytes -= len(dg.data)
		df.Stats.Evicted++
		return true
	}
	return false
}

func (df *Defragmenter) expire(ts int64) {
	for len(df.order) > 0 {
		e := df.order[0]
		dg, ok := df.pending[e.key]
		if !ok || dg.gen != e.gen {
			df.order = df.order[1:]
			continue
		}
		if ts-dg.first <= df.lim.Timeout {
			break
		}
		df.order = df.order[1:]
		delete(df.pending, e.key)
		df.bytes -= len(dg.data)
		df.Stats.TimedOut++
	}
	// Completed datagrams leave their entries behind a long-lived incomplete
	// one: drop them once they outnumber the live entries.
	if len(df.order) > 2*len(df.pending)+1024 {
		live := df.order[:0]
		for _, e := range df.order {
			if dg, ok := df.pending[e.key]; ok && dg.gen == e.gen {
				live = append(live, e)
			}
		}
		clear(df.order[len(live):])
		df.order = live
	}
	if cap(df.order) > 1024 && len(df.order) < cap(df.order)/4 {
		df.order = append([]orderEntry(nil), df.order...)
	}
}

// fragment4 handles an IPv4 fragment held in d.ip4.
func (d *Decoder) fragment4(s *tcp.Segment) Skip {
	ip := &d.ip4
	if ip.Protocol != layers.IPProtocolTCP {
		// Nothing to reassemble for us: say what it is rather than hold it.
		return SkipNotTCP
	}
	var k fragKey
	copy(k.src[:], ip.SrcIP.To4())
	copy(k.dst[:], ip.DstIP.To4())
	k.id, k.proto = uint32(ip.Id), uint8(ip.Protocol)
	decl := int(ip.Length) - int(ip.IHL)*4
	buf, capd := d.defrag.add(k, s.TS, int(ip.FragOffset)*8, decl, ip.Flags&layers.IPv4MoreFragments != 0, ip.Payload, ip.TTL, uint32(ip.Id))
	if buf == nil {
		return SkipFragment
	}
	s.Src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip.SrcIP.To4())), 0)
	s.Dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip.DstIP.To4())), 0)
	s.TTL, s.IPID = ip.TTL, uint32(ip.Id)
	return d.reassembledTCP(s, buf, capd)
}

// fragment6 handles an IPv6 fragment held in d.ip6 and d.frag.
func (d *Decoder) fragment6(s *tcp.Segment, ipdata []byte) Skip {
	ip, fr := &d.ip6, &d.frag
	switch fr.NextHeader {
	case layers.IPProtocolTCP, layers.IPProtocolIPv6Destination, layers.IPProtocolIPv6Routing:
	default:
		return SkipNotTCP
	}
	var k fragKey
	copy(k.src[:], ip.src)
	copy(k.dst[:], ip.dst)
	k.id, k.proto, k.v6 = fr.Identification, uint8(fr.NextHeader), true
	start := cap(ipdata) - cap(ip.contents)
	ipEnd := start + 40 + int(ip.length)
	fragOff := cap(ipdata) - cap(fr.Payload)
	decl := ipEnd - fragOff
	if ip.length == 0 || decl < 0 {
		return SkipMalformed
	}
	buf, capd := d.defrag.add(k, s.TS, int(fr.FragmentOffset)*8, decl, fr.MoreFragments, fr.Payload, ip.hopLimit, fr.Identification)
	if buf == nil {
		return SkipFragment
	}
	// Extension headers of the fragmentable part may precede TCP.
	for next := fr.NextHeader; next != layers.IPProtocolTCP; {
		if next != layers.IPProtocolIPv6Destination && next != layers.IPProtocolIPv6Routing {
			return SkipNotTCP
		}
		if len(buf) < 8 || (int(buf[1])+1)*8 > len(buf) {
			return SkipMalformed
		}
		n := (int(buf[1]) + 1) * 8
		if capd < n {
			return SkipTruncated
		}
		next = layers.IPProtocol(buf[0])
		buf, capd = buf[n:], capd-n
	}
	s.IPv6 = true
	s.Src = netip.AddrPortFrom(netip.AddrFrom16([16]byte(ip.src)), 0)
	s.Dst = netip.AddrPortFrom(netip.AddrFrom16([16]byte(ip.dst)), 0)
	s.TTL, s.IPID = ip.hopLimit, fr.Identification
	return d.reassembledTCP(s, buf, capd)
}

// reassembledTCP decodes the TCP segment carried by a reassembled datagram
// payload whose first capd bytes were captured.
func (d *Decoder) reassembledTCP(s *tcp.Segment, buf []byte, capd int) Skip {
	if len(buf) < 20 {
		return SkipMalformed
	}
	hl := int(buf[12]>>4) * 4
	if hl < 20 || hl > len(buf) {
		return SkipMalformed
	}
	if capd < hl {
		return SkipTruncated
	}
	if err := d.tcp.DecodeFromBytes(buf[:capd], gopacket.NilDecodeFeedback); err != nil {
		return SkipMalformed
	}
	s.Src = netip.AddrPortFrom(s.Src.Addr(), binary.BigEndian.Uint16(buf[0:2]))
	s.Dst = netip.AddrPortFrom(s.Dst.Addr(), binary.BigEndian.Uint16(buf[2:4]))
	s.Len = len(buf) - hl
	s.IPLen = uint32(20 + len(buf)) // the reassembled datagram, with a plain header
	if s.IPv6 {
		s.IPLen += 20
	}
	s.Notes |= tcp.NoteReassembled
	fillTCP(&d.tcp, s)
	if len(s.Payload) < s.Len {
		s.Notes |= tcp.NoteTruncated
	}
	return OK
}
