package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/rpc"
	"github.com/straitgw/strait/tracing"
	"github.com/straitgw/strait/upstream"
)

// Tracing (tracing: in the configuration). start decides whether a
// request is traced before anything else is spent on it: a header scan,
// a traceparent parse and a comparison, without allocating. A traced
// request gets a tracing.Request in its observation: each upstream
// attempt records its span there (send, opened, report) and sends its
// own traceparent; the observation's end completes the record and hands
// it to the snapshot's Tracer, which makes the SDK spans on its own
// goroutine. An untraced request's client traceparent travels unchanged.

// How a request is traced (request.traced).
const (
	untraced    uint8 = iota
	tracedRoot        // the trace starts at the gateway
	tracedChild       // the client's traceparent is the parent
)

// traceStart decides whether req is traced: a client's sampled
// traceparent is followed, the rest are sampled at the ratio.
func (s *snapshot) traceStart(req *request, o *observation) {
	if s.tracer == nil {
		return
	}
	var tp string
	n := 0
	for _, f := range req.meta {
		if f.Name == "traceparent" {
			tp, n = f.Value, n+1
		}
	}
	p, ok := tracing.ParseTraceparent(tp)
	ok = ok && n == 1 // two traceparents are none (W3C Trace Context §3.2)
	id, sampled := s.sampler.Sample(p, ok)
	if !sampled {
		return
	}
	var parent tracing.SpanID
	req.traced = tracedRoot
	if ok {
		parent, req.traced = p.Span, tracedChild
	}
	r := s.tracer.Begin(id, parent, o.start)
	if ok {
		r.State = traceState(req.meta)
	}
	r.Protocol, r.HTTPMethod, r.Path, r.RequestID = o.proto.String(), o.method, string(req.path), req.requestID
	o.trace, o.traceID = r, id.String()
}

// traceState joins the client's tracestate headers into a copy: the
// record outlives the request's views (strings.Join would return a lone
// value itself).
func traceState(meta []h2.Field) string {
	var b []byte
	for _, f := range meta {
		if f.Name == "tracestate" {
			if len(b) > 0 {
				b = append(b, ',')
			}
			b = append(b, f.Value...)
		}
	}
	return string(b)
}

// traceHeaderTravels reports whether a client's trace header goes
// upstream for a traced request: the attempt sends its own traceparent,
// and a tracestate without a valid parent has nothing to belong to.
func traceHeaderTravels(req *request, name string) bool {
	switch name {
	case "traceparent":
		return false
	case "tracestate":
		return req.traced == tracedChild
	}
	return true
}

// traced is the request's trace record, nil when it is not traced.
func (l *leg) traced() *tracing.Request { return l.down.obs().trace }

// traceAttempt starts the span of an attempt, and names it in the
// upstream's traceparent, unless an attempt that waited for a connection
// goes on.
func (l *leg) traceAttempt() {
	r := l.traced()
	if r == nil {
		return
	}
	if span, fresh := r.Attempt(time.Now()); fresh {
		l.setTraceparent(r.Traceparent(span))
	}
}

// setTraceparent sets the attempt's traceparent among the upstream
// HEADERS (the leg's own slice; the old value string is left as it is).
func (l *leg) setTraceparent(v string) {
	for i := range l.fields {
		if l.fields[i].Name == "traceparent" {
			l.fields[i].Value = v
			return
		}
	}
	l.fields = append(l.fields, h2.Field{Name: "traceparent", Value: v})
}

// traceReached records the endpoint of the attempt under way.
func (l *leg) traceReached(ep *upstream.Endpoint) {
	if r := l.traced(); r != nil && ep != nil {
		r.Reached(ep.Addr())
	}
}

// traceEnd ends the span of the attempt under way; why says how it
// ended without an answer ("": the status says it).
func (l *leg) traceEnd(code rpc.Code, why string) {
	if r := l.traced(); r != nil {
		r.EndAttempt(time.Now(), code, why)
	}
}

