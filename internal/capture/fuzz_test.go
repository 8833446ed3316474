package capture

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// corpusSeeds adds the corpus files under 64 KiB whose magic passes keep.
func corpusSeeds(f *testing.F, keep func([]byte) bool) {
	raw := filepath.Join(corpusDir, "raw")
	filepath.WalkDir(raw, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err != nil || info.Size() >= 64<<10 {
			return nil
		}
		if b, err := os.ReadFile(path); err == nil && len(b) >= 4 && keep(b) {
			f.Add(b)
		}
		return nil
	})
}

func isPcapng(b []byte) bool { return [4]byte(b[:4]) == magicPcapng }
func isPcap(b []byte) bool   { return len(b) >= 4 && !isPcapng(b) && b[0] != 0x1f }

// fuzzDrain checks the Source invariants on arbitrary input: no panic, an
// end in bounded time, CapLen == len(Data), N counting 1, 2, 3...
func fuzzDrain(t *testing.T, data []byte) {
	src, err := OpenReader("fuzz", bytes.NewReader(data), int64(len(data)))
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("open error %v is not *Error", err)
		}
		return
	}
	defer src.Close()
	var last int64
	for i := 0; ; i++ {
		if i > 1<<22 {
			t.Fatal("no end after 4M frames")
		}
		f, err := src.Next()
		if err != nil {
			var e *Error
			if err != io.EOF && !errors.As(err, &e) {
				t.Fatalf("error %v is neither io.EOF nor *Error", err)
			}
			if _, err2 := src.Next(); err2 != io.EOF {
				t.Fatalf("Next after %v: %v", err, err2)
			}
			break
		}
		if f.CapLen != len(f.Data) {
			t.Fatalf("frame %d: CapLen %d, len(Data) %d", f.N, f.CapLen, len(f.Data))
		}
		if f.N != last+1 {
			t.Fatalf("frame %d after %d", f.N, last)
		}
		last = f.N
	}
	if data[0] != 0x1f && src.Pos() > int64(len(data)) {
		t.Fatalf("Pos %d beyond %d", src.Pos(), len(data))
	}
}

func FuzzPcap(f *testing.F) {
	for _, be := range []bool{false, true} {
		for _, nano := range []bool{false, true} {
			b, _ := threeRecords(be, nano, 1)
			f.Add(b)
			f.Add(b[:len(b)-3])
		}
	}
	f.Add(newPcapFile(false, false, 100, 0x4000_0001).rec(1, 2, 300, pkt(200, 1)).recRaw(1, 2, 0xffffffff, 0, nil).bytes())
	corpusSeeds(f, isPcap)
	f.Fuzz(fuzzDrain)
}

func FuzzPcapng(f *testing.F) {
	for _, be := range []bool{false, true} {
		b, _ := twoSections(be)
		f.Add(b)
		f.Add(b[:len(b)-6])
	}
	b, _ := ngDamage(func(b *ngBuilder) { rawBlock(b, blockEPB, 0xffffffff, make([]byte, 20), 0) })
	f.Add(b)
	corpusSeeds(f, isPcapng)
	f.Fuzz(fuzzDrain)
}

// FuzzGzip feeds the input through gzip: it exercises detection and errors
// under the decompressor. The input is stored uncompressed (level 0): real
// compression inside the target gives the fuzzer ever-new coverage in
// compress/flate and stalls it.
func FuzzGzip(f *testing.F) {
	b, _ := threeRecords(false, true, 1)
	f.Add(b)
	b, _ = twoSections(true)
	f.Add(b)
	zw, _ := gzip.NewWriterLevel(nil, gzip.NoCompression)
	var out bytes.Buffer
	f.Fuzz(func(t *testing.T, data []byte) {
		out.Reset()
		zw.Reset(&out)
		zw.Write(data)
		zw.Close()
		fuzzDrain(t, out.Bytes())
	})
}
