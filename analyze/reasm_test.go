package analyze

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/internal/capture"
	"github.com/tcptrace/tcptrace/internal/pcapgen"
	"github.com/tcptrace/tcptrace/reassembly"
)

// TestReassemblyBudget: one connection whose first data segment is lost
// before the capture point, followed by many segments above the hole that
// nothing acknowledges (a reassembly bomb). The connection's budget bounds
// what is held; the overrun is reported as budget gaps and counted in the
// summary, and every byte sent is accounted for as delivered or missing.
func TestReassemblyBudget(t *testing.T) {
	const segs, size = 3000, 1000
	c := pcapgen.NewConn(pcapgen.ConnConfig{
		Client: netip.MustParseAddrPort("10.9.0.1:40000"), Server: netip.MustParseAddrPort("10.9.0.2:80"),
		ClientISN: 1, ServerISN: 1 << 31, Start: pcapgen.Epoch, RTT: time.Millisecond, Gap: time.Microsecond,
	})
	c.Handshake()
	payload := bytes.Repeat([]byte("x"), size)
	c.Lost(false, payload)
	for range segs - 1 {
		c.Segment(false, pcapgen.ACK, payload)
	}
	var buf bytes.Buffer
	if err := c.Capture().WritePcap(&buf, pcapgen.LinkTypeEthernet, 0, false); err != nil {
		t.Fatal(err)
	}
	src, err := capture.OpenReader("bomb.pcap", &buf, int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.ConnBudget, cfg.GlobalBudget = 256<<10, 1<<20
	e := NewEngine(cfg)
	if err := e.Run(src); err != nil {
		t.Fatal(err)
	}
	r := e.Report([]string{"bomb.pcap"})
	if len(r.Conns) != 1 {
		t.Fatalf("%d connections", len(r.Conns))
	}
	ra := r.Conns[0].Reassembly.Server
	t.Logf("server stream: %+v; summary %+v", ra, *r.Summary.Reassembly)
	if ra.BudgetFlushes == 0 || r.Summary.Reassembly.BudgetFlushes == 0 {
		t.Errorf("no budget flush reported")
	}
	if ra.PeakBuffered > cfg.ConnBudget+reassembly.MaxChunkBytes+size+1024 {
		t.Errorf("peak buffered %d over the budget %d", ra.PeakBuffered, cfg.ConnBudget)
	}
	if got := ra.Delivered + ra.GapBytes; got != segs*size {
		t.Errorf("delivered %d + missing %d = %d, want %d", ra.Delivered, ra.GapBytes, got, segs*size)
	}
	reasons := map[string]int{}
	for _, g := range r.Conns[0].Gaps {
		reasons[g.Reason]++
	}
	if reasons["budget"] == 0 {
		t.Errorf("no budget gap listed: %v", reasons)
	}
}
