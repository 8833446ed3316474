package analyze

import (
	"bufio"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const corpusDir = "../../shared/corpus"

// corpusFiles lists the captures under corpus/raw, or skips the test when the
// corpus is absent (a user's fresh clone).
func corpusFiles(t *testing.T) []string {
	t.Helper()
	raw := filepath.Join(corpusDir, "raw")
	if _, err := os.Stat(raw); err != nil {
		t.Skipf("conformance corpus not found at %s (it lives beside the repository): %v", raw, err)
	}
	var files []string
	err := filepath.WalkDir(raw, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch filepath.Ext(p) {
		case ".pcap", ".pcapng", ".cap":
			rel, _ := filepath.Rel(raw, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// corpusFilesOrNil is corpusFiles without the skip: nil when the corpus is
// absent.
func corpusFilesOrNil(t *testing.T) []string {
	if _, err := os.Stat(filepath.Join(corpusDir, "raw")); err != nil {
		t.Logf("conformance corpus not found: only the scenario captures are used")
		return nil
	}
	return corpusFiles(t)
}

// tsharkConv is one row of `tshark -q -z conv,tcp`.
type tsharkConv struct {
	a, b   netip.AddrPort
	frames int64 // total frames both ways
}

func parseAddrPort(s string) (netip.AddrPort, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return netip.AddrPort{}, fmt.Errorf("no port in %q", s)
	}
	a, err := netip.ParseAddr(s[:i])
	if err != nil {
		return netip.AddrPort{}, err
	}
	p, err := strconv.ParseUint(s[i+1:], 10, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return netip.AddrPortFrom(a, uint16(p)), nil
}

func readTsharkConv(t *testing.T, path string) []tsharkConv {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("oracle: %v", err)
	}
	defer f.Close()
	var out []tsharkConv
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) < 12 || fl[1] != "<->" {
			continue
		}
		a, err1 := parseAddrPort(fl[0])
		b, err2 := parseAddrPort(fl[2])
		total, err3 := strconv.ParseInt(fl[9], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("%s: cannot parse %q", path, sc.Text())
		}
		out = append(out, tsharkConv{a, b, total})
	}
	return out
}

// connCountExceptions lists the files where tcptrace deliberately counts
// connections differently from tshark's conversation table, and why.
var connCountExceptions = map[string]string{
	"zeek/vlan-collisions.pcap": "the same 4-tuple on no VLAN, VLAN 42 and QinQ 10.20 is three connections; tshark merges them",
	"suricata-verify/tcp-split-handshake-02-5whs/split-handshake-5whs.pcap": "split handshake (SYN, ACK, SYN from the server, SYN-ACK): one connection; " +
		"tshark opens a second stream at the server's SYN although no data, FIN or RST separates them",
}

// frameCountExceptions lists tuples whose frame count differs from tshark's
// conversation table, and why.
var frameCountExceptions = map[string]string{
	"suricata-verify/tcp-empty-sack/tcp-opt.pcap": "one segment carries a SACK option with no blocks: tshark's TCP dissector throws " +
		"a malformed-packet exception before its conversation tap runs, so conv,tcp shows 41 frames " +
		"while its own tcp count (oracle/tshark/summary.tsv) is 42, as is ours",
}

// TestConnectionsMatchTshark checks, for every corpus capture, that tcptrace
// finds the conversations of `tshark -z conv,tcp` with the same number of
// frames, and the same number of connections except where listed.
func TestConnectionsMatchTshark(t *testing.T) {
	files := corpusFiles(t)
	var agreeCount, agreeFrames, tuples int
	for _, rel := range files {
		oracle := filepath.Join(corpusDir, "oracle/tshark/conv", strings.ReplaceAll(rel, "/", "__")+".txt")
		if _, err := os.Stat(oracle); err != nil {
			t.Errorf("%s: no tshark oracle %s", rel, oracle)
			continue
		}
		t.Run(rel, func(t *testing.T) {
			rep := analyzeFile(t, filepath.Join(corpusDir, "raw", rel))
			conv := readTsharkConv(t, oracle)
			if reason, ok := connCountExceptions[rel]; ok {
				t.Logf("connection count: ours %d, tshark %d — deliberate: %s", len(rep.Conns), len(conv), reason)
			} else if len(rep.Conns) != len(conv) {
				t.Errorf("connections: ours %d, tshark %d", len(rep.Conns), len(conv))
			} else {
				agreeCount++
			}
			// Frames per tuple (summed over tuple reuse and VLANs, as tshark merges them).
			type tk struct{ a, b netip.AddrPort }
			key := func(a, b netip.AddrPort) tk {
				if b.Compare(a) < 0 {
					a, b = b, a
				}
				return tk{a, b}
			}
			ours := map[tk]int64{}
			for _, c := range rep.Conns {
				ours[key(netip.MustParseAddrPort(c.Client), netip.MustParseAddrPort(c.Server))] += c.Packets.Client + c.Packets.Server
			}
			theirs := map[tk]int64{}
			for _, c := range conv {
				theirs[key(c.a, c.b)] += c.frames
			}
			for k, n := range theirs {
				tuples++
				if reason, ok := frameCountExceptions[rel]; ok && ours[k] != n {
					t.Logf("%s <-> %s: ours %d frames, tshark %d — deliberate: %s", k.a, k.b, ours[k], n, reason)
				} else if ours[k] != n {
					t.Errorf("%s <-> %s: ours %d frames, tshark %d", k.a, k.b, ours[k], n)
				} else {
					agreeFrames++
				}
			}
			for k := range ours {
				if _, ok := theirs[k]; !ok {
					t.Errorf("%s <-> %s: found by tcptrace, not by tshark", k.a, k.b)
				}
			}
		})
	}
	t.Logf("connection counts agree on %d of %d files (%d listed exceptions); frames agree on %d of %d tuples",
		agreeCount, len(files), len(connCountExceptions), agreeFrames, tuples)
}

// TestLoopbackScenarios checks the real loopback capture against what each
// server port of its generator does (corpus/MANIFEST.md): 18999 is a closed
// port (refused), 18091 and 18094 reset the connection from the server side,
// 18092 is a client half-close followed by server data.
func TestLoopbackScenarios(t *testing.T) {
	path := filepath.Join(corpusDir, "raw/loopback/real-lo-dev.pcap")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("loopback capture not found (%v)", err)
	}
	rep := analyzeFile(t, path)
	seen := map[string]int{}
	for _, c := range rep.Conns {
		port := c.Server[strings.LastIndexByte(c.Server, ':')+1:]
		seen[port]++
		desc := fmt.Sprintf("conn %d %s → %s (frames %d-%d): %s", c.ID, c.Client, c.Server, c.FirstFrame, c.LastFrame, c.State)
		switch port {
		case "18999":
			if c.Handshake.Class != "refused" || c.Close.Class != "reset" || c.ClosedBy != "server" {
				t.Errorf("closed port must refuse: %s", desc)
			}
		case "18091", "18094":
			if c.Close.Class != "reset" || c.ClosedBy != "server" || c.Close.ResetBy != "server" {
				t.Errorf("server must reset: %s", desc)
			}
		case "18092":
			if c.ClosedBy != "client" || c.Close.HalfCloseData == 0 || c.Close.FirstFIN == 0 {
				t.Errorf("client half-close followed by server data expected: %s (half-close bytes %d)", desc, c.Close.HalfCloseData)
			}
		}
	}
	for _, p := range []string{"18999", "18091", "18094", "18092"} {
		if seen[p] == 0 {
			t.Errorf("no connection to port %s found", p)
		}
	}
	t.Logf("connections per server port: %v", seen)
}
