package analyze

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/internal/memtest"
	"github.com/tcptrace/tcptrace/internal/pcapgen"
	"github.com/tcptrace/tcptrace/report"
)

// Adversarial captures, generated here (too large to commit): each run must
// finish, keep its peak heap under the documented caps, and say in the
// report what it evicted or skipped. The peak heap of each is logged (go
// test -v -run Adversarial ./analyze).

// pcapWriter writes a classic pcap (Ethernet, µs) into memory.
type pcapWriter struct{ bytes.Buffer }

func newPcapWriter() *pcapWriter {
	w := &pcapWriter{}
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535)
	binary.LittleEndian.PutUint32(h[20:], 1)
	w.Write(h[:])
	return w
}

func (w *pcapWriter) frame(ts time.Duration, data []byte) {
	var h [16]byte
	t := int64(ts)
	binary.LittleEndian.PutUint32(h[0:], uint32(t/1e9))
	binary.LittleEndian.PutUint32(h[4:], uint32(t%1e9/1e3))
	binary.LittleEndian.PutUint32(h[8:], uint32(len(data)))
	binary.LittleEndian.PutUint32(h[12:], uint32(len(data)))
	w.Write(h[:])
	w.Write(data)
}

// template returns the Ethernet frames of a small connection built by
// pcapgen, to be patched (addresses, ports, sequence numbers).
func template(t *testing.T, build func(c *pcapgen.Conn)) [][]byte {
	t.Helper()
	c := pcapgen.NewConn(pcapgen.ConnConfig{
		Client: netip.MustParseAddrPort("10.0.0.1:1024"), Server: netip.MustParseAddrPort("10.200.0.1:80"),
		ClientISN: 1000, ServerISN: 5000, Start: pcapgen.Epoch, NoTimestamps: true,
	})
	build(c)
	var out [][]byte
	for _, f := range c.Capture().Sorted() {
		out = append(out, f.Data)
	}
	return out
}

// patch returns a copy of a template frame with the client address and
// port of connection i (pcapgen.PatchFlow).
func patch(frame []byte, i int) []byte {
	return pcapgen.PatchFlow(append([]byte(nil), frame...), i)
}

// heapPeak returns the largest live heap while fn runs (memtest.HeapPeak).
func heapPeak(fn func()) uint64 { return memtest.HeapPeak(fn) }

