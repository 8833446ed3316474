package live

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakePkt describes a packet to lay out in a synthetic ring block.
type fakePkt struct {
	ts      int64
	data    []byte // from the link header (SOCK_RAW) or the network header (SOCK_DGRAM)
	length  uint32 // tp_len; 0: len(data)
	status  uint32
	tci     uint16
	tpid    uint16
	proto   uint16
	ifindex int32
	hatype  uint16
	pkttype uint8
	addr    []byte
	netOff  uint16 // tp_net - tp_mac
}

// fakeBlock lays out pkts in blk as the kernel would (tpacket_block_desc,
// then each tpacket3_hdr + sockaddr_ll + data, 16-byte aligned) and sets
// the block status.
func fakeBlock(blk []byte, status uint32, pkts []fakePkt) {
	clear(blk)
	ne.PutUint32(blk[blkStatus:], status)
	ne.PutUint32(blk[blkNumPkts:], uint32(len(pkts)))
	ne.PutUint32(blk[blkFirst:], blkHdrLen)
	off := blkHdrLen
	for i, p := range pkts {
		const mac = 80
		h := blk[off:]
		size := (mac + len(p.data) + 15) &^ 15
		if i < len(pkts)-1 {
			ne.PutUint32(h[pktNext:], uint32(size))
		}
		ne.PutUint32(h[pktSec:], uint32(p.ts/1e9))
		ne.PutUint32(h[pktNsec:], uint32(p.ts%1e9))
		ne.PutUint32(h[pktSnaplen:], uint32(len(p.data)))
		l := p.length
		if l == 0 {
			l = uint32(len(p.data))
		}
		ne.PutUint32(h[pktLen:], l)
		ne.PutUint32(h[pktStatus:], p.status)
		ne.PutUint16(h[pktMac:], mac)
		ne.PutUint16(h[pktNet:], mac+p.netOff)
		ne.PutUint32(h[pktVlanTCI:], uint32(p.tci))
		ne.PutUint16(h[pktVlanTPID:], p.tpid)
		s := h[pktHdrLen:]
		binary.BigEndian.PutUint16(s[sllProtocol:], p.proto)
		ne.PutUint32(s[sllIfindex:], uint32(p.ifindex))
		ne.PutUint16(s[sllHatype:], p.hatype)
		s[sllPkttype] = p.pkttype
		s[sllHalen] = byte(len(p.addr))
		copy(s[sllAddr:], p.addr)
		copy(h[mac:], p.data)
		off += size
	}
}

func hexBytes(s string) []byte {
	var b []byte
	for _, f := range strings.Fields(s) {
		var v byte
		for _, c := range f {
			v = v<<4 | byte(strings.IndexRune("0123456789abcdef", c))
		}
		b = append(b, v)
	}
	return b
}

