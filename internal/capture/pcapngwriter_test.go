package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pngBlock is one block of a pcapng file, with its options decoded.
type pngBlock struct {
	typ  uint32
	body []byte            // fixed part (and packet data)
	opts map[uint16][]byte // last value of each option
}

// fixedLen is the length of the part of a block's body before its options.
func fixedLen(typ uint32, body []byte) int {
	switch typ {
	case blockSHB:
		return 16
	case blockIDB:
		return 8
	case blockEPB:
		caplen := int(binary.LittleEndian.Uint32(body[12:]))
		return 20 + (caplen+3)&^3
	case blockISB:
		return 12
	}
	return len(body)
}

// readBlocks splits a little-endian pcapng file into blocks, checking
// every length.
func readBlocks(t *testing.T, b []byte) []pngBlock {
	t.Helper()
	var out []pngBlock
	for len(b) > 0 {
		if len(b) < 12 {
			t.Fatalf("%d bytes left: not a block", len(b))
		}
		typ, n := binary.LittleEndian.Uint32(b), int(binary.LittleEndian.Uint32(b[4:]))
		if n < 12 || n%4 != 0 || n > len(b) || int(binary.LittleEndian.Uint32(b[n-4:])) != n {
			t.Fatalf("block type %#x: bad length %d (%d bytes left)", typ, n, len(b))
		}
		body := b[8 : n-4]
		if typ == blockSHB {
			body = b[8 : n-4]
		}
		blk := pngBlock{typ: typ, opts: map[uint16][]byte{}}
		fl := fixedLen(typ, body)
		blk.body = body[:fl]
		for o := body[fl:]; len(o) >= 4; {
			code, l := binary.LittleEndian.Uint16(o), int(binary.LittleEndian.Uint16(o[2:]))
			if code == 0 {
				break
			}
			if 4+l > len(o) {
				t.Fatalf("block %#x option %d length %d overflows", typ, code, l)
			}
			blk.opts[code] = o[4 : 4+l]
			o = o[min(4+(l+3)&^3, len(o)):]
		}
		out = append(out, blk)
		b = b[n:]
	}
	return out
}

// chunkWriter records each Write.
type chunkWriter struct {
	bytes.Buffer
	chunks []int
	fail   bool
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	if w.fail {
		return 0, errors.New("disk full")
	}
	w.chunks = append(w.chunks, len(p))
	return w.Buffer.Write(p)
}

const (
	tsBase = int64(1767225600123456789) // 2026-01-01 00:00:00.123456789
)

// liveCapture writes what a live capture of two interfaces would: an
// Ethernet interface and "any", packets with and without comments and a
// drop count, and the statistics at the end.
func liveCapture(w io.Writer) ([]Frame, error) {
	p := NewPcapngWriter(w, PcapngOptions{Application: "tcptrace", OS: "Linux 6.18"})
	if _, err := p.AddInterface(PcapngInterface{Name: "eth0", LinkType: 1, Snaplen: 262144, Filter: "tcp port 80"}); err != nil {
		return nil, err
	}
	if _, err := p.AddInterface(PcapngInterface{Name: "any", LinkType: 276, Snaplen: 100, Description: "all interfaces"}); err != nil {
		return nil, err
	}
	var frames []Frame
	for i := range 3000 {
		data := bytes.Repeat([]byte{byte(i)}, 40+i%150)
		f := Frame{N: int64(i + 1), TS: tsBase + int64(i)*1001, LinkType: 1, Iface: i % 2, CapLen: len(data), OrigLen: len(data) + i%3, Data: data}
		if f.Iface == 1 {
			f.LinkType = 276
		}
		if i == 1234 {
			f.DropsBefore = 17
		}
		comment := ""
		if i%1000 == 7 {
			comment = fmt.Sprintf("kernel: TCP_ABORT_ON_CLOSE (frame %d)", i+1)
		}
		if err := p.WritePacket(&f, comment); err != nil {
			return nil, err
		}
		if sl := 100; f.Iface == 1 && len(f.Data) > sl {
			f.Data, f.CapLen = f.Data[:sl], sl
		}
		frames = append(frames, f)
	}
	if err := p.WriteStats(0, PcapngStats{Time: tsBase + 5e9, Start: tsBase - 1e9, End: tsBase + 5e9, Received: 1520, Dropped: 17, Delivered: 1500, HasDelivered: true}); err != nil {
		return nil, err
	}
	if err := p.WriteStats(1, PcapngStats{Time: tsBase + 5e9, Start: tsBase - 1e9, End: tsBase + 5e9, Received: 1500}); err != nil {
		return nil, err
	}
	return frames, p.Close()
}

