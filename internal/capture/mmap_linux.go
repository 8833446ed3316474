//go:build linux

package capture

import (
	"os"
	"syscall"
)

// mapFile maps a regular file read-only, for zero-copy reading: frames are
// slices of the mapping, valid until Close, and no read system call copies
// the file out of the page cache.
func mapFile(f *os.File, size int64) ([]byte, error) {
	if size <= 0 || int64(int(size)) != size {
		return nil, syscall.EINVAL
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	_ = syscall.Madvise(b, syscall.MADV_SEQUENTIAL)
	return b, nil
}

// dropMapped lets the kernel take back the pages of b from this process (the
// file's page cache keeps them; touching b again faults them back in), so
// that resident memory follows the read position, not the file size.
func dropMapped(b []byte) { _ = syscall.Madvise(b, syscall.MADV_DONTNEED) }

func unmapFile(b []byte) error { return syscall.Munmap(b) }