func TestAppendFrame(t *testing.T) {
	eth := hexBytes("02 00 00 00 00 01 02 00 00 00 00 02 08 00 45 00 00 14")
	ip := hexBytes("45 00 00 14 00 00 00 00 40 06")
	mac := []byte{2, 0, 0, 0, 0, 2}
	tests := []struct {
		name     string
		p        fakePkt
		cooked   bool
		snaplen  int
		want     string
		wantOrig int
	}{
		{"ethernet untagged", fakePkt{data: eth}, false, 1000,
			"02 00 00 00 00 01 02 00 00 00 00 02 08 00 45 00 00 14", 18},
		{"ethernet 802.1Q re-inserted", fakePkt{data: eth, status: statusVlanValid, tci: 100}, false, 1000,
			"02 00 00 00 00 01 02 00 00 00 00 02 81 00 00 64 08 00 45 00 00 14", 22},
		{"ethernet 802.1ad with TPID", fakePkt{data: eth, status: statusVlanValid | statusTPIDValid, tci: 0xa00b, tpid: 0x88a8}, false, 1000,
			"02 00 00 00 00 01 02 00 00 00 00 02 88 a8 a0 0b 08 00 45 00 00 14", 22},
		{"TPID not valid means 802.1Q", fakePkt{data: eth, status: statusVlanValid, tci: 5, tpid: 0x88a8}, false, 1000,
			"02 00 00 00 00 01 02 00 00 00 00 02 81 00 00 05 08 00 45 00 00 14", 22},
		{"ethernet tagged, truncated by snaplen", fakePkt{data: eth, length: 1514, status: statusVlanValid, tci: 100}, false, 16,
			"02 00 00 00 00 01 02 00 00 00 00 02 81 00 00 64", 1518},
		{"ethernet shorter than the MAC addresses", fakePkt{data: eth[:10], length: 60, status: statusVlanValid, tci: 1}, false, 1000,
			"02 00 00 00 00 01 02 00 00 00", 60},
		{"cooked", fakePkt{data: ip, proto: 0x0800, ifindex: 3, hatype: 1, pkttype: 4, addr: mac}, true, 1000,
			"08 00 00 00 00 00 00 03 00 01 04 06 02 00 00 00 00 02 00 00 45 00 00 14 00 00 00 00 40 06", 30},
		{"cooked loopback, no address", fakePkt{data: ip, proto: 0x0800, ifindex: 1, hatype: 772}, true, 1000,
			"08 00 00 00 00 00 00 01 03 04 00 00 00 00 00 00 00 00 00 00 45 00 00 14 00 00 00 00 40 06", 30},
		{"cooked tagged", fakePkt{data: ip, proto: 0x0800, ifindex: 2, hatype: 1, addr: mac, status: statusVlanValid, tci: 100}, true, 1000,
			"81 00 00 00 00 00 00 02 00 01 00 06 02 00 00 00 00 02 00 00 00 64 08 00 45 00 00 14 00 00 00 00 40 06", 34},
		{"cooked qinq, inner tag in the packet, innermost protocol reported",
			fakePkt{data: append(hexBytes("00 c8 08 00"), ip...), proto: 0x0800, ifindex: 2, hatype: 1, addr: mac, status: statusVlanValid | statusTPIDValid, tci: 100, tpid: 0x88a8}, true, 1000,
			"88 a8 00 00 00 00 00 02 00 01 00 06 02 00 00 00 00 02 00 00 00 64 81 00 00 c8 08 00 45 00 00 14 00 00 00 00 40 06", 38},
		{"cooked truncated", fakePkt{data: ip, length: 1500, proto: 0x86dd, ifindex: 2, hatype: 1}, true, 22,
			"86 dd 00 00 00 00 00 02 00 01 00 00 00 00 00 00 00 00 00 00 45 00", 1520},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			blk := make([]byte, 4096)
			fakeBlock(blk, statusUser, []fakePkt{tt.p})
			p, err := parsePacket(blk, blkHdrLen)
			if err != nil {
				t.Fatal(err)
			}
			prefix := []byte("keep")
			got, orig := appendFrame(bytes.Clone(prefix), &p, tt.cooked, tt.snaplen)
			if !bytes.HasPrefix(got, prefix) {
				t.Fatalf("the bytes before were changed: % x", got)
			}
			if d := cmp.Diff(hexBytes(tt.want), got[len(prefix):]); d != "" {
				t.Errorf("frame (-want +got):\n%s", d)
			}
			if orig != tt.wantOrig {
				t.Errorf("origlen %d, want %d", orig, tt.wantOrig)
			}
		})
	}
}

