package capture

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// threeRecords is a pcap with records of 60, 1514 and 42 bytes.
func threeRecords(bigEndian, nano bool, link uint32) ([]byte, []got) {
	b := newPcapFile(bigEndian, nano, 65535, link)
	frac := func(us uint32) uint32 {
		if nano {
			return us*1000 + 7
		}
		return us
	}
	ts := func(sec int64, us uint32) int64 {
		if nano {
			return sec*1e9 + int64(us)*1000 + 7
		}
		return sec*1e9 + int64(us)*1000
	}
	b.rec(1700000000, frac(1), 60, pkt(60, 'a'))
	b.rec(1700000000, frac(999999), 1600, pkt(1514, 'b'))
	b.rec(4000000000, frac(500000), 42, pkt(42, 'c')) // seconds above 2^31
	want := []got{
		{N: 1, TS: ts(1700000000, 1), LinkType: 1, CapLen: 60, OrigLen: 60, Offset: 24, Data: string(pkt(60, 'a'))},
		{N: 2, TS: ts(1700000000, 999999), LinkType: 1, CapLen: 1514, OrigLen: 1600, Offset: 24 + 16 + 60, Data: string(pkt(1514, 'b'))},
		{N: 3, TS: ts(4000000000, 500000), LinkType: 1, CapLen: 42, OrigLen: 42, Offset: 24 + 2*16 + 60 + 1514, Data: string(pkt(42, 'c'))},
	}
	return b.bytes(), want
}

func TestPcapFormats(t *testing.T) {
	for _, tc := range []struct {
		name      string
		bigEndian bool
		nano      bool
		link      uint32
	}{
		{"le-us", false, false, 1},
		{"be-us", true, false, 1},
		{"le-ns", false, true, 1},
		{"be-ns", true, true, 1},
		// FCS-length form: FCS length 4 in bits 28-31, F bit 26 set.
		{"fcs-bits", false, false, 0x40000000 | 0x04000000 | 1},
	} {
		data, want := threeRecords(tc.bigEndian, tc.nano, tc.link)
		for _, zip := range []bool{false, true} {
			name, in := tc.name, data
			if zip {
				name, in = tc.name+".gz", gz(t, data)
			}
			t.Run(name, func(t *testing.T) {
				src := openBytes(t, name, in)
				defer src.Close()
				if src.Pos() > src.Size() || src.Size() != int64(len(in)) {
					t.Errorf("after open: Pos %d Size %d, len %d", src.Pos(), src.Size(), len(in))
				}
				frames, err := drain(t, src)
				if err != nil {
					t.Fatalf("error: %v", err)
				}
				if d := cmp.Diff(want, frames); d != "" {
					t.Errorf("frames (-want +got):\n%s", d)
				}
				if src.Pos() != int64(len(in)) {
					t.Errorf("Pos at EOF %d, want %d", src.Pos(), len(in))
				}
				if src.Name() != name {
					t.Errorf("Name %q", src.Name())
				}
			})
		}
	}
}

