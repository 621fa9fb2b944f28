package engine

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/internal/demo"
	"github.com/straitgw/strait/internal/testutil"
	"github.com/straitgw/strait/tracing"
)

// benchMeta is a REST request's headers as start sees them.
func benchMeta(traceparent string) []h2.Field {
	fs := []h2.Field{{Name: "host", Value: "api.example.com"}, {Name: "user-agent", Value: "bench/1.0"},
		{Name: "accept", Value: "application/json"}, {Name: "authorization", Value: "Bearer abcdefghijklmnopqrstuvwxyz0123456789"},
		{Name: "x-request-id", Value: "0af7651916cd43dd8448eb211c80319c"}, {Name: "content-type", Value: "application/json"},
		{Name: "accept-encoding", Value: "gzip, deflate"}, {Name: "x-tenant", Value: "acme"}}
	if traceparent != "" {
		fs = append(fs, h2.Field{Name: "traceparent", Value: traceparent})
	}
	return fs
}

// sampledTP and unsampledTP are a client's traceparents; the trace id's
// low bits are high, so a 1% ratio leaves the unsampled one untraced.
const (
	sampledTP   = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	unsampledTP = "00-0af7651916cd43ddf448eb211c80319c-b7ad6b7169203331-00"
)

// traceSnapshot is a snapshot with tracing at ratio (nil tracer: off).
func traceSnapshot(tb testing.TB, ratio float64) *snapshot {
	e := &Engine{tracers: map[*tracing.Tracer]struct{}{}}
	s := &snapshot{cfg: Config{Tracing: TracingConfig{OTLPEndpoint: testutil.FreeAddr(tb), SampleRatio: ratio}}}
	if err := e.tracerFor(s, nil); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(e.closeTracers)
	return s
}

// TestTraceStartZeroAlloc: deciding that a request is not traced, with
// or without a client traceparent, allocates nothing.
func TestTraceStartZeroAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	s := traceSnapshot(t, 1e-12) // draws, and never wins
	for _, tp := range []string{"", unsampledTP} {
		req := &request{meta: benchMeta(tp), path: []byte("/v1/shelves/1")}
		var o observation
		n := testing.AllocsPerRun(1000, func() {
			o = observation{proto: filter.ProtocolREST, method: "GET"}
			req.traced = untraced
			s.traceStart(req, &o)
		})
		if n != 0 || o.trace != nil {
			t.Errorf("traceparent %q: %v allocations per untraced request; want 0", tp, n)
		}
	}
}

// BenchmarkTraceStart: the sampling decision, for an untraced request
// (no traceparent at 1%, a client's unsampled one) and a traced one (the
// client sampled it: the record, the trace id, the path and the state).
func BenchmarkTraceStart(b *testing.B) {
	s := traceSnapshot(b, 0.01)
	for _, c := range []struct{ name, tp string }{{"none", ""}, {"unsampled", unsampledTP}, {"sampled", sampledTP}} {
		b.Run(c.name, func(b *testing.B) {
			req := &request{meta: benchMeta(c.tp), path: []byte("/v1/shelves/1")}
			var o observation
			b.ReportAllocs()
			for b.Loop() {
				o = observation{proto: filter.ProtocolREST, method: "GET"}
				req.traced = untraced
				s.traceStart(req, &o)
			}
		})
	}
}

// BenchmarkRESTTracing: REST requests one at a time on a kept-alive
// HTTP/1.1 connection, through a gateway in front of a grpc-go upstream,
// both in this process, with tracing off and on; allocs/op counts the
// whole process (client, gateway, upstream), so compare the cases.
//
//	go test -run '^$' -bench RESTTracing -count 10 ./engine
func BenchmarkRESTTracing(b *testing.B) {
	up := testutil.StartRawUpstream(b, func(*testutil.Call) ([]byte, error) { return shelf, nil })
	col := testutil.StartCollector(b)
	for _, c := range []struct {
		name string
		tc   TracingConfig
		tp   string
	}{
		{"off", TracingConfig{}, ""},
		{"ratio=0.01", TracingConfig{OTLPEndpoint: col.Addr, SampleRatio: 0.01}, ""},
		{"unsampled-parent", TracingConfig{OTLPEndpoint: col.Addr, SampleRatio: 0.01}, unsampledTP},
		{"sampled-parent", TracingConfig{OTLPEndpoint: col.Addr}, sampledTP},
		{"ratio=1", TracingConfig{OTLPEndpoint: col.Addr, SampleRatio: 1}, ""},
	} {
		b.Run(c.name, func(b *testing.B) {
			e, err := New(Config{Listen: "127.0.0.1:0", Upstreams: []UpstreamConfig{{Name: "default", Endpoints: []string{up}}},
				DescriptorSets: [][]byte{demo.Descriptors()}, Tracing: c.tc})
			if err != nil {
				b.Fatal(err)
			}
			if err := e.Start(); err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			conn, err := net.Dial("tcp", e.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			req := "GET /v1/shelves/1 HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench/1.0\r\n"
			if c.tp != "" {
				req += "Traceparent: " + c.tp + "\r\n"
			}
			wire := []byte(req + "\r\n")
			br := bufio.NewReader(conn)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := conn.Write(wire); err != nil {
					b.Fatal(err)
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
			b.StopTimer()
			if tr := e.snap.Load().tracer; tr != nil {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_ = tr.Flush(ctx)
				cancel()
				ct := &e.traceCounts
				b.ReportMetric(float64(ct.Exported.Load()+ct.Dropped.Load())/float64(b.N), "spans/op")
			}
		})
	}
}