func TestParsePacketBounds(t *testing.T) {
	blk := make([]byte, 4096)
	fakeBlock(blk, statusUser, []fakePkt{{data: make([]byte, 100)}})
	tests := []struct {
		name  string
		edit  func(b []byte)
		off   int
		trunc int // length of blk to use (0: all)
		err   string
	}{
		{"good", func([]byte) {}, blkHdrLen, 0, ""},
		{"header past the end", func([]byte) {}, 4090, 0, "outside the block"},
		{"negative offset", func([]byte) {}, -8, 0, "outside the block"},
		{"snaplen past the end", func(b []byte) { ne.PutUint32(b[blkHdrLen+pktSnaplen:], 5000) }, blkHdrLen, 0, "outside the block"},
		{"mac inside the header", func(b []byte) { ne.PutUint16(b[blkHdrLen+pktMac:], 10) }, blkHdrLen, 0, "outside the block"},
		{"block cut short", func([]byte) {}, blkHdrLen, 200, "outside the block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bytes.Clone(blk)
			tt.edit(b)
			if tt.trunc > 0 {
				b = b[:tt.trunc]
			}
			_, err := parsePacket(b, tt.off)
			switch {
			case tt.err == "" && err != nil:
				t.Fatal(err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("error %v, want %q", err, tt.err)
			}
		})
	}
	if _, _, _, err := blockInfo(make([]byte, 20)); err == nil {
		t.Error("blockInfo accepted a 20-byte block")
	}
	bad := make([]byte, 4096)
	fakeBlock(bad, statusUser, []fakePkt{{data: []byte{1}}})
	ne.PutUint32(bad[blkFirst:], 4090)
	if _, _, _, err := blockInfo(bad); err == nil {
		t.Error("blockInfo accepted a first packet outside the block")
	}
}

func TestProgram(t *testing.T) {
	user := []Instruction{
		{Code: 0x28, K: 12},
		{Code: bpfJeqK, Jt: 0, Jf: 1, K: 0x800},
		{Code: bpfRetK, K: 262144},
		{Code: bpfRetK, K: 0},
	}
	tests := []struct {
		name string
		user []Instruction
		lo   bool
		snap uint32
		want []Instruction
		err  string
	}{
		{"keep all", nil, false, 1500, []Instruction{{Code: bpfRetK, K: 1500}}, ""},
		{"keep all, drop loopback outgoing", nil, true, 1500, append(append([]Instruction(nil), loopbackOutgoingPrefix...), Instruction{Code: bpfRetK, K: 1500}), ""},
		{"user program, returns lowered to the snaplen", user, false, 96, []Instruction{user[0], user[1], {Code: bpfRetK, K: 96}, {Code: bpfRetK, K: 0}}, ""},
		{"user program after the prefix", user, true, 262144, append(append([]Instruction(nil), loopbackOutgoingPrefix...), user...), ""},
		{"too long", make([]Instruction, bpfMaxInsns), true, 100, nil, "over the kernel's limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := program(tt.user, tt.lo, tt.snap)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("program (-want +got):\n%s", d)
			}
		})
	}
	if user[2].K != 262144 {
		t.Error("program changed the caller's instructions")
	}
}

