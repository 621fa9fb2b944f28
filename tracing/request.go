package tracing

import (
	"time"

	"github.com/straitgw/strait/rpc"
)

// Request is one sampled request as its spans will tell it: a server
// span for the request and a client span per upstream attempt. The engine
// writes it while the request runs, one call at a time (the request's own
// lock), and hands it to Finish once; the Tracer reads it after that, on
// its own goroutine. Its strings must be owned: they outlive the request.
type Request struct {
	t      *Tracer
	Trace  TraceID
	Parent SpanID // the client's span; zero: the trace starts here
	Span   SpanID // the server span
	State  string // the client's tracestate, kept with a valid parent
	Start  time.Time
	End    time.Time

	Service    string // "pkg.v1.Service", "" when unknown
	Method     string // "Method"
	Protocol   string // "rest", "grpc", "grpc-web"
	HTTPMethod string
	Route      string // the REST rule's path template, "" for gRPC
	Path       string
	RequestID  string
	Status     int // HTTP status
	Code       rpc.Code
	HasCode    bool // a gRPC status was sent
	In, Out    int64

	Attempts []Attempt

	flushed chan struct{} // set on Flush's marker, which is no request
}

// Attempt is one upstream attempt: a client span.
type Attempt struct {
	Span     SpanID
	Start    time.Time
	End      time.Time // zero while under way
	Endpoint string    // host:port; "" when no stream opened
	Code     rpc.Code
	Error    string // why it ended without an answer (error.type)
}

// maxAttempts bounds the attempts a request records (the engine makes at
// most 7: the first, 2 resends of unprocessed requests and 4 by a
// service's retry policy).
const maxAttempts = 16

// Begin starts the record of a request traced in trace, whose client's
// span is parent (zero for none), received at start.
func (t *Tracer) Begin(trace TraceID, parent SpanID, start time.Time) *Request {
	return &Request{t: t, Trace: trace, Parent: parent, Span: NewSpanID(), Start: start}
}

// current is the attempt under way, or nil.
func (r *Request) current() *Attempt {
	if n := len(r.Attempts); n > 0 && r.Attempts[n-1].End.IsZero() {
		return &r.Attempts[n-1]
	}
	return nil
}

// Attempt starts an upstream attempt at now, unless one is under way
// (an attempt that waited for a connection goes on), and returns the
// span id the upstream's traceparent names and whether it is new.
func (r *Request) Attempt(now time.Time) (SpanID, bool) {
	if a := r.current(); a != nil {
		return a.Span, false
	}
	if len(r.Attempts) == maxAttempts {
		return r.Attempts[maxAttempts-1].Span, false
	}
	s := NewSpanID()
	r.Attempts = append(r.Attempts, Attempt{Span: s, Start: now})
	return s, true
}

// Reached records the endpoint of the attempt under way.
func (r *Request) Reached(endpoint string) {
	if a := r.current(); a != nil {
		a.Endpoint = endpoint
	}
}

// EndAttempt ends the attempt under way, if any, at now with code.
// errType says how it failed when the code does not ("REFUSED_STREAM");
// "" names a failure by its code.
func (r *Request) EndAttempt(now time.Time, code rpc.Code, errType string) {
	if a := r.current(); a != nil {
		if errType == "" && code != rpc.CodeOK {
			errType = code.String()
		}
		a.End, a.Code, a.Error = now, code, errType
	}
}

// Traceparent is the header that names span of this trace, sampled.
func (r *Request) Traceparent(span SpanID) string {
	return string(AppendTraceparent(make([]byte, 0, traceparentLen), r.Trace, span, FlagSampled))
}

// Finish ends the request at end (an attempt still under way ends with
// it, with the request's code) and hands it to its tracer. The record
// must not be written after this.
func (r *Request) Finish(end time.Time) {
	r.End = end
	if a := r.current(); a != nil {
		code := r.Code
		if !r.HasCode {
			code = rpc.CodeUnknown
		}
		a.End, a.Code, a.Error = end, code, code.String()
	}
	r.t.export(r)
}
