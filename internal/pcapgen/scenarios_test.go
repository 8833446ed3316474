package pcapgen

import (
	"bytes"
	"encoding/binary"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/ip4defrag"
	"github.com/gopacket/gopacket/ip6defrag"
	"github.com/gopacket/gopacket/layers"
)

var update = flag.Bool("update", false, "rewrite the scenario captures in testdata/pcaps")

const pcapsDir = "../../testdata/pcaps"

// TestScenariosUpToDate regenerates every scenario in memory and compares it
// with testdata/pcaps; `go test ./internal/pcapgen -update` rewrites them.
func TestScenariosUpToDate(t *testing.T) {
	if *update {
		if err := WriteAll(pcapsDir); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]bool{}
	for _, s := range Scenarios() {
		want[s.FileName()] = true
		t.Run(s.Name, func(t *testing.T) {
			got, err := s.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			disk, err := os.ReadFile(filepath.Join(pcapsDir, s.FileName()))
			if err != nil {
				t.Fatalf("%v (go test ./internal/pcapgen -update writes it)", err)
			}
			if !bytes.Equal(got, disk) {
				t.Errorf("testdata/pcaps/%s is stale: %d bytes on disk, %d generated (go test ./internal/pcapgen -update rewrites it)",
					s.FileName(), len(disk), len(got))
			}
		})
	}
	entries, err := os.ReadDir(pcapsDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !want[e.Name()] {
			t.Errorf("testdata/pcaps/%s is made by no scenario", e.Name())
		}
	}
}

func TestScenariosDeterministic(t *testing.T) {
	for _, s := range Scenarios() {
		a, err1 := s.Bytes()
		b, err2 := s.Bytes()
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v, %v", s.Name, err1, err2)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two renderings differ", s.Name)
		}
	}
}

func TestScenarioNamesAndDoc(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	valid := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	var names []string
	for _, s := range Scenarios() {
		if !valid.MatchString(s.Name) {
			t.Errorf("scenario name %q is not lower-case-with-dashes", s.Name)
		}
		if slices.Contains(names, s.Name) {
			t.Errorf("scenario %q listed twice", s.Name)
		}
		names = append(names, s.Name)
		if s.Format != "pcap" && s.Format != "pcapng" {
			t.Errorf("%s: format %q", s.Name, s.Format)
		}
		if s.Description == "" {
			t.Errorf("%s: no description", s.Name)
		}
		if !strings.Contains(string(doc), "  - "+s.Name+".") {
			t.Errorf("doc.go does not describe scenario %s", s.Name)
		}
	}
	for _, required := range []string{"handshake-data-close", "ipv6", "vlan", "fragments", "tso", "snaplen",
		"port-reuse", "midstream", "reset", "multi-iface", "linktype-sll", "linktype-null", "linktype-raw6"} {
		if !slices.Contains(names, required) {
			t.Errorf("scenario %s is missing", required)
		}
	}
}

