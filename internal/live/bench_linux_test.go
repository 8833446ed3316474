//go:build linux

package live

import (
	"encoding/binary"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr is struct mmsghdr.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
}

// udpFlood sends n datagrams of size bytes to 127.0.0.1:port with
// sendmmsg, in batches of 64, at rate packets/s (0: as fast as it can),
// each starting with its number (big-endian uint64, from 0). It runs on its
// own OS thread and returns the time it took.
func udpFlood(port, n, size, rate int) (time.Duration, error) {
	return udpFloodFrom(port, 0, n, size, rate)
}

// udpFloodFrom is udpFlood numbering the datagrams from first.
func udpFloodFrom(port, first, n, size, rate int) (time.Duration, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	if err := unix.Connect(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return 0, err
	}
	const batch = 64
	payloads := make([][]byte, batch)
	iovs := make([]unix.Iovec, batch)
	msgs := make([]mmsghdr, batch)
	for i := range batch {
		payloads[i] = make([]byte, size)
		iovs[i].Base = &payloads[i][0]
		iovs[i].SetLen(size)
		msgs[i].hdr.Iov = &iovs[i]
		msgs[i].hdr.SetIovlen(1)
	}
	start := time.Now()
	for sent := 0; sent < n; {
		k := min(batch, n-sent)
		for i := range k {
			binary.BigEndian.PutUint64(payloads[i], uint64(first+sent+i))
		}
		r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&msgs[0])), uintptr(k), 0, 0, 0)
		if e != 0 && e != unix.EINTR && e != unix.EAGAIN && e != unix.ENOBUFS {
			return 0, e
		}
		sent += int(r)
		if rate > 0 {
			if ahead := time.Duration(float64(sent)/float64(rate)*1e9) - time.Since(start); ahead > 0 {
				time.Sleep(ahead)
			}
		}
	}
	return time.Since(start), nil
}

// BenchmarkLoopbackCapture measures the packets per second a capture on
// lo sustains while a generator floods it with small UDP datagrams (64
// bytes of payload, 106 bytes on the wire), and the kernel's drops: the
// generator takes one core, the reader (Next, nothing else) the other;
// reader-ns/pkt is the reader thread's CPU time (user and system) per
// packet, reader-cpu-% its share of one core.
// TCPTRACE_LIVE_RATE=N paces the generator at N packets/s (default: as
// fast as it can); bench/live.sh sweeps rates.
//
//	go test ./internal/live -run '^$' -bench LoopbackCapture -benchtime 1000000x
func BenchmarkLoopbackCapture(b *testing.B) {
	needCapture(b)
	rate, _ := strconv.Atoi(os.Getenv("TCPTRACE_LIVE_RATE"))
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	_ = sink.SetReadBuffer(1 << 16) // unread: the kernel drops there, after the capture
	port := sink.LocalAddr().(*net.UDPAddr).Port
	src, err := Open([]string{"lo"}, Options{Filter: portFilter(uint16(port), true), Snaplen: 256})
	if err != nil {
		b.Fatal(err)
	}
	n := b.N
	got := make(chan int, 1)
	var first, last int64
	var readerCPU time.Duration
	go func() {
		// The reader on its own thread, to measure its CPU time.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var ru0, ru1 unix.Rusage
		_ = unix.Getrusage(unix.RUSAGE_THREAD, &ru0)
		c := 0
		for {
			f, err := src.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Error(err)
				break
			}
			if c == 0 {
				first = f.TS
			}
			last = f.TS
			c++
		}
		_ = unix.Getrusage(unix.RUSAGE_THREAD, &ru1)
		readerCPU = time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
		got <- c
	}()
	b.ResetTimer()
	start := time.Now()
	sendTime, err := udpFlood(port, n, 64, rate)
	if err != nil {
		b.Fatal(err)
	}
	// Let the reader catch up before closing (Close keeps what is left in
	// any case, but the rate is the reader's).
	deadline := time.Now().Add(10 * time.Second)
	for src.Stats().Total().Delivered < uint64(n) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	readTime := time.Since(start)
	src.Close()
	captured := <-got
	b.StopTimer()
	st := src.Stats().Total()
	b.ReportMetric(float64(n)/sendTime.Seconds(), "sent/s")
	b.ReportMetric(float64(captured)/readTime.Seconds(), "captured/s")
	if last > first {
		b.ReportMetric(float64(captured)/(float64(last-first)/1e9), "wire/s")
	}
	b.ReportMetric(float64(readerCPU.Nanoseconds())/float64(max(captured, 1)), "reader-ns/pkt")
	b.ReportMetric(100*readerCPU.Seconds()/readTime.Seconds(), "reader-cpu-%")
	b.ReportMetric(float64(st.Dropped), "drops")
	b.ReportMetric(float64(st.FreezeQueue), "ring-full")
	if uint64(captured)+st.Dropped != uint64(n) {
		b.Logf("%d sent, %d captured, %d dropped: %d missing", n, captured, st.Dropped, n-captured-int(st.Dropped))
	}
}
