//go:build linux

package export

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// writeFile writes b to name in dir, opened relative to the directory's file
// descriptor with O_NOFOLLOW (a symlink planted in the directory cannot
// redirect bytes elsewhere). Plain system calls: os.File would register each
// file with the poller and query its flags, four extra calls per file.
func writeFile(dirfd int, dir, name string, b []byte, flags int) error {
	fd, err := syscall.Openat(dirfd, name, flags|syscall.O_WRONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir + "/" + name, Err: err}
	}
	for len(b) > 0 {
		n, err := syscall.Write(fd, b)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			syscall.Close(fd)
			return &os.PathError{Op: "write", Path: dir + "/" + name, Err: err}
		}
		b = b[n:]
	}
	if err := syscall.Close(fd); err != nil {
		return &os.PathError{Op: "close", Path: dir + "/" + name, Err: err}
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

// writeFileV is writeFile for bytes in several slices, written with
// writev(2) straight from where they lie (no copy into a block first).
func writeFileV(dirfd int, dir, name string, iovs [][]byte, flags int) error {
	fd, err := syscall.Openat(dirfd, name, flags|syscall.O_WRONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir + "/" + name, Err: err}
	}
	for len(iovs) > 0 {
		part := iovs[:min(len(iovs), 1024)] // IOV_MAX
		want := 0
		for _, b := range part {
			want += len(b)
		}
		n, err := unix.Writev(fd, part)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			syscall.Close(fd)
			return &os.PathError{Op: "write", Path: dir + "/" + name, Err: err}
		}
		if n < want { // short write: finish this part plainly
			for _, b := range part {
				if n >= len(b) {
					n -= len(b)
					continue
				}
				b, n = b[n:], 0
				for len(b) > 0 {
					m, err := syscall.Write(fd, b)
					if err == syscall.EINTR {
						continue
					}
					if err != nil {
						syscall.Close(fd)
						return &os.PathError{Op: "write", Path: dir + "/" + name, Err: err}
					}
					b = b[m:]
				}
			}
		}
		iovs = iovs[len(part):]
	}
	if err := syscall.Close(fd); err != nil {
		return &os.PathError{Op: "close", Path: dir + "/" + name, Err: err}
	}
	return nil
}
