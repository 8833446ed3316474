package cli

import (
	"github.com/tcptrace/tcptrace/internal/bpf"
	"github.com/tcptrace/tcptrace/internal/live"
)

// compileFilter compiles a capture filter for the packets the kernel
// filter sees: live.LinkEthernet (offsets from the Ethernet header), or
// live.LinkRaw on a cooked socket (-i any), where the program is compiled
// for Linux cooked headers and its link-level loads turned into the
// kernel's ancillary loads, as libpcap does.
func compileFilter(expr string, linkType uint32, snaplen int) ([]live.Instruction, error) {
	var prog []bpf.Instruction
	var err error
	switch linkType {
	case live.LinkRaw:
		if prog, err = bpf.Compile(expr, bpf.LinkTypeLinuxSLL2, snaplen); err == nil {
			prog, err = bpf.ForCookedSocket(prog)
		}
	default:
		prog, err = bpf.Compile(expr, linkType, snaplen)
	}
	if err != nil {
		return nil, err
	}
	out := make([]live.Instruction, len(prog))
	for i, in := range prog {
		out[i] = live.Instruction{Code: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	return out, nil
}