func TestPcapSnaplen(t *testing.T) {
	for _, tc := range []struct {
		name     string
		snaplen  uint32
		caplen   uint32
		origlen  uint32
		over     bool
		errMsg   string // ErrCorrupt with this message, "" for delivered
		dataSize int    // bytes actually present after the header (default caplen)
	}{
		{name: "within", snaplen: 100, caplen: 100, origlen: 1500},
		{name: "over-snaplen", snaplen: 100, caplen: 200, origlen: 200, over: true},
		{name: "at-max", snaplen: 65535, caplen: MaxSnaplen, origlen: MaxSnaplen, over: true},
		{name: "over-max", snaplen: 65535, caplen: MaxSnaplen + 1, origlen: 70000, errMsg: "record caplen 262145 exceeds 262144"},
		{name: "huge", snaplen: 65535, caplen: 0xffffffff, origlen: 60, errMsg: "record caplen 4294967295 exceeds 262144", dataSize: 10},
		{name: "snaplen0", snaplen: 0, caplen: 1000, origlen: 1000},
		{name: "big-snaplen", snaplen: 1 << 20, caplen: 300000, origlen: 300000},
		{name: "big-snaplen-over", snaplen: 1 << 20, caplen: 1<<20 + 1, origlen: 60, errMsg: "record caplen 1048577 exceeds 1048576", dataSize: 10},
		{name: "max-snaplen-over", snaplen: 0xffffffff, caplen: MaxRecord + 1, origlen: 60, errMsg: "record caplen 16777217 exceeds 16777216", dataSize: 10},
		{name: "caplen>origlen", snaplen: 65535, caplen: 100, origlen: 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			size := int(tc.caplen)
			if tc.dataSize != 0 {
				size = tc.dataSize
			}
			b := newPcapFile(false, false, tc.snaplen, 1)
			b.rec(1, 0, 10, pkt(10, 'x'))
			b.recRaw(2, 0, tc.caplen, tc.origlen, pkt(size, 'y'))
			frames, err := drain(t, openBytes(t, tc.name, b.bytes()))
			if tc.errMsg != "" {
				e := asError(t, err)
				if e.Kind != ErrCorrupt || e.Frame != 2 || e.Offset != 24+16+10 || e.Msg != tc.errMsg {
					t.Errorf("error %+v, want corrupt at frame 2 offset 50: %q", e, tc.errMsg)
				}
				if len(frames) != 1 {
					t.Errorf("%d frames before the error, want 1", len(frames))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(frames) != 2 {
				t.Fatalf("%d frames", len(frames))
			}
			f := frames[1]
			if f.CapLen != int(tc.caplen) || f.OrigLen != int(tc.origlen) || f.OverSnaplen != tc.over || len(f.Data) != int(tc.caplen) {
				t.Errorf("frame 2: caplen %d origlen %d over %v; want %d %d %v", f.CapLen, f.OrigLen, f.OverSnaplen, tc.caplen, tc.origlen, tc.over)
			}
		})
	}
}

func TestPcapTruncated(t *testing.T) {
	full, _ := threeRecords(false, false, 1)
	rec3 := int64(24 + 2*16 + 60 + 1514)
	for _, tc := range []struct {
		name   string
		cut    int // bytes kept
		frames int
		kind   ErrKind
		frame  int64
		offset int64
		msg    string
	}{
		{"in-data", len(full) - 2, 2, ErrTruncated, 3, rec3, "input ends inside record data (40 of 42 bytes)"},
		{"in-header", int(rec3) + 5, 2, ErrTruncated, 3, rec3, "input ends inside record header (5 of 16 bytes)"},
		{"in-big-data", 24 + 16 + 60 + 16 + 1000, 1, ErrTruncated, 2, 24 + 16 + 60, "input ends inside record data (1000 of 1514 bytes)"},
		{"at-boundary", int(rec3), 2, 0, 0, 0, ""},
		{"file-header", 10, 0, ErrTruncated, 0, 0, "input ends inside the pcap file header (10 of 24 bytes)"},
	} {
		for _, zip := range []bool{false, true} {
			in := full[:tc.cut]
			name := tc.name
			if zip {
				in, name = gz(t, in), name+".gz"
			}
			t.Run(name, func(t *testing.T) {
				src, err := OpenReader(name, bytes.NewReader(in), int64(len(in)))
				var frames []got
				if err == nil {
					frames, err = drain(t, src)
				}
				if len(frames) != tc.frames {
					t.Errorf("%d frames delivered, want %d", len(frames), tc.frames)
				}
				if tc.kind == 0 {
					if err != nil {
						t.Errorf("error %v, want clean EOF", err)
					}
					return
				}
				e := asError(t, err)
				want := Error{File: name, Kind: tc.kind, Frame: tc.frame, Offset: tc.offset, Msg: tc.msg}
				if *e != want {
					t.Errorf("error\n got %+v\nwant %+v", *e, want)
				}
			})
		}
	}
}

func TestGzipDamage(t *testing.T) {
	full, _ := threeRecords(false, false, 1)
	z := gz(t, full)
	// Compressed stream cut short: the frames before the cut are delivered,
	// then a truncation error.
	frames, err := drain(t, openBytes(t, "cut.gz", z[:len(z)-10]))
	if e := asError(t, err); e.Kind != ErrTruncated || e.Frame != int64(len(frames))+1 {
		t.Errorf("cut gzip: %v after %d frames", err, len(frames))
	}
	// Bad CRC in the trailer.
	bad := bytes.Clone(z)
	bad[len(bad)-8] ^= 0xff
	frames, err = drain(t, openBytes(t, "crc.gz", bad))
	if e := asError(t, err); e.Kind != ErrCorrupt || !strings.Contains(e.Msg, "checksum") || len(frames) != 3 {
		t.Errorf("bad crc: %v after %d frames", err, len(frames))
	}
	// Two concatenated members are one stream.
	multi := append(gz(t, full[:24+16+60]), gz(t, full[24+16+60:])...)
	frames, err = drain(t, openBytes(t, "multi.gz", multi))
	if err != nil || len(frames) != 3 {
		t.Errorf("multi-member gzip: %d frames, %v", len(frames), err)
	}
}

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		kind ErrKind
		msg  string
	}{
		{"text", []byte("hello, world\n"), ErrNotCapture, "unknown magic 68 65 6c 6c"},
		{"empty", nil, ErrNotCapture, "empty input"},
		{"short-garbage", []byte{1, 2}, ErrNotCapture, "unknown magic 01 02"},
		{"magic-prefix", []byte{0xd4, 0xc3}, ErrTruncated, "input ends inside the magic number (2 of 4 bytes)"},
		{"gzip-text", gz(t, []byte("hello, world\n")), ErrNotCapture, "unknown magic 68 65 6c 6c"},
		{"gzip-empty", gz(t, nil), ErrNotCapture, "empty input"},
		{"gzip-gzip", gz(t, gz(t, []byte("x"))), ErrNotCapture, "gzip inside gzip"},
		{"gzip-header-cut", []byte{0x1f, 0x8b, 8}, ErrTruncated, "input ends inside the gzip header"},
		{"pcapng-bad-bom", append([]byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 1, 2, 3, 4}, make([]byte, 16)...), ErrNotCapture, "pcapng byte-order magic 01 02 03 04 invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := OpenReader(tc.name, bytes.NewReader(tc.in), int64(len(tc.in)))
			if err == nil {
				src.Close()
				t.Fatal("no error")
			}
			e := asError(t, err)
			if e.Kind != tc.kind || e.Msg != tc.msg || e.File != tc.name {
				t.Errorf("got %+v, want kind %v msg %q", e, tc.kind, tc.msg)
			}
		})
	}
	_, err := Open(filepath.Join(t.TempDir(), "missing.pcap"))
	if e := asError(t, err); e.Kind != ErrOpen || e.Msg != "no such file or directory" {
		t.Errorf("missing file: %+v", e)
	}
	if !strings.HasSuffix(err.Error(), "missing.pcap: cannot open: no such file or directory") {
		t.Errorf("message %q", err.Error())
	}
	_, err = Open(t.TempDir())
	if e := asError(t, err); e.Kind != ErrOpen || !strings.Contains(e.Msg, "is a directory") {
		t.Errorf("directory: %+v", e)
	}
}

