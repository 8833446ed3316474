package reassembly_test

import (
	"fmt"

	"github.com/tcptrace/tcptrace/reassembly"
	"github.com/tcptrace/tcptrace/seqnum"
	"github.com/tcptrace/tcptrace/tcp"
)

// printer is a Handler that prints what the stream delivers.
type printer struct{}

func (printer) Data(d tcp.Dir, off int64, b []byte, frame int64, file int) {
	fmt.Printf("%s data at offset %d from frame %d: %q\n", d, off, frame, b)
}

func (printer) Gap(d tcp.Dir, g reassembly.Gap) {
	fmt.Printf("%s gap of %d bytes at offset %d: %s\n", d, g.Len, g.Off, g.Reason)
}

func (printer) Conflict(d tcp.Dir, c reassembly.Conflict) {
	fmt.Printf("%s conflict at offset %d: frame %d differs from frame %d, which was kept\n", d, c.Off, c.Frame, c.FirstFrame)
}

func (printer) FIN(d tcp.Dir, off int64, frame int64, file int) {
	fmt.Printf("%s FIN at offset %d from frame %d\n", d, off, frame)
}

// Reassemble the client's side of a connection from segments captured out
// of order: data above a hole waits until the hole fills, a retransmission
// with other bytes is reported as a conflict (the first copy wins), and a
// hole that never fills becomes a gap when the input ends. A program
// embedding the reassembler keeps two Streams per connection, one per
// direction, and may pass each the peer's acknowledgements (Stream.Acked) to
// learn of capture loss as soon as the receiver acknowledges bytes never seen.
func Example() {
	const isn seqnum.Value = 1000
	// History keeps the last 64 KiB delivered to compare retransmissions
	// with; no Budget or Pool: buffered data is not bounded here.
	s := reassembly.NewStream(tcp.Client, reassembly.Config{History: 64 << 10}, printer{}, nil, nil)

	segments := []struct {
		flags   tcp.Flags
		seq     seqnum.Value
		payload string
	}{
		{tcp.SYN, isn, ""},                 // frame 1: offset 0 is the byte after the SYN
		{tcp.ACK, isn + 7, "world"},        // frame 2: offset 6, held
		{tcp.ACK, isn + 1, "hello "},       // frame 3: fills the hole, both delivered
		{tcp.ACK, isn + 1, "hellO "},       // frame 4: a retransmission with other bytes
		{tcp.FIN | tcp.ACK, isn + 17, "!"}, // frame 5: after a 5-byte hole, with the FIN
	}
	for i, seg := range segments {
		fmt.Printf("frame %d\n", i+1)
		s.Segment(&tcp.Segment{
			Frame: int64(i + 1), Seq: seg.seq, Flags: seg.flags,
			Len: len(seg.payload), Payload: []byte(seg.payload),
		})
	}
	fmt.Println("end of input")
	s.Flush(0, 0)
	st := s.Stats
	fmt.Printf("delivered %d, out of order %d, duplicate %d, missing %d, conflicts %d, FIN %v\n",
		st.Delivered, st.OutOfOrder, st.Duplicate, st.GapBytes, st.Conflicts, st.FIN)
	// Output:
	// frame 1
	// frame 2
	// frame 3
	// client data at offset 0 from frame 3: "hello "
	// client data at offset 6 from frame 2: "world"
	// frame 4
	// client conflict at offset 4: frame 4 differs from frame 3, which was kept
	// frame 5
	// end of input
	// client gap of 5 bytes at offset 11: loss
	// client data at offset 16 from frame 5: "!"
	// client FIN at offset 17 from frame 5
	// delivered 12, out of order 6, duplicate 6, missing 5, conflicts 1, FIN true
}
