package capture

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeSource yields frames with the given timestamps, then err (io.EOF if
// nil). Like the real readers it reuses one Frame and one data buffer, and it
// overwrites the data on every Next, so a frame handed out too early by Merge
// shows up as wrong data.
type fakeSource struct {
	name string
	ts   []int64
	err  error
	i    int
	f    Frame
	buf  [8]byte
}

func (s *fakeSource) Next() (*Frame, error) {
	for i := range s.buf {
		s.buf[i] = 0xff // scribble: the previous frame's Data is dead now
	}
	if s.i >= len(s.ts) {
		if s.err != nil {
			err := s.err
			s.err = nil
			return nil, err
		}
		return nil, io.EOF
	}
	s.i++
	copy(s.buf[:], fmt.Sprintf("%s%d", s.name, s.i))
	s.f = Frame{N: int64(s.i), TS: s.ts[s.i-1], Data: s.buf[:len(s.name)+len(fmt.Sprint(s.i))]}
	s.f.CapLen = len(s.f.Data)
	return &s.f, nil
}

func (s *fakeSource) Name() string { return s.name }
func (s *fakeSource) Size() int64  { return 100 }
func (s *fakeSource) Pos() int64   { return int64(s.i) }
func (s *fakeSource) Close() error { return nil }

// step is one result of Merge.Next: a frame "a2" (source a, frame 2) or an
// error "err:..." or "EOF".
func mergeSteps(t *testing.T, m Source) []string {
	t.Helper()
	var out []string
	for range 100 {
		f, err := m.Next()
		switch {
		case errors.Is(err, io.EOF):
			return append(out, "EOF")
		case err != nil:
			out = append(out, "err:"+err.Error())
			continue
		}
		s := string(f.Data)
		if want := fmt.Sprintf("%c%d", 'a'+f.File, f.N); s != want {
			t.Errorf("frame File %d N %d has data %q, want %q", f.File, f.N, s, want)
		}
		out = append(out, fmt.Sprintf("%s@%d", s, f.TS))
	}
	t.Fatal("Merge does not end")
	return nil
}

func TestMerge(t *testing.T) {
	for _, tc := range []struct {
		name string
		srcs []*fakeSource
		want []string
	}{
		{"interleave-and-ties",
			[]*fakeSource{{ts: []int64{1, 3, 5}}, {ts: []int64{2, 3, 4}}},
			[]string{"a1@1", "b1@2", "a2@3", "b2@3", "b3@4", "a3@5", "EOF"}},
		{"ties-by-index",
			[]*fakeSource{{ts: []int64{7, 7}}, {ts: []int64{7}}, {ts: []int64{7, 7}}},
			[]string{"a1@7", "a2@7", "b1@7", "c1@7", "c2@7", "EOF"}},
		{"backwards-file-keeps-order",
			[]*fakeSource{{ts: []int64{10, 5, 20}}, {ts: []int64{7, 8, 15}}},
			[]string{"b1@7", "b2@8", "a1@10", "a2@5", "b3@15", "a3@20", "EOF"}},
		{"error-after-last-frame",
			[]*fakeSource{{ts: []int64{1, 4}, err: errors.New("boom")}, {ts: []int64{2, 3, 5}}},
			[]string{"a1@1", "b1@2", "b2@3", "a2@4", "err:boom", "b3@5", "EOF"}},
		{"error-first",
			[]*fakeSource{{ts: []int64{3}}, {err: errors.New("bad b")}, {ts: []int64{1}}},
			[]string{"err:bad b", "c1@1", "a1@3", "EOF"}},
		{"empty-sources",
			[]*fakeSource{{}, {ts: []int64{1}}, {}},
			[]string{"b1@1", "EOF"}},
		{"none", nil, []string{"EOF"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srcs := make([]Source, len(tc.srcs))
			for i, s := range tc.srcs {
				s.name = string(rune('a' + i))
				srcs[i] = s
			}
			if got := mergeSteps(t, Merge(srcs)); !cmp.Equal(got, tc.want) {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestMergeFiles(t *testing.T) {
	a := newPcapFile(false, false, 65535, 1).
		rec(10, 0, 60, pkt(60, 'a')).rec(30, 0, 60, pkt(60, 'a')).rec(20, 0, 60, pkt(60, 'a')).bytes()
	ng, _ := twoSections(false)
	bad, _ := threeRecords(true, true, 1)
	bad = bad[:len(bad)-1]
	srcs := []Source{openBytes(t, "a.pcap", a), openBytes(t, "b.pcapng", ng), openBytes(t, "c.pcap", bad)}
	m := Merge(srcs)
	if m.Name() != "a.pcap,b.pcapng,c.pcap" {
		t.Errorf("Name %q", m.Name())
	}
	if m.Size() != int64(len(a)+len(ng)+len(bad)) {
		t.Errorf("Size %d", m.Size())
	}
	var files []int
	var errs []*Error
	var prev = map[int]int64{}
	var lastTS int64
	lastFile := -1
	for {
		f, err := m.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, asError(t, err))
			continue
		}
		if f.N != prev[f.File]+1 {
			t.Errorf("file %d: frame %d after %d", f.File, f.N, prev[f.File])
		}
		prev[f.File] = f.N
		// Time only goes backwards where a file's own time does.
		if f.TS < lastTS && f.File != lastFile {
			t.Errorf("file %d frame %d: TS %d after %d from file %d", f.File, f.N, f.TS, lastTS, lastFile)
		}
		lastTS, lastFile = f.TS, f.File
		files = append(files, f.File)
	}
	want := []int{0, 0, 0, 2, 1, 2, 1, 1, 1, 1, 1, 1, 1}
	if !cmp.Equal(files, want) {
		t.Errorf("files %v, want %v", files, want)
	}
	if len(errs) != 1 || errs[0].File != "c.pcap" || errs[0].Kind != ErrTruncated || errs[0].Frame != 3 {
		t.Errorf("errors %v", errs)
	}
	if m.Pos() != m.Size() {
		t.Errorf("Pos %d at EOF, Size %d", m.Pos(), m.Size())
	}
	if err := m.Close(); err != nil {
		t.Error(err)
	}
}

func TestMergeSingle(t *testing.T) {
	s := &fakeSource{name: "a", ts: []int64{1}}
	if m := Merge([]Source{s}); m != Source(s) {
		t.Errorf("Merge of one source wraps it")
	}
}
