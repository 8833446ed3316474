package capture

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// twoSections builds a pcapng file with two sections of opposite byte order:
//
//	section 1 (first): iface 0 Ethernet, µs (default), snaplen 100;
//	                   iface 1 RAW, ns, if_tsoffset 10 s; NRB; EPB 0; ISB;
//	                   EPB 1; SPB; custom block; PB on iface 1; EPB 0 over snaplen
//	section 2 (other): iface 0 LINUX_SLL, 2^-20 s; iface 1 Ethernet, ms;
//	                   EPB 1, EPB 0
func twoSections(firstBE bool) ([]byte, []got) {
	b := newNg().shb(firstBE)
	b.idb(1, 100)
	b.idb(101, 0, tsresol(9), b.tsoffset(10))
	b.nrb()
	var want []got
	add := func(g got) { g.N = int64(len(want) + 1); want = append(want, g) }

	off := int64(len(b.buf))
	b.epb(0, 1700000000_123456, 80, pkt(60, 'a'))
	add(got{TS: 1700000000_123456_000, LinkType: 1, Iface: 0, CapLen: 60, OrigLen: 80, Offset: off, Data: string(pkt(60, 'a'))})
	b.isb(0)
	off = int64(len(b.buf))
	b.epb(1, 1700000000_000000001, 40, pkt(40, 'b'))
	add(got{TS: 1700000010_000000001, LinkType: 101, Iface: 1, CapLen: 40, OrigLen: 40, Offset: off, Data: string(pkt(40, 'b'))})
	// SPB: no timestamp (keeps the previous one); caplen = min(origlen,
	// snaplen, room): origlen 50 < room 52 < snaplen.
	off = int64(len(b.buf))
	b.spb(50, pkt(50, 'c'))
	add(got{TS: 1700000010_000000001, LinkType: 1, Iface: 0, CapLen: 50, OrigLen: 50, Offset: off, Data: string(pkt(50, 'c'))})
	// SPB limited by the snaplen (100) of interface 0.
	off = int64(len(b.buf))
	b.spb(1500, pkt(120, 'd'))
	add(got{TS: 1700000010_000000001, LinkType: 1, Iface: 0, CapLen: 100, OrigLen: 1500, Offset: off, Data: string(pkt(100, 'd'))})
	b.block(0x00000bad, []byte{0, 0, 0x7e, 0x7e, 1, 2, 3}) // custom block
	off = int64(len(b.buf))
	b.pb(1, 1700000020_000000000, 1000, pkt(33, 'e'))
	add(got{TS: 1700000030_000000000, LinkType: 101, Iface: 1, CapLen: 33, OrigLen: 1000, Offset: off, Data: string(pkt(33, 'e'))})
	off = int64(len(b.buf))
	b.epb(0, 1700000021_000000, 150, pkt(150, 'f'))
	add(got{TS: 1700000021_000000000, LinkType: 1, Iface: 0, CapLen: 150, OrigLen: 150, Offset: off, Data: string(pkt(150, 'f')), OverSnaplen: true})

	b.shb(!firstBE)
	b.idb(113, 0, tsresol(0x80|20))
	b.idb(1, 65535, tsresol(3))
	off = int64(len(b.buf))
	b.epb(1, 1700000030_250, 60, pkt(60, 'g'))
	add(got{TS: 1700000030_250_000_000, LinkType: 1, Iface: 1, CapLen: 60, OrigLen: 60, Offset: off, Data: string(pkt(60, 'g'))})
	off = int64(len(b.buf))
	b.epb(0, 1700000031<<20|1<<19, 70, pkt(70, 'h')) // .5 s
	add(got{TS: 1700000031_500_000_000, LinkType: 113, Iface: 0, CapLen: 70, OrigLen: 70, Offset: off, Data: string(pkt(70, 'h'))})
	b.isb(1)
	return b.bytes(), want
}

func TestPcapng(t *testing.T) {
	for _, be := range []bool{false, true} {
		data, want := twoSections(be)
		for _, zip := range []bool{false, true} {
			name, in := "le-first", data
			if be {
				name = "be-first"
			}
			if zip {
				name, in = name+".gz", gz(t, data)
			}
			t.Run(name, func(t *testing.T) {
				src := openBytes(t, name, in)
				frames, err := drain(t, src)
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(want, frames); d != "" {
					t.Errorf("frames (-want +got):\n%s", d)
				}
				if src.Pos() != int64(len(in)) {
					t.Errorf("Pos %d at EOF, want %d", src.Pos(), len(in))
				}
			})
		}
	}
}

