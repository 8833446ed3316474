package decode

import (
	"reflect"
	"testing"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/tcp"
)

// FuzzPlainIPv4 checks that the plain IPv4 path (plainIPv4TCP) decodes
// every frame as the parser alone does: the same verdict, the same segment.
// The seeds vary what decides between the two: the header length, the total
// length (0, short, cut), the fragment bits, the protocol, the TCP header.
func FuzzPlainIPv4(f *testing.F) {
	seg := simpleTCP(20)
	v4 := ipv4TCP(seg)
	for _, s := range seedFrames() {
		f.Add(s.link, s.data)
	}
	for _, s := range corpusSeeds(f, 200, 20, 256<<10) {
		f.Add(s.link, s.data)
	}
	mut := func(fn func(b []byte) []byte) {
		b := fn(append([]byte(nil), v4...))
		f.Add(uint16(LinkEthernet), eth(etherIPv4, b))
	}
	mut(func(b []byte) []byte { return b })
	mut(func(b []byte) []byte { b[2], b[3] = 0, 0; return b })       // TSO
	mut(func(b []byte) []byte { b[2], b[3] = 0, 20; return b })      // header only
	mut(func(b []byte) []byte { b[2], b[3] = 0, 30; return b })      // TCP header cut
	mut(func(b []byte) []byte { b[2], b[3] = 0xff, 0xff; return b }) // longer than the packet
	mut(func(b []byte) []byte { b[3]--; return b })                  // padding
	mut(func(b []byte) []byte { b[6] |= 0x20; return b })            // MF
	mut(func(b []byte) []byte { b[7] = 1; return b })                // an offset
	mut(func(b []byte) []byte { b[6] |= 0x40; return b })            // DF
	mut(func(b []byte) []byte { b[6] |= 0x80; return b })            // the reserved bit
	mut(func(b []byte) []byte { b[9] = 17; return b })               // UDP
	mut(func(b []byte) []byte { b[0] = 0x44; return b })             // IHL 4
	mut(func(b []byte) []byte { b[0] = 0x46; return b })             // IHL 6
	mut(func(b []byte) []byte { b[20+12] = 0x40; return b })         // TCP data offset 4
	mut(func(b []byte) []byte { b[20+12] = 0xf0; return b })         // TCP data offset 15
	mut(func(b []byte) []byte { return b[:25] })                     // cut in the TCP header
	mut(func(b []byte) []byte { return append(b, 0, 0, 0, 0) })      // trailing bytes
	fast, slow := NewDecoder(), NewDecoder()
	slow.parserOnly = true
	var a, b tcp.Segment
	f.Fuzz(func(t *testing.T, linkType uint16, data []byte) {
		for _, orig := range []int{len(data), len(data) + 1000} {
			fr := &capture.Frame{N: 1, LinkType: uint32(linkType), Data: data, CapLen: len(data), OrigLen: orig, TS: 1e6}
			fast.defrag, slow.defrag = NewDefragmenter(DefragLimits{MaxDatagrams: 4}), NewDefragmenter(DefragLimits{MaxDatagrams: 4})
			ka, kb := fast.Decode(fr, &a), slow.Decode(fr, &b)
			if ka != kb || !reflect.DeepEqual(a, b) {
				t.Fatalf("plain path: %v %+v\nparser:     %v %+v", ka, a, kb, b)
			}
		}
	})
}

// FuzzParseOptions checks parseOptions' direct reading of NOP, NOP,
// timestamp against the option-by-option walk.
func FuzzParseOptions(f *testing.F) {
	f.Add([]byte{1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{1, 1, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7})
	f.Add([]byte{1, 0, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7})
	f.Fuzz(func(t *testing.T, raw []byte) {
		var a, b tcp.Options
		parseOptions(raw, &a)
		parseOptionsWalk(raw, &b)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("parseOptions %+v, walk %+v", a, b)
		}
	})
}
