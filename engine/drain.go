package engine

import (
	"context"
	"time"

	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/rpc"
)

// Drain shuts the gateway down without losing a request: /readyz answers
// 503 at once and the listener stops accepting; h2 clients get the
// two-phase GOAWAY; HTTP/1.1 connections answer the request in flight with
// Connection: close, and idle ones close. Requests in flight may finish
// until ctx is done (timeouts.drain); what is left then ends with
// UNAVAILABLE (503 for REST). Then the engine closes.
func (e *Engine) Drain(ctx context.Context) error {
	if !e.draining.Swap(true) && e.ln != nil {
		_ = e.ln.Close() // new connections are refused; open ones go on
	}
	for _, c := range e.liveConns() {
		c.drain()
	}
	if !e.waitConns(ctx) {
		st := rpc.New(rpc.CodeUnavailable, "gateway shutting down")
		for _, c := range e.liveConns() {
			c.expire(st)
		}
		grace, cancel := context.WithTimeout(context.Background(), time.Second)
		e.waitConns(grace) // the statuses just written leave
		cancel()
	}
	return e.Close()
}

// waitConns waits until no client connection is open, or ctx is done.
func (e *Engine) waitConns(ctx context.Context) bool {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for e.metrics.connsOpen.Load() > 0 {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return true
}

// track registers a client connection until it closes.
func (e *Engine) track(c *conn, open bool) {
	e.connsMu.Lock()
	defer e.connsMu.Unlock()
	if open {
		e.conns[c] = struct{}{}
	} else {
		delete(e.conns, c)
	}
}

func (e *Engine) liveConns() []*conn {
	e.connsMu.Lock()
	defer e.connsMu.Unlock()
	cs := make([]*conn, 0, len(e.conns))
	for c := range e.conns {
		cs = append(cs, c)
	}
	return cs
}

// drain starts a client connection's graceful end.
func (c *conn) drain() {
	switch h1, h2c := c.protocol(); {
	case h2c != nil:
		h2c.h2.Shutdown()
	case h1 != nil:
		h1.drain()
	default:
		_ = c.nc.Close() // nothing sniffed yet: no request to lose
	}
}

// expire ends every exchange still open on the connection with st.
func (c *conn) expire(st rpc.Status) {
	h1, h2c := c.protocol()
	switch {
	case h2c != nil:
		h2c.h2.Handlers(func(h h2.StreamHandler) {
			if x, ok := h.(expirer); ok {
				x.expire(st)
			}
		})
	case h1 != nil:
		h1.expire(st)
	}
	// What the exchanges wrote leaves before the connection closes.
	time.AfterFunc(500*time.Millisecond, func() { _ = c.nc.Close() })
}

// expirer is an exchange, or a stream handler holding one, that can be
// ended with a status at once.
type expirer interface {
	expire(st rpc.Status)
}

// drain makes the response in flight the connection's last, or closes an
// idle connection.
func (h *h1Conn) drain() {
	h.mu.Lock()
	h.draining = true
	h.resp.keepAlive = false // the head, unless already out, says Connection: close
	idle := h.state == h1Idle
	if idle {
		h.state = h1Closing
	}
	h.mu.Unlock()
	if idle {
		_ = h.c.nc.Close()
	}
}

// expire ends the exchange in flight with st.
func (h *h1Conn) expire(st rpc.Status) {
	h.mu.Lock()
	x := h.cur
	h.mu.Unlock()
	if x != nil {
		x.expire(st)
	}
}

// Shutdown drains the gateway within timeouts.drain (see Drain).
func (e *Engine) Shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), e.snap.Load().cfg.Timeouts.Drain)
	defer cancel()
	return e.Drain(ctx)
}
