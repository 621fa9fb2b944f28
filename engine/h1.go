package engine

import (
	"sync"

	"github.com/straitgw/strait/engine/http1"
	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/transcode"
	"github.com/straitgw/strait/upstream"
)

// h1State is where an HTTP/1.1 connection is in its request cycle.
type h1State uint8

const (
	h1Idle    h1State = iota // between requests; the idle timeout runs
	h1Reading                // reading a request's head and body; the header timeout runs
	h1Busy                   // a request is dispatched and its response in flight
	h1Closing                // no further request is read
)

// h1Conn serves one HTTP/1.1 connection. Requests are parsed on the netpoll
// worker; the response is written by whichever goroutine advances the
// exchange (an upstream worker or a timer). A pipelined request waits for
// the response before it: the worker blocks on done, so pipelining costs
// one goroutine per connection, never one per request.
type h1Conn struct {
	c   *conn
	req http1.Request

	w   *sockWriter
	out []byte // response head and chunk scratch; one response at a time

	mu       sync.Mutex
	state    h1State
	draining bool // every response from now on is the connection's last
	resp     h1Response
	o        observation   // the request in flight's
	more     []h2.Field    // fields every head of the response carries (setExtra)
	cur      exchange      // the exchange in flight, for cancel and drained
	done     chan struct{} // a response ended (buffered: wakeups may be spurious)

	// Scratch reused across requests; views into it die with each request.
	match  transcode.Match
	msg    []byte
	fields []h2.Field
	meta   []h2.Field
	lower  []byte
}

// h1Response is what the response in flight needs to know of its request.
type h1Response struct {
	keepAlive  bool // the connection stays open after it
	proto11    bool // the request was HTTP/1.1 (else 1.0: no chunked)
	started    bool // its head is written
	noBody     bool // a HEAD request's: the head alone is sent
	chunked    bool
	endPending bool // it ended while a background flush runs
	dead       bool // a panic ended the connection: write nothing more
}

func newH1Conn(c *conn) *h1Conn {
	h := &h1Conn{c: c, done: make(chan struct{}, 1)}
	h.w = newSockWriter(c.nc, h.flushed, func(n int) { c.e.addHeld(&c.held, n) })
	return h
}

// setState moves the connection to s, unless it is closing.
func (h *h1Conn) setState(s h1State) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state != h1Closing {
		h.state = s
	}
}

// waitIdle blocks while a response is in flight; it reports whether the
// connection is closing.
func (h *h1Conn) waitIdle() bool {
	h.mu.Lock()
	for h.state == h1Busy {
		h.mu.Unlock()
		<-h.done
		h.mu.Lock()
	}
	closing := h.state == h1Closing
	h.mu.Unlock()
	return closing || !h.c.nc.IsActive()
}

// onIdle closes a connection that has no response in flight when its
// timer fires: kept alive with no request, or too slow sending one.
func (h *h1Conn) onIdle() {
	h.mu.Lock()
	idle := h.state != h1Busy
	h.mu.Unlock()
	if idle {
		_ = h.c.nc.Close()
	}
}

// begin marks a response in flight for the request just read.
func (h *h1Conn) begin(keepAlive, proto11, noBody bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state != h1Closing {
		h.state = h1Busy
	}
	h.resp = h1Response{keepAlive: keepAlive && !h.draining, proto11: proto11, noBody: noBody}
	h.more = h.more[:0]
}

// head writes the status line and headers (downstream).
func (h *h1Conn) head(status int, ctype string, fields []h2.Field, length int, end bool) {
	if end {
		length = 0
	}
	h.mu.Lock()
	if h.resp.dead {
		h.mu.Unlock()
		return
	}
	h.resp.started = true
	if length < 0 && !h.resp.proto11 {
		// HTTP/1.0 cannot read chunked: the end of the stream is the close.
		length, h.resp.keepAlive = http1.LengthClose, false
	}
	ka, extra := h.resp.keepAlive, h.more
	h.resp.chunked = length == http1.LengthChunked
	h.mu.Unlock()
	h.out = appendH1Head(h.out[:0], status, ctype, length, ka, fields)
	h.out = appendH1Fields(h.out, extra)
	h.o.head(status, fields)
	if !end {
		h.w.write(h.out, false) // flushed with the body
		return
	}
	h.o.end()
	h.emit(h.out, true)
}

// data writes response bytes; end finishes the response, at once or when a
// background flush has sent it.
func (h *h1Conn) data(p []byte, end bool) { h.send(p, nil, end) }

// trailers ends a chunked response with a trailer section (RFC 9112
// §7.1.2); other responses cannot carry them.
func (h *h1Conn) trailers(fields []h2.Field) { h.send(nil, fields, true) }