func TestPcapngWriterReadBack(t *testing.T) {
	var w chunkWriter
	want, err := liveCapture(&w)
	if err != nil {
		t.Fatal(err)
	}
	// Every write(2) holds whole blocks.
	data := w.Bytes()
	at := 0
	for _, n := range w.chunks {
		readBlocks(t, data[at:at+n])
		at += n
	}
	if len(w.chunks) < 2 {
		t.Errorf("%d writes: the buffer was never flushed before Close", len(w.chunks))
	}

	// The project's reader sees the same frames.
	path := filepath.Join(t.TempDir(), "live.pcapng")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for i := 0; ; i++ {
		f, err := src.Next()
		if err == io.EOF {
			if i != len(want) {
				t.Fatalf("%d frames read, want %d", i, len(want))
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		w := want[i]
		if f.N != w.N || f.TS != w.TS || f.LinkType != w.LinkType || f.Iface != w.Iface || f.OrigLen != w.OrigLen || !bytes.Equal(f.Data, w.Data) || f.OverSnaplen {
			t.Fatalf("frame %d: got N %d ts %d link %d iface %d orig %d len %d, want N %d ts %d link %d iface %d orig %d len %d",
				i+1, f.N, f.TS, f.LinkType, f.Iface, f.OrigLen, len(f.Data), w.N, w.TS, w.LinkType, w.Iface, w.OrigLen, len(w.Data))
		}
	}

	// The blocks and their options.
	blocks := readBlocks(t, data)
	var idbs, epbs, isbs []pngBlock
	for _, b := range blocks {
		switch b.typ {
		case blockIDB:
			idbs = append(idbs, b)
		case blockEPB:
			epbs = append(epbs, b)
		case blockISB:
			isbs = append(isbs, b)
		}
	}
	if blocks[0].typ != blockSHB || string(blocks[0].opts[shbUserAppl]) != "tcptrace" || string(blocks[0].opts[shbOS]) != "Linux 6.18" {
		t.Errorf("section header %+v", blocks[0])
	}
	if len(idbs) != 2 || string(idbs[0].opts[ifName]) != "eth0" || string(idbs[1].opts[ifName]) != "any" ||
		!bytes.Equal(idbs[0].opts[optTSResol], []byte{9}) || string(idbs[0].opts[ifFilter]) != "\x00tcp port 80" ||
		binary.LittleEndian.Uint16(idbs[1].body) != 276 || binary.LittleEndian.Uint32(idbs[1].body[4:]) != 100 {
		t.Errorf("interfaces %+v", idbs)
	}
	comments := map[int]string{}
	for i, b := range epbs {
		if c, ok := b.opts[optComment]; ok {
			comments[i+1] = string(c)
		}
		if d, ok := b.opts[epbDropCount]; ok && (i != 1234 || binary.LittleEndian.Uint64(d) != 17) {
			t.Errorf("frame %d: drop count % x", i+1, d)
		}
	}
	if _, ok := epbs[1234].opts[epbDropCount]; !ok {
		t.Error("frame 1235 has no drop count")
	}
	wantComments := map[int]string{8: "kernel: TCP_ABORT_ON_CLOSE (frame 8)", 1008: "kernel: TCP_ABORT_ON_CLOSE (frame 1008)", 2008: "kernel: TCP_ABORT_ON_CLOSE (frame 2008)"}
	if d := cmp.Diff(wantComments, comments); d != "" {
		t.Errorf("comments (-want +got):\n%s", d)
	}
	if len(isbs) != 2 {
		t.Fatalf("%d statistics blocks", len(isbs))
	}
	u64 := func(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
	ts := func(b []byte) int64 {
		return int64(binary.LittleEndian.Uint32(b))<<32 | int64(binary.LittleEndian.Uint32(b[4:]))
	}
	s := isbs[0]
	if binary.LittleEndian.Uint32(s.body) != 0 || ts(s.body[4:]) != tsBase+5e9 || ts(s.opts[isbStartTime]) != tsBase-1e9 || ts(s.opts[isbEndTime]) != tsBase+5e9 ||
		u64(s.opts[isbIfRecv]) != 1520 || u64(s.opts[isbIfDrop]) != 17 || u64(s.opts[isbUsrDeliv]) != 1500 {
		t.Errorf("statistics of eth0: %+v", s)
	}
	if _, ok := isbs[1].opts[isbUsrDeliv]; ok || binary.LittleEndian.Uint32(isbs[1].body) != 1 {
		t.Errorf("statistics of any: %+v", isbs[1])
	}
}

// TestPcapngWriterTools reads the file with tshark and capinfos where they
// are installed.
func TestPcapngWriterTools(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live.pcapng")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := liveCapture(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	ran := false
	if _, err := exec.LookPath("tshark"); err == nil {
		ran = true
		out, err := exec.Command("tshark", "-r", path, "-T", "fields", "-E", "separator=|",
			"-e", "frame.number", "-e", "frame.interface_name", "-e", "frame.comment", "-e", "frame.drop_count",
			"-Y", "frame.comment or frame.drop_count or frame.number <= 2").Output()
		if err != nil {
			t.Fatalf("tshark: %v", err)
		}
		want := "1|eth0||\n2|any||\n8|any|kernel: TCP_ABORT_ON_CLOSE (frame 8)|\n1008|any|kernel: TCP_ABORT_ON_CLOSE (frame 1008)|\n1235|eth0||17\n2008|any|kernel: TCP_ABORT_ON_CLOSE (frame 2008)|\n"
		if d := cmp.Diff(want, string(out)); d != "" {
			t.Errorf("tshark (-want +got):\n%s", d)
		}
	} else {
		t.Log("tshark not installed: not checked with it")
	}
	if _, err := exec.LookPath("capinfos"); err == nil {
		ran = true
		out, err := exec.Command("capinfos", "-c", "-I", path).CombinedOutput()
		if err != nil {
			t.Fatalf("capinfos: %v\n%s", err, out)
		}
		for _, w := range []string{
			"Number of packets:   3000",
			"Name = eth0", "Name = any", "Description = all interfaces",
			"Capture length = 100", "Time precision = nanoseconds (9)",
			"Number of stat entries = 1",
			"Filter string = tcp port 80",
		} {
			if !strings.Contains(string(out), w) {
				t.Errorf("capinfos does not say %q:\n%s", w, out)
			}
		}
	} else {
		t.Log("capinfos not installed: not checked with it")
	}
	if !ran {
		t.Skip("neither tshark nor capinfos is installed")
	}
}

func TestPcapngWriterErrors(t *testing.T) {
	frame := &Frame{N: 1, TS: tsBase, Data: []byte{1, 2, 3}}
	tests := []struct {
		name string
		do   func(p *PcapngWriter) error
		want string
	}{
		{"packet on no interface", func(p *PcapngWriter) error { return p.WritePacket(frame, "") }, "0 interfaces are defined"},
		{"stats of no interface", func(p *PcapngWriter) error {
			p.AddInterface(PcapngInterface{LinkType: 1})
			return p.WriteStats(3, PcapngStats{})
		}, "statistics for interface 3"},
		{"link type too big", func(p *PcapngWriter) error {
			_, err := p.AddInterface(PcapngInterface{LinkType: 70000})
			return err
		}, "link type 70000"},
		{"time before 1970", func(p *PcapngWriter) error {
			p.AddInterface(PcapngInterface{LinkType: 1})
			return p.WritePacket(&Frame{TS: -1}, "")
		}, "before 1970"},
		{"after close", func(p *PcapngWriter) error {
			p.AddInterface(PcapngInterface{LinkType: 1})
			p.Close()
			return p.WritePacket(frame, "")
		}, "closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w chunkWriter
			err := tt.do(NewPcapngWriter(&w, PcapngOptions{}))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("write error is sticky", func(t *testing.T) {
		w := &chunkWriter{fail: true}
		p := NewPcapngWriter(w, PcapngOptions{})
		p.AddInterface(PcapngInterface{LinkType: 1})
		if err := p.Flush(); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Fatalf("flush: %v", err)
		}
		w.fail = false
		if err := p.WritePacket(frame, ""); err == nil {
			t.Fatal("a write after a failed flush succeeded")
		}
		if err := p.Close(); err == nil {
			t.Fatal("Close after a failed flush succeeded")
		}
	})
	t.Run("empty capture is a valid file", func(t *testing.T) {
		var w chunkWriter
		if err := NewPcapngWriter(&w, PcapngOptions{Application: "tcptrace"}).Close(); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "empty.pcapng")
		os.WriteFile(path, w.Bytes(), 0o644)
		src, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		if _, err := src.Next(); err != io.EOF {
			t.Fatalf("Next = %v, want io.EOF", err)
		}
	})
}
