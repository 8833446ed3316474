package analyze

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/reassembly"
	"github.com/tcptrace/tcptrace/tcp"
)

// collector is a Tap that keeps every connection's reassembled bytes.
type collector struct {
	conns map[int]*collected
}

type collected struct {
	id             int
	client, server netip.AddrPort
	data           [2][]byte
	gaps           [2][]reassembly.Gap
	conflicts      int
	conn           *Conn
}

func (c *collected) Data(d tcp.Dir, off int64, b []byte, frame int64, file int) {
	c.data[d] = append(c.data[d], b...)
}
func (c *collected) Gap(d tcp.Dir, g reassembly.Gap)              { c.gaps[d] = append(c.gaps[d], g) }
func (c *collected) Conflict(d tcp.Dir, x reassembly.Conflict)    { c.conflicts++ }
func (c *collected) FIN(d tcp.Dir, off int64, frame int64, f int) {}

func reassembleFile(t *testing.T, path string) map[int]*collected {
	src, err := capture.Open(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer src.Close()
	col := &collector{conns: map[int]*collected{}}
	cfg := DefaultConfig()
	cfg.History = 1 << 20
	cfg.Tap = func(c *Conn) reassembly.Handler {
		k := &collected{id: c.ID, client: c.Client, server: c.Server, conn: c}
		col.conns[c.ID] = k
		return k
	}
	e := NewEngine(cfg)
	_ = e.Run(src)
	e.Report(nil)
	return col.conns
}

// tsharkFollow is one `-z follow,tcp,raw,N` section: the bytes of each node.
type tsharkFollow struct {
	stream int
	nodes  [2]netip.AddrPort
	data   [2][]byte
}

// runTsharkFollow follows streams 0..n-1 of path in one tshark run.
func runTsharkFollow(path string, n int) (map[int]*tsharkFollow, error) {
	args := []string{"-n", "-r", path, "-q"}
	for i := range n {
		args = append(args, "-z", fmt.Sprintf("follow,tcp,raw,%d", i))
	}
	cmd := exec.Command("tshark", args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("tshark: %w", err)
	}
	res := map[int]*tsharkFollow{}
	var cur *tsharkFollow
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "Filter: tcp.stream eq "):
			id, err := strconv.Atoi(strings.TrimPrefix(line, "Filter: tcp.stream eq "))
			if err != nil {
				return nil, err
			}
			cur = &tsharkFollow{stream: id}
			res[id] = cur
		case cur == nil || line == "" || strings.HasPrefix(line, "=====") || strings.HasPrefix(line, "Follow:"):
		case strings.HasPrefix(line, "Node 0: "), strings.HasPrefix(line, "Node 1: "):
			ap, err := netip.ParseAddrPort(line[8:])
			if err != nil {
				return nil, err
			}
			cur.nodes[line[5]-'0'] = ap
		default:
			node := 0
			if line[0] == '\t' {
				node, line = 1, line[1:]
			}
			b, err := hex.DecodeString(line)
			if err != nil {
				return nil, fmt.Errorf("stream %d: %w", cur.stream, err)
			}
			cur.data[node] = append(cur.data[node], b...)
		}
	}
	return res, sc.Err()
}

// tsharkStreams reads the oracle's per-file stream count and the streams
// tshark flags with capture loss (lost_segment, ack_lost_segment).
func tsharkStreams(t *testing.T, rel string) (int, map[int]bool, bool) {
	f, err := os.Open(filepath.Join(corpusDir, "oracle/tshark/summary.tsv"))
	if err != nil {
		t.Skipf("tshark oracle not found: %v", err)
	}
	defer f.Close()
	n := -1
	sc := bufio.NewScanner(f)
	var col int
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		if fs[0] == "file" {
			for i, h := range fs {
				if h == "stream_streams" {
					col = i
				}
			}
			continue
		}
		if fs[0] == rel && col > 0 {
			n, _ = strconv.Atoi(fs[col])
		}
	}
	lossy := map[int]bool{}
	b, err := os.ReadFile(filepath.Join(corpusDir, "oracle/tshark/frames", strings.ReplaceAll(rel, "/", "__")+".tsv"))
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			fs := strings.Split(line, "\t")
			if len(fs) == 3 && (fs[2] == "lost_segment" || fs[2] == "ack_lost_segment") {
				s, _ := strconv.Atoi(fs[1])
				lossy[s] = true
			}
		}
	}
	return n, lossy, n >= 0
}

// followKnownDiffs are the files where tshark's Follow and tcptrace differ
// by design, with the reason.
var followKnownDiffs = map[string]string{
	"tcpdump/of13_ericsson.pcapng": "OpenFlow packet-in messages carry whole packets; tshark dissects their inner TCP headers and its Follow mixes the inner segments into the outer stream",
	"zeek/ipv4/fragmented-4.pcap":  "overlapping IP fragments with different bytes: Wireshark's IP reassembly keeps the later copy, tcptrace's the first",
}