// TestScenarioFrames reads every scenario back and checks each frame:
// gopacket decodes it, IPv4 header and TCP checksums are valid (TCP over
// reassembled fragments too), lengths agree, and the frame and SYN counts
// are the intended ones.
func TestScenarioFrames(t *testing.T) {
	want := map[string]struct{ frames, syns int }{
		"handshake-data-close": {12, 1},
		"ipv6":                 {27, 2},
		"vlan":                 {33, 3},
		"fragments":            {27, 2},
		"tso":                  {28, 2},
		"snaplen":              {12, 1},
		"port-reuse":           {32, 3},
		"midstream":            {11, 0},
		"reset":                {13, 2},
		"retransmit-sack":      {27, 2},
		"multi-iface":          {23, 2},
		"linktype-sll":         {11, 1},
		"linktype-sll2":        {11, 1},
		"linktype-null":        {20, 2},
		"linktype-raw6":        {11, 1},
		"anomalies":            {107, 16},
		"handshakes":           {76, 14},
		"closes":               {70, 8},
		"resets":               {61, 7},
		"wrap":                 {21, 1},
		"early-fin":            {11, 1},
		"streams":              {44, 4},
		"reset-causes":         {18, 2},
		"reset-patterns":       {65, 10},
		"injected-data":        {36, 3},
		"port-reuse-timewait":  {22, 2},
		"span-duplicates":      {47, 5},
		"dupack-window-update": {67, 4},
		"fin-then-reset":       {23, 3},
	}
	first := map[uint32]gopacket.LayerType{
		LinkTypeEthernet: layers.LayerTypeEthernet, LinkTypeNull: layers.LayerTypeLoopback,
		LinkTypeLinuxSLL: layers.LayerTypeLinuxSLL, LinkTypeLinuxSLL2: layers.LayerTypeLinuxSLL2,
		LinkTypeIPv4: layers.LayerTypeIPv4, LinkTypeIPv6: layers.LayerTypeIPv6,
	}
	for _, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			b, err := s.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			recs, _ := readCapture(t, b)
			d4, d6 := ip4defrag.NewIPv4Defragmenter(), ip6defrag.NewIPv6Defragmenter()
			syns := 0
			for i, r := range recs {
				lt, ok := first[r.linkType]
				if r.linkType == LinkTypeRaw {
					ok = true
					lt = map[bool]gopacket.LayerType{true: layers.LayerTypeIPv4, false: layers.LayerTypeIPv6}[r.data[0]>>4 == 4]
				}
				if !ok {
					t.Fatalf("frame %d: link type %d", i, r.linkType)
				}
				truncated := len(r.data) < r.origLen
				p := gopacket.NewPacket(r.data, lt, gopacket.Default)
				if el := p.ErrorLayer(); el != nil && !truncated {
					t.Fatalf("frame %d: %v", i, el.Error())
				}
				var seg []byte
				var src, dst netip.Addr
				switch ip := p.NetworkLayer().(type) {
				case *layers.IPv4:
					hdr := ip.Contents
					if Checksum(hdr) != 0 {
						t.Errorf("frame %d: bad IPv4 header checksum", i)
					}
					if total := binary.BigEndian.Uint16(hdr[2:]); total != 0 && int(total) != len(hdr)+len(ip.Payload) && !truncated {
						t.Errorf("frame %d: IPv4 total length %d for %d bytes", i, total, len(hdr)+len(ip.Payload))
					}
					src, dst = netip.AddrFrom4([4]byte(ip.SrcIP.To4())), netip.AddrFrom4([4]byte(ip.DstIP.To4()))
					whole, err := d4.DefragIPv4(ip)
					if err != nil {
						t.Fatalf("frame %d: %v", i, err)
					}
					if whole != nil {
						seg = whole.Payload
					}
				case *layers.IPv6:
					src, dst = netip.AddrFrom16([16]byte(ip.SrcIP)), netip.AddrFrom16([16]byte(ip.DstIP))
					seg = ip.Payload
					if fh, ok := p.Layer(layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment); ok {
						seg = nil
						if whole := d6.DefragIPv6(ip, fh); whole != nil {
							seg = whole.Payload
						}
					}
				default:
					t.Fatalf("frame %d: no IP layer in %v", i, p)
				}
				if seg == nil || truncated {
					continue
				}
				if !TransportChecksumOK(src, dst, ProtoTCP, seg) && !(s.Name == "anomalies" && i == 94) {
					t.Errorf("frame %d: bad TCP checksum", i) // anomalies.pcap frame 94 is wrong on purpose
				}
				if TCPFlags(seg[13])&(SYN|ACK) == SYN {
					syns++
				}
			}
			w, ok := want[s.Name]
			if !ok {
				t.Fatalf("%d frames, %d SYNs: add them to the table", len(recs), syns)
			}
			if len(recs) != w.frames || syns != w.syns {
				t.Errorf("%d frames and %d SYNs, want %d and %d", len(recs), syns, w.frames, w.syns)
			}
		})
	}
}
