package engine

import (
	"strconv"
	"sync"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/transcode"
	"github.com/straitgw/strait/upstream"
)

// sink is where a call's response goes: an HTTP/1.1 connection or an h2
// stream. Calls are made from upstream callbacks or timers, one at a time
// per call (the call's mutex orders them).
type sink interface {
	// head starts the response; contentLength < 0 means streamed.
	head(status int, ctype string, hdrs []h2.Field, contentLength int)
	// body writes p; end finishes the response.
	body(p []byte, end bool)
	// backlog is how many response bytes wait for the client to read.
	backlog() int
	// cork adds the client connection to an upstream worker's batch.
	cork(b *upstream.Batch)
}

// callKind says how response messages are rendered.
type callKind uint8

const (
	callREST    callKind = iota // JSON, NDJSON when server-streaming
	callGRPCWeb                 // messages relayed, trailers as a final frame
)

// call is one RPC made upstream on behalf of a REST or gRPC-Web client. It
// is the upstream stream's handler: its methods run on the upstream
// connection's netpoll worker, never on a goroutine of its own.
type call struct {
	e     *Engine
	snap  *snapshot
	kind  callKind
	route *transcode.Route // nil for gRPC-Web calls to methods with no loaded descriptor
	svc   protoreflect.FullName
	out   sink
	web   webMode

	serial   // everything below is guarded by serial.op
	up       *h2.Stream
	timer    *time.Timer
	deadline time.Time // zero: none
	done     bool
	started  bool // head written (streaming)
	status   string
	hdrs     []h2.Field // response metadata for the client
	trail    trailers
	msgs     msgReader
	nmsg     int
	owed     int    // response bytes received while the client lagged, window not yet returned
	out1     []byte // the first (unary) response, rendered
	ctype    string // google.api.HttpBody content type, from the first message
	bufs     *callBufs
	batch    upstream.Batch // start's own, for callers without one
	scratch  []byte
}

// trailers holds what ends a gRPC call.
type trailers struct {
	code    uint32
	seen    bool
	message string
	details []byte
	meta    []h2.Field
}

