package engine

import "golang.org/x/sys/unix"

// fits reports whether n more bytes go into the socket's send buffer now,
// so that netpoll's Flush will not wait for the client.
func (w *sockWriter) fits(n int) bool {
	if w.fd < 0 {
		return true
	}
	q, err := unix.IoctlGetInt(w.fd, unix.SIOCOUTQ)
	if err != nil {
		return true
	}
	if q+n > w.sndbuf/2 { // the kernel reports twice the usable size
		w.sndbuf, _ = unix.GetsockoptInt(w.fd, unix.SOL_SOCKET, unix.SO_SNDBUF)
	}
	return q+n <= w.sndbuf/2
}