// TestLoopbackPrefix runs the prefix on a tiny interpreter of the
// instructions it uses: only an outgoing loopback packet is rejected, and
// A is 0 after it.
func TestLoopbackPrefix(t *testing.T) {
	run := func(hatype, pkttype uint32) (rejected bool, a uint32) {
		prog := loopbackOutgoingPrefix
		for pc := 0; pc < len(prog); pc++ {
			ins := prog[pc]
			switch ins.Code {
			case bpfLdWAbs:
				switch ins.K {
				case skfAdOff + skfAdHatype:
					a = hatype
				case skfAdOff + skfAdPkttype:
					a = pkttype
				default:
					t.Fatalf("load of %#x", ins.K)
				}
			case bpfLdImm:
				a = ins.K
			case bpfJeqK:
				if a == ins.K {
					pc += int(ins.Jt)
				} else {
					pc += int(ins.Jf)
				}
			case bpfRetK:
				return ins.K == 0, a
			}
		}
		return false, a
	}
	tests := []struct {
		hatype, pkttype uint32
		rejected        bool
	}{
		{hatypeLoopback, pkttypeOutgoing, true},
		{hatypeLoopback, 0, false},
		{hatypeEther, pkttypeOutgoing, false},
		{hatypeEther, 0, false},
	}
	for _, tt := range tests {
		rejected, a := run(tt.hatype, tt.pkttype)
		if rejected != tt.rejected || (!rejected && a != 0) {
			t.Errorf("hatype %d pkttype %d: rejected %v (A=%d), want %v and A=0", tt.hatype, tt.pkttype, rejected, a, tt.rejected)
		}
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name string
		opt  Options
		err  string
	}{
		{"defaults", Options{}, ""},
		{"small ring", Options{Snaplen: 1500, BlockSize: 64 << 10, BlockCount: 2, BlockTimeout: time.Millisecond}, ""},
		{"snaplen too small", Options{Snaplen: 20}, "snaplen 20"},
		{"snaplen too big", Options{Snaplen: 1 << 20}, "snaplen"},
		{"block not of pages", Options{BlockSize: 5000}, "page size"},
		{"block below snaplen", Options{BlockSize: 8192}, "cannot hold"},
		{"no blocks", Options{BlockCount: -1}, "ring size"},
		{"timeout", Options{BlockTimeout: time.Microsecond}, "block timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := tt.opt.withDefaults()
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if o.Snaplen == 0 || o.BlockSize == 0 || o.BlockCount == 0 || o.BlockTimeout == 0 {
					t.Errorf("defaults not filled: %+v", o)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	down := &Error{Iface: "eth1", Kind: ErrInterfaceDown, Op: "the interface went down", Err: errors.New("network is down")}
	if got, want := down.Error(), "live: eth1: the interface went down: network is down"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	if !errors.Is(down, ErrInterfaceDown) || errors.Is(down, ErrPermission) {
		t.Error("errors.Is does not follow Kind")
	}
	e := noInterface("eth9")
	if !errors.Is(e, ErrNoInterface) || !strings.Contains(e.Error(), "eth9") || !strings.Contains(e.Error(), `"any"`) {
		t.Errorf("%v", e)
	}
	st := Stats{Ifaces: []IfaceStats{
		{Name: "a", Received: 10, Dropped: 2, Delivered: 8, Start: 5, End: 9},
		{Name: "b", Received: 1, Delivered: 1, SuperFrames: 1, Start: 3, End: 12},
	}}
	if got, want := st.Total(), (IfaceStats{Name: "total", Received: 11, Dropped: 2, Delivered: 9, SuperFrames: 1, Start: 3, End: 12}); got != want {
		t.Errorf("total %+v, want %+v", got, want)
	}
}

// FuzzRingBlock walks arbitrary bytes as a ring block, as the reader does:
// nothing may panic, and every frame built keeps to the snaplen.
func FuzzRingBlock(f *testing.F) {
	blk := make([]byte, 1024)
	fakeBlock(blk, statusUser, []fakePkt{
		{ts: 1, data: hexBytes("02 00 00 00 00 01 02 00 00 00 00 02 08 00 45 00"), status: statusVlanValid, tci: 5},
		{ts: 2, data: hexBytes("45 00 00 14"), proto: 0x0800, hatype: 1, addr: []byte{1, 2, 3, 4, 5, 6}},
	})
	f.Add(blk, uint16(96), false)
	f.Add(blk, uint16(1500), true)
	f.Fuzz(func(t *testing.T, blk []byte, snap uint16, cooked bool) {
		snaplen := int(snap%2000) + 1
		_, n, first, err := blockInfo(blk)
		if err != nil {
			return
		}
		off := int(first)
		for i := uint32(0); i < n && i < 1000; i++ {
			p, err := parsePacket(blk, off)
			if err != nil {
				return
			}
			out, orig := appendFrame(nil, &p, cooked, snaplen)
			if len(out) > snaplen || orig < len(out) {
				t.Fatalf("frame of %d bytes (orig %d) for snaplen %d", len(out), orig, snaplen)
			}
			_ = p.netLen()
			if p.next == 0 || uint64(off)+uint64(p.next) >= uint64(len(blk)) {
				return
			}
			off += int(p.next)
		}
	})
}