// newCall makes a call. Calls are not pooled: a timer or a late callback
// may still hold one after it ends, and the garbage collector is the only
// owner that knows when the last of them let go.
func newCall(e *Engine, s *snapshot, kind callKind, rt *transcode.Route, out sink) *call {
	c := &call{e: e, snap: s, kind: kind, route: rt, out: out}
	c.getBufs()
	if rt != nil {
		c.svc = rt.Service
	}
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

// putBufs returns the buffers once the response is written; sinks copy
// what they are given, so no one holds them after that.
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

// start opens the upstream stream and sends msg. With a batch (the caller
// is a connection's worker), the upstream connection is flushed when the
// batch ends; without one, before start returns.
func (c *call) start(b *upstream.Batch, fields []h2.Field, msg []byte, timeout time.Duration) error {
	p := c.snap.pool(c.svc)
	if p == nil {
		return upstream.ErrNoEndpoint
	}
	c.enter()
	defer c.exit(c)
	if b == nil {
		b = &c.batch
		defer b.End()
	}
	s, err := p.Open(b, fields, false, c)
	if err != nil {
		c.done = true
		return err
	}
	c.up = s
	c.e.metrics.upstreamStreams.Add(1)
	if timeout > 0 {
		c.deadline = time.Now().Add(timeout)
		c.timer = time.AfterFunc(timeout, c.onTimeout)
	}
	return s.WriteData(msg, true)
}

// OnHeaders takes the response headers, then the trailers.
func (c *call) OnHeaders(s *h2.Stream, fields []h2.Field, end bool) {
	c.enter()
	defer c.exit(c)
	c.corkClient(s)
	if c.done {
		return
	}
	if c.status == "" && !end {
		c.takeHeaders(fields)
		return
	}
	c.takeTrailers(fields) // trailers, or a trailers-only response
	if end {
		c.finishLocked()
	}
}

func (c *call) takeHeaders(fields []h2.Field) {
	for _, f := range fields {
		switch {
		case f.Name == ":status":
			c.status = f.Value
		case f.Name == "" || f.Name[0] == ':' || responseSkip[f.Name]:
		case f.Name == "grpc-status" || f.Name == "grpc-message":
		default:
			c.hdrs = append(c.hdrs, h2.Field{Name: f.Name, Value: f.Value})
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
			n, err := strconv.ParseUint(f.Value, 10, 32)
			if err != nil {
				n = 2 // UNKNOWN
			}
			c.trail.code, c.trail.seen = uint32(n), true
		case "grpc-message":
			c.trail.message = transcode.DecodeGRPCMessage(f.Value)
		case "grpc-status-details-bin":
			c.trail.details = decodeBin(f.Value)
		default:
			if f.Name != "" && f.Name[0] != ':' && !responseSkip[f.Name] {
				c.trail.meta = append(c.trail.meta, h2.Field{Name: f.Name, Value: f.Value})
			}
		}
	}
}

// OnData reassembles messages and renders each as it completes.
func (c *call) OnData(s *h2.Stream, p []byte, end bool) {
	c.enter()
	defer c.exit(c)
	c.corkClient(s)
	n := len(p)
	if !c.done {
		if !c.msgs.feed(p, c.onMessage) {
			c.failLocked(13, "upstream response message too large or malformed")
		}
		if end && !c.done {
			c.finishLocked()
		}
	}
	// A client that reads slowly keeps the upstream's window: the upstream
	// stops sending, and what the gateway holds stays bounded.
	if !c.done && c.out.backlog() >= relayHighWater {
		c.owed += n
		return
	}
	s.Consume(n)
}

// corkClient joins the client connection to the batch of the upstream
// worker this callback runs on.
func (c *call) corkClient(up *h2.Stream) {
	if b := upstream.BatchOf(up); b != nil && !c.done {
		c.out.cork(b)
	}
}

// drained runs when the client's stream has taken queued bytes.
func (c *call) drained() {
	if c.enterOrQueue(event{kind: evDrain}) {
		c.drainOp()
		c.exit(c)
	}
}

func (c *call) drainOp() {
	if c.owed > 0 && c.up != nil && c.out.backlog() < relayHighWater {
		n := c.owed
		c.owed = 0
		c.up.Consume(n)
	}
}

// OnClose ends the call if the stream died before its trailers.
func (c *call) OnClose(s *h2.Stream, err error) {
	if c.enterOrQueue(event{kind: evClose, s: s, err: err}) {
		c.closeOp(err)
		c.exit(c)
	}
}

func (c *call) runEvent(ev event) {
	switch ev.kind {
	case evClose:
		c.closeOp(ev.err)
	case evCancel:
		c.cancelOp()
	case evDrain:
		c.drainOp()
	}
}

func (c *call) closeOp(err error) {
	if !c.done {
		if err == nil {
			c.finishLocked()
		} else {
			c.failLocked(streamStatus(err, c.deadline))
		}
	}
	if c.up != nil {
		c.up = nil
		c.e.metrics.upstreamStreams.Add(-1)
	}
}

func (c *call) onTimeout() {
	c.enter()
	defer c.exit(c)
	if !c.done {
		c.failLocked(4, "deadline exceeded")
	}
}

// cancel is called when the client went away: the upstream stream is
// reset. It may arrive from inside this call's own write to the client.
func (c *call) cancel() {
	if c.enterOrQueue(event{kind: evCancel}) {
		c.cancelOp()
		c.exit(c)
	}
}

func (c *call) cancelOp() {
	if c.done {
		return
	}
	c.done = true
	c.stopTimer()
	if up := c.up; up != nil {
		up.Reset(h2.ErrCodeCancel)
	}
}

func (c *call) stopTimer() {
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
}
