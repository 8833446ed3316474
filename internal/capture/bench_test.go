package capture

import (
	"bytes"
	"testing"
)

// benchFile is a ~50k-frame pcap of mixed sizes (ACKs, MSS segments, jumbo).
func benchFile(tb testing.TB, frames int) []byte {
	sizes := []int{66, 1514, 1514, 66, 590, 9014}
	b := newPcapFile(false, false, 65535, 1)
	data := pkt(9014, 0x5a)
	for i := range frames {
		n := sizes[i%len(sizes)]
		b.rec(1700000000+uint32(i/1000), uint32(i%1000)*1000, n, data[:n])
	}
	return b.bytes()
}

func benchRead(b *testing.B, name string, in []byte, frameBytes int64) {
	b.ReportAllocs()
	b.SetBytes(frameBytes)
	var src Source
	open := func() {
		var err error
		src, err = OpenReader(name, bytes.NewReader(in), int64(len(in)))
		if err != nil {
			b.Fatal(err)
		}
	}
	open()
	b.ResetTimer()
	for range b.N {
		f, err := src.Next()
		if err != nil {
			open()
			if f, err = src.Next(); err != nil {
				b.Fatal(err)
			}
		}
		_ = f.Data
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

// BenchmarkReadPcap reads a 50k-frame in-memory pcap; one op is one frame
// (reopening at the end of the file), so allocs/op is allocations per frame.
func BenchmarkReadPcap(b *testing.B) {
	in := benchFile(b, 50000)
	benchRead(b, "bench.pcap", in, int64(len(in))/50000)
}

func BenchmarkReadPcapGzip(b *testing.B) {
	in := benchFile(b, 50000)
	benchRead(b, "bench.pcap.gz", gz(b, in), int64(len(in))/50000)
}

func BenchmarkReadPcapng(b *testing.B) {
	sizes := []int{66, 1514, 1514, 66, 590, 9014}
	w := newNg().shb(false).idb(1, 0, tsresol(9))
	data := pkt(9014, 0x5a)
	for i := range 50000 {
		n := sizes[i%len(sizes)]
		w.epb(0, uint64(i)*1000, n, data[:n])
	}
	benchRead(b, "bench.pcapng", w.bytes(), int64(len(w.bytes()))/50000)
}

func BenchmarkMerge(b *testing.B) {
	in := benchFile(b, 50000)
	b.ReportAllocs()
	var m Source
	open := func() {
		srcs := make([]Source, 4)
		for i := range srcs {
			srcs[i] = openBytes(b, "m", in)
		}
		m = Merge(srcs)
	}
	open()
	b.ResetTimer()
	for range b.N {
		if _, err := m.Next(); err != nil {
			open()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}
