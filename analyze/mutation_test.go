package analyze

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/tcptrace/tcptrace/internal/capture"
)

// frameInfo is what the sweep compares of a frame.
type frameInfo struct {
	n, ts, off int64
	data       string
}

// readFrames reads every frame of data and the error that ended it.
func readFrames(data []byte) ([]frameInfo, error) {
	src, err := capture.OpenReader("m", bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	defer src.Close()
	var out []frameInfo
	var first error
	for {
		f, err := src.Next()
		if err == io.EOF {
			return out, first
		}
		if err != nil {
			var ce *capture.Error
			if !errors.As(err, &ce) {
				return out, err
			}
			if first == nil {
				first = err
			}
			continue
		}
		out = append(out, frameInfo{f.N, f.TS, f.Offset, string(f.Data)})
	}
}

// analyzeJSON analyzes data and returns the connection and anomaly records.
func analyzeJSON(data []byte) string {
	if r := analyzeBytes(data, "m", withWorkers(1)); r != nil {
		return string(recordsJSON(r, false))
	}
	return "does not open"
}

// TestMutationSweep damages copies of the corpus and scenario captures —
// 1,200 mutations, fixed seed: truncations at random offsets and random
// byte flips — and checks that nothing panics, that damage is reported as a
// *capture.Error naming the file, and that everything before the damage is
// read identically; for truncations, the whole analysis equals that of the
// undamaged file cut at the last whole record before the damage.
func TestMutationSweep(t *testing.T) {
	files := scenarioAndCorpus(t)
	type input struct {
		name   string
		data   []byte
		frames []frameInfo
	}
	var inputs []input
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil || len(b) > 256<<10 || len(b) < 64 || b[0] == 0x1f { // gzip: offsets are not the file's
			continue
		}
		fr, err := readFrames(b)
		if err != nil || len(fr) < 2 {
			continue // damaged already, or too small to cut meaningfully
		}
		inputs = append(inputs, input{f, b, fr})
	}
	if len(inputs) == 0 {
		t.Fatal("no inputs")
	}
	rng := rand.New(rand.NewPCG(2026, 11))
	const mutations = 1200
	var truncs, flips, errorsSeen int
	for m := range mutations {
		in := inputs[rng.IntN(len(inputs))]
		data := append([]byte(nil), in.data...)
		truncate := m%2 == 0
		var damage int
		if truncate {
			damage = 24 + rng.IntN(len(data)-24)
			data = data[:damage]
			truncs++
		} else {
			damage = len(data)
			for range 1 + rng.IntN(4) {
				o := 24 + rng.IntN(len(data)-24)
				data[o] ^= byte(1 + rng.IntN(255))
				damage = min(damage, o)
			}
			flips++
		}
		// Frames wholly before the damage: the next one starts at or before it.
		whole := 0
		for i := range in.frames {
			end := int64(len(in.data))
			if i+1 < len(in.frames) {
				end = in.frames[i+1].off
			}
			if end > int64(damage) {
				break
			}
			whole = i + 1
		}
		var got []frameInfo
		var rerr error
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("%s mutation %d (damage at %d): panic %v", in.name, m, damage, p)
				}
			}()
			got, rerr = readFrames(data)
			_ = analyzeJSON(data)
		}()
		if rerr != nil {
			errorsSeen++
			var ce *capture.Error
			if !errors.As(rerr, &ce) || ce.File != "m" {
				t.Errorf("%s mutation %d: error %v does not name the file", in.name, m, rerr)
			}
		}
		if len(got) < whole {
			t.Errorf("%s mutation %d (damage at byte %d): %d frames read, %d lie wholly before the damage", in.name, m, damage, len(got), whole)
			continue
		}
		for i := range whole {
			if got[i] != in.frames[i] {
				t.Errorf("%s mutation %d: frame %d differs although it lies before the damage at byte %d", in.name, m, i+1, damage)
				break
			}
		}
		if truncate && whole > 0 { // (a cut in the file's header leaves nothing to compare)
			cut := len(in.data)
			if whole < len(in.frames) {
				cut = int(in.frames[whole].off)
			}
			if want, gotA := analyzeJSON(in.data[:cut]), analyzeJSON(data); want != gotA {
				t.Errorf("%s cut at %d: the analysis differs from that of the file cut at the record boundary %d", in.name, damage, cut)
			}
		}
	}
	t.Logf("%d mutations (%d truncations, %d byte flips) of %d captures; %d reported damage", mutations, truncs, flips, len(inputs), errorsSeen)
	if mutations < 1000 {
		t.Fatal("fewer than 1,000 mutations")
	}
}
