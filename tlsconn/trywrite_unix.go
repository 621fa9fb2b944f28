//go:build unix

package tlsconn

import (
	"errors"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// tryWrite writes what the kernel takes of b now, without waiting: one
// write(2) on the non-blocking descriptor.
func tryWrite(c net.Conn, b []byte) (int, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0, nil // unknown transport: the background write sends it
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, nil
	}
	var n int
	var werr error
	err = rc.Write(func(fd uintptr) bool {
		for {
			n, werr = unix.Write(int(fd), b)
			if !errors.Is(werr, unix.EINTR) {
				return true // never wait for the descriptor
			}
		}
	})
	if err != nil {
		return 0, err
	}
	if errors.Is(werr, unix.EAGAIN) {
		return 0, nil
	}
	if werr != nil {
		return 0, werr
	}
	return max(n, 0), nil
}
