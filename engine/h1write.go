package engine

import (
	"sync"

	"github.com/cloudwego/netpoll"
)

// h1Writer sends one HTTP/1.1 connection's responses. They are written by
// upstream workers that serve many other clients, so a write must not wait
// for a client that reads slowly. A write that fits in the socket's send
// buffer is flushed in place; otherwise a goroutine owns the flush until
// the client catches up (one per lagging connection, never per request),
// and later bytes queue in pending, which the call counts as backlog to
// withhold upstream credit.
type h1Writer struct {
	mu      sync.Mutex
	nc      netpoll.Connection
	fd      int // -1: unknown, always flush in place
	sndbuf  int
	bg      bool // a background flush owns the netpoll writer
	closed  bool // the connection is closing: its buffers are being freed
	pending []byte
	done    func() // runs after a background flush has sent everything
}

func newH1Writer(nc netpoll.Connection, done func()) *h1Writer {
	w := &h1Writer{nc: nc, fd: -1, done: done}
	if f, ok := nc.(interface{ Fd() int }); ok {
		w.fd = f.Fd()
	}
	return w
}

// write queues b (copied) and sends it unless flush is false. It reports
// whether the bytes are still on their way (a background flush runs).
func (w *h1Writer) write(b []byte, flush bool) bool {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return false
	}
	if w.bg {
		w.pending = append(w.pending, b...)
		w.mu.Unlock()
		return true
	}
	nw := w.nc.Writer()
	if len(b) > 0 {
		if buf, err := nw.Malloc(len(b)); err == nil {
			copy(buf, b)
		}
	}
	if !flush {
		w.mu.Unlock()
		return false
	}
	if w.fits(nw.MallocLen()) {
		err := nw.Flush()
		w.mu.Unlock()
		if err != nil {
			_ = w.nc.Close()
		}
		return false
	}
	w.bg = true
	w.mu.Unlock()
	go w.loop()
	return true
}

// loop flushes until nothing is pending; the netpoll writer is its alone
// meanwhile (bounded by the write timeout).
func (w *h1Writer) loop() {
	nw := w.nc.Writer()
	for {
		err := nw.Flush()
		w.mu.Lock()
		if err != nil || len(w.pending) == 0 || w.closed {
			w.bg = false
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
		w.pending = w.pending[:0]
		w.mu.Unlock()
	}
}

// gone stops all later writes; the close callback calls it before netpoll
// frees the connection's buffers.
func (w *h1Writer) gone() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
}

// backlog is what waits for the client: all of pending, and a window's
// worth while a background flush runs.
func (w *h1Writer) backlog() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.bg {
		return 0
	}
	return max(len(w.pending), relayHighWater)
}
