package engine

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/straitgw/strait/internal/demo"
	"github.com/straitgw/strait/internal/testutil"
	"github.com/straitgw/strait/tracing"
)

// shelf is a Shelf{id: 1, theme: "x"} as the raw upstream answers it.
var shelf = []byte{0x08, 0x01, 0x12, 0x01, 'x'}

// mdUpstream is a raw upstream that answers every call with shelf and
// hands each call's metadata to the test.
func mdUpstream(t *testing.T) (string, chan metadata.MD) {
	mds := make(chan metadata.MD, 1024)
	addr := testutil.StartRawUpstream(t, func(c *testutil.Call) ([]byte, error) {
		mds <- c.MD
		return shelf, nil
	})
	return addr, mds
}

// traceGateway runs a gateway in front of endpoints that traces to the
// collector at col with ratio, and hears of every request.
func traceGateway(t *testing.T, col string, ratio float64, endpoints []string, mod func(*Config)) (*Engine, *observed) {
	t.Helper()
	cfg := Config{Listen: "127.0.0.1:0", DescriptorSets: [][]byte{demo.Descriptors()},
		Upstreams: []UpstreamConfig{{Name: "default", Endpoints: endpoints}},
		Tracing:   TracingConfig{OTLPEndpoint: col, SampleRatio: ratio}}
	if mod != nil {
		mod(&cfg)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	obs := &observed{ch: make(chan struct{}, 4096)}
	e.observers = append(e.observers, obs.add)
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e, obs
}

// flushTraces exports every span of the requests finished so far.
func flushTraces(t *testing.T, e *Engine) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.snap.Load().tracer.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// spansOf returns the collector's spans of trace tid (hex): the server
// span and the client spans in the order they started.
func spansOf(col *testutil.Collector, tid string) (srv *tracepb.Span, clients []*tracepb.Span) {
	all, _ := col.Spans()
	for _, s := range all {
		if hex.EncodeToString(s.TraceId) != tid {
			continue
		}
		if s.Kind == tracepb.Span_SPAN_KIND_SERVER {
			srv = s
		} else {
			clients = append(clients, s)
		}
	}
	for i := 1; i < len(clients); i++ { // few: insertion sort by start
		for j := i; j > 0 && clients[j].StartTimeUnixNano < clients[j-1].StartTimeUnixNano; j-- {
			clients[j], clients[j-1] = clients[j-1], clients[j]
		}
	}
	return srv, clients
}

// attrs maps a span's attributes to their values as strings.
func attrs(s *tracepb.Span) map[string]string {
	m := map[string]string{}
	for _, kv := range s.Attributes {
		v := kv.Value
		switch {
		case v.GetStringValue() != "":
			m[kv.Key] = v.GetStringValue()
		default:
			m[kv.Key] = strconv.FormatInt(v.GetIntValue(), 10)
		}
	}
	return m
}

// newParent makes a client span context from rng: trace and span ids in hex.
func newParent(rng *rand.Rand) (tid, sid string) {
	var b [24]byte
	for i := 0; i < len(b); i += 8 {
		v := rng.Uint64() | 1
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return hex.EncodeToString(b[:16]), hex.EncodeToString(b[16:])
}

// seeded is a random source whose seed is logged; STRAIT_SEED replays it.
func seeded(t *testing.T) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("STRAIT_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d (STRAIT_SEED=%d replays)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed))
}

// tracedCall makes one request of a protocol with the given trace
// headers and checks it succeeded.
type tracedCall struct {
	name string
	do   func(t *testing.T, addr string, hdr map[string]string)
}

func tracedCalls() []tracedCall {
	rest := func(c *http.Client) func(t *testing.T, addr string, hdr map[string]string) {
		return func(t *testing.T, addr string, hdr map[string]string) {
			req, _ := http.NewRequest("GET", "http://"+addr+"/v1/shelves/1", nil)
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(b), `"theme":"x"`) {
				t.Fatalf("got %d %s", resp.StatusCode, b)
			}
		}
	}
	web := func(c *http.Client) func(t *testing.T, addr string, hdr map[string]string) {
		return func(t *testing.T, addr string, hdr map[string]string) {
			frame := []byte{0, 0, 0, 0, 2, 0x08, 0x01}
			req, _ := http.NewRequest("POST", "http://"+addr+"/bookstore.v1.Bookstore/GetShelf", bytes.NewReader(frame))
			req.Header.Set("Content-Type", "application/grpc-web+proto")
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !bytes.Contains(b, shelf) || !bytes.Contains(b, []byte("grpc-status: 0")) {
				t.Fatalf("got %d %q", resp.StatusCode, b)
			}
		}
	}
	grpcCall := func(t *testing.T, addr string, hdr map[string]string) {
		cc := grpcDial(t, addr)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for k, v := range hdr {
			ctx = metadata.AppendToOutgoingContext(ctx, k, v)
		}
		out, err := testutil.RawCall(ctx, cc, "/bookstore.v1.Bookstore/GetShelf", []byte{0x08, 0x01})
		if err != nil || !bytes.Equal(out, shelf) {
			t.Fatalf("got %x %v", out, err)
		}
	}
	return []tracedCall{
		{"REST HTTP/1.1", rest(http.DefaultClient)},
		{"REST h2c", rest(testutil.H2CClient())},
		{"gRPC", grpcCall},
		{"gRPC-Web HTTP/1.1", web(http.DefaultClient)},
		{"gRPC-Web h2c", web(testutil.H2CClient())},
	}
}

// TestTracing: with a client's sampled traceparent, over every protocol,
// the gateway's server span continues the client's trace under the
// client's span; its client span is the server span's child; the
// upstream gets a traceparent that names the client span, and the
// client's tracestate; the observation carries the trace id.
func TestTracing(t *testing.T) {
	col := testutil.StartCollector(t)
	up, mds := mdUpstream(t)
	e, obs := traceGateway(t, col.Addr, 0, []string{up}, nil)
	rng := seeded(t)
	for _, c := range tracedCalls() {
		t.Run(c.name, func(t *testing.T) {
			tid, sid := newParent(rng)
			c.do(t, e.Addr().String(), map[string]string{"traceparent": "00-" + tid + "-" + sid + "-01", "tracestate": "k=v,l=w"})
			md := <-mds
			if o := obs.next(t); o.traceID != tid {
				t.Errorf("observation trace id %q; want %q", o.traceID, tid)
			}
			flushTraces(t, e)
			srv, clients := spansOf(col, tid)
			if srv == nil || len(clients) != 1 {
				t.Fatalf("trace %s: server span %v, %d client spans; want one of each", tid, srv, len(clients))
			}
			cs := clients[0]
			if hex.EncodeToString(srv.ParentSpanId) != sid || !bytes.Equal(cs.ParentSpanId, srv.SpanId) {
				t.Errorf("parents: server %x (want the client's %s), client %x (want the server's %x)",
					srv.ParentSpanId, sid, cs.ParentSpanId, srv.SpanId)
			}
			wantTP := "00-" + tid + "-" + hex.EncodeToString(cs.SpanId) + "-01"
			if tp := md.Get("traceparent"); len(tp) != 1 || tp[0] != wantTP || strings.Join(md.Get("tracestate"), ",") != "k=v,l=w" {
				t.Errorf("upstream got traceparent %q, tracestate %q; want %q and the client's", tp, md.Get("tracestate"), wantTP)
			}
			if srv.Name != "bookstore.v1.Bookstore/GetShelf" || cs.Name != srv.Name || srv.TraceState != "k=v,l=w" {
				t.Errorf("names %q %q, trace state %q", srv.Name, cs.Name, srv.TraceState)
			}
			if srv.StartTimeUnixNano > cs.StartTimeUnixNano || cs.EndTimeUnixNano > srv.EndTimeUnixNano {
				t.Errorf("the client span [%d, %d] is not within the server span [%d, %d]",
					cs.StartTimeUnixNano, cs.EndTimeUnixNano, srv.StartTimeUnixNano, srv.EndTimeUnixNano)
			}
			sa, ca := attrs(srv), attrs(cs)
			host, port, _ := net.SplitHostPort(up)
			want := map[string]string{"rpc.system": "grpc", "rpc.service": "bookstore.v1.Bookstore",
				"rpc.method": "GetShelf", "rpc.grpc.status_code": "0", "http.response.status_code": "200",
				"http.request.method": "POST", "url.path": "/bookstore.v1.Bookstore/GetShelf", "http.route": ""}
			if strings.HasPrefix(c.name, "REST") {
				want["http.request.method"], want["url.path"], want["http.route"] = "GET", "/v1/shelves/1", "/v1/shelves/{shelf}"
			}
			for k, v := range want {
				if sa[k] != v {
					t.Errorf("server span %s = %q; want %q", k, sa[k], v)
				}
			}
			for k, v := range map[string]string{"rpc.system": "grpc", "rpc.service": "bookstore.v1.Bookstore",
				"rpc.method": "GetShelf", "rpc.grpc.status_code": "0", "server.address": host, "server.port": port, "strait.retry": "0"} {
				if ca[k] != v {
					t.Errorf("client span %s = %q; want %q", k, ca[k], v)
				}
			}
			if srv.Status.GetCode() == tracepb.Status_STATUS_CODE_ERROR || cs.Status.GetCode() == tracepb.Status_STATUS_CODE_ERROR {
				t.Errorf("error status on a served request: %v %v", srv.Status, cs.Status)
			}
		})
	}
}

// TestTracingRetries: each attempt is a client span of its own, under the
// same server span, numbered by strait.retry, and each names itself in
// the traceparent its upstream gets: a stream refused by one endpoint
// and sent to the next, and a call answered UNAVAILABLE and retried by
// the service's policy.
func TestTracingRetries(t *testing.T) {
	col := testutil.StartCollector(t)
	rng := seeded(t)
	t.Run("refused", func(t *testing.T) {
		bad, seen := refuser(t, false)
		good, mds := mdUpstream(t)
		e, _ := traceGateway(t, col.Addr, 0, []string{bad, good}, nil)
		for i := 0; seen.Load() == 0; i++ { // round robin: one of the first requests meets the refuser
			if i == 10 {
				t.Fatal("10 requests and none went to the refusing endpoint")
			}
			tid, sid := newParent(rng)
			tracedCalls()[0].do(t, e.Addr().String(), map[string]string{"traceparent": "00-" + tid + "-" + sid + "-01"})
			md := <-mds
			if seen.Load() == 0 {
				continue
			}
			flushTraces(t, e)
			srv, clients := spansOf(col, tid)
			if srv == nil || len(clients) != 2 {
				t.Fatalf("got server span %v and %d client spans; want 2 attempts", srv, len(clients))
			}
			a0, a1 := attrs(clients[0]), attrs(clients[1])
			if a0["strait.retry"] != "0" || a1["strait.retry"] != "1" || a0["error.type"] != "REFUSED_STREAM" ||
				clients[0].Status.GetCode() != tracepb.Status_STATUS_CODE_ERROR || a0["server.port"] == a1["server.port"] ||
				clients[1].Status.GetCode() == tracepb.Status_STATUS_CODE_ERROR || srv.Status.GetCode() == tracepb.Status_STATUS_CODE_ERROR {
				t.Errorf("attempts %v (%v), %v (%v); server %v", a0, clients[0].Status, a1, clients[1].Status, srv.Status)
			}
			for _, c := range clients {
				if !bytes.Equal(c.ParentSpanId, srv.SpanId) {
					t.Errorf("client span parent %x; want the server span %x", c.ParentSpanId, srv.SpanId)
				}
			}
			if tp := md.Get("traceparent"); len(tp) != 1 || !strings.Contains(tp[0], hex.EncodeToString(clients[1].SpanId)) {
				t.Errorf("upstream got %q; want the second attempt's span %x", tp, clients[1].SpanId)
			}
		}
	})
	t.Run("policy", func(t *testing.T) {
		var calls atomic.Int64
		mds := make(chan metadata.MD, 16)
		up := testutil.StartRawUpstream(t, func(c *testutil.Call) ([]byte, error) {
			mds <- c.MD
			if calls.Add(1) == 1 {
				return nil, status.Error(codes.Unavailable, "try again")
			}
			return shelf, nil
		})
		e, _ := traceGateway(t, col.Addr, 1, []string{up}, func(c *Config) {
			c.Services = []ServiceConfig{{Name: "bookstore.v1.Bookstore", Upstream: "default", Retry: RetryPolicy{
				MaxAttempts: 2, InitialBackoff: time.Millisecond, RetryableStatusCodes: []string{"UNAVAILABLE"}}}}
		})
		tracedCalls()[2].do(t, e.Addr().String(), nil) // gRPC, no traceparent: ratio 1 traces it
		first, second := <-mds, <-mds
		flushTraces(t, e)
		tid := strings.Split(first.Get("traceparent")[0], "-")[1]
		srv, clients := spansOf(col, tid)
		if srv == nil || len(clients) != 2 || len(srv.ParentSpanId) != 0 {
			t.Fatalf("trace %s: server span %v (a root), %d client spans; want 2", tid, srv, len(clients))
		}
		for i, md := range []metadata.MD{first, second} {
			want := "00-" + tid + "-" + hex.EncodeToString(clients[i].SpanId) + "-01"
			if tp := md.Get("traceparent"); len(tp) != 1 || tp[0] != want {
				t.Errorf("attempt %d: upstream got %q; want %q", i, tp, want)
			}
		}
		if a := attrs(clients[0]); a["rpc.grpc.status_code"] != "14" || a["error.type"] != "UNAVAILABLE" {
			t.Errorf("first attempt: %v", a)
		}
	})
}

// TestTracingSampling: a request is traced when its client sampled it,
// or at the ratio; an untraced one costs its client's traceparent
// nothing (it travels unchanged) and makes no span.
func TestTracingSampling(t *testing.T) {
	const n = 400
	rng := seeded(t)
	call := tracedCalls()[0].do
	t.Run("ratio 0", func(t *testing.T) {
		col := testutil.StartCollector(t)
		up, mds := mdUpstream(t)
		e, obs := traceGateway(t, col.Addr, 0, []string{up}, nil)
		for range 20 {
			call(t, e.Addr().String(), nil)
			if md, o := <-mds, obs.next(t); len(md.Get("traceparent")) != 0 || o.traceID != "" {
				t.Fatalf("untraced request: upstream got traceparent %q, trace id %q", md.Get("traceparent"), o.traceID)
			}
		}
		tid, sid := newParent(rng)
		unsampled := "00-" + tid + "-" + sid + "-00"
		call(t, e.Addr().String(), map[string]string{"traceparent": unsampled, "tracestate": "k=v"})
		if md := <-mds; strings.Join(md.Get("traceparent"), ",") != unsampled || strings.Join(md.Get("tracestate"), ",") != "k=v" {
			t.Fatalf("unsampled: upstream got %q %q; want the client's headers unchanged", md.Get("traceparent"), md.Get("tracestate"))
		}
		flushTraces(t, e)
		if s, _ := col.Spans(); len(s) != 0 {
			t.Fatalf("%d spans at ratio 0 with no sampled parent", len(s))
		}
	})
	t.Run("ratio 1", func(t *testing.T) {
		col := testutil.StartCollector(t)
		up, mds := mdUpstream(t)
		e, _ := traceGateway(t, col.Addr, 1, []string{up}, nil)
		seen := map[string]bool{}
		for range 20 {
			call(t, e.Addr().String(), map[string]string{"tracestate": "orphan=1"})
			md := <-mds
			tp, ok := tracing.ParseTraceparent(strings.Join(md.Get("traceparent"), ","))
			if !ok || !tp.Sampled() || seen[tp.Trace.String()] || len(md.Get("tracestate")) != 0 {
				t.Fatalf("upstream got %q %q; want a new sampled trace each time, no orphan tracestate", md.Get("traceparent"), md.Get("tracestate"))
			}
			seen[tp.Trace.String()] = true
		}
		flushTraces(t, e)
		if s := col.Wait(40, 5*time.Second); len(s) != 40 {
			t.Fatalf("%d spans for 20 requests at ratio 1; want 40", len(s))
		}
	})
	t.Run("ratio 0.5", func(t *testing.T) {
		col := testutil.StartCollector(t)
		up, mds := mdUpstream(t)
		e, _ := traceGateway(t, col.Addr, 0.5, []string{up}, nil)
		// Unsampled parents from the seed: the trace ids decide, so the
		// count is known exactly; no parent: the gateway draws.
		want := 0
		for i := range 2 * n {
			hdr := map[string]string(nil)
			if i < n {
				tid, sid := newParent(rng)
				if p, _ := tracing.ParseTraceparent("00-" + tid + "-" + sid + "-00"); p.Trace[8]&0x80 == 0 {
					want++ // the low 63 bits of the trace id below half their range
				}
				hdr = map[string]string{"traceparent": "00-" + tid + "-" + sid + "-00"}
			}
			call(t, e.Addr().String(), hdr)
			<-mds
		}
		flushTraces(t, e)
		s, _ := col.Spans()
		byParent, drawn := 0, 0
		for _, sp := range s {
			if sp.Kind != tracepb.Span_SPAN_KIND_SERVER {
				continue
			}
			if len(sp.ParentSpanId) > 0 {
				byParent++
			} else {
				drawn++
			}
		}
		// 5 standard deviations of Binomial(n, 0.5): a false alarm once in 1.7 million runs.
		bound := int(5 * math.Sqrt(n*0.25))
		if byParent != want || math.Abs(float64(want-n/2)) > float64(bound) || math.Abs(float64(drawn-n/2)) > float64(bound) {
			t.Fatalf("traced %d of %d by their trace ids (want exactly %d) and %d of %d drawn; want both within %d of %d",
				byParent, n, want, drawn, n, bound, n/2)
		}
		t.Logf("ratio 0.5: %d and %d of %d traced", byParent, drawn, n)
	})
}

// TestTracingReload: the ratio and the collector change on reload; the
// old collector's tracer is shut down after the grace, and Close exports
// what is left without waiting for the batch timer.
func TestTracingReload(t *testing.T) {
	col1, col2 := testutil.StartCollector(t), testutil.StartCollector(t)
	up, mds := mdUpstream(t)
	e, _ := traceGateway(t, col1.Addr, 0, []string{up}, func(c *Config) { c.Timeouts.Drain = 50 * time.Millisecond })
	call := tracedCalls()[0].do
	reload := func(tc TracingConfig) {
		t.Helper()
		cfg := e.snap.Load().cfg
		cfg.Tracing = tc
		if err := e.Reload(cfg, demo.Files()); err != nil {
			t.Fatal(err)
		}
	}
	call(t, e.Addr().String(), nil)
	<-mds
	first := e.snap.Load().tracer
	reload(TracingConfig{OTLPEndpoint: col1.Addr, SampleRatio: 1})
	if e.snap.Load().tracer != first {
		t.Fatal("a new ratio made a new tracer; want the same collector's kept")
	}
	call(t, e.Addr().String(), nil)
	<-mds
	flushTraces(t, e)
	if s := col1.Wait(2, 5*time.Second); len(s) != 2 {
		t.Fatalf("after the ratio went to 1: %d spans; want 2", len(s))
	}
	reload(TracingConfig{OTLPEndpoint: col2.Addr, SampleRatio: 1})
	call(t, e.Addr().String(), nil)
	<-mds
	for i := 0; e.tracerLive(first); i++ { // shut down after the grace (timeouts.drain)
		if i == 100 {
			t.Fatal("the old collector's tracer still runs 1s after the reload")
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = e.Close()
	if s := col2.Wait(2, time.Second); len(s) != 2 {
		t.Fatalf("the new collector got %d spans by Close; want 2", len(s))
	}
	if s, _ := col1.Spans(); len(s) != 2 {
		t.Fatalf("the old collector got %d spans; want the 2 from before the reload", len(s))
	}
}

func (e *Engine) tracerLive(tr *tracing.Tracer) bool {
	e.tracersMu.Lock()
	defer e.tracersMu.Unlock()
	_, ok := e.tracers[tr]
	return ok
}

// blackHole accepts connections and never answers: a collector that hangs.
func blackHole(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	return ln.Addr().String()
}

// TestTracingDeadCollector: a collector that is not there, or hangs,
// costs requests nothing: every one is answered, about as fast as
// without tracing, the spans past the queues are dropped and counted,
// and Close keeps to its bound.
func TestTracingDeadCollector(t *testing.T) {
	const n = 2000 // 4000 spans: more than the queues hold
	up := testutil.StartRawUpstream(t, func(*testutil.Call) ([]byte, error) { return shelf, nil })
	run := func(e *Engine) time.Duration {
		h := dialH1(t, e.Addr().String())
		t0 := time.Now()
		for i := range n {
			if st, _, body := h.do("GET", "/v1/shelves/1", "", ""); st != 200 {
				t.Fatalf("request %d: %d %s", i, st, body)
			}
		}
		return time.Since(t0)
	}
	base := run(startGateway(t, up, nil))
	for _, c := range []struct{ name, addr string }{{"refused", testutil.FreeAddr(t)}, {"hung", blackHole(t)}} {
		t.Run(c.name, func(t *testing.T) {
			e, _ := traceGateway(t, c.addr, 1, []string{up}, nil)
			took := run(e)
			start := time.Now()
			_ = e.Close()
			closed := time.Since(start)
			ct := &e.traceCounts
			t.Logf("%d requests in %v (%v without tracing); Close %v; spans exported %d, failed %d, dropped %d",
				n, took, base, closed, ct.Exported.Load(), ct.Failed.Load(), ct.Dropped.Load())
			if took > 3*base+time.Second || closed > tracerShutdown+2*time.Second || ct.Exported.Load() != 0 || ct.Dropped.Load() == 0 {
				t.Fatalf("took %v (%v without tracing), Close %v, %d exported, %d dropped; want as fast, bounded, none exported, some dropped",
					took, base, closed, ct.Exported.Load(), ct.Dropped.Load())
			}
			var b strings.Builder
			e.writeTraceMetrics(&b)
			if !strings.Contains(b.String(), fmt.Sprintf(`strait_trace_spans_total{result="dropped"} %d`, ct.Dropped.Load())) {
				t.Errorf("metrics:\n%s", b.String())
			}
		})
	}
}
