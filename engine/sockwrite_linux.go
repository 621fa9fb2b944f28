package engine

import "golang.org/x/sys/unix"

// fits reports whether n more bytes go into the socket's send buffer now,
// so that netpoll's Flush will not wait for the client. Under w.mu; a
// true answer is followed by a flush of the n bytes.
//
// The SIOCOUTQ ioctl is a system call, as costly as a small write, so
// its answer is kept as room: the bytes free then, less what was flushed
// since. The kernel only ever empties the queue meanwhile (our flushes
// are the only writes, and a background flush sets room to 0), so room
// never overstates what is free, and most flushes of a busy connection
// need no ioctl.
func (w *sockWriter) fits(n int) bool {
	if w.fd < 0 {
		return true
	}
	if n <= w.room {
		w.room -= n
		return true
	}
	q, err := unix.IoctlGetInt(w.fd, unix.SIOCOUTQ)
	if err != nil {
		return true
	}
	if q+n > w.sndbuf/2 { // the kernel reports twice the usable size
		w.sndbuf, _ = unix.GetsockoptInt(w.fd, unix.SOL_SOCKET, unix.SO_SNDBUF)
	}
	w.room = max(0, w.sndbuf/2-q)
	if n > w.room {
		return false
	}
	w.room -= n
	return true
}
