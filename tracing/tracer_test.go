package tracing

import (
	"context"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/straitgw/strait/internal/testutil"
	"github.com/straitgw/strait/rpc"
)

func newTestTracer(t *testing.T, cfg Config) *Tracer {
	t.Helper()
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tr.Shutdown(ctx)
	})
	return tr
}

func flush(t *testing.T, tr *Tracer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// sampleRequest records a request with two attempts: the first refused,
// the second answered NOT_FOUND.
func sampleRequest(tr *Tracer, parent Parent, t0 time.Time) *Request {
	r := tr.Begin(parent.Trace, parent.Span, t0)
	r.State = "vendor=x"
	r.Service, r.Method, r.Protocol, r.HTTPMethod = "pkg.v1.Svc", "Get", "rest", "GET"
	r.Route, r.Path, r.RequestID = "/v1/things/{id}", "/v1/things/7", "rid"
	r.Attempt(t0.Add(time.Millisecond))
	r.Reached("127.0.0.1:7001")
	r.EndAttempt(t0.Add(2*time.Millisecond), rpc.CodeUnavailable, "REFUSED_STREAM")
	r.Attempt(t0.Add(3 * time.Millisecond))
	r.Reached("127.0.0.1:7002")
	r.EndAttempt(t0.Add(4*time.Millisecond), rpc.CodeNotFound, "")
	r.Status, r.Code, r.HasCode = 404, rpc.CodeNotFound, true
	return r
}

// TestTracerSpans: a request becomes a server span whose parent is the
// client's span and a client span per attempt whose parent is the server
// span, with the ids and timestamps the engine recorded, the semantic
// conventions' attributes, and an error status where it failed.
func TestTracerSpans(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tr := newTestTracer(t, Config{exporter: exp})
	parent, _ := ParseTraceparent(validTP)
	t0 := time.Unix(1700000000, 0)
	r := sampleRequest(tr, parent, t0)
	r.Finish(t0.Add(5 * time.Millisecond))
	flush(t, tr)

	spans := exp.GetSpans()
	if len(spans) != 3 {
		t.Fatalf("got %d spans; want 3", len(spans))
	}
	srv, a0, a1 := spans[2], spans[0], spans[1] // ended in this order
	if srv.SpanKind != trace.SpanKindServer || srv.Name != "pkg.v1.Svc/Get" ||
		srv.SpanContext.TraceID() != trace.TraceID(parent.Trace) || srv.Parent.SpanID() != trace.SpanID(parent.Span) ||
		srv.SpanContext.SpanID() != trace.SpanID(r.Span) || !srv.StartTime.Equal(t0) || !srv.EndTime.Equal(r.End) ||
		srv.SpanContext.TraceState().Get("vendor") != "x" || srv.Status.Code != codes.Unset {
		t.Errorf("server span: %+v", srv)
	}
	want := map[attribute.Key]any{"rpc.system": "grpc", "rpc.service": "pkg.v1.Svc", "rpc.method": "Get",
		"http.request.method": "GET", "http.route": "/v1/things/{id}", "url.path": "/v1/things/7",
		"http.response.status_code": int64(404), "rpc.grpc.status_code": int64(5), "strait.protocol": "rest",
		"strait.request_id": "rid"}
	checkAttrs(t, "server", srv.Attributes, want)
	for i, a := range []tracetest.SpanStub{a0, a1} {
		rec := r.Attempts[i]
		if a.SpanKind != trace.SpanKindClient || a.Name != "pkg.v1.Svc/Get" || a.Parent.SpanID() != trace.SpanID(r.Span) ||
			a.SpanContext.SpanID() != trace.SpanID(rec.Span) || !a.StartTime.Equal(rec.Start) || !a.EndTime.Equal(rec.End) ||
			a.Status.Code != codes.Error {
			t.Errorf("attempt %d: %+v", i, a)
		}
		checkAttrs(t, "attempt", a.Attributes, map[attribute.Key]any{"strait.retry": int64(i), "server.address": "127.0.0.1",
			"server.port": int64(7001 + i), "rpc.grpc.status_code": int64(rec.Code), "rpc.method": "Get"})
	}
	checkAttrs(t, "first attempt", a0.Attributes, map[attribute.Key]any{"error.type": "REFUSED_STREAM"})
	if r.Traceparent(r.Attempts[1].Span) != "00-"+tid+"-"+r.Attempts[1].Span.String()+"-01" {
		t.Errorf("traceparent %q", r.Traceparent(r.Attempts[1].Span))
	}
}

func checkAttrs(t *testing.T, what string, kv []attribute.KeyValue, want map[attribute.Key]any) {
	t.Helper()
	got := map[attribute.Key]any{}
	for _, a := range kv {
		got[a.Key] = a.Value.AsInterface()
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %v; want %v", what, k, got[k], v)
		}
	}
}

// TestTracerRoot: without a client span the server span starts the
// trace under the trace id the sampler drew; an attempt still under way
// when the request ends (the client left) ends with it, with its code,
// and a server failure sets the server span's error status.
func TestTracerRoot(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tr := newTestTracer(t, Config{exporter: exp})
	id, ok := NewSampler(1).Sample(Parent{}, false)
	if !ok {
		t.Fatal("ratio 1 did not sample")
	}
	t0 := time.Now()
	r := tr.Begin(id, SpanID{}, t0)
	r.HTTPMethod, r.Protocol, r.Status, r.Code, r.HasCode = "POST", "grpc", 200, rpc.CodeUnavailable, true
	r.Attempt(t0)
	r.Finish(t0.Add(time.Second))
	flush(t, tr)
	spans := exp.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("got %d spans; want 2", len(spans))
	}
	a, srv := spans[0], spans[1]
	if srv.Parent.IsValid() || srv.SpanContext.TraceID() != trace.TraceID(id) || srv.Name != "POST" || srv.Status.Code != codes.Error {
		t.Errorf("server span: parent %v trace %v name %q status %v", srv.Parent, srv.SpanContext.TraceID(), srv.Name, srv.Status)
	}
	if !a.EndTime.Equal(srv.EndTime) || a.Status.Description != "UNAVAILABLE" {
		t.Errorf("attempt under way: end %v (request %v), status %v", a.EndTime, srv.EndTime, a.Status)
	}
}