func TestOpenFileAndStdin(t *testing.T) {
	data, want := threeRecords(false, true, 1)
	dir := t.TempDir()
	for _, zip := range []bool{false, true} {
		in, path := data, filepath.Join(dir, "a.pcap")
		if zip {
			in, path = gz(t, data), path+".gz"
		}
		if err := os.WriteFile(path, in, 0o644); err != nil {
			t.Fatal(err)
		}
		src, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if src.Size() != int64(len(in)) || src.Name() != path {
			t.Errorf("Size %d Name %q", src.Size(), src.Name())
		}
		frames, err := drain(t, src)
		if err != nil || !cmp.Equal(frames, want) {
			t.Errorf("%s: %v\n%s", path, err, cmp.Diff(want, frames))
		}
		if src.Pos() != src.Size() {
			t.Errorf("%s: Pos %d at EOF, Size %d", path, src.Pos(), src.Size())
		}
		if err := src.Close(); err != nil {
			t.Error(err)
		}

		// The same through standard input.
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		stdin := os.Stdin
		os.Stdin = f
		src, err = Open("-")
		os.Stdin = stdin
		if err != nil {
			t.Fatal(err)
		}
		frames, err = drain(t, src)
		if err != nil || len(frames) != 3 || src.Size() != 0 || src.Name() != "-" {
			t.Errorf("stdin: %d frames, %v, size %d", len(frames), err, src.Size())
		}
		src.Close()
		f.Close()
	}
}

// A record larger than the bufio buffer goes through the growing buffer; it
// is reused for the next large record.
func TestLargeRecords(t *testing.T) {
	b := newPcapFile(true, false, MaxSnaplen, 1)
	for i, n := range []int{10000, 200000, 60, 150000, MaxSnaplen} {
		b.rec(uint32(i), 0, n, pkt(n, byte('a'+i)))
	}
	// OpenReader with a small size makes a small bufio buffer.
	src, err := OpenReader("large", bytes.NewReader(b.bytes()), 100)
	if err != nil {
		t.Fatal(err)
	}
	frames, err := drain(t, src)
	if err != nil || len(frames) != 5 {
		t.Fatalf("%d frames, %v", len(frames), err)
	}
	for i, f := range frames {
		if f.Data != strings.Repeat(string(rune('a'+i)), f.CapLen) {
			t.Errorf("frame %d data wrong", f.N)
		}
	}
}

func TestNoAllocsSteadyState(t *testing.T) {
	b := newPcapFile(false, false, 65535, 1)
	ng := newNg().shb(false).idb(1, 0)
	for i := range 5000 {
		b.rec(uint32(i), 0, 100+i%1400, pkt(100+i%1400, 1))
		ng.epb(0, uint64(i), 1000, pkt(100+i%1400, 1))
	}
	for name, in := range map[string][]byte{"pcap": b.bytes(), "pcapng": ng.bytes(), "pcap.gz": gz(t, b.bytes())} {
		src := openBytes(t, name, in)
		allocs := testing.AllocsPerRun(2000, func() {
			if _, err := src.Next(); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocs per frame", name, allocs)
		}
	}
}

func TestErrorAfterErrorIsEOF(t *testing.T) {
	full, _ := threeRecords(false, false, 1)
	src := openBytes(t, "t", full[:len(full)-1])
	var errs []error
	for range 6 {
		if _, err := src.Next(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) != 4 || asError(t, errs[0]).Kind != ErrTruncated {
		t.Fatalf("errors %v", errs)
	}
	for _, err := range errs[1:] {
		if err != io.EOF {
			t.Errorf("after the error: %v, want io.EOF", err)
		}
	}
}
