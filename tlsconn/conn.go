package tlsconn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudwego/netpoll"
)

// Conn is a netpoll.Connection over a TLS connection whose handshake is
// done. Its reader goroutine (Serve, or the one SetOnRequest starts)
// decrypts into a LinkBuffer and runs OnRequest on it while bytes are
// buffered, as a netpoll worker would; a Reader call that needs more
// bytes than are buffered reads them on the spot, bounded by the read
// timeout, so it is the only goroutine that reads. Writes go into a
// LinkBuffer; Flush encrypts them on the caller and never waits for the
// client (see sock): past MaxQueued bytes waiting for the client, it
// waits like a netpoll Flush on a full socket, which Fits lets a caller
// avoid.
//
// As with netpoll, close callbacks never run while OnRequest does: a
// Close during OnRequest runs them when it returns, any other on the
// spot. Once they have run, the buffers are freed: writers must have
// stopped.
type Conn struct {
	tc   *tls.Conn
	sock *sock
	in   *netpoll.LinkBuffer // decrypted input; the reader goroutine's alone
	out  *netpoll.LinkBuffer // what is written until Flush
	rd   reader
	wr   writer

	readTimeout atomic.Int64
	maxQueued   int
	onPanic     func(v any, stack []byte)
	book        int  // how much the next read asks for (grows like netpoll's)
	deadline    bool // a read deadline is set (reader goroutine only)

	mu         sync.Mutex
	ctx        context.Context
	onRequest  netpoll.OnRequest
	started    bool
	processing bool // OnRequest runs
	closed     bool
	callbacks  []netpoll.CloseCallback
	called     bool // the close callbacks have run
	freed      bool

	peer *Identity
}

// DefaultMaxQueued is how many bytes may wait for a client before Flush
// waits, and Fits says no.
const DefaultMaxQueued = 256 << 10

// Options tune a Conn.
type Options struct {
	ReadTimeout  time.Duration // a Reader call waiting for bytes (0: none)
	WriteTimeout time.Duration // one background write to a lagging peer (0: none)
	MaxQueued    int           // default DefaultMaxQueued
	// OnPanic is told of a panic in OnRequest that OnRequest did not
	// recover itself; the connection is closed. Unset, it is printed.
	OnPanic func(v any, stack []byte)
}

// ErrClosed is what reads and writes get once the connection is closed.
var ErrClosed = netpoll.ErrConnClosed

var _ netpoll.Connection = (*Conn)(nil)

// newConn wraps tc, whose handshake over s is done.
func newConn(tc *tls.Conn, s *sock, o Options) *Conn {
	c := &Conn{tc: tc, sock: s, in: netpoll.NewLinkBuffer(), out: netpoll.NewLinkBuffer(),
		maxQueued: o.MaxQueued, onPanic: o.OnPanic, book: minBook}
	if c.maxQueued <= 0 {
		c.maxQueued = DefaultMaxQueued
	}
	c.rd.c, c.wr.c = c, c
	c.readTimeout.Store(int64(o.ReadTimeout))
	s.wtimeout = o.WriteTimeout
	s.async.Store(true)
	return c
}

const (
	minBook = 4 << 10
	maxBook = 64 << 10
)

// State is the connection's TLS state (negotiated protocol, peer
// certificates, resumption).
func (c *Conn) State() tls.ConnectionState { return c.tc.ConnectionState() }

// Peer is the verified client identity, or nil when the client sent no
// certificate (or this is a client connection).
func (c *Conn) Peer() *Identity { return c.peer }

// Serve runs the connection on the calling goroutine until it closes:
// OnRequest (with ctx) whenever bytes are buffered.
func (c *Conn) Serve(ctx context.Context, on netpoll.OnRequest) {
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return
	}
	c.started, c.ctx, c.onRequest = true, ctx, on
	c.mu.Unlock()
	c.loop()
}

// SetOnRequest sets the handler; the first call starts the reader
// goroutine (a dialed connection).
func (c *Conn) SetOnRequest(on netpoll.OnRequest) error {
	if on == nil {
		return nil
	}
	c.mu.Lock()
	c.onRequest = on
	start := !c.started
	c.started = true
	if c.ctx == nil {
		c.ctx = context.Background()
	}
	c.mu.Unlock()
	if start {
		go c.loop()
	}
	return nil
}

// loop reads and processes until the connection closes; it owns the
// input buffer and frees it at the end.
func (c *Conn) loop() {
	defer c.freeInput()
	for {
		if err := c.fill(false); err != nil {
			_ = c.Close()
			return
		}
		if !c.process() {
			return
		}
	}
}

// process runs OnRequest while bytes are buffered, as netpoll does, and
// the close callbacks if a Close came meanwhile. It reports whether the
// connection is still open.
func (c *Conn) process() bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.processing = true
	ctx, on := c.ctx, c.onRequest
	c.mu.Unlock()
	c.guard(func() {
		for c.in.Len() > 0 && c.IsActive() {
			_ = on(ctx, c)
		}
	})
	c.mu.Lock()
	c.processing = false
	closed := c.closed
	run := closed && !c.called
	c.called = c.called || run
	c.mu.Unlock()
	if run {
		c.runCallbacks()
	}
	return !closed
}

// guard runs f; a panic f did not recover closes the connection.
func (c *Conn) guard(f func()) {
	defer func() {
		if v := recover(); v != nil {
			stack := debug.Stack()
			if c.onPanic != nil {
				c.onPanic(v, stack)
			} else {
				fmt.Fprintf(os.Stderr, "tlsconn: panic in OnRequest: %v\n%s", v, stack)
			}
			_ = c.Close()
		}
	}()
	f()
}