// unprocessedWhy names the error that proved a stream unprocessed.
func unprocessedWhy(err error) string {
	var ge h2.GoAwayError
	if errors.As(err, &ge) {
		return "GOAWAY"
	}
	return "REFUSED_STREAM"
}

// traceRoute records the REST rule's template (http.route).
func (o *observation) traceRoute(template string) {
	if o.trace != nil && o.proto == filter.ProtocolREST {
		o.trace.Route = template
	}
}

// traceEnd completes the trace record from the observation and hands it
// to its tracer.
func (o *observation) traceEnd() {
	r := o.trace
	if r == nil {
		return
	}
	r.Service, r.Method = o.service, o.rpcMethod
	if r.Service == "" && o.proto != filter.ProtocolREST { // a service the descriptors do not know
		if svc, ok := serviceOf(r.Path); ok {
			r.Service, r.Method = string(svc), r.Path[len(svc)+2:]
		}
	}
	r.Status, r.Code, r.HasCode, r.In, r.Out = o.status, o.code, o.hasCode, o.in, o.out
	r.Finish(time.Now())
}

// tracerFor gives s the tracer of its configuration: old's when the
// collector did not change (a new ratio needs no new exporter), else a
// new one.
func (e *Engine) tracerFor(s, old *snapshot) error {
	t := s.cfg.Tracing
	s.sampler = tracing.NewSampler(t.SampleRatio)
	if !t.Enabled() {
		return nil
	}
	if old != nil && old.tracer != nil && old.cfg.Tracing.OTLPEndpoint == t.OTLPEndpoint {
		s.tracer = old.tracer
		return nil
	}
	tr, err := tracing.New(tracing.Config{Endpoint: t.OTLPEndpoint, Log: e.log, Counters: &e.traceCounts})
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	e.tracersMu.Lock()
	e.tracers[tr] = struct{}{}
	e.tracersMu.Unlock()
	s.tracer = tr
	return nil
}

// tracerShutdown bounds the export of what a tracer still holds.
const tracerShutdown = 3 * time.Second

// shutTracer exports what tr holds and stops it.
func (e *Engine) shutTracer(tr *tracing.Tracer) {
	e.tracersMu.Lock()
	_, live := e.tracers[tr]
	delete(e.tracers, tr)
	e.tracersMu.Unlock()
	if !live {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), tracerShutdown)
	defer cancel()
	_ = tr.Shutdown(ctx)
}

// retireTracer stops old's tracer when s does not use it, after grace:
// requests that started on old still finish their spans there.
func (e *Engine) retireTracer(old, s *snapshot, grace time.Duration) {
	if tr := old.tracer; tr != nil && tr != s.tracer {
		time.AfterFunc(grace, func() { e.shutTracer(tr) })
	}
}

// closeTracers exports what every tracer holds and stops them (Close).
func (e *Engine) closeTracers() {
	e.tracersMu.Lock()
	var trs []*tracing.Tracer
	for tr := range e.tracers {
		trs = append(trs, tr)
	}
	e.tracersMu.Unlock()
	for _, tr := range trs {
		e.shutTracer(tr)
	}
}

// writeTraceMetrics adds the tracing counters to /metrics.
func (e *Engine) writeTraceMetrics(w io.Writer) {
	c := &e.traceCounts
	fmt.Fprintf(w, "# HELP strait_trace_spans_total Spans by fate: exported, failed (the collector refused or was unreachable), dropped (queues full).\n")
	fmt.Fprintf(w, "# TYPE strait_trace_spans_total counter\n")
	fmt.Fprintf(w, "strait_trace_spans_total{result=\"exported\"} %d\n", c.Exported.Load())
	fmt.Fprintf(w, "strait_trace_spans_total{result=\"failed\"} %d\n", c.Failed.Load())
	fmt.Fprintf(w, "strait_trace_spans_total{result=\"dropped\"} %d\n", c.Dropped.Load())
}
