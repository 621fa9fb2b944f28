package engine

import (
	"strings"
	"time"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/metric"
	"github.com/straitgw/strait/rpc"
	"github.com/straitgw/strait/tracing"
	"github.com/straitgw/strait/transcode"
)

// An observation is what the gateway records of one request, from its
// head to the end of its response, for the access log, the metrics and
// the traces. Every downstream holds one (h2Response per stream, h1Conn
// per connection and reset per request, gather per call): it is begun
// where the request is read, filled in by start and the exchange, and
// ended by the downstream's last write, an abort, or the client leaving.
// Whoever writes to the downstream writes to it too, one call at a time
// (the exchange's lock, or the front end before an exchange exists), so
// it needs no lock of its own. Its strings are owned (or constants): a
// copy of it outlives the request in the access log's queue.
type observation struct {
	e         *Engine // nil: not begun (nothing to report)
	start     time.Time
	proto     filter.Protocol
	method    string // the HTTP method
	path      string // without the query; "" unless the access log is on
	service   string // "pkg.v1.Service": the descriptors', "" when unknown
	rpcMethod string // "Method", likewise
	status    int    // HTTP status
	code      rpc.Code
	hasCode   bool // a gRPC status was sent (a CORS preflight has none)
	in, out   int64
	upstream  string // the endpoint of the last attempt, "" if none
	retries   int
	requestID string
	// traceID is the request's trace id (32 hex digits) when it is traced,
	// set by the tracer and owned; the access log writes it.
	traceID string
	stats   *metric.Route    // the method's metric children (nil: unknown)
	dur     time.Duration    // from start to the end, set by end
	trace   *tracing.Request // nil when not traced (trace.go)
	ended   bool
}

// begin starts the observation of a request (method and path may be
// views: they are copied when kept).
func (o *observation) begin(e *Engine, proto filter.Protocol, method string, path []byte) {
	*o = observation{e: e, start: time.Now(), proto: proto, method: methodName(method)}
	if e.keepsPaths() {
		o.path = string(path)
	}
}

// keepsPaths reports whether an observer reads an observation's path and
// request id (which cost a copy each).
func (e *Engine) keepsPaths() bool { return e.obsKeep.Load() }

// methodName returns method as a constant for the common ones, else a
// copy (a view of the request must not outlive it).
func methodName(m string) string {
	for _, k := range [...]string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"} {
		if m == k {
			return k
		}
	}
	return strings.Clone(m)
}

// identified records the request id, when kept: requestIDOf's, which
// is owned already (a copy of the client's, or made by the gateway).
func (o *observation) identified(requestID string) {
	if o.e != nil && o.e.keepsPaths() {
		o.requestID = requestID
	}
}

// routed records the route, once start knows it: the descriptors'
// strings, which live as long as the snapshot (no copy), and the
// method's metric children in s.
func (o *observation) routed(s *snapshot, rt *transcode.Route) {
	if rt != nil {
		o.service, o.rpcMethod = string(rt.Service), string(rt.Method.Name())
		o.stats = s.methodStats(rt)
		o.traceRoute(rt.Template)
	}
}

// head records a response's head; a trailers-only one carries its status.
func (o *observation) head(status int, fields []h2.Field) {
	o.status = status
	o.statusIn(fields)
}

// statusIn records the grpc-status among fields, if any.
func (o *observation) statusIn(fields []h2.Field) {
	for _, f := range fields {
		if f.Name == "grpc-status" {
			o.code, o.hasCode = rpc.ParseCode(f.Value), true
			return
		}
	}
}

// setCode records the status an exchange ended with (a REST stream's may
// travel in its body only).
func (o *observation) setCode(c rpc.Code) { o.code, o.hasCode = c, true }

// end reports the request, once.
func (o *observation) end() {
	if o.e == nil || o.ended {
		return
	}
	o.ended = true
	o.dur = time.Since(o.start)
	o.traceEnd()
	o.e.observe(o)
}

// gone ends the observation of a request whose client left before its
// response ended: 499 (the client closed the request, as nginx logs it)
// and CANCELLED.
func (o *observation) gone() {
	if o.e == nil || o.ended {
		return
	}
	if o.status == 0 {
		o.status = 499
	}
	o.setCode(rpc.CodeCanceled)
	o.end()
}

// observe hands a finished request to the observers. It runs on the
// goroutine that ended the response; observers must not block, nor keep
// o (they copy what they keep).
func (e *Engine) observe(o *observation) {
	for _, f := range e.observers {
		f(o)
	}
}
