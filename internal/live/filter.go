package live

import "fmt"

// Classic BPF opcodes and the kernel's ancillary offsets (linux/filter.h).
const (
	bpfLdWAbs = 0x20 // BPF_LD | BPF_W | BPF_ABS
	bpfLdImm  = 0x00 // BPF_LD | BPF_IMM
	bpfJeqK   = 0x15 // BPF_JMP | BPF_JEQ | BPF_K
	bpfRetK   = 0x06 // BPF_RET | BPF_K

	skfAdOff     = 0xfffff000 // SKF_AD_OFF (-4096)
	skfAdPkttype = 4
	skfAdHatype  = 28

	bpfMaxInsns = 4096 // BPF_MAXINSNS
)

// dropAll is the filter that stops a capture: nothing passes.
var dropAll = []Instruction{{Code: bpfRetK, K: 0}}

// loopbackOutgoingPrefix rejects the outgoing copies of loopback packets
// (hatype ARPHRD_LOOPBACK, pkttype PACKET_OUTGOING) and leaves A = 0 for
// the program that follows, as the kernel leaves it at the start.
var loopbackOutgoingPrefix = []Instruction{
	{Code: bpfLdWAbs, K: skfAdOff + skfAdHatype},
	{Code: bpfJeqK, Jt: 0, Jf: 3, K: hatypeLoopback},
	{Code: bpfLdWAbs, K: skfAdOff + skfAdPkttype},
	{Code: bpfJeqK, Jt: 0, Jf: 1, K: pkttypeOutgoing},
	{Code: bpfRetK, K: 0},
	{Code: bpfLdImm, K: 0},
}

// program builds the filter attached to a socket: the loopback prefix when
// asked, then the user's program with every accepting return value lowered
// to snap (the kernel keeps that many bytes), or a plain "keep snap bytes"
// without a user program.
func program(user []Instruction, dropLoopbackOutgoing bool, snap uint32) ([]Instruction, error) {
	var prog []Instruction
	if dropLoopbackOutgoing {
		prog = append(prog, loopbackOutgoingPrefix...)
	}
	if len(user) == 0 {
		return append(prog, Instruction{Code: bpfRetK, K: snap}), nil
	}
	if len(prog)+len(user) > bpfMaxInsns {
		return nil, fmt.Errorf("live: filter program of %d instructions is over the kernel's limit of %d", len(user), bpfMaxInsns-len(prog))
	}
	for _, ins := range user {
		if ins.Code == bpfRetK && ins.K > snap {
			ins.K = snap
		}
		prog = append(prog, ins)
	}
	return prog, nil
}
