package bpf

import (
	"fmt"
	"strings"
)

// Instruction is one classic BPF instruction, laid out as the kernel's
// struct sock_filter (and golang.org/x/sys/unix.SockFilter, to which it
// converts field by field).
type Instruction struct {
	Code uint16
	Jt   uint8
	Jf   uint8
	K    uint32
}

// Opcode fields (linux/bpf_common.h, linux/filter.h).
const (
	classLD   = 0x00
	classLDX  = 0x01
	classST   = 0x02
	classSTX  = 0x03
	classALU  = 0x04
	classJMP  = 0x05
	classRET  = 0x06
	classMISC = 0x07

	sizeW = 0x00
	sizeH = 0x08
	sizeB = 0x10

	modeIMM = 0x00
	modeABS = 0x20
	modeIND = 0x40
	modeMEM = 0x60
	modeLEN = 0x80
	modeMSH = 0xa0

	aluADD = 0x00
	aluSUB = 0x10
	aluMUL = 0x20
	aluDIV = 0x30
	aluOR  = 0x40
	aluAND = 0x50
	aluLSH = 0x60
	aluRSH = 0x70
	aluNEG = 0x80
	aluMOD = 0x90
	aluXOR = 0xa0

	jmpJA   = 0x00
	jmpJEQ  = 0x10
	jmpJGT  = 0x20
	jmpJGE  = 0x30
	jmpJSET = 0x40

	srcK = 0x00
	srcX = 0x08

	retK = 0x00
	retA = 0x10

	miscTAX = 0x00
	miscTXA = 0x80

	// MaxInstructions is the kernel's BPF_MAXINSNS: the longest program
	// SO_ATTACH_FILTER takes.
	MaxInstructions = 4096
	// memWords is BPF_MEMWORDS, the number of scratch memory slots M[].
	memWords = 16
)

// Ancillary loads (linux/filter.h): a load at SKF_AD_OFF + n reads packet
// metadata instead of packet bytes.
const (
	skfAdOff            = 0xfffff000 // SKF_AD_OFF (-0x1000)
	skfAdProtocol       = 0
	skfAdPkttype        = 4
	skfAdIfindex        = 8
	skfAdHatype         = 28
	skfAdVlanTag        = 44
	skfAdVlanTagPresent = 48
)

func class(code uint16) uint16 { return code & 0x07 }
func size(code uint16) uint16  { return code & 0x18 }
func mode(code uint16) uint16  { return code & 0xe0 }
func op(code uint16) uint16    { return code & 0xf0 }
func src(code uint16) uint16   { return code & 0x08 }

// String formats the instruction as tcpdump -d does, without the line
// number; jump targets are given relative to the next instruction
// ("jt +2").
func (ins Instruction) String() string { return ins.format(-1) }

// ancillaryNames are libpcap's names of the SKF_AD_* loads.
var ancillaryNames = map[uint32]string{
	skfAdProtocol: "proto", skfAdPkttype: "type", skfAdIfindex: "ifidx", skfAdHatype: "hatype",
	skfAdVlanTag: "vlan_tci", skfAdVlanTagPresent: "vlanp",
}

// format formats the instruction at index pc as libpcap's bpf_image
// does (tcpdump -d, absolute jump targets); pc < 0 gives relative targets.
func (ins Instruction) format(pc int) string {
	target := func(off uint32) string {
		if pc < 0 {
			return fmt.Sprintf("+%d", off)
		}
		return fmt.Sprint(pc + 1 + int(off))
	}
	c, k := ins.Code, ins.K
	sz := map[uint16]string{sizeW: "", sizeH: "h", sizeB: "b", 0x18: "?"}[size(c)]
	var name, operand string
	switch class(c) {
	case classLD, classLDX:
		name = "ld"
		if class(c) == classLDX {
			name = "ldx"
		}
		switch mode(c) {
		case modeIMM:
			operand = fmt.Sprintf("#%#x", k)
		case modeABS:
			name += sz
			operand = fmt.Sprintf("[%d]", k)
			if n, ok := ancillaryNames[k-skfAdOff]; ok && k >= skfAdOff {
				operand = "[" + n + "]"
			}
		case modeIND:
			name += sz
			operand = fmt.Sprintf("[x + %d]", k)
		case modeMEM:
			operand = fmt.Sprintf("M[%d]", k)
		case modeLEN:
			operand = "#pktlen"
		case modeMSH:
			name = "ldxb"
			operand = fmt.Sprintf("4*([%d]&0xf)", k)
		default:
			name, operand = "unimp", fmt.Sprintf("%#x", c)
		}
	case classST:
		name, operand = "st", fmt.Sprintf("M[%d]", k)
	case classSTX:
		name, operand = "stx", fmt.Sprintf("M[%d]", k)
	case classALU:
		name = map[uint16]string{aluADD: "add", aluSUB: "sub", aluMUL: "mul", aluDIV: "div", aluOR: "or",
			aluAND: "and", aluLSH: "lsh", aluRSH: "rsh", aluNEG: "neg", aluMOD: "mod", aluXOR: "xor"}[op(c)]
		switch {
		case op(c) == aluNEG:
		case src(c) == srcX:
			operand = "x"
		case op(c) == aluAND || op(c) == aluOR || op(c) == aluXOR:
			operand = fmt.Sprintf("#%#x", k)
		default:
			operand = fmt.Sprintf("#%d", int32(k))
		}
	case classJMP:
		if op(c) == jmpJA {
			name, operand = "ja", target(k)
			break
		}
		name = map[uint16]string{jmpJEQ: "jeq", jmpJGT: "jgt", jmpJGE: "jge", jmpJSET: "jset"}[op(c)]
		operand = fmt.Sprintf("#%#x", k)
		if src(c) == srcX {
			operand = "x"
		}
		return fmt.Sprintf("%-8s %-16s jt %s\tjf %s", name, operand, target(uint32(ins.Jt)), target(uint32(ins.Jf)))
	case classRET:
		name, operand = "ret", fmt.Sprintf("#%d", int32(k))
		if c&0x18 == retA {
			operand = ""
		}
	case classMISC:
		name = "tax"
		if c&0xf8 == miscTXA {
			name = "txa"
		}
	}
	if name == "" {
		name, operand = "unimp", fmt.Sprintf("%#x", c)
	}
	return fmt.Sprintf("%-8s %s", name, operand)
}

