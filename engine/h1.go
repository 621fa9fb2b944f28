package engine

import (
	"errors"
	"sync"

	"github.com/straitgw/strait/engine/http1"
	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/transcode"
	"github.com/straitgw/strait/upstream"
)

// h1Conn serves one HTTP/1.1 connection. Requests are parsed on the netpoll
// worker; the response is written by whichever goroutine finishes the call
// (an upstream worker or a timer). A pipelined request waits for the one
// before it: the worker blocks on done, so pipelining costs one goroutine
// per connection, never one per request.
type h1Conn struct {
	c   *conn
	req http1.Request

	w   *h1Writer
	out []byte // response head and chunk scratch; sinks run one at a time

	mu         sync.Mutex
	cur        *call
	busy       bool
	reading    bool // serve is parsing or dispatching
	inRequest  bool // serve is reading a request's head or body
	proto11    bool // the request in flight is HTTP/1.1
	waiting    bool // the worker is blocked in waitIdle
	keepAlive  bool
	closing    bool // no further request is read
	chunked    bool
	endPending bool          // the response ended while a background flush runs
	done       chan struct{} // signalled when a busy response ends

	match  transcode.Match // reused: matching allocates nothing
	msg    []byte          // upstream request message, reused
	fields []h2.Field      // upstream request headers, reused
	lower  []byte          // lower-cased header names, reused
}

func newH1Conn(c *conn) *h1Conn {
	h := &h1Conn{c: c, done: make(chan struct{}, 1)}
	h.w = newH1Writer(c.nc, h.flushed)
	return h
}

// serve parses and dispatches every complete request buffered.
func (h *h1Conn) serve() error {
	r := h.c.r
	lim := h.c.e.snap.Load().cfg.Limits
	h.setReading(true)
	defer h.setReading(false)
	for r.Len() > 0 {
		if h.waitIdle() {
			// No request will be read any more: drop what the client sent,
			// or netpoll would call serve again for it forever.
			_ = r.Skip(r.Len())
			_ = r.Release()
			return h.c.nc.Close()
		}
		h.req.Reset()
		h.setInRequest(true)
		err := h.read(r, http1.Limits{MaxHeaderBytes: lim.MaxHeaderBytes, MaxBodyBytes: lim.MaxBodyBytes})
		h.setInRequest(false)
		if err != nil {
			h.readFailed(err)
			return nil
		}
		h.c.e.metrics.requests.Add(1)
		h.dispatch()
		_ = r.Release()
	}
	return nil
}

// waitIdle blocks while a response is in flight; it reports true when the
// connection is closing.
func (h *h1Conn) waitIdle() bool {
	h.mu.Lock()
	for h.busy {
		h.waiting = true
		h.mu.Unlock()
		<-h.done
		h.mu.Lock()
	}
	closing := h.closing
	h.mu.Unlock()
	return closing || !h.c.nc.IsActive()
}

// read reads one request, answering Expect: 100-continue between head and
// body when the body is not already on its way.
func (h *h1Conn) read(r http1.Reader, lim http1.Limits) error {
	if err := http1.ReadHead(r, &h.req, lim); err != nil {
		return err
	}
	if h.req.ExpectContinue && r.Len() == 0 {
		h.w.write(http1.AppendContinue(h.out[:0]), true)
	}
	return http1.ReadBody(r, &h.req, lim)
}

// setInRequest brackets the reading of one request: the header timeout
// bounds the whole of it, however slowly its bytes drip in.
func (h *h1Conn) setInRequest(v bool) {
	if v {
		h.c.idle.Reset(h.c.e.snap.Load().cfg.Timeouts.Header)
	}
	h.mu.Lock()
	h.inRequest = v
	h.mu.Unlock()
}

func (h *h1Conn) setReading(v bool) {
	h.mu.Lock()
	h.reading = v
	h.mu.Unlock()
}

