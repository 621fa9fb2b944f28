package upstream

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/cloudwego/netpoll"

	"github.com/straitgw/strait/internal/poison"

	"github.com/straitgw/strait/h2"
)

// clientConn is one HTTP/2 connection to an endpoint. Its netpoll OnRequest
// feeds the h2 client; responses reach their streams' handlers from there.
type clientConn struct {
	h2    *h2.Conn
	nc    netpoll.Connection
	r     poison.Reader // nc's reader (see internal/poison)
	ep    *endpoint
	batch Batch // used by the worker running onRequest only
}

// dial opens a new connection and adds it to the endpoint.
func (e *endpoint) dial() (*clientConn, error) {
	cfg := e.pool.cfg
	nc, err := netpoll.DialConnection("tcp", e.addr, cfg.DialTimeout)
	if err != nil {
		e.mu.Lock()
		e.failed, e.lastErr = time.Now(), fmt.Errorf("upstream %s: %w", e.addr, err)
		err = e.lastErr
		e.mu.Unlock()
		return nil, err
	}
	c := &clientConn{nc: nc, ep: e, r: poison.Wrap(nc.Reader())}
	hc := cfg.H2
	hc.OnWait = c.batch.End
	hc.OnPanic = cfg.OnPanic
	c.h2 = h2.NewClientConn(nc.Writer(), func() { nc.Close() }, hc)
	// A partial frame waits in Next for at most this long.
	_ = nc.SetReadTimeout(30 * time.Second)
	_ = nc.SetWriteTimeout(10 * time.Second)
	// The preface must leave before any reply to the server's SETTINGS, so
	// Start runs before OnRequest can fire.
	if err := c.h2.Start(); err != nil {
		nc.Close()
		return nil, fmt.Errorf("upstream %s: %w", e.addr, err)
	}
	byConn.Store(c.h2, c)
	_ = nc.AddCloseCallback(c.onClose)
	_ = nc.SetOnRequest(c.onRequest)
	e.mu.Lock()
	e.failed, e.lastErr = time.Time{}, nil
	e.conns = append(e.conns, c)
	e.mu.Unlock()
	return c, nil
}

func (c *clientConn) onRequest(_ context.Context, nc netpoll.Connection) error {
	defer c.recoverPanic()
	err := c.h2.Serve(c.r)
	c.batch.End()
	if err != nil {
		nc.Close()
	}
	return nil
}

func (c *clientConn) onClose(netpoll.Connection) error {
	c.ep.remove(c)
	byConn.Delete(c.h2)
	c.h2.Gone(ErrConnLost) // netpoll frees the buffers after this returns
	// Off netpoll's poller goroutine: failing the streams writes to clients.
	go c.h2.Closed(ErrConnLost)
	return nil
}

// recoverPanic guards onRequest: netpoll's worker pool would only print a
// panic and leave the connection half updated. The connection is aborted
// (its streams fail with the panic, which callers map to INTERNAL), and
// the panic is reported, or raised again when no one listens.
func (c *clientConn) recoverPanic() {
	v := recover()
	if v == nil {
		return
	}
	err := &h2.PanicError{Value: v, Stack: debug.Stack()}
	c.h2.Abort(err)
	c.nc.Close()
	if c.ep.pool.cfg.OnPanic == nil {
		panic(v)
	}
	c.ep.pool.cfg.OnPanic(err)
}
