//go:build !linux

package engine

// fits reports whether n more bytes go into the socket's send buffer now.
// Without SIOCOUTQ the queue is unknown, so a real socket never "fits":
// every response is flushed by the background goroutine. That costs a
// goroutine per response on these (development) systems but keeps the
// rule that a client that stops reading never stalls an upstream worker;
// flushing in place would block the worker until the write timeout.
// A connection without a descriptor (a test double) flushes in place, as
// on Linux.
func (w *sockWriter) fits(int) bool { return w.fd < 0 }
