package engine

import (
	"encoding/base64"
	"sync"

	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/rpc"
	"github.com/straitgw/strait/transcode"
	"github.com/straitgw/strait/upstream"
)

// call is a REST exchange: one upstream call made for a JSON request,
// whose response messages are transcoded to JSON for the client. It is
// the upstream stream's handler: its methods run on the upstream
// connection's worker or on its deadline timer, never on a goroutine of
// its own. Everything below leg is guarded by leg.mu.
type call struct {
	leg
	route      *transcode.Route
	teTrailers bool       // the client accepts trailers (TE: trailers)
	status     string     // upstream :status
	hdrs       []h2.Field // response metadata for the client
	trail      rpc.Status
	meta       []h2.Field // trailer metadata
	seen       bool       // grpc-status received
	msgs       msgReader
	counted    int // cap(msgs.buf) accounted against the budget (overload.go)
	nmsg       int
	started    bool   // head written (streaming)
	out1       []byte // the unary response, rendered
	ctype      string // google.api.HttpBody content type, from the first message
	scratch    []byte
	bufs       *callBufs
}

// newCall makes a call. Calls are not pooled: a timer or a late callback
// may still hold one after it ends, and the garbage collector is the only
// owner that knows when the last of them let go.
func newCall(e *Engine, s *snapshot, rt *transcode.Route, down downstream) *call {
	c := &call{leg: leg{e: e, snap: s, down: down}, route: rt}
	c.self, c.giveUp, c.restart = c, c.fail, c.forget
	c.getBufs()
	c.msgs.reset(s.cfg.Limits.MaxBodyBytes)
	return c
}

// callBufs are a call's output buffers, reused across calls: a response
// is rendered into them, so a fresh call would grow them again each time.
type callBufs struct {
	out1, scratch []byte
	hdrs          []h2.Field
}

var bufPool = sync.Pool{New: func() any { return new(callBufs) }}

// maxPooledBuf keeps one huge response from pinning its buffer forever.
const maxPooledBuf = 64 << 10

func (c *call) getBufs() {
	b := bufPool.Get().(*callBufs)
	c.out1, c.scratch, c.hdrs = b.out1[:0], b.scratch[:0], b.hdrs[:0]
	b.out1, b.scratch, b.hdrs = nil, nil, nil
	c.bufs = b
}

// putBufs returns the buffers once the response is written; downstreams
// copy what they are given, so no one holds them after that.
func (c *call) putBufs() {
	b := c.bufs
	if b == nil {
		return
	}
	c.bufs = nil
	if cap(c.out1) <= maxPooledBuf && cap(c.scratch) <= maxPooledBuf {
		clear(c.hdrs[:cap(c.hdrs)])
		b.out1, b.scratch, b.hdrs = c.out1[:0], c.scratch[:0], c.hdrs[:0]
		bufPool.Put(b)
	}
	c.out1, c.scratch, c.hdrs = nil, nil, nil
}

// OnHeaders takes the response headers, then the trailers.
func (c *call) OnHeaders(s *h2.Stream, fields []h2.Field, end bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corkDown(s)
	if c.done {
		return
	}
	c.answer()
	if c.status == "" && !end {
		c.takeHeaders(fields)
		return
	}
	c.takeTrailers(fields) // trailers, or a trailers-only response
	if end && !c.retryByPolicy(c.trail.Code, c.seen && !c.started) {
		c.finish()
	}
}

// forget drops a response the retry policy will ask for again.
func (c *call) forget() {
	c.status, c.hdrs, c.meta = "", c.hdrs[:0], nil
	c.trail, c.seen, c.nmsg = rpc.Status{}, false, 0
	c.out1 = c.out1[:0]
	c.msgs.reset(c.snap.cfg.Limits.MaxBodyBytes)
}

func (c *call) takeHeaders(fields []h2.Field) {
	for _, f := range fields {
		switch {
		case f.Name == ":status":
			c.status = f.Value
		case f.Name == "" || f.Name[0] == ':' || responseSkip[f.Name]:
		default:
			c.hdrs = c.snap.headers.appendResponse(c.hdrs, f)
		}
	}
	if c.status == "" {
		c.status = "200"
	}
}

func (c *call) takeTrailers(fields []h2.Field) {
	for _, f := range fields {
		switch f.Name {
		case ":status": // a trailers-only response
			c.status = f.Value
		case "grpc-status":
			c.trail.Code, c.seen = rpc.ParseCode(f.Value), true
		case "grpc-message":
			c.trail.Message = rpc.DecodeMessage(f.Value)
		case "grpc-status-details-bin":
			c.trail.Details = decodeBin(f.Value)
		default:
			if f.Name != "" && f.Name[0] != ':' && !responseSkip[f.Name] {
				c.meta = c.snap.headers.appendResponse(c.meta, f)
			}
		}
	}
}

// OnData reassembles messages and renders each as it completes.
func (c *call) OnData(s *h2.Stream, p []byte, end bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corkDown(s)
	if !c.done {
		if !c.msgs.feed(p, c.onMessage) {
			c.fail(rpc.New(rpc.CodeInternal, "upstream response message too large or malformed"))
		}
		if end && !c.done {
			c.finish()
		}
	}
	c.countReassembly()
	c.reassembling = c.msgs.need > 0
	c.credit(s, len(p))
}

// countReassembly keeps the budget told of the buffer a message split
// across frames is gathered in: REST renders whole messages, so this is
// what a REST stream holds besides its client's queue.
func (c *call) countReassembly() {
	n := cap(c.msgs.buf)
	if c.done {
		n = 0
		c.msgs.buf = nil
	}
	if d := n - c.counted; d != 0 {
		c.down.account(d)
		c.counted = n
	}
}

// OnClose ends the call if the stream died before its trailers.
func (c *call) OnClose(s *h2.Stream, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s != c.up {
		return // an attempt the leg has already given up
	}
	c.upClosed()
	switch {
	case c.done:
	case err == nil:
		c.finish()
	case c.retry(err):
	default:
		st := streamStatus(err, c.deadline)
		if !c.retryByPolicy(st.Code, !c.started && !c.answered) { // e.g. a connection lost, opt-in
			c.fail(st)
		}
	}
}

// drained runs when the client has taken queued bytes.
func (c *call) drained() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.repay()
}

func (c *call) onTimeout() {
	var b upstream.Batch
	c.mu.Lock()
	c.timerBatch(&b)
	if !c.done {
		c.fail(rpc.New(rpc.CodeDeadlineExceeded, "deadline exceeded"))
	}
	c.mu.Unlock()
	b.End()
}

// cancel: the client went away; the upstream stream is reset.
func (c *call) cancel() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return
	}
	c.done = true
	c.ep = nil // the client left: says nothing of the endpoint
	c.down.obs().gone()
	c.filtersDone(rpc.New(rpc.CodeCanceled, "the client left"))
	c.stopTimer()
	c.resetUp()
	c.putBufs()
	c.countReassembly()
}

// expire ends the call with st: 503 for UNAVAILABLE, or an error line if
// the response has started.
func (c *call) expire(st rpc.Status) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fail(st)
}

// decodeBin decodes a -bin metadata value (unpadded or padded base64).
func decodeBin(v string) []byte {
	for len(v) > 0 && v[len(v)-1] == '=' {
		v = v[:len(v)-1]
	}
	if b, err := base64.RawStdEncoding.DecodeString(v); err == nil {
		return b
	}
	return nil
}
