package decode

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/tcp"
)

type seedFrame struct {
	link uint16
	data []byte
}

// seedFrames are hand-built frames covering every link type and the IP/TCP
// variants the unit tests exercise.
func seedFrames() []seedFrame {
	seg := simpleTCP(20)
	v4, v6 := ipv4TCP(seg), ipv6TCP(seg)
	syn := tcpSpec{sport: 1, dport: 2, flags: tcp.SYN, opts: cat(mssOpt(1460), wsOpt(7), sackPermOpt(), tsOpt(1, 0))}
	sack := tcpSpec{sport: 1, dport: 2, flags: tcp.ACK, opts: cat(tsOpt(1, 2), sackOpt(1, 2, 3, 4, 5, 6))}
	jumboTCP := simpleTCP(100).bytes()
	jumbo := []byte{6, 0, 0xC2, 4, 0, 0, 0, byte(8 + len(jumboTCP))}
	frag := tdFragments(simpleTCP(40).bytes(), 24)
	seeds := []seedFrame{
		{LinkEthernet, eth(etherIPv4, v4)},
		{LinkEthernet, eth(etherIPv4, ipv4TCP(syn))},
		{LinkEthernet, eth(etherIPv4, ipv4TCP(sack))},
		{LinkEthernet, eth(etherIPv6, ipv6TCP(syn))},
		{LinkEthernet, eth(etherIPv4, ipv4Spec{opts: []byte{0x94, 4, 0, 0}}.packet(seg.bytes()))},
		{LinkEthernet, eth(etherIPv4, ipv4Spec{totalLen: -1}.packet(seg.bytes()))},
		{LinkEthernet, eth(etherIPv4, v4, [2]uint16{etherQinQ, 10}, [2]uint16{etherVLAN, 20})},
		{LinkEthernet, eth(etherMPLS, cat([]byte{0, 0x64, 0x11, 64}, v4))},
		{LinkEthernet, eth(etherPPPoES, cat([]byte{0x11, 0, 0, 1, byte((len(v4) + 2) >> 8), byte(len(v4) + 2), 0, 0x21}, v4))},
		{LinkEthernet, cat(macDst, macSrc, []byte{0, byte(8 + len(v4))}, []byte{0xAA, 0xAA, 3, 0, 0, 0, 8, 0}, v4)},
		{LinkEthernet, eth(etherIPv6, ipv6Packet(0, cat(ext6(60, []byte{5, 2, 0, 0}), ext6(6, nil), seg.bytes()), -1))},
		{LinkEthernet, eth(etherIPv6, ipv6Packet(0, cat(jumbo, jumboTCP), 0))},
		{LinkEthernet, eth(etherIPv4, frag[0])},
		{LinkEthernet, eth(etherIPv4, frag[1])},
		{LinkEthernet, eth(etherIPv6, ipv6Packet(44, cat([]byte{6, 0, 0, 1, 0, 0, 0, 7}, seg.bytes()[:24]), -1))},
		{LinkLinuxSLL, cat([]byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 2, 0, 0, 8, 0}, v4)},
		{LinkLinuxSLL2, cat([]byte{0x86, 0xDD, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 2, 0, 0, 0, 0, 2, 0, 0}, v6)},
		{LinkNull, cat([]byte{2, 0, 0, 0}, v4)},
		{LinkNull, cat([]byte{0, 0, 0, 30}, v6)},
		{LinkLoop, cat([]byte{0, 0, 0, 24}, v6)},
		{LinkRaw, v4},
		{LinkRaw, v6},
		{LinkIPv4, v4},
		{LinkIPv6, v6},
		{LinkNFLOG, cat([]byte{2, 0, 0, 5, 8, 0, 1, 0, 8, 0, 3, 0, byte(4 + len(v4)), 0, 9, 0}, v4)},
		{LinkFDDI, cat([]byte{0x50}, macDst, macSrc, []byte{0xAA, 0xAA, 3, 0, 0, 0, 8, 0}, v4)},
		{LinkIPoIB, cat(make([]byte, 40), []byte{0x86, 0xDD, 0, 0}, v6)},
	}
	return seeds
}

// corpusSeeds returns the frames of the corpus's small capture files (at
// most maxFiles files of at most maxSize bytes, maxFrames frames each).
func corpusSeeds(tb testing.TB, maxFiles, maxFrames int, maxSize int64) []seedFrame {
	raw := filepath.Join(corpusDir, "raw")
	var seeds []seedFrame
	files := 0
	filepath.WalkDir(raw, func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() || files >= maxFiles {
			return nil
		}
		name := de.Name()
		if !strings.HasSuffix(name, ".pcap") && !strings.HasSuffix(name, ".pcapng") && !strings.HasSuffix(name, ".cap") {
			return nil
		}
		if st, err := os.Stat(path); err != nil || st.Size() > maxSize {
			return nil
		}
		src, err := capture.Open(path)
		if err != nil {
			return nil
		}
		defer src.Close()
		files++
		for n := 0; n < maxFrames; n++ {
			f, err := src.Next()
			if errors.Is(err, io.EOF) || err != nil {
				break
			}
			seeds = append(seeds, seedFrame{uint16(f.LinkType), append([]byte(nil), f.Data...)})
		}
		return nil
	})
	return seeds
}

// FuzzDecode decodes arbitrary bytes under an arbitrary link type: no panic,
// and an OK segment never claims more captured payload than its length.
func FuzzDecode(f *testing.F) {
	for _, s := range seedFrames() {
		f.Add(s.link, s.data)
	}
	for _, s := range corpusSeeds(f, 200, 20, 256<<10) {
		f.Add(s.link, s.data)
	}
	d := NewDecoder()
	var seg tcp.Segment
	n := int64(0)
	f.Fuzz(func(t *testing.T, linkType uint16, data []byte) {
		n++
		// A fresh defragmenter per input keeps failures reproducible from the
		// input alone; the frame is decoded three times (whole, cut by the
		// snaplen, whole again) so that fragments meet duplicates and overlaps.
		d.defrag = NewDefragmenter(DefragLimits{MaxDatagrams: 4})
		for _, orig := range []int{len(data), len(data) + 1000, len(data)} {
			fr := &capture.Frame{N: n, LinkType: uint32(linkType), Data: data, CapLen: len(data), OrigLen: orig, TS: n * 1e6}
			skip := d.Decode(fr, &seg)
			if skip >= numSkips {
				t.Fatalf("Decode returned %d", skip)
			}
			if skip != OK {
				continue
			}
			if seg.Len < 0 || len(seg.Payload) > seg.Len {
				t.Fatalf("Len %d, len(Payload) %d", seg.Len, len(seg.Payload))
			}
			if seg.Opts.NSACK > uint8(len(seg.Opts.SACK)) {
				t.Fatalf("NSACK %d", seg.Opts.NSACK)
			}
			if !seg.Src.IsValid() || !seg.Dst.IsValid() || seg.IPv6 != seg.Src.Addr().Is6() {
				t.Fatalf("endpoints %v %v (IPv6 %v)", seg.Src, seg.Dst, seg.IPv6)
			}
			EachOption(seg.Opts.Raw, func(Option) {})
		}
	})
}
