package analyze

import (
	"fmt"
	"strings"

	"github.com/tcptrace/tcptrace/reassembly"
	"github.com/tcptrace/tcptrace/report"
	"github.com/tcptrace/tcptrace/tcp"
)

// Which of two differing copies of the same bytes looks forged: data
// injection (a third party on the path answering first, as censors and
// some ISPs' middleboxes do) shows as a copy whose IP TTL / hop limit, or
// IPv4 ID, is unlike the sender's other packets in that direction. The
// real copy arrives before or after it; the receiver keeps the first (Linux
// and every stack we know: an overlap is trimmed, never overwritten).

// ipHabits is what one direction's packets showed of their sender at the IP
// level. A few bytes per direction, updated for every segment.
type ipHabits struct {
	ttl    [4]uint8 // the first four distinct TTLs seen
	ttlN   [4]int32 // how many packets had each
	ids    [4]idSeen
	idI    uint8
	n      int32 // packets
	steps  int32 // IPv4 ID steps between consecutive packets
	small  int32 // of them, forward by 1..2048: a counter's steps
	prevID uint16
	v6     bool
}

type idSeen struct {
	frame int64
	id    uint16
}

// note takes one packet of the direction.
func (h *ipHabits) note(s *tcp.Segment) {
	for i := range h.ttl {
		if h.ttlN[i] == 0 {
			h.ttl[i], h.ttlN[i] = s.TTL, 1
			break
		}
		if h.ttl[i] == s.TTL {
			h.ttlN[i]++
			break
		}
	}
	if s.IPv6 {
		h.v6 = true
	} else {
		id := uint16(s.IPID)
		if h.n > 0 {
			h.steps++
			if st := id - h.prevID; st >= 1 && st <= ipidNear {
				h.small++
			}
		}
		h.prevID = id
		h.ids[h.idI] = idSeen{s.Frame, id}
		h.idI = (h.idI + 1) % uint8(len(h.ids))
	}
	h.n++
}

// ipidNear is how far (either way) an IPv4 ID may be from the sender's
// others and still follow its counter (as for ipid_break).
const ipidNear = 2048

// copyIP is one copy's frame and IP fields.
type copyIP struct {
	frame int64
	ttl   uint8
	id    uint16
}

// senderTTL returns the TTL of most of the direction's packets other than
// the two copies, and how many packets that leaves to compare with (0:
// none; ok is false on a tie between two TTLs).
func (h *ipHabits) senderTTL(a, b copyIP) (ttl uint8, others int32, ok bool) {
	n := h.ttlN
	for _, c := range []copyIP{a, b} {
		for i := range h.ttl {
			if n[i] > 0 && h.ttl[i] == c.ttl {
				n[i]--
				break
			}
		}
	}
	var best int32
	for i := range n {
		others += n[i]
		switch {
		case n[i] > best:
			ttl, best, ok = h.ttl[i], n[i], true
		case n[i] == best && n[i] > 0:
			ok = false
		}
	}
	return ttl, others, ok && best > 0
}

// nearIDs reports whether id is within ipidNear of one of the IPv4 IDs of
// the direction's last packets other than the two copies, and returns the
// ID of the latest of those to name; known is false when there are none.
func (h *ipHabits) nearIDs(id uint16, a, b copyIP) (near bool, ref uint16, known bool) {
	for j := range len(h.ids) { // newest first
		x := h.ids[(int(h.idI)+len(h.ids)-1-j)%len(h.ids)]
		if x.frame == 0 || x.frame == a.frame || x.frame == b.frame {
			continue
		}
		if !known {
			ref, known = x.id, true
		}
		if min(x.id-id, id-x.id) <= ipidNear {
			near = true
		}
	}
	return near, ref, known
}

// judgeCopies says which of the two copies of a conflict looks forged,
// against the sender's packets in direction d so far.
func (c *Conn) judgeCopies(d tcp.Dir, kept, dropped copyIP, off, n int64) *report.Copies {
	h := &c.ip[d]
	cp := &report.Copies{Offset: off, Len: n, Kept: kept.frame, Dropped: dropped.frame, KeptTTL: kept.ttl, DroppedTTL: dropped.ttl}
	ttl, others, ttlOK := h.senderTTL(kept, dropped)
	if ttlOK {
		cp.SenderTTL = ttl
	}
	copies := [2]copyIP{kept, dropped}
	var why [2][]string
	ttlOdd := [2]bool{}
	for i, x := range copies {
		if ttlOK && x.ttl != ttl {
			ttlOdd[i] = true
			why[i] = append(why[i], fmt.Sprintf("ttl %d, sender's other packets %d", x.ttl, ttl))
		}
	}
	// IPv4 IDs: a copy far from the sender's last other packets while the
	// other copy is near them. Evidence alone only against a sender whose
	// IDs follow a counter; otherwise it only supports a TTL signal on the
	// same copy (random IDs land near by chance).
	counter := h.small >= 3 && 2*h.small >= h.steps
	if !h.v6 {
		for i, x := range copies {
			o := copies[1-i]
			near, ref, known := h.nearIDs(x.id, kept, dropped)
			if !known || near || x.id == 0 {
				continue
			}
			if oNear, _, _ := h.nearIDs(o.id, kept, dropped); !oNear || !(counter || ttlOdd[i]) {
				continue
			}
			why[i] = append(why[i], fmt.Sprintf("ip id %d, sender's other packets near %d", x.id, ref))
		}
	}
	name := [2]string{"the kept copy", "the dropped copy"}
	switch {
	case len(why[0]) > 0 && len(why[1]) == 0:
		cp.Forged, cp.Why = kept.frame, strings.Join(why[0], "; ")
	case len(why[1]) > 0 && len(why[0]) == 0:
		cp.Forged, cp.Why = dropped.frame, strings.Join(why[1], "; ")
	case len(why[0]) > 0:
		cp.Why = fmt.Sprintf("cannot tell which copy is genuine: both are unlike the sender's other packets (%s: %s; %s: %s)",
			name[0], strings.Join(why[0], ", "), name[1], strings.Join(why[1], ", "))
	case others == 0:
		cp.Why = "cannot tell which copy is genuine: no other packets of the sender to compare with"
	case kept.ttl == dropped.ttl:
		cp.Why = fmt.Sprintf("cannot tell which copy is genuine: both have ttl %d like the sender's other packets", kept.ttl)
	default:
		cp.Why = fmt.Sprintf("cannot tell which copy is genuine: ttl %d and %d, the sender's other packets vary", kept.ttl, dropped.ttl)
	}
	return cp
}

// JudgeConflict says which copy of a reassembly conflict of direction d
// looks forged, against the sender's packets so far; for taps (follow,
// export), called from their Conflict method.
func (c *Conn) JudgeConflict(d tcp.Dir, x reassembly.Conflict) *report.Copies {
	return c.judgeCopies(d, copyIP{x.FirstFrame, x.FirstTTL, x.FirstIPID}, copyIP{x.Frame, x.TTL, x.IPID}, x.Off, x.Differ)
}

// conflictDetail is the anomaly's line for people.
func conflictDetail(cp *report.Copies, seq uint32) string {
	s := fmt.Sprintf("%d bytes at stream offset %d (seq %d) differ from those of frame %d, which arrived first and was kept; ",
		cp.Len, cp.Offset, seq, cp.Kept)
	switch cp.Forged {
	case 0:
		return s + cp.Why
	case cp.Kept:
		return s + fmt.Sprintf("the kept copy (frame %d) looks forged: %s", cp.Kept, cp.Why)
	}
	return s + fmt.Sprintf("this copy looks forged: %s", cp.Why)
}
