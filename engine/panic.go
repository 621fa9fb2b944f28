package engine

import (
	"fmt"
	"runtime/debug"

	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/rpc"
)

// Panics at netpoll's entry points. netpoll's worker pool recovers a panic
// in OnRequest and only prints it: the connection's state is left half
// updated and its clients hang. So each entry point defers a recover that
// logs the panic once with its stack, counts it (strait_panics_total),
// fails the requests concerned, and closes the connection, whose state
// can no longer be trusted. Nothing is swallowed.

// recoverPanic guards a client connection's OnRequest.
func (c *conn) recoverPanic() {
	v := recover()
	if v == nil {
		return
	}
	c.e.panicked("client connection", v, debug.Stack())
	err := &h2.PanicError{Value: v}
	switch {
	case c.h2 != nil:
		c.h2.h2.Abort(err) // GOAWAY INTERNAL_ERROR: every stream fails
	case c.h1 != nil:
		c.h1.failPanic()
	}
	_ = c.nc.Close()
}

// panicked logs and counts one recovered panic.
func (e *Engine) panicked(where string, v any, stack []byte) {
	e.metrics.panics.Add(1)
	e.log.Error("panic recovered; connection closed", "where", where,
		"panic", fmt.Sprint(v), "stack", string(stack))
}

// h2Panic is told of panics h2 recovered from itself (its HPACK encoder):
// it has already ended the connection concerned.
func (e *Engine) h2Panic(err *h2.PanicError) { e.panicked("h2 connection", err.Value, err.Stack) }

// failPanic answers the request in flight with a 500 if its response has
// not started, and stops every later write: the connection closes next.
func (h *h1Conn) failPanic() {
	h.mu.Lock()
	started := h.resp.started
	h.resp.started, h.resp.dead = true, true
	x := h.cur
	h.state, h.cur = h1Closing, nil
	h.mu.Unlock()
	if x != nil {
		x.cancel()
	}
	if started {
		return
	}
	st := rpc.New(rpc.CodeInternal, "internal gateway error")
	body := appendErrorBody(h.c.e.snap.Load(), st)
	b := appendH1Head(nil, 500, ctypeJSON, len(body), false, appendStatusFields(nil, st))
	h.w.write(append(b, body...), true)
}