// Disassemble formats a program as tcpdump -d does.
func Disassemble(prog []Instruction) string {
	var b strings.Builder
	for i, ins := range prog {
		fmt.Fprintf(&b, "(%03d) %s\n", i, ins.format(i))
	}
	return b.String()
}

// FormatC formats a program as tcpdump -dd does: one C initializer per line.
func FormatC(prog []Instruction) string {
	var b strings.Builder
	for _, ins := range prog {
		fmt.Fprintf(&b, "{ %#x, %d, %d, 0x%08x },\n", ins.Code, ins.Jt, ins.Jf, ins.K)
	}
	return b.String()
}

// Validate checks a program as the kernel's classic BPF checker does
// (net/core/filter.c bpf_check_classic): a length of 1..MaxInstructions,
// known opcodes, jumps that stay inside the program and only go forward,
// scratch memory indexes below 16, no division by a constant zero, and a
// return as the last instruction.
func Validate(prog []Instruction) error {
	if len(prog) == 0 || len(prog) > MaxInstructions {
		return fmt.Errorf("bpf: program of %d instructions (want 1..%d)", len(prog), MaxInstructions)
	}
	for pc, ins := range prog {
		c := ins.Code
		bad := func(why string) error {
			return fmt.Errorf("bpf: instruction %d (%s): %s", pc, ins, why)
		}
		switch class(c) {
		case classLD:
			switch mode(c) {
			case modeIMM, modeLEN:
				if size(c) != sizeW {
					return bad("bad size")
				}
			case modeABS, modeIND:
				if size(c) == 0x18 {
					return bad("bad size")
				}
			case modeMEM:
				if size(c) != sizeW || ins.K >= memWords {
					return bad("bad scratch memory index")
				}
			default:
				return bad("bad load mode")
			}
		case classLDX:
			switch mode(c) {
			case modeIMM, modeLEN:
				if size(c) != sizeW {
					return bad("bad size")
				}
			case modeMEM:
				if size(c) != sizeW || ins.K >= memWords {
					return bad("bad scratch memory index")
				}
			case modeMSH:
				if size(c) != sizeB {
					return bad("bad size")
				}
			default:
				return bad("bad load mode")
			}
		case classST, classSTX:
			if c&^0x07 != 0 || ins.K >= memWords {
				return bad("bad store")
			}
		case classALU:
			if c&0x07 != classALU || op(c) > aluXOR {
				return bad("bad ALU operation")
			}
			if (op(c) == aluDIV || op(c) == aluMOD) && src(c) == srcK && ins.K == 0 {
				return bad("division by zero")
			}
		case classJMP:
			if op(c) == jmpJA {
				if c != classJMP {
					return bad("bad jump")
				}
				if uint64(pc)+1+uint64(ins.K) >= uint64(len(prog)) {
					return bad("jump out of the program")
				}
				continue
			}
			if op(c) > jmpJSET {
				return bad("bad jump")
			}
			if pc+1+int(ins.Jt) >= len(prog) || pc+1+int(ins.Jf) >= len(prog) {
				return bad("jump out of the program")
			}
		case classRET:
			if c&^0x18 != classRET || c&0x18 > retA {
				return bad("bad return")
			}
		case classMISC:
			if c != classMISC|miscTAX && c != classMISC|miscTXA {
				return bad("bad misc operation")
			}
		}
	}
	if class(prog[len(prog)-1].Code) != classRET {
		return fmt.Errorf("bpf: the program does not end in a return")
	}
	return nil
}
