package bpf

import (
	"strings"
	"testing"
)

// TestForCookedSocket: the program made for a SOCK_DGRAM socket gives,
// on the packet without its cooked header and with the header's fields as
// metadata, the verdict of the SLL2 program on the whole packet.
func TestForCookedSocket(t *testing.T) {
	for _, e := range readCorpus(t) {
		prog, err := Compile(e.expr, LinkTypeLinuxSLL2, e.snaplen)
		if err != nil {
			continue
		}
		kernel, err := ForCookedSocket(prog)
		if err != nil {
			t.Errorf("%q: %v", e.expr, err)
			continue
		}
		if err := Validate(kernel); err != nil {
			t.Errorf("%q: %v", e.expr, err)
		}
		for _, pkt := range newPools(e.expr, prog).packets(LinkTypeLinuxSLL2, 500, e.expr) {
			if len(pkt.data) < sll2HeaderLen {
				continue
			}
			want, short := run(prog, pkt.data, pkt.meta)
			got, short2 := run(kernel, pkt.data[sll2HeaderLen:], pkt.meta)
			if got != want && !short && !short2 {
				t.Errorf("%q on a %s packet: %d for the socket, %d for SLL2", e.expr, pkt.desc, got, want)
				break
			}
		}
	}
}

func TestForCookedSocketRefusesHeaderReads(t *testing.T) {
	tests := []struct {
		prog []Instruction
		want string // "" for no error, else part of the error
		k    uint32 // K of the first instruction after
	}{
		{[]Instruction{{Code: classLD | modeABS | sizeH, K: 0}, {Code: classRET | retK, K: 1}}, "", skfAdOff + skfAdProtocol},
		{[]Instruction{{Code: classLD | modeABS | sizeW, K: 4}, {Code: classRET | retK, K: 1}}, "", skfAdOff + skfAdIfindex},
		{[]Instruction{{Code: classLD | modeABS | sizeB, K: 10}, {Code: classRET | retK, K: 1}}, "", skfAdOff + skfAdPkttype},
		{[]Instruction{{Code: classLD | modeABS | sizeH, K: 32}, {Code: classRET | retK, K: 1}}, "", 12},
		{[]Instruction{{Code: classLDX | modeMSH | sizeB, K: 20}, {Code: classRET | retK, K: 1}}, "", 0},
		{[]Instruction{{Code: classLD | modeABS | sizeB, K: skfAdOff + skfAdVlanTag}, {Code: classRET | retK, K: 1}}, "", skfAdOff + skfAdVlanTag},
		{[]Instruction{{Code: classLD | modeABS | sizeB, K: 2}, {Code: classRET | retK, K: 1}}, "offset 2", 0},
		{[]Instruction{{Code: classLD | modeIND | sizeH, K: 0}, {Code: classRET | retK, K: 1}}, "offset 0", 0},
	}
	for _, tt := range tests {
		got, err := ForCookedSocket(tt.prog)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%v: %v", tt.prog, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%v: error %v, want one with %q", tt.prog, err, tt.want)
		case err == nil && got[0].K != tt.k:
			t.Errorf("%v: K %#x, want %#x", tt.prog, got[0].K, tt.k)
		}
	}
}