// onIdle closes a kept-alive connection that has no request under way.
func (h *h1Conn) onIdle() {
	h.mu.Lock()
	idle := !h.busy && !h.reading || h.inRequest
	h.mu.Unlock()
	if idle {
		_ = h.c.nc.Close()
	}
}

// wakeLocked releases a worker blocked in waitIdle.
func (h *h1Conn) wakeLocked() {
	if h.waiting {
		h.waiting = false
		h.done <- struct{}{}
	}
}

func (h *h1Conn) readFailed(err error) {
	var he *http1.Error
	if errors.As(err, &he) {
		h.keepAlive = false
		h.localReply(he.Status, httpToGRPC(he.Status), he.Msg, nil)
	}
	_ = h.c.nc.Close()
}

// begin marks a response in flight.
func (h *h1Conn) begin(keepAlive, proto11 bool) {
	h.mu.Lock()
	h.busy, h.keepAlive, h.chunked, h.proto11 = true, keepAlive, false, proto11
	h.mu.Unlock()
}

// head writes the status line and headers (sink).
func (h *h1Conn) head(status int, ctype string, hdrs []h2.Field, contentLength int) {
	h.mu.Lock()
	if contentLength < 0 && !h.proto11 {
		// HTTP/1.0 cannot read chunked: the end of the stream is the close.
		contentLength, h.keepAlive = http1.LengthClose, false
	}
	ka := h.keepAlive
	h.chunked = contentLength == http1.LengthChunked
	h.mu.Unlock()
	h.out = appendH1Head(h.out[:0], status, ctype, contentLength, ka, hdrs)
	h.w.write(h.out, false)
}

// body writes response bytes (sink); end finishes the response, at once or
// when a background flush has sent it.
func (h *h1Conn) body(p []byte, end bool) {
	h.mu.Lock()
	chunked := h.chunked
	h.mu.Unlock()
	b := p
	if chunked {
		h.out = http1.AppendChunk(h.out[:0], p)
		if end {
			h.out = http1.AppendLastChunk(h.out)
		}
		b = h.out
	}
	if h.w.write(b, true) && end {
		h.mu.Lock()
		h.endPending = true
		h.mu.Unlock()
		return
	}
	if end {
		h.finish()
	}
}

func (h *h1Conn) backlog() int { return h.w.backlog() }

// cork does nothing: an HTTP/1.1 response is flushed by its own writer.
func (h *h1Conn) cork(*upstream.Batch) {}

// flushed runs when a background flush has sent everything: the response
// may end, and the call may return upstream credit.
func (h *h1Conn) flushed() {
	h.mu.Lock()
	end, c := h.endPending, h.cur
	h.endPending = false
	h.mu.Unlock()
	if end {
		h.finish()
	} else if c != nil {
		c.drained()
	}
}

// finish ends the in-flight response and wakes a pipelined request.
func (h *h1Conn) finish() {
	h.mu.Lock()
	h.cur = nil
	h.busy = false
	ka := h.keepAlive
	h.closing = h.closing || !ka
	h.wakeLocked()
	h.mu.Unlock()
	if !ka {
		_ = h.c.nc.Close()
		return
	}
	h.c.idle.Reset(h.c.e.snap.Load().cfg.Timeouts.Idle)
}

// closed runs when the client has gone: the call in flight is cancelled.
func (h *h1Conn) closed() {
	h.mu.Lock()
	c := h.cur
	h.cur = nil
	h.keepAlive, h.closing = false, true
	h.busy = false
	h.wakeLocked()
	h.mu.Unlock()
	if c != nil {
		c.cancel()
	}
}

// localReply answers without going upstream, with the JSON error body.
func (h *h1Conn) localReply(status int, code uint32, msg string, hdrs []h2.Field) {
	h.mu.Lock()
	h.busy, h.chunked = true, false
	h.mu.Unlock()
	h.c.e.metrics.localReplies.Add(1)
	s := h.c.e.snap.Load()
	body := appendErrorJSON(nil, code, msg, s)
	h.head(status, ctypeJSON, hdrs, len(body))
	h.body(body, true)
}
