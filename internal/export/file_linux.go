//go:build linux

package export

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// writeFile writes the slices of iovs, in order, to name in dir, opened
// relative to the directory's file descriptor with O_NOFOLLOW (a symlink
// planted in the directory cannot redirect bytes elsewhere), with writev(2)
// straight from where the bytes lie. Plain system calls: os.File would
// register each file with the poller and query its flags, four extra calls
// per file.
func writeFile(dirfd int, dir, name string, iovs [][]byte, flags int) error {
	path := dir + "/" + name
	fd, err := syscall.Openat(dirfd, name, flags|syscall.O_WRONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	for len(iovs) > 0 {
		part := iovs[:min(len(iovs), 1024)] // IOV_MAX
		n, err := unix.Writev(fd, part)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			syscall.Close(fd)
			return &os.PathError{Op: "write", Path: path, Err: err}
		}
		// Drop what was written; a short write leaves the rest of a slice.
		for len(iovs) > 0 && n >= len(iovs[0]) {
			n -= len(iovs[0])
			iovs = iovs[1:]
		}
		if n > 0 {
			iovs = append([][]byte{iovs[0][n:]}, iovs[1:]...)
		}
	}
	if err := syscall.Close(fd); err != nil {
		return &os.PathError{Op: "close", Path: path, Err: err}
	}
	return nil
}

// openDir returns a descriptor of dir for writeFile.
func openDir(dir string) (int, error) {
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	return fd, nil
}

func closeDir(fd int) { syscall.Close(fd) }