func TestTSConv(t *testing.T) {
	for _, tc := range []struct {
		resol byte
		ticks uint64
		ns    int64
	}{
		{0, 3, 3e9},
		{3, 1500, 1500e6},
		{6, 1, 1000},
		{9, 123, 123},
		{10, 1234, 123},
		{12, 1_000_000, 1000},
		{0x80, 2, 2e9},
		{0x80 | 1, 3, 1.5e9},
		{0x80 | 10, 1024 + 512, 1.5e9},
		{0x80 | 30, 1 << 30, 1e9},
		{0x80 | 63, 1 << 63, 1e9},
		{0x80 | 64, 1 << 63, 0.5e9},
		{0x80 | 127, 1 << 63, 0},
		{127, 1 << 63, 0},
	} {
		c := newTSConv(tc.resol)
		if got := c.ns(tc.ticks); got != tc.ns {
			t.Errorf("tsresol %#x: %d ticks = %d ns, want %d", tc.resol, tc.ticks, got, tc.ns)
		}
	}
}

// ngDamage builds a section with one interface, one good EPB and then the
// given bytes; it returns the file and the offset of the damaged block.
func ngDamage(tail func(b *ngBuilder)) ([]byte, int64) {
	b := newNg().shb(false).idb(1, 0)
	b.epb(0, 1, 60, pkt(60, 'a'))
	off := int64(len(b.buf))
	b.mark = -1
	tail(b)
	if b.mark >= 0 {
		off = b.mark
	}
	return b.bytes(), off
}

func rawBlock(b *ngBuilder, typ, length uint32, body []byte, trailer uint32) {
	b.buf = binary.LittleEndian.AppendUint32(b.buf, typ)
	b.buf = binary.LittleEndian.AppendUint32(b.buf, length)
	b.buf = append(b.buf, body...)
	b.buf = binary.LittleEndian.AppendUint32(b.buf, trailer)
}

