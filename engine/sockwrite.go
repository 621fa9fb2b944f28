package engine

import (
	"slices"
	"sync"

	"github.com/cloudwego/netpoll"

	"github.com/straitgw/strait/h2"
)

// sockWriter writes one client connection, HTTP/1.1 or h2, without ever
// waiting for the client. Its writes come from upstream workers that
// serve many other clients, and netpoll's Flush blocks until the socket
// takes the bytes: one client that stops reading would stall them all. So
// a flush that fits in the socket's send buffer is made in place;
// otherwise a goroutine owns the flush until the client catches up (one
// per lagging connection, never per request), later bytes queue in
// pending, and exchanges count that as backlog to withhold upstream
// credit. It is an h2.Writer; h2 calls it under its connection lock, so
// the lock order is h2's, then w.mu.
type sockWriter struct {
	mu      sync.Mutex
	nc      netpoll.Connection
	fd      int // -1: unknown, always flush in place
	sndbuf  int
	bg      bool // a background flush owns the netpoll writer
	closed  bool // the connection is closing: its buffers are being freed
	pending []byte
	done    func()      // runs after a background flush has sent everything
	account func(n int) // told of every change to len(pending)
	queue   queuer      // a connection that queues for its client itself (TLS), or nil
}

// queuer is a connection whose Flush queues what the client does not
// take yet and waits only past a limit (tlsconn.Conn): Fits says whether
// n more bytes stay within it, as SIOCOUTQ does for a socket.
type queuer interface{ Fits(n int) bool }

var _ h2.Writer = (*sockWriter)(nil)

func newSockWriter(nc netpoll.Connection, done func(), account func(int)) *sockWriter {
	w := &sockWriter{nc: nc, fd: -1, done: done, account: account}
	if f, ok := nc.(interface{ Fd() int }); ok {
		w.fd = f.Fd()
	}
	w.queue, _ = nc.(queuer)
	return w
}

// errWriterGone is what writes get once the connection is closing.
var errWriterGone = netpoll.ErrConnClosed

// Malloc reserves n bytes to fill before the next call: in netpoll's
// buffer, or in pending while a background flush owns that.
func (w *sockWriter) Malloc(n int) ([]byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.closed:
		return nil, errWriterGone
	case w.bg:
		l := len(w.pending)
		w.pending = slices.Grow(w.pending, n)[:l+n]
		w.account(n)
		return w.pending[l:], nil
	}
	return w.nc.Writer().Malloc(n)
}

// WriteBinary copies b.
func (w *sockWriter) WriteBinary(b []byte) (int, error) {
	buf, err := w.Malloc(len(b))
	if err != nil {
		return 0, err
	}
	return copy(buf, b), nil
}

// Flush sends what was written, in place if the socket takes it now, else
// from a goroutine (see the type).
func (w *sockWriter) Flush() error {
	_, err := w.flush()
	return err
}

// flush reports whether the bytes are still on their way (a background
// flush runs).
func (w *sockWriter) flush() (bool, error) {
	w.mu.Lock()
	switch {
	case w.closed:
		w.mu.Unlock()
		return false, errWriterGone
	case w.bg:
		w.mu.Unlock()
		return true, nil
	}
	nw := w.nc.Writer()
	if w.fitsNow(nw.MallocLen()) {
		err := nw.Flush()
		w.mu.Unlock()
		if err != nil {
			_ = w.nc.Close()
		}
		return false, err
	}
	w.bg = true
	w.mu.Unlock()
	go w.loop()
	return true, nil
}

// fitsNow reports whether a Flush of n bytes returns without waiting
// for the client.
func (w *sockWriter) fitsNow(n int) bool {
	if w.queue != nil {
		return w.queue.Fits(n)
	}
	return w.fits(n)
}

// write copies b and sends it unless flush is false. It reports whether
// the bytes are still on their way (a background flush runs).
func (w *sockWriter) write(b []byte, flush bool) bool {
	if len(b) > 0 {
		if _, err := w.WriteBinary(b); err != nil {
			return false
		}
	}
	if !flush {
		return false
	}
	bg, _ := w.flush()
	return bg
}

// loop flushes until nothing is pending; the netpoll writer is its alone
// meanwhile (bounded by the write timeout).
func (w *sockWriter) loop() {
	nw := w.nc.Writer()
	for {
		err := nw.Flush()
		w.mu.Lock()
		if err != nil || len(w.pending) == 0 || w.closed {
			w.bg = false
			w.account(-len(w.pending))
			w.pending = w.pending[:0]
			w.mu.Unlock()
			if err != nil {
				_ = w.nc.Close()
			}
			w.done()
			return
		}
		if buf, err := nw.Malloc(len(w.pending)); err == nil {
			copy(buf, w.pending)
		}
		w.account(-len(w.pending))
		if cap(w.pending) > maxPooledBuf {
			w.pending = nil
		} else {
			w.pending = w.pending[:0]
		}
		w.mu.Unlock()
	}
}

// gone stops all later writes; the close callback calls it before netpoll
// frees the connection's buffers.
func (w *sockWriter) gone() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
}

// backlog is what waits for the client: all of pending, and a window's
// worth while a background flush runs.
func (w *sockWriter) backlog() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.bg {
		return 0
	}
	return max(len(w.pending), relayHighWater)
}
