package wsflags_test

import (
	"bufio"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/tcptrace/tcptrace/analyze"
	"github.com/tcptrace/tcptrace/analyze/wsflags"
	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/internal/decode"
	"github.com/tcptrace/tcptrace/tcp"
)

const corpus = "../../../shared/corpus"

type fk struct {
	frame int64
	kind  string
}

// tsharkFlags reads oracle/tshark/frames/<file>.tsv: frame, stream, flags.
func tsharkFlags(t *testing.T, path string) map[fk]bool {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[fk]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) < 3 || fs[2] == "" {
			continue
		}
		n, err := strconv.ParseInt(fs[0], 10, 64)
		if err != nil {
			continue
		}
		for _, k := range strings.Split(fs[2], ",") {
			if k != "reused_ports" {
				out[fk{n, k}] = true
			}
		}
	}
	return out
}

func ourFlags(t *testing.T, path string) map[fk]bool {
	src, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dec := decode.NewDecoder()
	tbl := analyze.NewTable(analyze.DefaultConfig())
	an := map[*analyze.Conn]*wsflags.Analyzer{}
	out := map[fk]bool{}
	var seg tcp.Segment
	for {
		f, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			break
		}
		if dec.Decode(f, &seg) != decode.OK {
			continue
		}
		c, d := tbl.Add(&seg)
		a := an[c]
		if a == nil {
			a = wsflags.New(wsflags.DefaultConfig())
			an[c] = a
		}
		a.Step(d, &seg).Flags.Each(func(fl wsflags.Flag) { out[fk{seg.Frame, fl.Name()}] = true })
	}
	return out
}

// streamDifferences lists captures where tshark groups frames into
// conversations differently from our table, so its per-conversation flags
// differ for that reason alone; they are left out of the tally.
var streamDifferences = map[string]string{
	"zeek/vlan-collisions.pcap": "tshark merges the same 4-tuple on three VLANs into one stream: the copies look like retransmissions",
	"suricata-verify/tcp-split-handshake-02-5whs/split-handshake-5whs.pcap": "tshark opens a second stream at the server's SYN; we keep one connection",
	"zeek/tcp/reassembly.pcap": "frames whose IPv4 total length exceeds the wire length (valid header checksum): tshark takes the wire's 1440 bytes, " +
		"we take the IP header's 1448, which the receiver's ACKs confirm; tshark then sees ACKs of unseen data and fast retransmissions of FINs",
}

// TestTsharkFlags compares the flags with tshark's on every corpus capture and
// prints the agreement per kind; every kind must reach 95 % of tshark's
// frames unless listed in belowTarget.
func TestTsharkFlags(t *testing.T) {
	raw := filepath.Join(corpus, "raw")
	if _, err := os.Stat(raw); err != nil {
		t.Skipf("corpus not found at %s: %v", raw, err)
	}
	type tally struct{ both, onlyTshark, onlyUs int }
	per := map[string]*tally{}
	get := func(k string) *tally {
		if per[k] == nil {
			per[k] = &tally{}
		}
		return per[k]
	}
	_ = filepath.WalkDir(raw, func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(raw, p)
		if why, ok := streamDifferences[filepath.ToSlash(rel)]; ok {
			t.Logf("left out %s: %s", rel, why)
			return nil
		}
		tsv := filepath.Join(corpus, "oracle/tshark/frames", strings.ReplaceAll(filepath.ToSlash(rel), "/", "__")+".tsv")
		if _, err := os.Stat(tsv); err != nil {
			return nil
		}
		theirs, ours := tsharkFlags(t, tsv), ourFlags(t, p)
		for k := range theirs {
			if ours[k] {
				get(k.kind).both++
			} else {
				get(k.kind).onlyTshark++
			}
		}
		for k := range ours {
			if !theirs[k] {
				get(k.kind).onlyUs++
			}
		}
		return nil
	})
	kinds := make([]string, 0, len(per))
	for k := range per {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	t.Logf("%-24s %7s %7s %7s %7s", "kind", "both", "tshark", "ours", "agree%")
	for _, k := range kinds {
		v := per[k]
		pct := 100.0
		if v.both+v.onlyTshark > 0 {
			pct = 100 * float64(v.both) / float64(v.both+v.onlyTshark)
		}
		t.Logf("%-24s %7d %7d %7d %6.1f%%", k, v.both, v.onlyTshark, v.onlyUs, pct)
		if why, ok := belowTarget[k]; ok {
			if pct >= 95 {
				t.Errorf("%s reaches %.1f%%: remove it from belowTarget", k, pct)
			}
			t.Logf("  %s below the 95%% target, known: %s", k, why)
			continue
		}
		if pct < 95 {
			t.Errorf("%s: %.1f%% of tshark's frames, target 95%%", k, pct)
		}
	}
}

// belowTarget lists kinds still under 95 % agreement, with what is known of
// the cause (none at present).
var belowTarget = map[string]string{}