func (h *h1Conn) send(p []byte, trailers []h2.Field, end bool) {
	h.mu.Lock()
	chunked, dead, noBody := h.resp.chunked, h.resp.dead, h.resp.noBody
	h.mu.Unlock()
	if dead {
		return
	}
	if !noBody {
		h.o.out += int64(len(p))
	}
	if end {
		h.o.statusIn(trailers)
		h.o.end()
	}
	if noBody { // HEAD: the head said all
		if end {
			h.emit(nil, true)
		}
		return
	}
	b := p
	if chunked {
		h.out = http1.AppendChunk(h.out[:0], p)
		if end {
			h.out = appendLastChunk(h.out, trailers)
		}
		b = h.out
	}
	h.emit(b, end)
}

// emit writes b and flushes; end finishes the response once it is sent.
// The end is recorded before the write: a background flush the write
// starts may finish (flushed) before write returns. Whichever of emit
// and flushed takes endPending ends the response, once.
func (h *h1Conn) emit(b []byte, end bool) {
	if end {
		h.mu.Lock()
		h.resp.endPending = true
		h.mu.Unlock()
	}
	if h.w.write(b, true) || !end {
		return // flushed ends it
	}
	h.mu.Lock()
	take := h.resp.endPending
	h.resp.endPending = false
	h.mu.Unlock()
	if take {
		h.ended()
	}
}

// abort ends a response that cannot be finished: the client learns it
// from the connection closing before the body's end.
func (h *h1Conn) abort(h2.ErrCode) {
	h.o.end()
	h.mu.Lock()
	h.state, h.cur = h1Closing, nil
	h.mu.Unlock()
	_ = h.c.nc.Close()
}

func (h *h1Conn) backlog() int { return h.w.backlog() }

func (h *h1Conn) obs() *observation { return &h.o }

// cork does nothing: an HTTP/1.1 response is flushed by its own writer.
func (h *h1Conn) cork(*upstream.Batch) {}

// flushed runs when a background flush has sent everything: the response
// may end, and the exchange may return upstream credit.
func (h *h1Conn) flushed() {
	h.mu.Lock()
	end, x := h.resp.endPending, h.cur
	h.resp.endPending = false
	h.mu.Unlock()
	if end {
		h.ended()
	} else if x != nil {
		x.drained()
	}
}

// ended finishes the response in flight and wakes a pipelined request.
func (h *h1Conn) ended() {
	h.mu.Lock()
	h.cur = nil
	ka := h.resp.keepAlive && h.state != h1Closing
	if ka {
		h.state = h1Idle
	} else {
		h.state = h1Closing
	}
	h.mu.Unlock()
	select {
	case h.done <- struct{}{}:
	default:
	}
	if !ka {
		_ = h.c.nc.Close()
		return
	}
	h.c.idle.Reset(h.c.e.snap.Load().cfg.Timeouts.Idle)
}

// closed runs when the client has gone: the exchange in flight is
// cancelled.
func (h *h1Conn) closed() {
	h.mu.Lock()
	x := h.cur
	h.state, h.cur = h1Closing, nil
	h.mu.Unlock()
	select {
	case h.done <- struct{}{}:
	default:
	}
	if x != nil {
		x.cancel()
	}
}

// appendH1Head writes an HTTP/1.1 response head with response metadata.
func appendH1Head(dst []byte, status int, ctype string, length int, keepAlive bool, fields []h2.Field) []byte {
	dst = http1.OpenHead(http1.AppendResponseHead(dst, status, ctype, length, keepAlive, nil))
	dst = append(dst, "\r\nServer: strait"...)
	for _, f := range fields {
		dst = http1.AppendField(dst, f.Name, f.Value)
	}
	return http1.EndHead(dst)
}

// setExtra sets the fields every head of the response carries.
func (h *h1Conn) setExtra(fs []h2.Field) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.more = append(h.more[:0], fs...)
}

func (h *h1Conn) account(n int) { h.c.e.addHeld(&h.c.held, n) }

func (h *h1Conn) extra() []h2.Field {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.more
}

// appendH1Fields adds fields to a finished head, before its blank line.
func appendH1Fields(head []byte, fs []h2.Field) []byte {
	if len(fs) == 0 {
		return head
	}
	head = http1.OpenHead(head)
	for _, f := range fs {
		head = http1.AppendField(head, f.Name, f.Value)
	}
	return http1.EndHead(head)
}

// appendLastChunk ends a chunked body with trailer fields.
func appendLastChunk(dst []byte, fields []h2.Field) []byte {
	if len(fields) == 0 {
		return http1.AppendLastChunk(dst)
	}
	hs := make([]http1.Header, 0, len(fields))
	for _, f := range fields {
		hs = append(hs, http1.Header{Name: sbytes(f.Name), Value: sbytes(f.Value)})
	}
	return http1.AppendLastChunk(dst, hs...)
}