// blockingExporter holds every export until released.
type blockingExporter struct {
	release chan struct{}
	mu      sync.Mutex
	n       int
}

func (b *blockingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	select {
	case <-b.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	b.mu.Lock()
	b.n += len(spans)
	b.mu.Unlock()
	return nil
}

func (b *blockingExporter) Shutdown(context.Context) error { return nil }

// TestTracerDrops: a collector that does not take spans never blocks a
// request's Finish; what the queues cannot hold is dropped and counted,
// so that every span is either exported or counted as dropped.
func TestTracerDrops(t *testing.T) {
	exp := &blockingExporter{release: make(chan struct{})}
	var c Counters
	tr := newTestTracer(t, Config{exporter: exp, Counters: &c, queue: 4, spanQueue: 8, batch: time.Millisecond})
	const n = 200
	parent, _ := ParseTraceparent(validTP)
	start := time.Now()
	for range n {
		r := sampleRequest(tr, parent, start)
		t0 := time.Now()
		r.Finish(t0)
		if d := time.Since(t0); d > 100*time.Millisecond {
			t.Fatalf("Finish took %v with the exporter stuck", d)
		}
	}
	if c.Dropped.Load() == 0 {
		t.Fatal("nothing dropped with the exporter stuck")
	}
	close(exp.release)
	flush(t, tr)
	if got := c.Exported.Load() + c.Dropped.Load(); got != 3*n || c.Exported.Load() != int64(exp.n) || c.Failed.Load() != 0 {
		t.Fatalf("exported %d + dropped %d = %d (exporter saw %d, failed %d); want %d", c.Exported.Load(), c.Dropped.Load(), got, exp.n, c.Failed.Load(), 3*n)
	}
}

// TestTracerOTLP: spans reach a real OTLP/gRPC collector, under the
// service name strait.
func TestTracerOTLP(t *testing.T) {
	col := testutil.StartCollector(t)
	var c Counters
	tr := newTestTracer(t, Config{Endpoint: col.Addr, Counters: &c})
	parent, _ := ParseTraceparent(validTP)
	r := sampleRequest(tr, parent, time.Now())
	r.Finish(time.Now())
	flush(t, tr)
	spans := col.Wait(3, 5*time.Second)
	_, svc := col.Spans()
	if len(spans) != 3 || svc[0] != "strait" || c.Exported.Load() != 3 {
		t.Fatalf("got %d spans (service %v, %d counted exported); want 3 from strait", len(spans), svc, c.Exported.Load())
	}
	for _, s := range spans {
		if TraceID(s.TraceId) != parent.Trace {
			t.Errorf("span %s: trace %x; want %s", s.Name, s.TraceId, tid)
		}
	}
}

// TestTracerDeadCollector: with nothing listening at the collector's
// address, Finish returns at once, the failures are counted, and
// Shutdown keeps to its deadline.
func TestTracerDeadCollector(t *testing.T) {
	addr := testutil.FreeAddr(t) // nothing listens there
	var c Counters
	tr, err := New(Config{Endpoint: addr, Counters: &c, batch: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	parent, _ := ParseTraceparent(validTP)
	t0 := time.Now()
	for range 1000 {
		sampleRequest(tr, parent, t0).Finish(time.Now())
	}
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("1000 requests finished in %v with the collector down", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_ = tr.Shutdown(ctx)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Shutdown took %v; want it bounded by its context", d)
	}
	if c.Exported.Load() != 0 {
		t.Fatalf("%d spans exported to nowhere", c.Exported.Load())
	}
}

// TestSampler: a sampled parent is followed whatever the ratio; an
// unsampled one is decided by its trace id, the same way every time; no
// parent at ratio 0 is never sampled, at ratio 1 always.
func TestSampler(t *testing.T) {
	parent, _ := ParseTraceparent(validTP)
	unsampled := parent
	unsampled.Flags = 0
	for _, c := range []struct {
		ratio float64
		p     Parent
		ok    bool
		want  bool
	}{
		{0, parent, true, true},
		{0, unsampled, true, false},
		{1, unsampled, true, true},
		{0, Parent{}, false, false},
		{1, Parent{}, false, true},
	} {
		for range 100 {
			id, got := NewSampler(c.ratio).Sample(c.p, c.ok)
			if got != c.want || got && c.ok && id != c.p.Trace || got && id == (TraceID{}) {
				t.Fatalf("ratio %v, parent %+v (%v): got %v %s; want %v", c.ratio, c.p, c.ok, got, id, c.want)
			}
		}
	}
	// By trace id: the low 63 bits against the bound.
	low := unsampled
	binary.BigEndian.PutUint64(low.Trace[8:], 1<<61) // 0.125 of the range
	if _, ok := NewSampler(0.2).Sample(low, true); !ok {
		t.Error("trace id at 0.125 not sampled at ratio 0.2")
	}
	if _, ok := NewSampler(0.1).Sample(low, true); ok {
		t.Error("trace id at 0.125 sampled at ratio 0.1")
	}
}

// discard is an exporter that drops everything.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

func flushB(b *testing.B, tr *Tracer) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.Flush(ctx); err != nil {
		b.Fatal(err)
	}
}

func flushShut(b *testing.B, tr *Tracer) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = tr.Shutdown(ctx)
}
