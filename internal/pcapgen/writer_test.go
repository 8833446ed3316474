package pcapgen

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"
)

// record is one frame read back by readCapture.
type record struct {
	iface    int
	linkType uint32
	ts       time.Time
	data     []byte
	origLen  int
}

// readCapture is a small independent reader of the pcap and pcapng files
// the writers make (one section; pcapgo cannot be used: its imports are not
// in go.sum). It also returns the pcap snaplen (0 for pcapng).
func readCapture(t *testing.T, b []byte) ([]record, int) {
	t.Helper()
	if len(b) < 24 {
		t.Fatalf("file of %d bytes", len(b))
	}
	var o binary.ByteOrder = binary.LittleEndian
	switch m := binary.LittleEndian.Uint32(b); m {
	case 0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, 0x4d3cb2a1:
		nano := m == 0xa1b23c4d || m == 0x4d3cb2a1
		if m == 0xd4c3b2a1 || m == 0x4d3cb2a1 {
			o = binary.BigEndian
		}
		snap, link := int(o.Uint32(b[16:])), o.Uint32(b[20:])
		var recs []record
		for p := b[24:]; len(p) > 0; {
			if len(p) < 16 {
				t.Fatalf("truncated record header")
			}
			sec, frac, incl, orig := o.Uint32(p), o.Uint32(p[4:]), int(o.Uint32(p[8:])), int(o.Uint32(p[12:]))
			if !nano {
				frac *= 1000
			}
			if incl > snap || incl > orig || len(p) < 16+incl {
				t.Fatalf("bad record lengths %d/%d (snaplen %d)", incl, orig, snap)
			}
			recs = append(recs, record{linkType: link, ts: time.Unix(int64(sec), int64(frac)).UTC(), data: p[16 : 16+incl], origLen: orig})
			p = p[16+incl:]
		}
		return recs, snap
	case 0x0a0d0d0a:
	default:
		t.Fatalf("unknown magic %#x", m)
	}
	if binary.BigEndian.Uint32(b[8:]) == 0x1a2b3c4d {
		o = binary.BigEndian
	}
	type ifc struct {
		link    uint32
		snaplen int
		unit    int64
	}
	var ifaces []ifc
	var recs []record
	for p := b; len(p) > 0; {
		if len(p) < 12 {
			t.Fatalf("truncated block")
		}
		typ, n := o.Uint32(p), int(o.Uint32(p[4:]))
		if n%4 != 0 || n < 12 || n > len(p) || int(o.Uint32(p[n-4:])) != n {
			t.Fatalf("bad block length %d", n)
		}
		body := p[8 : n-4]
		switch typ {
		case 1:
			f := ifc{link: uint32(o.Uint16(body)), snaplen: int(o.Uint32(body[4:])), unit: 1000}
			for q := body[8:]; len(q) >= 4; {
				code, l := o.Uint16(q), int(o.Uint16(q[2:]))
				if code == 0 {
					break
				}
				if code == 9 {
					f.unit = 1
					for i := q[4]; i < 9; i++ {
						f.unit *= 10
					}
				}
				q = q[4+(l+3)&^3:]
			}
			ifaces = append(ifaces, f)
		case 6:
			id := int(o.Uint32(body))
			if id >= len(ifaces) {
				t.Fatalf("packet on undeclared interface %d", id)
			}
			ticks := int64(o.Uint32(body[4:]))<<32 | int64(o.Uint32(body[8:]))
			incl, orig := int(o.Uint32(body[12:])), int(o.Uint32(body[16:]))
			if incl > ifaces[id].snaplen || incl > orig {
				t.Fatalf("bad packet lengths %d/%d", incl, orig)
			}
			recs = append(recs, record{iface: id, linkType: ifaces[id].link, ts: time.Unix(0, ticks*ifaces[id].unit).UTC(),
				data: body[20 : 20+incl], origLen: orig})
		}
		p = p[n:]
	}
	return recs, 0
}

var ts0 = time.Date(2026, 1, 1, 0, 0, 1, 123456789, time.UTC)

