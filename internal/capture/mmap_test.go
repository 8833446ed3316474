package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// readAll reads every frame of path (copying them) and the error that ended
// the reading.
func readAll(t *testing.T, path string) ([]string, string, bool) {
	t.Helper()
	src, err := Open(path)
	if err != nil {
		return nil, "open: " + err.Error(), false
	}
	defer src.Close()
	var frames []string
	var held [][]byte
	for {
		f, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				return frames, err.Error(), IsStable(src)
			}
			frames = append(frames, "error: "+err.Error())
			continue
		}
		held = append(held, f.Data)
		frames = append(frames, fmt.Sprintf("%d %d %d %d %d %x", f.N, f.TS, f.CapLen, f.OrigLen, f.Offset, f.Data))
	}
	// A stable source's frames are still intact after all the reads.
	if IsStable(src) {
		for i, d := range held {
			if got := fmt.Sprintf("%x", d); !bytes.HasSuffix([]byte(frames[i]), []byte(got)) && len(d) > 0 {
				t.Errorf("%s: frame %d changed after later reads", path, i+1)
			}
		}
	}
	return frames, fmt.Sprint(src.Pos(), " ", src.Size()), IsStable(src)
}

// TestMappedMatchesRead: reading through a memory mapping gives exactly the
// frames, errors and positions of reading with read(2), on every corpus and
// scenario capture and on truncated copies of some.
func TestMappedMatchesRead(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/pcaps/*")
	raw := filepath.Join("../../../shared/corpus/raw")
	filepath.WalkDir(raw, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	dir := t.TempDir()
	for i, f := range files[:min(len(files), 12)] {
		b, err := os.ReadFile(f)
		if err != nil || len(b) < 200 {
			continue
		}
		cut := filepath.Join(dir, fmt.Sprintf("cut%d-%s", i, filepath.Base(f)))
		if err := os.WriteFile(cut, b[:len(b)-37], 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, cut)
	}
	defer func(v int64) { minMapped = v }(minMapped)
	mapped := 0
	for _, f := range files {
		minMapped = 1 << 62
		want, wantEnd, _ := readAll(t, f)
		minMapped = 1
		got, gotEnd, stable := readAll(t, f)
		if stable {
			mapped++
		}
		if fmt.Sprint(want) != fmt.Sprint(got) || wantEnd != gotEnd {
			t.Errorf("%s: mapped reading differs (%d vs %d frames, end %q vs %q)", f, len(got), len(want), gotEnd, wantEnd)
		}
	}
	if mapped == 0 {
		t.Errorf("no file was read through a mapping")
	}
	t.Logf("%d files compared, %d read through a mapping", len(files), mapped)
}
