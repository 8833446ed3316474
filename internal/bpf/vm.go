package bpf

// Meta is the packet metadata the kernel's ancillary loads read (the
// sk_buff fields behind SKF_AD_*). The zero value is an untagged packet.
type Meta struct {
	Protocol   uint16 // SKF_AD_PROTOCOL: skb->protocol, the EtherType (host order)
	PktType    uint8  // SKF_AD_PKTTYPE: PACKET_HOST, PACKET_OUTGOING…
	Ifindex    uint32 // SKF_AD_IFINDEX
	Hatype     uint16 // SKF_AD_HATYPE: ARPHRD_*
	VLANTagged bool   // SKF_AD_VLAN_TAG_PRESENT: the NIC or the kernel stripped a tag
	VLANTCI    uint16 // SKF_AD_VLAN_TAG: the stripped tag's TCI
}

// Run executes a program on a packet as the Linux kernel does and returns
// its verdict: the number of bytes to keep (0 drops the packet). As in the
// kernel, a load beyond the end of the packet ends the program with 0, a
// division by zero too, and the scratch memory starts zeroed. Run never
// panics, also on a program Validate rejects (it then returns 0).
func Run(prog []Instruction, pkt []byte, meta Meta) uint32 {
	v, _ := run(prog, pkt, meta)
	return v
}

// run is Run, also saying whether the program ended on a load beyond the
// end of the packet.
func run(prog []Instruction, pkt []byte, meta Meta) (verdict uint32, short bool) {
	var a, x uint32
	var mem [memWords]uint32
	load := func(off uint32, sz uint16) (uint32, bool) {
		if off >= skfAdOff {
			switch off - skfAdOff {
			case skfAdProtocol:
				return uint32(meta.Protocol), true
			case skfAdPkttype:
				return uint32(meta.PktType), true
			case skfAdIfindex:
				return meta.Ifindex, true
			case skfAdHatype:
				return uint32(meta.Hatype), true
			case skfAdVlanTag:
				return uint32(meta.VLANTCI), true
			case skfAdVlanTagPresent:
				if meta.VLANTagged {
					return 1, true
				}
				return 0, true
			}
			return 0, false
		}
		n := uint32(4)
		switch sz {
		case sizeH:
			n = 2
		case sizeB:
			n = 1
		}
		if uint64(off)+uint64(n) > uint64(len(pkt)) {
			return 0, false
		}
		var v uint32
		for i := uint32(0); i < n; i++ {
			v = v<<8 | uint32(pkt[off+i])
		}
		return v, true
	}
	for pc := 0; pc < len(prog); pc++ {
		ins := prog[pc]
		c, k := ins.Code, ins.K
		switch class(c) {
		case classLD:
			switch mode(c) {
			case modeIMM:
				a = k
			case modeLEN:
				a = uint32(len(pkt))
			case modeMEM:
				if k >= memWords {
					return 0, false
				}
				a = mem[k]
			case modeABS, modeIND:
				off := k
				if mode(c) == modeIND {
					off += x
					if off < x || (off >= skfAdOff && k < skfAdOff) {
						return 0, true // wrapped, or reached the ancillary range through X
					}
				}
				v, ok := load(off, size(c))
				if !ok {
					return 0, off < skfAdOff
				}
				a = v
			default:
				return 0, false
			}
		case classLDX:
			switch mode(c) {
			case modeIMM:
				x = k
			case modeLEN:
				x = uint32(len(pkt))
			case modeMEM:
				if k >= memWords {
					return 0, false
				}
				x = mem[k]
			case modeMSH:
				if k >= skfAdOff {
					return 0, false
				}
				v, ok := load(k, sizeB)
				if !ok {
					return 0, true
				}
				x = 4 * (v & 0xf)
			default:
				return 0, false
			}
		case classST:
			if k >= memWords {
				return 0, false
			}
			mem[k] = a
		case classSTX:
			if k >= memWords {
				return 0, false
			}
			mem[k] = x
		case classALU:
			operand := k
			if src(c) == srcX {
				operand = x
			}
			switch op(c) {
			case aluADD:
				a += operand
			case aluSUB:
				a -= operand
			case aluMUL:
				a *= operand
			case aluDIV:
				if operand == 0 {
					return 0, false
				}
				a /= operand
			case aluMOD:
				if operand == 0 {
					return 0, false
				}
				a %= operand
			case aluOR:
				a |= operand
			case aluAND:
				a &= operand
			case aluXOR:
				a ^= operand
			case aluLSH:
				a <<= operand & 31
			case aluRSH:
				a >>= operand & 31
			case aluNEG:
				a = -a
			default:
				return 0, false
			}
		case classJMP:
			if op(c) == jmpJA {
				pc += int(k)
				continue
			}
			operand := k
			if src(c) == srcX {
				operand = x
			}
			var cond bool
			switch op(c) {
			case jmpJEQ:
				cond = a == operand
			case jmpJGT:
				cond = a > operand
			case jmpJGE:
				cond = a >= operand
			case jmpJSET:
				cond = a&operand != 0
			default:
				return 0, false
			}
			if cond {
				pc += int(ins.Jt)
			} else {
				pc += int(ins.Jf)
			}
		case classRET:
			if c&0x18 == retA {
				return a, false
			}
			return k, false
		case classMISC:
			if c&0xf8 == miscTXA {
				a = x
			} else {
				x = a
			}
		}
	}
	return 0, false
}
