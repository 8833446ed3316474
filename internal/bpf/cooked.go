package bpf

import "fmt"

// sll2HeaderLen is the length of the LINKTYPE_LINUX_SLL2 header.
const sll2HeaderLen = 20

// ForCookedSocket turns a program for LINKTYPE_LINUX_SLL2 packets into the
// one to attach to a SOCK_DGRAM AF_PACKET socket, which is how tcpdump
// captures on "any": the kernel runs the filter on the packet from its
// network header, without the 20-byte cooked header libpcap builds
// afterwards. As libpcap's fix_program does, offsets in the packet move
// back by 20 bytes, and reads of the header's protocol, interface index
// and packet type become the ancillary loads SKF_AD_PROTOCOL,
// SKF_AD_IFINDEX and SKF_AD_PKTTYPE. A program reading another part of
// the cooked header cannot run in the kernel (libpcap then filters in
// user space): an error. The programs of Compile never do.
func ForCookedSocket(prog []Instruction) ([]Instruction, error) {
	out := make([]Instruction, len(prog))
	for i, ins := range prog {
		out[i] = ins
		c := class(ins.Code)
		if c != classLD && c != classLDX {
			continue
		}
		m := mode(ins.Code)
		if m != modeABS && m != modeIND && m != modeMSH || ins.K >= skfAdOff {
			continue
		}
		switch {
		case ins.K >= sll2HeaderLen:
			out[i].K -= sll2HeaderLen
		case m == modeABS && ins.K == 0:
			out[i].K = skfAdOff + skfAdProtocol
		case m == modeABS && ins.K == 4:
			out[i].K = skfAdOff + skfAdIfindex
		case m == modeABS && ins.K == 10:
			out[i].K = skfAdOff + skfAdPkttype
		default:
			return nil, fmt.Errorf("bpf: instruction %d (%s) reads the cooked header at offset %d, which a SOCK_DGRAM socket's filter cannot see", i, ins, ins.K)
		}
	}
	return out, nil
}
