//go:build linux

package bpf

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Attach attaches a program to a socket (SO_ATTACH_FILTER), replacing the
// filter it had: the kernel then runs it on every packet before queuing
// it. The kernel checks the program and refuses one it finds invalid.
//
// Packets queued on the socket before Attach were not filtered: open the
// socket with protocol 0 (no packets), attach, then bind it to the
// protocol, as the test does, or drain it after attaching.
func Attach(fd int, prog []Instruction) error {
	if err := Validate(prog); err != nil {
		return err
	}
	filter := make([]unix.SockFilter, len(prog))
	for i, ins := range prog {
		filter[i] = unix.SockFilter{Code: ins.Code, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
		return fmt.Errorf("bpf: SO_ATTACH_FILTER: %w", err)
	}
	return nil
}

// Detach removes the socket's filter (SO_DETACH_FILTER).
func Detach(fd int) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DETACH_FILTER, 0); err != nil {
		return fmt.Errorf("bpf: SO_DETACH_FILTER: %w", err)
	}
	return nil
}
