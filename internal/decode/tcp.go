package decode

// The TCP layer: the header (tcpLayer, for the DecodingLayerParser), its
// fields copied into a segment (fillTCP), and the options (EachOption,
// parseOptions).

import (
	"encoding/binary"
	"errors"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/tcptrace/tcptrace/seqnum"
	"github.com/tcptrace/tcptrace/tcp"
)

// fillTCP copies the TCP header fields and options into s.
func fillTCP(t *tcpLayer, s *tcp.Segment) {
	s.Seq = seqnum.Value(t.seq)
	s.Ack = seqnum.Value(t.ack)
	s.Flags = t.flags
	s.Window = t.window
	s.Urgent = t.urgent
	s.Checksum = t.checksum
	s.Payload = t.payload
	if len(t.contents) > 20 {
		s.Opts.Raw = t.contents[20:]
	}
	parseOptions(s.Opts.Raw, &s.Opts)
}

// tcpLayer decodes the TCP header for the DecodingLayerParser. Unlike
// layers.TCP it leaves the options to parseOptions, which walks them once and
// without allocating (layers.TCP parses them too, and allocates a struct for
// every MPTCP option).
type tcpLayer struct {
	srcPort, dstPort         uint16
	seq, ack                 uint32
	flags                    tcp.Flags
	window, checksum, urgent uint16
	contents, payload        []byte
}

var (
	errShortTCP   = errors.New("TCP header truncated")
	errTCPDataOff = errors.New("TCP data offset < 5")
	tcpLayerClass = gopacket.LayerClass(layers.LayerTypeTCP)
	tcpNextLayer  = gopacket.LayerTypePayload
	_             = gopacket.DecodingLayer(&tcpLayer{})
)

func (t *tcpLayer) CanDecode() gopacket.LayerClass    { return tcpLayerClass }
func (t *tcpLayer) NextLayerType() gopacket.LayerType { return tcpNextLayer }
func (t *tcpLayer) LayerPayload() []byte              { return t.payload }

func (t *tcpLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 20 {
		df.SetTruncated()
		return errShortTCP
	}
	off := int(data[12]>>4) * 4
	if off < 20 {
		return errTCPDataOff
	}
	if off > len(data) {
		df.SetTruncated()
		return errShortTCP
	}
	t.srcPort = binary.BigEndian.Uint16(data[0:2])
	t.dstPort = binary.BigEndian.Uint16(data[2:4])
	t.seq = binary.BigEndian.Uint32(data[4:8])
	t.ack = binary.BigEndian.Uint32(data[8:12])
	// The flag byte maps onto FIN…CWR bit for bit; AE (formerly NS) is the
	// low bit of the data offset byte.
	t.flags = tcp.Flags(data[13])
	if data[12]&1 != 0 {
		t.flags |= tcp.AE
	}
	t.window = binary.BigEndian.Uint16(data[14:16])
	t.checksum = binary.BigEndian.Uint16(data[16:18])
	t.urgent = binary.BigEndian.Uint16(data[18:20])
	t.contents, t.payload = data[:off], data[off:]
	return nil
}

// Option is one TCP option as it appears on the wire.
type Option struct {
	Kind uint8
	Len  int    // total length including kind and length bytes (1 for EOL/NOP)
	Data []byte // option data (after kind and length)
}

// Option kinds (IANA "TCP Option Kind Numbers").
const (
	OptEOL       = 0
	OptNOP       = 1
	OptMSS       = 2
	OptWScale    = 3
	OptSACKPerm  = 4
	OptSACK      = 5
	OptTimestamp = 8
	OptMD5       = 19
	OptUTO       = 28
	OptAO        = 29
	OptMPTCP     = 30
	OptTFO       = 34
	OptExp1      = 253
	OptExp2      = 254
)

// EachOption walks an option area in order, calling fn for every option,
// known or not. It stops at EOL (which it reports) or at the first option
// whose length is invalid, and returns false in that case.
func EachOption(raw []byte, fn func(o Option)) bool {
	for len(raw) > 0 {
		k := raw[0]
		if k == OptEOL {
			fn(Option{Kind: k, Len: 1})
			return true
		}
		if k == OptNOP {
			fn(Option{Kind: k, Len: 1})
			raw = raw[1:]
			continue
		}
		if len(raw) < 2 || raw[1] < 2 || int(raw[1]) > len(raw) {
			return false
		}
		l := int(raw[1])
		fn(Option{Kind: k, Len: l, Data: raw[2:l]})
		raw = raw[l:]
	}
	return true
}

// parseOptions fills o from the raw option area. The area of nearly every
// segment after a handshake with timestamps (NOP, NOP, timestamp) is read
// directly, with parseOptionsWalk's result.
func parseOptions(raw []byte, o *tcp.Options) {
	if len(raw) == 12 && raw[0] == OptNOP && raw[1] == OptNOP && raw[2] == OptTimestamp && raw[3] == 10 {
		o.HasTS = true
		o.TSVal = binary.BigEndian.Uint32(raw[4:])
		o.TSEcr = binary.BigEndian.Uint32(raw[8:])
		return
	}
	parseOptionsWalk(raw, o)
}

// parseOptionsWalk fills o from the raw option area, option by option.
func parseOptionsWalk(raw []byte, o *tcp.Options) {
	if len(raw) == 0 {
		return
	}
	ok := EachOption(raw, func(op Option) {
		switch op.Kind {
		case OptEOL, OptNOP:
		case OptMSS:
			if len(op.Data) == 2 {
				o.MSS, o.HasMSS = binary.BigEndian.Uint16(op.Data), true
			} else {
				o.Malformed = true
			}
		case OptWScale:
			if len(op.Data) == 1 {
				o.WScale, o.HasWScale = op.Data[0], true
			} else {
				o.Malformed = true
			}
		case OptSACKPerm:
			o.SACKPerm = true
		case OptSACK:
			o.SACKOpt = true
			if len(op.Data)%8 != 0 {
				o.Malformed = true
			}
			for i := 0; i+8 <= len(op.Data) && int(o.NSACK) < len(o.SACK); i += 8 {
				o.SACK[o.NSACK] = tcp.SACKBlock{
					Left:  seqnum.Value(binary.BigEndian.Uint32(op.Data[i:])),
					Right: seqnum.Value(binary.BigEndian.Uint32(op.Data[i+4:])),
				}
				o.NSACK++
			}
		case OptTimestamp:
			if len(op.Data) == 8 {
				o.HasTS = true
				o.TSVal = binary.BigEndian.Uint32(op.Data)
				o.TSEcr = binary.BigEndian.Uint32(op.Data[4:])
			} else {
				o.Malformed = true
			}
		case OptTFO:
			o.TFO, o.TFOCookie = true, len(op.Data)
		case OptExp2, OptExp1:
			// RFC 6994 experimental options: 0xF989 is the TFO experiment.
			if len(op.Data) >= 2 && binary.BigEndian.Uint16(op.Data) == 0xF989 {
				o.TFO, o.TFOCookie = true, len(op.Data)-2
			} else {
				o.Unknown = true
			}
		case OptMPTCP:
			o.MPTCP = true
		default:
			o.Unknown = true
		}
	})
	if !ok {
		o.Malformed = true
	}
}
