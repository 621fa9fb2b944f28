package testutil

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
)

// Collector is an in-process OpenTelemetry collector: the OTLP/gRPC
// TraceService on loopback, keeping every span it receives.
type Collector struct {
	coltracepb.UnimplementedTraceServiceServer
	Addr string

	// Discard counts spans without keeping them (benchmarks).
	Discard bool
	Count   atomic.Int64

	mu       sync.Mutex
	spans    []*tracepb.Span
	services []string // the resource's service.name of each span
	more     chan struct{}
}

// StartCollector runs a Collector until the test ends.
func StartCollector(t testing.TB) *Collector {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &Collector{Addr: ln.Addr().String(), more: make(chan struct{}, 1)}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, c)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return c
}

// Export keeps the spans of one batch.
func (c *Collector) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			c.Count.Add(int64(len(ss.Spans)))
		}
		if c.Discard {
			continue
		}
		svc := ""
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.Key == "service.name" {
				svc = kv.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				c.spans = append(c.spans, s)
				c.services = append(c.services, svc)
			}
		}
	}
	c.mu.Unlock()
	select {
	case c.more <- struct{}{}:
	default:
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// Spans returns the spans received so far and their service names.
func (c *Collector) Spans() ([]*tracepb.Span, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*tracepb.Span(nil), c.spans...), append([]string(nil), c.services...)
}

// Wait waits up to timeout until n spans have arrived and returns them
// all (fewer if the time ran out).
func (c *Collector) Wait(n int, timeout time.Duration) []*tracepb.Span {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if s, _ := c.Spans(); len(s) >= n {
			return s
		}
		select {
		case <-c.more:
		case <-deadline.C:
			s, _ := c.Spans()
			return s
		}
	}
}

// Reset forgets the spans received so far.
func (c *Collector) Reset() {
	c.mu.Lock()
	c.spans, c.services = nil, nil
	c.mu.Unlock()
}
