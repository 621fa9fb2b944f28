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
//
// Ownership. Two sides use the writer: its caller, one at a time (h2's
// connection lock, or the HTTP/1.1 response in flight), and the loop while
// bg. w.mu guards every field, slice headers included. The bytes a Malloc
// returns are the caller's until its next call on the writer, and it fills
// them with w.mu released, so nothing else may read, move or reuse them
// meanwhile:
//   - not bg: they are in netpoll's buffer, which only the caller touches
//     until its Flush hands the buffer to netpoll or to the loop.
//   - bg: they are open, which the loop never touches. The caller's next
//     Malloc or Flush seals them (seal): by then they are filled, so they
//     are copied to the end of pending, or to netpoll's buffer if the loop
//     has ended meanwhile, and open is reused.
//   - pending holds sealed bytes only; the loop takes them under w.mu.
//
// gone forgets open without reading it: a caller still filling its slice
// writes to memory no one else reads (the GC keeps it). account is told of
// every change to len(pending)+len(open), the bytes queued here.
type sockWriter struct {
	mu      sync.Mutex
	nc      netpoll.Connection
	fd      int // -1: unknown, always flush in place
	sndbuf  int
	room    int         // send buffer bytes known free (sockwrite_linux.go)
	bg      bool        // a background flush owns the netpoll writer
	closed  bool        // the connection is closing: its buffers are being freed
	pending []byte      // sealed bytes, the loop's to send next
	open    []byte      // the last Malloc's bytes while bg; the caller's (see the type)
	done    func()      // runs after a background flush has sent everything
	account func(n int) // told of every change to len(pending)+len(open)
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
// buffer, or in open while a background flush owns that.
func (w *sockWriter) Malloc(n int) ([]byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, errWriterGone
	}
	if len(w.open) > 0 {
		w.seal()
	}
	if w.bg {
		w.open = slices.Grow(w.open, n)[:n]
		w.account(n)
		return w.open, nil
	}
	return w.nc.Writer().Malloc(n)
}

// seal moves open, filled by now since the caller has made its next call,
// to where it is sent: behind pending while the loop runs, else into
// netpoll's buffer, which then holds nothing older. Call it with w.mu held,
// from the caller's side only.
func (w *sockWriter) seal() {
	n := len(w.open)
	if w.bg {
		w.pending = append(w.pending, w.open...)
	} else {
		if buf, err := w.nc.Writer().Malloc(n); err == nil {
			copy(buf, w.open) // else the connection is broken: drop them
		}
		w.account(-n)
	}
	w.open = reuse(w.open)
}

// reuse empties b, keeping its memory unless one burst made it huge.
func reuse(b []byte) []byte {
	if cap(b) > maxPooledBuf {
		return nil
	}
	return b[:0]
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
	if w.closed {
		w.mu.Unlock()
		return false, errWriterGone
	}
	if len(w.open) > 0 {
		w.seal()
	}
	if w.bg {
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
	w.bg, w.room = true, 0 // the loop's writes are not counted: check again after it
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
// meanwhile (bounded by the write timeout). It never touches open.
func (w *sockWriter) loop() {
	nw := w.nc.Writer()
	for {
		err := nw.Flush()
		w.mu.Lock()
		if err != nil || len(w.pending) == 0 || w.closed {
			w.bg = false
			w.account(-len(w.pending))
			w.pending = reuse(w.pending)
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
		w.pending = reuse(w.pending)
		w.mu.Unlock()
	}
}

// gone stops all later writes; the close callback calls it before netpoll
// frees the connection's buffers.
func (w *sockWriter) gone() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	w.account(-len(w.open))
	w.open = nil // the caller may still be filling it: never reuse it
}

// backlog is what waits for the client while a background flush runs:
// pending and open, and at least a window's worth.
func (w *sockWriter) backlog() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.bg {
		return 0
	}
	return max(len(w.pending)+len(w.open), relayHighWater)
}