// runStreaming analyzes a capture with streaming output (records counted,
// not kept), as `analyze --format json` does.
func runStreaming(t *testing.T, data []byte, cfg Config) (*report.Report, int, uint64) {
	t.Helper()
	n := 0
	var rep *report.Report
	peak := heapPeak(func() {
		src, err := capture.OpenReader("adversarial.pcap", bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		e := NewEngine(cfg)
		e.Stream([]string{"adversarial.pcap"}, func(*report.Conn, []*report.Anomaly) { n++ })
		if err := e.Run(src); err != nil {
			t.Logf("input error: %v", err)
		}
		rep = e.Report([]string{"adversarial.pcap"})
	})
	return rep, n, peak
}

func skipIfRace(t *testing.T) {
	if raceEnabled {
		t.Skip("adversarial volumes are too slow under the race detector; go test without -race runs them")
	}
}

// volume returns n, or a tenth of it under -short: the same eviction and
// counting rules on fewer connections, for a fast edit loop. The peak-heap
// bounds are only tight at the full volume, which go test without -short
// (CI) runs.
func volume(t *testing.T, n int) int {
	if testing.Short() {
		t.Logf("-short: %d instead of %d", n/10, n)
		return n / 10
	}
	return n
}

// TestAdversarialSYNFlood: a million SYNs from distinct tuples (a tenth
// under -short). The table holds at most MaxConns; the rest are finished
// early and counted.
func TestAdversarialSYNFlood(t *testing.T) {
	skipIfRace(t)
	n := volume(t, 1_000_000)
	syn := template(t, func(c *pcapgen.Conn) { c.Segment(true, pcapgen.SYN, nil) })[0]
	w := newPcapWriter()
	for i := range n {
		w.frame(time.Duration(i)*time.Microsecond, patch(syn, i))
	}
	cfg := DefaultConfig()
	cfg.MaxConns = n / 20
	rep, records, peak := runStreaming(t, w.Bytes(), cfg)
	limit := uint64(cfg.MaxConns)*perConn + uint64(w.Cap()) + 64<<20
	t.Logf("SYN flood: %d frames, %d connections reported, %d evicted early, peak heap %.0f MiB", rep.Summary.Frames, records, rep.Summary.ConnsEvicted, float64(peak)/(1<<20))
	if records != n || rep.Summary.Connections != n {
		t.Errorf("%d records, summary %d, want %d", records, rep.Summary.Connections, n)
	}
	if rep.Summary.ConnsEvicted < n-cfg.MaxConns {
		t.Errorf("%d evicted, want at least %d", rep.Summary.ConnsEvicted, n-cfg.MaxConns)
	}
	if peak > limit {
		t.Errorf("peak heap %d MiB over %d MiB (the capture held in memory, plus %d KiB per connection)", peak>>20, limit>>20, perConn>>10)
	}
}

// perConn is the analysis state a connection may hold at most in these
// tests (measured: ~11 KB with the full analysis).
const perConn = 14 << 10

// TestAdversarialNeverClosed: 100,000 connections (a tenth under -short)
// that open, send a request and never close, all alive at the end.
func TestAdversarialNeverClosed(t *testing.T) {
	skipIfRace(t)
	n := volume(t, 100_000)
	frames := template(t, func(c *pcapgen.Conn) {
		c.Handshake()
		c.ClientSend([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		c.ACKFromServer()
	})
	w := newPcapWriter()
	for i := range n {
		for j, f := range frames {
			w.frame(time.Duration(i*len(frames)+j)*time.Microsecond, patch(f, i))
		}
	}
	cfg := DefaultConfig()
	cfg.MaxConns = n / 5
	rep, records, peak := runStreaming(t, w.Bytes(), cfg)
	limit := uint64(cfg.MaxConns)*perConn + uint64(w.Cap()) + 64<<20
	t.Logf("never closed: %d connections, %d evicted early, peak heap %.0f MiB", records, rep.Summary.ConnsEvicted, float64(peak)/(1<<20))
	if records != n || rep.Summary.ConnsEvicted != n-cfg.MaxConns {
		t.Errorf("%d records, %d evicted; want %d and %d", records, rep.Summary.ConnsEvicted, n, n-cfg.MaxConns)
	}
	if peak > limit {
		t.Errorf("peak heap %d MiB over %d MiB", peak>>20, limit>>20)
	}
}

// TestAdversarialReassemblyBomb: one connection, a hole, then a million
// one-byte segments above it in random order (a tenth under -short: the cap
// on buffered ranges bites either way). The budgets hold.
func TestAdversarialReassemblyBomb(t *testing.T) {
	skipIfRace(t)
	n := volume(t, 1_000_000)
	frames := template(t, func(c *pcapgen.Conn) {
		c.Handshake()
		c.Segment(true, pcapgen.ACK|pcapgen.PSH, []byte{'x'})
	})
	w := newPcapWriter()
	for j, f := range frames[:3] {
		w.frame(time.Duration(j)*time.Microsecond, f)
	}
	data := frames[3]
	ip := data[14:]
	ihl := int(ip[0]&15) * 4
	base := binary.BigEndian.Uint32(ip[ihl+4:])
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	for i := range perm { // a deterministic shuffle
		j := int(uint64(i)*2654435761%uint64(n-i)) + i
		perm[i], perm[j] = perm[j], perm[i]
	}
	for k, i := range perm {
		b := append([]byte(nil), data...)
		binary.BigEndian.PutUint32(b[14+ihl+4:], base+1+uint32(i)) // offset 0 is the hole
		w.frame(time.Duration(10+k)*time.Microsecond, b)
	}
	cfg := DefaultConfig()
	cfg.ConnBudget, cfg.GlobalBudget = 4<<20, 16<<20
	rep, _, peak := runStreaming(t, w.Bytes(), cfg)
	r := rep.Summary.Reassembly
	t.Logf("reassembly bomb: %+v, peak heap %.0f MiB", *r, float64(peak)/(1<<20))
	if r.BudgetFlushes == 0 {
		t.Errorf("no budget flush reported")
	}
	if r.PeakBuffered > cfg.ConnBudget+64<<10 {
		t.Errorf("peak buffered %d over the budget %d", r.PeakBuffered, cfg.ConnBudget)
	}
	if limit := uint64(w.Cap()) + uint64(8*len(perm)) + uint64(cfg.GlobalBudget) + 64<<20; peak > limit {
		t.Errorf("peak heap %d MiB over %d MiB (capture, budget and 64 MiB)", peak>>20, limit>>20)
	}
}

// TestAdversarialFragmentFlood: 300,000 first fragments of distinct
// datagrams that never complete, and overlapping fragments with different
// bytes. The fragment cache holds its cap; the summary counts evictions and
// conflicts.
func TestAdversarialFragmentFlood(t *testing.T) {
	skipIfRace(t)
	const n = 300_000
	c := pcapgen.NewConn(pcapgen.ConnConfig{
		Client: netip.MustParseAddrPort("10.0.0.1:1024"), Server: netip.MustParseAddrPort("10.200.0.1:80"),
		ClientISN: 1000, ServerISN: 5000, Start: pcapgen.Epoch, NoTimestamps: true,
	})
	c.Handshake()
	c.SetFragmentation(256, false)
	c.ClientSend(bytes.Repeat([]byte("a"), 1000))
	frames := c.Capture().Sorted()
	first := frames[3].Data // the first fragment of the request
	w := newPcapWriter()
	for i, f := range frames {
		w.frame(time.Duration(i)*time.Microsecond, f.Data)
		if i == 3 {
			// The same fragment again with other bytes: an overlap that
			// conflicts (the first copy is kept).
			b := append([]byte(nil), f.Data...)
			b[len(b)-1] ^= 0xff
			w.frame(time.Duration(i)*time.Microsecond, b)
		}
	}
	for i := range n {
		b := append([]byte(nil), first...)
		binary.BigEndian.PutUint16(b[14+4:], uint16(i)) // IP ID
		copy(b[14+12:14+16], []byte{10, 1, byte(i >> 8), byte(i)})
		b[14+10], b[14+11] = 0, 0
		binary.BigEndian.PutUint16(b[14+10:], pcapgen.Checksum(b[14:14+20]))
		w.frame(time.Duration(100+i)*time.Microsecond, b)
	}
	rep, _, peak := runStreaming(t, w.Bytes(), DefaultConfig())
	f := rep.Summary.Fragments
	t.Logf("fragment flood: %+v, peak heap %.0f MiB", *f, float64(peak)/(1<<20))
	if f == nil || f.Evicted == 0 || f.Pending > 4096 || f.Conflicts != 1 || f.Completed != 1 {
		t.Errorf("fragments %+v: want evictions, at most 4096 pending, one conflict, the real datagram reassembled", f)
	}
	if limit := uint64(w.Cap()) + 64<<20 + 64<<20; peak > limit {
		t.Errorf("peak heap %d MiB over %d MiB (capture, fragment cache and 64 MiB)", peak>>20, limit>>20)
	}
}

// TestAdversarialTimestamps: timestamps that go backwards and jump years
// either way. The run finishes, every segment is counted, nothing is
// evicted by the far-future frames (the sweep clock ignores one outlier).
func TestAdversarialTimestamps(t *testing.T) {
	frames := template(t, func(c *pcapgen.Conn) {
		c.Handshake()
		c.ClientSend([]byte("hello"))
		c.ServerSend([]byte("world"))
		c.ClientFIN()
		c.ServerFIN()
		c.ACKFromClient()
	})
	w := newPcapWriter()
	jumps := []time.Duration{0, 10 * 365 * 24 * time.Hour, 5 * time.Second, 1, 40 * 365 * 24 * time.Hour, 3 * time.Second, 2, 4 * time.Second, 0}
	for i, f := range frames {
		w.frame(jumps[i%len(jumps)]+time.Duration(i), f)
	}
	rep, records, _ := runStreaming(t, w.Bytes(), DefaultConfig())
	if rep.Summary.TCPSegments != int64(len(frames)) || records != 1 {
		t.Errorf("%d segments in %d connections, want %d in 1", rep.Summary.TCPSegments, records, len(frames))
	}
}
