package capture

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// corpusDir is the shared conformance corpus (see its README.md).
const corpusDir = "../../../shared/corpus"

// corpusUnreadable lists files tshark counts but this package cannot read in
// full, with the reason. Empty: every file is read with tshark's count.
var corpusUnreadable = map[string]string{}

// corpusExtraCounts gives frame counts for files the tshark oracle lacks.
var corpusExtraCounts = map[string]int64{
	// raw/loopback/real-lo-dev.mkcapture.log: "tcpdump: 42739 packets captured"
	"loopback/real-lo-dev.pcap": 42739,
}

// corpusFirstTS holds the first frame's time for a few files, from tcpdump's
// published outputs (oracle/tcpdump: tcp-handshake-nano-tt.out,
// of13_ericsson.out with -tttt).
var corpusFirstTS = map[string]int64{
	"tcpdump/tcp-handshake-nano.pcap": 1418145369_924505488,
	"tcpdump/of13_ericsson.pcapng":    time.Date(2013, 10, 19, 15, 52, 49, 322823000, time.UTC).UnixNano(),
}

func readTSVCounts(t *testing.T, path string) map[string]int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("oracle: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	fileCol, pktsCol := -1, -1
	counts := map[string]int64{}
	for line := 0; sc.Scan(); line++ {
		cols := strings.Split(sc.Text(), "\t")
		if line == 0 {
			for i, c := range cols {
				switch c {
				case "file":
					fileCol = i
				case "pkts":
					pktsCol = i
				}
			}
			if fileCol < 0 || pktsCol < 0 {
				t.Fatalf("%s: header lacks file/pkts columns: %q", path, cols)
			}
			continue
		}
		if len(cols) <= max(fileCol, pktsCol) {
			continue
		}
		n, err := strconv.ParseInt(cols[pktsCol], 10, 64)
		if err != nil {
			t.Fatalf("%s line %d: pkts %q: %v", path, line+1, cols[pktsCol], err)
		}
		counts[cols[fileCol]] = n
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return counts
}

func TestCorpus(t *testing.T) {
	raw := filepath.Join(corpusDir, "raw")
	if _, err := os.Stat(raw); err != nil {
		t.Skipf("corpus not present (%v)", err)
	}
	want := readTSVCounts(t, filepath.Join(corpusDir, "oracle/tshark/summary.tsv"))
	seen := map[string]bool{}
	agree := 0
	err := filepath.WalkDir(raw, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(raw, path)
		rel = filepath.ToSlash(rel)
		seen[rel] = true
		n, ok := want[rel]
		src, err := Open(path)
		if err != nil {
			if !ok && asError(t, err).Kind == ErrNotCapture {
				t.Logf("%s: not a capture and not in the oracle: %v", rel, err)
				return nil
			}
			if why, listed := corpusUnreadable[rel]; listed {
				t.Logf("%s: unreadable as expected (%s): %v", rel, why, err)
				return nil
			}
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		defer src.Close()
		var count, over int64
		var firstTS int64
		var rerr error
		for {
			f, err := src.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					rerr = err
				}
				break
			}
			if count == 0 {
				firstTS = f.TS
			}
			if f.OverSnaplen {
				over++
			}
			count++
		}
		if src.Size() != 0 && src.Pos() != src.Size() && rerr == nil {
			t.Errorf("%s: Pos %d at EOF, Size %d", rel, src.Pos(), src.Size())
		}
		if ts, ok := corpusFirstTS[rel]; ok {
			// tcpdump prints µs for pcapng here: compare at its precision.
			if rel == "tcpdump/of13_ericsson.pcapng" {
				firstTS = firstTS / 1000 * 1000
			}
			if firstTS != ts {
				t.Errorf("%s: first TS %d (%s), want %d (%s)", rel, firstTS,
					time.Unix(0, firstTS).UTC().Format(time.RFC3339Nano), ts,
					time.Unix(0, ts).UTC().Format(time.RFC3339Nano))
			}
		}
		if over > 0 {
			t.Logf("%s: %d frames over snaplen", rel, over)
		}
		switch {
		case !ok:
			if n, ok := corpusExtraCounts[rel]; !ok || n != count || rerr != nil {
				t.Errorf("%s: %d frames (not in the tshark oracle, expected %d), error %v", rel, count, n, rerr)
			}
		case rerr != nil || count != n:
			if why, listed := corpusUnreadable[rel]; listed {
				t.Logf("%s: %d of %d frames as expected (%s): %v", rel, count, n, why, rerr)
				return nil
			}
			t.Errorf("%s: %d frames, tshark %d; error %v", rel, count, n, rerr)
		default:
			agree++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for f := range want {
		if !seen[f] {
			t.Errorf("%s: in the oracle but not under raw/", f)
		}
	}
	t.Logf("frame count agrees with tshark on %d of %d oracle files", agree, len(want))
}