func TestPcapngDamage(t *testing.T) {
	for _, tc := range []struct {
		name string
		tail func(b *ngBuilder)
		kind ErrKind
		msg  string
	}{
		{"len-ffffffff", func(b *ngBuilder) { rawBlock(b, blockEPB, 0xffffffff, make([]byte, 100), 0) },
			ErrCorrupt, "enhanced packet block total length 4294967295 invalid"},
		{"len-over-256MiB", func(b *ngBuilder) { rawBlock(b, 0x99, MaxBlock+4, make([]byte, 100), 0) },
			ErrCorrupt, "block type 0x00000099 total length 268435460 invalid"},
		{"len-0", func(b *ngBuilder) { rawBlock(b, blockEPB, 0, nil, 0) },
			ErrCorrupt, "enhanced packet block total length 0 invalid"},
		{"len-not-4", func(b *ngBuilder) { rawBlock(b, 5, 13, []byte{1}, 13) },
			ErrCorrupt, "block type 0x00000005 total length 13 invalid"},
		{"epb-too-short", func(b *ngBuilder) { rawBlock(b, blockEPB, 16, make([]byte, 4), 16) },
			ErrCorrupt, "enhanced packet block total length 16 below minimum 32"},
		{"trailer-mismatch", func(b *ngBuilder) { rawBlock(b, 4, 16, make([]byte, 4), 20) },
			ErrCorrupt, "block type 0x00000004 total length 16 does not match trailing length 20"},
		{"caplen-over-room", func(b *ngBuilder) {
			body := make([]byte, 20+8)
			binary.LittleEndian.PutUint32(body[12:], 9) // caplen 9 > room 8
			rawBlock(b, blockEPB, 12+28, body, 12+28)
		}, ErrCorrupt, "enhanced packet block caplen 9 exceeds block room 8"},
		{"caplen-huge", func(b *ngBuilder) {
			body := make([]byte, 20+8)
			binary.LittleEndian.PutUint32(body[12:], 0xffffffff)
			rawBlock(b, blockEPB, 12+28, body, 12+28)
		}, ErrCorrupt, "enhanced packet block caplen 4294967295 exceeds block room 8"},
		{"no-such-iface", func(b *ngBuilder) { b.epb(1, 1, 4, pkt(4, 'x')) },
			ErrCorrupt, "enhanced packet block interface id 1 not defined (1 interfaces)"},
		{"pb-no-such-iface", func(b *ngBuilder) { b.pb(7, 1, 4, pkt(4, 'x')) },
			ErrCorrupt, "packet block interface id 7 not defined (1 interfaces)"},
		{"iface-reset-by-shb", func(b *ngBuilder) { b.shb(true).setMark().epb(0, 1, 4, pkt(4, 'x')) },
			ErrCorrupt, "enhanced packet block interface id 0 not defined (0 interfaces)"},
		{"spb-without-idb", func(b *ngBuilder) { b.shb(false).setMark().spb(4, pkt(4, 'x')) },
			ErrCorrupt, "simple packet block without interface 0"},
		{"idb-bad-option", func(b *ngBuilder) {
			body := []byte{1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 200, 0, 6, 0, 0, 0}
			rawBlock(b, blockIDB, 12+16, body, 12+16)
		}, ErrCorrupt, "interface description option 9 length 200 exceeds block"},
		{"second-shb-bad-bom", func(b *ngBuilder) {
			rawBlock(b, blockSHB, 28, []byte{1, 2, 3, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 28)
		}, ErrCorrupt, "section header byte-order magic 01 02 03 04 invalid"},
		{"truncated-epb", func(b *ngBuilder) {
			b.epb(0, 2, 60, pkt(60, 'b'))
			b.buf = b.buf[:len(b.buf)-10]
		}, ErrTruncated, "input ends inside enhanced packet block (98 of 108 bytes)"},
		{"truncated-skipped-block", func(b *ngBuilder) {
			b.isb(0)
			b.buf = b.buf[:len(b.buf)-2]
		}, ErrTruncated, "input ends inside block type 0x00000005 (22 of 24 bytes)"},
		{"truncated-header", func(b *ngBuilder) { b.buf = append(b.buf, 6, 0, 0) },
			ErrTruncated, "input ends inside block header (3 of 8 bytes)"},
		// A block that claims almost 256 MiB in a short file is truncated and
		// must not be allocated (see TestPcapngNoHugeAlloc).
		{"claims-256MiB", func(b *ngBuilder) { rawBlock(b, blockEPB, MaxBlock, make([]byte, 1000), 0) },
			ErrTruncated, "input ends inside enhanced packet block (1012 of 268435456 bytes)"},
	} {
		for _, zip := range []bool{false, true} {
			in, off := ngDamage(tc.tail)
			name := tc.name
			if zip {
				in, name = gz(t, in), name+".gz"
			}
			t.Run(name, func(t *testing.T) {
				frames, err := drain(t, openBytes(t, name, in))
				if len(frames) != 1 {
					t.Errorf("%d frames before the damage, want 1", len(frames))
				}
				e := asError(t, err)
				want := Error{File: name, Kind: tc.kind, Frame: 2, Offset: off, Msg: tc.msg}
				if *e != want {
					t.Errorf("error\n got %+v\nwant %+v", *e, want)
				}
			})
		}
	}
}

func TestPcapngNoHugeAlloc(t *testing.T) {
	for _, length := range []uint32{0xffffffff, MaxBlock, MaxBlock - 4} {
		in, _ := ngDamage(func(b *ngBuilder) { rawBlock(b, blockEPB, length, make([]byte, 5000), 0) })
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := drain(t, openBytes(t, "huge", in))
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("length %#x: no error", length)
		}
		if d := after.TotalAlloc - before.TotalAlloc; d > 4<<20 {
			t.Errorf("length %#x: allocated %d bytes", length, d)
		}
	}
}

// A pcapng with a packet larger than the bufio buffer.
func TestPcapngLargeBlock(t *testing.T) {
	b := newNg().shb(true).idb(1, 0)
	b.epb(0, 1, 300000, pkt(300000, 'z'))
	b.epb(0, 2, 10, pkt(10, 'y'))
	src, err := OpenReader("large", bytes.NewReader(b.bytes()), 10)
	if err != nil {
		t.Fatal(err)
	}
	frames, err := drain(t, src)
	if err != nil || len(frames) != 2 || frames[0].Data != string(pkt(300000, 'z')) || frames[1].Data != string(pkt(10, 'y')) {
		t.Errorf("%d frames, %v", len(frames), err)
	}
}
