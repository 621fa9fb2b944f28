package engine

import (
	"strconv"
	"sync/atomic"

	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/rpc"
	"github.com/straitgw/strait/upstream"
)

// h2Conn serves one downstream HTTP/2 connection: REST, gRPC and gRPC-Web
// streams side by side.
type h2Conn struct {
	c  *conn
	h2 *h2.Conn
	w  *sockWriter // never waits for the client (see sockWriter)
	// batch gathers the upstream connections written while Serve handles
	// one input batch: they are flushed once, when it ends or waits.
	batch upstream.Batch
}

func newH2Conn(c *conn) *h2Conn {
	h := &h2Conn{c: c}
	nc := c.nc
	cfg := serverH2Config(c.e.snap.Load().cfg)
	cfg.OnWait = h.batch.End
	cfg.OnPanic = c.e.h2Panic
	cfg.OnQueued = func(n int) { c.e.addHeld(&c.held, n) }
	h.w = newSockWriter(nc, h.flushed, cfg.OnQueued)
	h.h2 = h2.NewServerConn(h.w, func() { _ = nc.Close() }, h, cfg)
	if err := h.h2.Start(); err != nil {
		_ = nc.Close()
	}
	return h
}

func (h *h2Conn) serve() error {
	err := h.h2.Serve(h.c.r)
	h.batch.End()
	if err != nil {
		_ = h.c.nc.Close()
	}
	return nil
}

func (h *h2Conn) closed() { h.h2.Closed(errClientGone) }

// flushed runs when a background flush has caught up with the client:
// exchanges that withheld upstream credit for it may return it.
func (h *h2Conn) flushed() {
	h.h2.Handlers(func(sh h2.StreamHandler) {
		if d, ok := sh.(interface{ drained() }); ok {
			d.drained()
		}
	})
}

// Accept starts a stream: gRPC and gRPC-Web stream their bodies through a
// relay at once; REST gathers the body first (it is transcoded whole).
func (h *h2Conn) Accept(s *h2.Stream, fields []h2.Field, end bool) h2.StreamHandler {
	e := h.c.e
	snap := e.snap.Load()
	req := &request{end: end, clientIP: h.c.clientIP, scheme: h.c.scheme, xfcc: h.c.xfcc, identity: h.c.identity}
	req.meta = make([]h2.Field, 0, len(fields)) // one allocation, not one per doubling
	for _, f := range fields {
		switch f.Name {
		case ":method":
			req.method = f.Value
		case ":path":
			path, query, _ := cutQuery(f.Value)
			req.path, req.query = sbytes(path), sbytes(query)
		case ":authority":
			req.authority = f.Value
		case "content-type":
			req.ctype = sbytes(f.Value)
		default:
			if f.Name != "" && f.Name[0] != ':' {
				req.meta = append(req.meta, f) // decoded by h2: owned strings
			}
		}
	}
	req.kind = classify(req.ctype)
	down := &h2Response{s: s, w: h.w, noBody: req.method == "HEAD"}
	down.o.begin(e, protocolOf(req.kind), req.method, req.path)
	if req.kind != kindREST {
		x := e.start(snap, &h.batch, req, down, s, &h.batch)
		return x.(*relay)
	}
	r := &h2REST{e: e, snap: snap, req: req, down: down, batch: &h.batch}
	if end {
		r.dispatch()
	}
	return r
}

func cutQuery(target string) (path, query string, ok bool) {
	for i := 0; i < len(target); i++ {
		if target[i] == '?' {
			return target[:i], target[i+1:], true
		}
	}
	return target, "", false
}

// h2REST gathers a REST request's body on a downstream stream (bounded by
// limits.max_body_bytes), then starts its call and passes the client's
// resets and drains to it.
type h2REST struct {
	e     *Engine
	snap  *snapshot
	req   *request
	down  *h2Response
	batch *upstream.Batch // the client connection's: its worker only
	body  []byte
	call  atomic.Pointer[call] // read by OnClose and OnDrain, which may run on other goroutines
}

