package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/cloudwego/netpoll"

	"github.com/straitgw/strait/internal/poison"
	"github.com/straitgw/strait/tlsconn"
)

// preface is the HTTP/2 client connection preface (RFC 9113 §3.4).
var preface = []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")

type connKey struct{}

// conn is the per-connection state hung on netpoll's context. Exactly one of
// h1 and h2 is set once the first bytes have been sniffed.
type conn struct {
	e  *Engine
	nc netpoll.Connection
	r  poison.Reader // nc's reader (see internal/poison)
	// h1 and h2 are set once, by the worker that sniffs the protocol; the
	// worker reads them freely, other goroutines through protocol().
	mu sync.Mutex
	h1 *h1Conn
	h2 *h2Conn

	held held // response bytes held for this client (overload.go)

	clientIP string // the peer's address without its port
	scheme   string // "http", or "https" on TLS connections
	// peer is the client's verified certificate (mTLS), and xfcc its
	// x-forwarded-client-cert element; nil and "" otherwise.
	peer     *tlsconn.Identity
	xfcc     string
	identity string // identityName(peer), for filters

	// idle closes a connection that sent nothing in time, or an HTTP/1.1
	// one kept alive with no request; h2 keeps its own idle clock.
	idle *time.Timer
}

func (c *conn) onIdle() {
	switch h1, h2c := c.protocol(); {
	case h2c != nil:
	case h1 != nil:
		h1.onIdle()
	default:
		_ = c.nc.Close()
	}
}

// listen binds the listen address: TLS when configured, else netpoll.
func (e *Engine) listen(cfg Config) error {
	if cfg.TLS.Enabled() {
		return e.listenTLS(cfg)
	}
	ln, err := netpoll.CreateListener("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Listen, unwrapSyscall(err))
	}
	e.ln = ln
	if err := e.startLoop(ln); err != nil {
		ln.Close()
		return err
	}
	return nil
}

func (e *Engine) startLoop(ln netpoll.Listener) error {
	cfg := e.snap.Load().cfg
	loop, err := netpoll.NewEventLoop(e.onRequest,
		netpoll.WithOnPrepare(e.onPrepare),
		netpoll.WithReadTimeout(cfg.Timeouts.Header),
		netpoll.WithWriteTimeout(cfg.Timeouts.Write),
	)
	if err != nil {
		return err
	}
	e.loop = loop
	go func() { _ = loop.Serve(ln) }() // one goroutine for the listener
	return nil
}

func (e *Engine) onPrepare(nc netpoll.Connection) context.Context {
	c := &conn{e: e, nc: nc, r: poison.Wrap(nc.Reader()), clientIP: hostOf(nc.RemoteAddr()), scheme: "http"}
	if t, ok := nc.(*tlsconn.Conn); ok {
		c.scheme, c.peer = "https", t.Peer()
		c.xfcc, c.identity = c.peer.XFCC(), identityName(c.peer)
	}
	// A client must send its first bytes within the header timeout.
	c.idle = time.AfterFunc(e.snap.Load().cfg.Timeouts.Header, c.onIdle)
	_ = nc.AddCloseCallback(c.onClose)
	e.metrics.connsOpen.Add(1)
	e.track(c, true)
	if e.draining.Load() {
		_ = nc.Close() // accepted as the listener closed
	}
	return context.WithValue(context.Background(), connKey{}, c)
}

// onRequest runs on a netpoll worker whenever bytes are buffered. It must
// consume them all (netpoll calls it again while any remain).
func (e *Engine) onRequest(ctx context.Context, nc netpoll.Connection) error {
	c, _ := ctx.Value(connKey{}).(*conn)
	if c == nil {
		return nc.Close()
	}
	defer c.recoverPanic()
	switch {
	case c.h2 != nil:
		return c.h2.serve()
	case c.h1 != nil:
		return c.h1.serve()
	}
	r := c.r
	if isH2(r) {
		c.idle.Stop()
		h := newH2Conn(c)
		c.mu.Lock()
		c.h2 = h
		c.mu.Unlock()
		return h.serve()
	}
	if !isHTTP1(r, c.e.snap.Load().cfg.Limits.MaxHeaderBytes) {
		// Neither protocol: no answer in either would be understood, so
		// the connection is just closed (RFC 9113 §3.4 for a bad preface).
		_ = r.Skip(r.Len())
		return nc.Close()
	}
	h := newH1Conn(c)
	c.mu.Lock()
	c.h1 = h
	c.mu.Unlock()
	return h.serve()
}

// Peer is the client's verified certificate on an mTLS connection (for
// routing and rate limits), or nil.
func (c *conn) Peer() *tlsconn.Identity { return c.peer }

// protocol returns the connection's protocol half, for goroutines other
// than its worker.
func (c *conn) protocol() (*h1Conn, *h2Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.h1, c.h2
}

// isHTTP1 reports whether the first line ends in an HTTP version (versions
// other than 1.x then get the parser's 505). A line longer than max is left
// to the parser to refuse (414).
func isHTTP1(r poison.Reader, max int) bool {
	for n := r.Len(); ; n = r.Len() + 1 {
		if n > max {
			return true
		}
		b, err := r.Peek(n)
		if err != nil {
			return false
		}
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line := bytes.TrimSuffix(b[:i], []byte("\r"))
			return len(line) >= 9 && bytes.HasPrefix(line[len(line)-9:], []byte(" HTTP/"))
		}
	}
}

// isH2 sniffs the preface. A client that sent a prefix of it is waited for
// (bounded by the read timeout); anything else is HTTP/1.1.
func isH2(r poison.Reader) bool {
	n := r.Len()
	if n > len(preface) {
		n = len(preface)
	}
	head, err := r.Peek(n)
	if err != nil || !bytes.Equal(head, preface[:n]) {
		return false
	}
	if n < len(preface) {
		head, err = r.Peek(len(preface))
		if err != nil {
			return false
		}
	}
	return bytes.Equal(head, preface)
}

// onClose may run on netpoll's poller goroutine, which serves every
// connection: the streams' teardown (which writes to upstreams) runs on a
// goroutine of its own, one per closed connection.
func (c *conn) onClose(netpoll.Connection) error {
	c.e.metrics.connsOpen.Add(-1)
	c.e.track(c, false)
	c.idle.Stop()
	// netpoll frees the connection's buffers right after this callback:
	// writers must see the close before it returns.
	h1, h2c := c.protocol()
	if h2c != nil {
		h2c.w.gone()
		h2c.h2.Gone(errClientGone)
		go h2c.closed()
	}
	if h1 != nil {
		h1.w.gone()
		go h1.closed()
	}
	return nil
}

var errClientGone = errors.New("engine: client connection closed")

// hostOf is an address without its port ("" when unknown).
func hostOf(a net.Addr) string {
	if a == nil {
		return ""
	}
	if h, _, err := net.SplitHostPort(a.String()); err == nil {
		return h
	}
	return a.String()
}
