//go:build !linux

package export

import (
	"errors"
	"os"
	"path/filepath"
)

func writeFile(_ int, dir, name string, b []byte, flags int) error {
	f, err := os.OpenFile(filepath.Join(dir, name), flags|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	return errors.Join(err, f.Close())
}

func openDir(dir string) (int, error) { return -1, nil }

func closeDir(int) {}

func writeFileV(dirfd int, dir, name string, iovs [][]byte, flags int) error {
	var b []byte
	for _, v := range iovs {
		b = append(b, v...)
	}
	return writeFile(dirfd, dir, name, b, flags)
}