// OnHeaders: request trailers are ignored; they end the body.
func (r *h2REST) OnHeaders(s *h2.Stream, fields []h2.Field, end bool) {
	if end {
		r.dispatch()
	}
}

func (r *h2REST) OnData(s *h2.Stream, p []byte, end bool) {
	max := r.snap.cfg.Limits.MaxBodyBytes
	if len(r.body)+len(p) > max {
		s.Consume(len(p))
		if r.req != nil {
			r.req = nil
			r.e.replyJSON(r.snap, r.down, 413, rpc.New(rpc.CodeInvalidArgument,
				"request body larger than "+strconv.Itoa(max)+" bytes"), nil)
			// RFC 9113 §8.1: a complete response before the request ends,
			// then NO_ERROR, so the client keeps the response.
			s.Reset(h2.ErrCodeNo)
		}
		return
	}
	r.body = append(r.body, p...)
	s.Consume(len(p))
	if end {
		r.dispatch()
	}
}

// dispatch runs once the whole request has arrived.
func (r *h2REST) dispatch() {
	req := r.req
	if req == nil {
		return
	}
	r.req = nil
	req.body, req.end = r.body, true
	r.down.o.in = int64(len(r.body))
	if c, ok := r.e.start(r.snap, r.batch, req, r.down, nil, nil).(*call); ok {
		r.call.Store(c)
	}
}

// expire ends the call, or answers a request still gathering its body.
func (r *h2REST) expire(st rpc.Status) {
	if c := r.call.Load(); c != nil {
		c.expire(st)
	}
}

// drained: the connection's writer caught up with the client.
func (r *h2REST) drained() {
	if c := r.call.Load(); c != nil {
		c.drained()
	}
}

func (r *h2REST) OnClose(s *h2.Stream, err error) {
	if c := r.call.Load(); c != nil && err != nil {
		c.cancel()
	}
}

// OnDrain lets the call return window to its upstream.
func (r *h2REST) OnDrain(s *h2.Stream, n int) {
	if c := r.call.Load(); c != nil {
		c.drained()
	}
}

func serverH2Config(cfg Config) h2.Config {
	return h2.Config{
		MaxConcurrentStreams: cfg.Limits.MaxConcurrentStreams,
		MaxHeaderListSize:    uint32(cfg.Limits.MaxHeaderBytes),
		// What one client connection can make the gateway hold of its
		// request bodies: this per stream, times its streams.
		InitialWindowSize: downstreamStreamWindow,
		IdleTimeout:       cfg.Timeouts.Idle,
		// A lagging client holds at most one upstream stream window plus
		// relayHighWater per stream before upstream credit stops.
		// One rendered REST message (JSON may be twice its protobuf) must
		// fit, whatever the client's window; the gateway's budget bounds
		// the sum (overload.go).
		MaxStreamBuffer: 2*cfg.Limits.MaxBodyBytes + 64<<10,
		MaxConnBuffer:   max(64<<20, 4*cfg.Limits.MaxBodyBytes), // past it the stream is reset (down.go)
	}
}

// upstreamStreamWindow is each upstream stream's receive window: enough
// for throughput on a data-center link, small enough to bound what a slow
// client makes the gateway hold.
const upstreamStreamWindow = 64 << 10

// downstreamStreamWindow is each client stream's receive window.
const downstreamStreamWindow = 256 << 10

func upstreamH2Config(cfg Config) h2.Config {
	return h2.Config{
		// The cap is the upstream's SETTINGS; ours only guards against
		// a peer that advertises none (grpc-go advertises none).
		MaxConcurrentStreams: 1000,
		InitialWindowSize:    upstreamStreamWindow,
		ConnWindowSize:       16 << 20,
		MaxHeaderListSize:    1 << 20,
		// A whole request body (REST, or gRPC-Web over HTTP/1.1) is
		// written at once and waits for the upstream's window: one must
		// fit, however small the upstream's window.
		MaxStreamBuffer: cfg.Limits.MaxBodyBytes + 64<<10,
		MaxConnBuffer:   max(256<<20, 4*cfg.Limits.MaxBodyBytes),
	}
}