// fill reads what the peer sent into the input buffer. wait says a
// Reader call is waiting for it: the read timeout applies.
func (c *Conn) fill(wait bool) error {
	var deadline time.Time
	if t := time.Duration(c.readTimeout.Load()); wait && t > 0 {
		deadline = time.Now().Add(t)
	}
	if wait || c.deadline { // an idle read has none: no timer to touch
		if err := c.sock.SetReadDeadline(deadline); err != nil {
			return err
		}
		c.deadline = !deadline.IsZero()
	}
	if !c.IsActive() {
		return ErrClosed // checked after the deadline: see sock.stopReading
	}
	buf, _ := c.in.Malloc(c.book)
	n, err := c.tc.Read(buf)
	_ = c.in.MallocAck(max(n, 0))
	_ = c.in.Flush()
	if n == c.book && c.book < maxBook {
		c.book <<= 1
	}
	if n > 0 {
		return nil // an error comes back at the next read
	}
	if err == nil {
		return nil
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && c.IsActive() {
		return netpoll.Exception(netpoll.ErrReadTimeout, err.Error())
	}
	if !c.IsActive() {
		return ErrClosed
	}
	return netpoll.Exception(netpoll.ErrEOF, err.Error())
}

func (c *Conn) freeInput() { _ = c.in.Close() }

// Close closes the connection: reading stops at once, the close
// callbacks run (now, or when OnRequest returns), and what was flushed
// still leaves, followed by close_notify, within the write timeout.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed && c.called {
		c.mu.Unlock()
		return nil
	}
	first := !c.closed
	c.closed = true
	run := !c.processing && !c.called
	c.called = c.called || run
	c.mu.Unlock()
	if first {
		c.sock.stopReading()
	}
	if run {
		c.runCallbacks()
	}
	if first {
		_ = c.tc.Close() // never blocks: close_notify is queued (sock)
	}
	return nil
}

func (c *Conn) runCallbacks() {
	c.mu.Lock()
	cbs := c.callbacks
	c.callbacks = nil
	c.mu.Unlock()
	for i := len(cbs) - 1; i >= 0; i-- { // latest first, as netpoll
		_ = cbs[i](c)
	}
	// Writers have stopped (the callbacks' contract): free the output.
	c.mu.Lock()
	free := !c.freed
	c.freed = true
	c.mu.Unlock()
	if free {
		_ = c.out.Close()
	}
}

// AddCloseCallback adds a callback run once when the connection closes.
func (c *Conn) AddCloseCallback(cb netpoll.CloseCallback) error {
	if cb == nil {
		return nil
	}
	c.mu.Lock()
	if c.called {
		c.mu.Unlock()
		return ErrClosed
	}
	c.callbacks = append(c.callbacks, cb)
	c.mu.Unlock()
	return nil
}

// IsActive reports whether the connection is open.
func (c *Conn) IsActive() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.closed
}

func (c *Conn) Reader() netpoll.Reader { return &c.rd }
func (c *Conn) Writer() netpoll.Writer { return &c.wr }

// SetReadTimeout bounds a Reader call waiting for bytes.
func (c *Conn) SetReadTimeout(t time.Duration) error {
	if t >= 0 {
		c.readTimeout.Store(int64(t))
	}
	return nil
}

// SetWriteTimeout bounds each background write to a lagging peer.
func (c *Conn) SetWriteTimeout(t time.Duration) error {
	if t >= 0 {
		c.sock.mu.Lock()
		c.sock.wtimeout = t
		c.sock.mu.Unlock()
	}
	return nil
}

// SetIdleTimeout is TCP keepalive, as in netpoll.
func (c *Conn) SetIdleTimeout(t time.Duration) error {
	if tc, ok := c.sock.Conn.(*net.TCPConn); ok && t > 0 {
		_ = tc.SetKeepAlive(true)
		return tc.SetKeepAlivePeriod(t)
	}
	return nil
}

// Fits reports whether n more bytes can be flushed without Flush
// waiting: what waits for the client stays within MaxQueued. Callers
// that must never wait (the engine's socket writer) ask first.
func (c *Conn) Fits(n int) bool { return c.sock.queued()+n <= c.maxQueued }

// Queued is how many bytes wait for the client.
func (c *Conn) Queued() int { return c.sock.queued() }

// net.Conn, for compatibility (netpoll.Connection embeds it). Read and
// Write go through the Reader and Writer; deadlines are timeouts.

func (c *Conn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if err := c.rd.ensure(1); err != nil {
		return 0, err
	}
	n := min(len(b), c.in.Len())
	p, err := c.in.Next(n)
	if err != nil {
		return 0, err
	}
	copy(b, p)
	return n, c.in.Release()
}

func (c *Conn) Write(b []byte) (int, error) {
	if _, err := c.wr.WriteBinary(b); err != nil {
		return 0, err
	}
	return len(b), c.wr.Flush()
}

func (c *Conn) LocalAddr() net.Addr  { return c.sock.LocalAddr() }
func (c *Conn) RemoteAddr() net.Addr { return c.sock.RemoteAddr() }

func (c *Conn) SetDeadline(t time.Time) error {
	_ = c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

func (c *Conn) SetReadDeadline(t time.Time) error {
	if t.IsZero() {
		return c.SetReadTimeout(0)
	}
	return c.SetReadTimeout(max(time.Until(t), 1))
}

func (c *Conn) SetWriteDeadline(t time.Time) error {
	if t.IsZero() {
		return c.SetWriteTimeout(0)
	}
	return c.SetWriteTimeout(max(time.Until(t), 1))
}
