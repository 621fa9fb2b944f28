package upstream

import (
	"context"
	"runtime/debug"
	"time"

	"github.com/cloudwego/netpoll"

	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/internal/poison"
)

// clientConn is one HTTP/2 connection to an endpoint. Its netpoll OnRequest
// feeds the h2 client; responses reach their streams' handlers from there.
type clientConn struct {
	h2    *h2.Conn
	nc    netpoll.Connection
	r     poison.Reader // nc's reader (see internal/poison)
	ep    *Endpoint
	batch Batch         // used by the worker running onRequest only
	ready chan struct{} // closed once the server's first SETTINGS is applied
	gone  chan struct{} // closed when the transport closes
	lost  bool          // closed: never joins ep.conns; guarded by ep.mu
	// pingMin is its h2 PingMinInterval (see Pool.pingLess).
	pingMin time.Duration
}

// newClientConn wires a dialed transport to an h2 client and sends the
// preface; the connection is ready when c.ready closes.
func newClientConn(e *Endpoint, nc netpoll.Connection) (*clientConn, error) {
	cfg := &e.pool.cfg
	c := &clientConn{nc: nc, ep: e, r: poison.Wrap(nc.Reader()),
		ready: make(chan struct{}), gone: make(chan struct{})}
	hc := cfg.H2
	hc.OnWait = c.batch.End
	hc.OnPanic = cfg.OnPanic
	hc.OnReady = func() { close(c.ready) } // h2 calls it once
	c.pingMin = time.Duration(e.pool.pingMin.Load())
	hc.PingMinInterval = c.pingMin
	c.h2 = h2.NewClientConn(nc.Writer(), func() { nc.Close() }, hc)
	// A partial frame waits in Next for at most this long.
	_ = nc.SetReadTimeout(30 * time.Second)
	_ = nc.SetWriteTimeout(10 * time.Second)
	// The preface must leave before any reply to the server's SETTINGS, so
	// Start runs before OnRequest can fire.
	if err := c.h2.Start(); err != nil {
		nc.Close()
		return nil, err
	}
	byConn.Store(c.h2, c)
	if err := nc.AddCloseCallback(c.onClose); err != nil {
		byConn.Delete(c.h2)
		nc.Close()
		return nil, err
	}
	_ = nc.SetOnRequest(c.onRequest)
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
	// Without GOAWAY either way, or after a keepalive timeout, the
	// backend failed rather than drained.
	failure := c.h2.Err() != nil || !c.h2.Draining()
	if ge, ok := c.h2.PeerGoAway(); ok && tooManyPings(ge) {
		c.ep.pool.pingLess(c.pingMin)
	}
	joined := c.ep.remove(c) // no Open finds it from now on
	close(c.gone)
	byConn.Delete(c.h2)
	c.h2.Gone(ErrConnLost) // netpoll frees the buffers after this returns
	// Off netpoll's poller goroutine: failing the streams writes to
	// clients, and a redial may follow.
	go func() {
		c.h2.Closed(ErrConnLost)
		if joined {
			c.ep.lost(failure)
		}
	}()
	return nil
}

// tooManyPings reports whether a backend ended a connection because we
// pinged too often: grpc-go's GOAWAY ENHANCE_YOUR_CALM "too_many_pings"
// (gRPC A8: the client should then ping less on its next connections).
func tooManyPings(ge h2.GoAwayError) bool {
	return ge.Code == h2.ErrCodeEnhanceYourCalm && ge.Debug == "too_many_pings"
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
