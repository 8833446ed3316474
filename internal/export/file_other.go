//go:build !linux

package export

import (
	"errors"
	"os"
	"path/filepath"
)

func writeFile(_ int, dir, name string, iovs [][]byte, flags int) error {
	f, err := os.OpenFile(filepath.Join(dir, name), flags|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	for _, b := range iovs {
		if _, err = f.Write(b); err != nil {
			break
		}
	}
	return errors.Join(err, f.Close())
}

func openDir(dir string) (int, error) { return -1, nil }

func closeDir(int) {}
