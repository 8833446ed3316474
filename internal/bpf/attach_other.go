//go:build !linux

package bpf

import (
	"errors"
	"runtime"
)

// errNotLinux: socket filters are attached on Linux only.
var errNotLinux = errors.New("bpf: attaching a socket filter is supported on Linux only, not " + runtime.GOOS)

// Attach attaches a program to a socket; on this system it fails.
func Attach(fd int, prog []Instruction) error {
	if err := Validate(prog); err != nil {
		return err
	}
	return errNotLinux
}

// Detach removes the socket's filter; on this system it fails.
func Detach(fd int) error { return errNotLinux }