// TestFollowMatchesTshark: for every connection of the corpus without capture
// loss, the reassembled bytes of each direction equal what `tshark -z
// follow,tcp,raw,N` prints for the same stream. Streams are paired by tuple
// and order of appearance (tshark numbers streams as they appear, as
// tcptrace numbers connections).
func TestFollowMatchesTshark(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the Follow comparison runs tshark on every corpus capture (~30 s); reassembly's own tests and the scenario goldens still run")
	}
	files := corpusFiles(t)
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed (Debian package tshark; .ci/run installs it): skipping the follow conformance test")
	}
	var mu sync.Mutex
	var compared, lossy, skipped, bytesCompared int
	t.Cleanup(func() {
		t.Logf("compared %d streams (%d bytes) with tshark; %d streams left out as capture loss (tshark's lost_segment/ack_lost_segment), %d as unpaired, truncated or carrying data on a RST",
			compared, bytesCompared, lossy, skipped)
	})
	for _, rel := range files {
		n, loss, ok := tsharkStreams(t, rel)
		if ok && n == 0 {
			continue
		}
		if why := followKnownDiffs[rel]; why != "" {
			t.Logf("%s left out: %s", rel, why)
			continue
		}
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(corpusDir, "raw", rel)
			if !ok { // not in the oracle's summary: count the streams here
				out, err := exec.Command("tshark", "-n", "-r", path, "-T", "fields", "-e", "tcp.stream").Output()
				if err != nil {
					t.Skipf("tshark cannot read it: %v", err)
				}
				for _, f := range strings.Fields(string(out)) {
					if v, err := strconv.Atoi(f); err == nil && v+1 > n {
						n = v + 1
					}
				}
			}
			ours := reassembleFile(t, path)
			var ids []int
			for id, c := range ours {
				if len(c.data[0])+len(c.data[1]) > 0 || len(c.gaps[0])+len(c.gaps[1]) > 0 {
					ids = append(ids, id)
				}
			}
			if len(ids) == 0 {
				return
			}
			theirs, err := runTsharkFollow(path, n)
			if err != nil {
				t.Fatal(err)
			}
			// Pair by unordered tuple, in order of appearance.
			type tk struct{ a, b netip.AddrPort }
			key := func(a, b netip.AddrPort) tk {
				if a.String() > b.String() {
					a, b = b, a
				}
				return tk{a, b}
			}
			oursBy := map[tk][]*collected{}
			var all []*collected
			for _, c := range ours {
				all = append(all, c)
			}
			sort.Slice(all, func(i, j int) bool { return all[i].id < all[j].id })
			for _, c := range all {
				k := key(c.client, c.server)
				oursBy[k] = append(oursBy[k], c)
			}
			theirsBy := map[tk][]*tsharkFollow{}
			for i := range n {
				if f := theirs[i]; f != nil {
					k := key(f.nodes[0], f.nodes[1])
					theirsBy[k] = append(theirsBy[k], f)
				}
			}
			var c, l, s, nb int
			for k, os := range oursBy {
				ts := theirsBy[k]
				if len(os) != len(ts) {
					s += len(os)
					t.Logf("%s ↔ %s: %d connections here, %d tshark streams: not paired", k.a, k.b, len(os), len(ts))
					continue
				}
				for i, o := range os {
					f := ts[i]
					if loss[f.stream] {
						l++
						continue
					}
					truncated := false
					for _, d := range tcp.Dirs {
						for _, g := range o.gaps[d] {
							if g.Reason == reassembly.GapSnaplen {
								truncated = true
							} else {
								t.Errorf("conn %d (tshark stream %d): gap %+v in the %s stream, but tshark saw no capture loss", o.id, f.stream, g, d.String())
							}
						}
					}
					if truncated {
						s++
						continue
					}
					if o.conn.stream[0].Stats.RSTData+o.conn.stream[1].Stats.RSTData > 0 {
						// Wireshark's Follow shows a RST's payload; no
						// application receives it, so tcptrace does not.
						s++
						continue
					}
					for _, d := range tcp.Dirs {
						node := 0
						if f.nodes[1] == [2]netip.AddrPort{o.client, o.server}[d] {
							node = 1
						}
						if !bytes.Equal(o.data[d], f.data[node]) {
							t.Errorf("conn %d (tshark stream %d) %s stream: %d bytes, tshark %d; first difference at %d",
								o.id, f.stream, d.String(), len(o.data[d]), len(f.data[node]), firstDiff(o.data[d], f.data[node]))
						}
						nb += len(o.data[d])
					}
					c++
				}
			}
			mu.Lock()
			compared, lossy, skipped, bytesCompared = compared+c, lossy+l, skipped+s, bytesCompared+nb
			mu.Unlock()
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