func TestPcapWriter(t *testing.T) {
	data := bytes.Repeat([]byte{0xab}, 200)
	tests := []struct {
		name      string
		bigEndian bool
		nano      bool
		snaplen   int
		magic     []byte
		wantCap   int
		wantFrac  time.Duration
	}{
		{"le micro", false, false, 0, []byte{0xd4, 0xc3, 0xb2, 0xa1}, 200, 123456 * time.Microsecond},
		{"le nano snaplen 96", false, true, 96, []byte{0x4d, 0x3c, 0xb2, 0xa1}, 96, 123456789},
		{"be micro snaplen 64", true, false, 64, []byte{0xa1, 0xb2, 0xc3, 0xd4}, 64, 123456 * time.Microsecond},
		{"be nano", true, true, 0, []byte{0xa1, 0xb2, 0x3c, 0x4d}, 200, 123456789},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewPcapWriter(&buf, LinkTypeEthernet, tc.snaplen, tc.nano)
			w.BigEndian = tc.bigEndian
			if err := w.WriteFrame(ts0, data, 1514); err != nil {
				t.Fatal(err)
			}
			if err := w.WriteFrame(ts0.Add(time.Second), data[:10], 0); err != nil {
				t.Fatal(err)
			}
			b := buf.Bytes()
			if !bytes.Equal(b[:4], tc.magic) {
				t.Errorf("magic %x, want %x", b[:4], tc.magic)
			}
			if want := 24 + 16 + tc.wantCap + 16 + 10; len(b) != want {
				t.Errorf("file of %d bytes, want %d", len(b), want)
			}
			recs, snap := readCapture(t, b)
			wantSnap := tc.snaplen
			if wantSnap == 0 {
				wantSnap = DefaultSnaplen
			}
			if len(recs) != 2 || recs[0].linkType != LinkTypeEthernet || snap != wantSnap {
				t.Fatalf("%d records, link type %d, snaplen %d", len(recs), recs[0].linkType, snap)
			}
			if r := recs[0]; len(r.data) != tc.wantCap || r.origLen != 1514 {
				t.Errorf("record: %d bytes of %d", len(r.data), r.origLen)
			}
			if want := ts0.Truncate(time.Second).Add(tc.wantFrac); !recs[0].ts.Equal(want) {
				t.Errorf("time %v, want %v", recs[0].ts, want)
			}
			if r := recs[1]; len(r.data) != 10 || r.origLen != 10 || !r.ts.Equal(recs[0].ts.Add(time.Second)) {
				t.Errorf("second record: %d bytes of %d at %v", len(r.data), r.origLen, r.ts)
			}
		})
	}
}

func TestPcapWriterHeaderOnly(t *testing.T) {
	var buf bytes.Buffer
	w := NewPcapWriter(&buf, LinkTypeRaw, 1000, false)
	for range 2 {
		if err := w.WriteHeader(); err != nil {
			t.Fatal(err)
		}
	}
	b := buf.Bytes()
	if len(b) != 24 || binary.LittleEndian.Uint32(b[16:]) != 1000 || binary.LittleEndian.Uint32(b[20:]) != LinkTypeRaw ||
		binary.LittleEndian.Uint16(b[4:]) != 2 || binary.LittleEndian.Uint16(b[6:]) != 4 {
		t.Errorf("header %x", b)
	}
}

func TestPcapngWriter(t *testing.T) {
	for _, be := range []bool{false, true} {
		t.Run(map[bool]string{false: "little-endian", true: "big-endian"}[be], func(t *testing.T) {
			var buf bytes.Buffer
			w := NewPcapngWriter(&buf)
			w.BigEndian = be
			w.Application = "test"
			eth := w.AddInterface(LinkTypeEthernet, 0, 6)
			raw := w.AddInterface(LinkTypeRaw, 64, 9)
			if eth != 0 || raw != 1 {
				t.Fatalf("interfaces %d, %d", eth, raw)
			}
			data := bytes.Repeat([]byte{0x45}, 101)
			if err := w.WriteFrame(eth, ts0, data, 0); err != nil {
				t.Fatal(err)
			}
			if err := w.WriteFrame(raw, ts0, data, 1500); err != nil {
				t.Fatal(err)
			}
			if err := w.WriteFrame(2, ts0, data, 0); err == nil {
				t.Error("frame on a missing interface")
			}
			if buf.Len()%4 != 0 {
				t.Errorf("file of %d bytes, not 32-bit aligned", buf.Len())
			}
			recs, _ := readCapture(t, buf.Bytes())
			want := []record{
				{0, LinkTypeEthernet, ts0.Truncate(time.Microsecond), nil, 101},
				{1, LinkTypeRaw, ts0, nil, 1500},
			}
			if len(recs) != len(want) {
				t.Fatalf("%d packets", len(recs))
			}
			for i, w := range want {
				r := recs[i]
				if r.iface != w.iface || r.linkType != w.linkType || !r.ts.Equal(w.ts) || r.origLen != w.origLen {
					t.Errorf("packet %d: %+v, want %+v", i, r, w)
				}
			}
			if len(recs[0].data) != 101 || len(recs[1].data) != 64 {
				t.Errorf("captured %d and %d bytes", len(recs[0].data), len(recs[1].data))
			}
		})
	}
}

func TestPcapngWriterErrors(t *testing.T) {
	w := NewPcapngWriter(io.Discard)
	w.AddInterface(LinkTypeEthernet, 0, 12)
	if w.Err() == nil {
		t.Error("exponent 12 accepted")
	}
	fail := errors.New("disk full")
	w = NewPcapngWriter(failWriter{fail})
	w.AddInterface(LinkTypeEthernet, 0, 6)
	if err := w.WriteFrame(0, ts0, []byte{1}, 0); !errors.Is(err, fail) {
		t.Errorf("write error %v", err)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }
