package metric

import (
	"bytes"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/rpc"
	"github.com/straitgw/strait/upstream"
)

func TestCodeOf(t *testing.T) {
	for _, c := range []struct {
		has    bool
		code   rpc.Code
		status int
		want   string
	}{
		{true, rpc.CodeOK, 200, "OK"},
		{true, rpc.CodeNotFound, 404, "NOT_FOUND"},
		{true, rpc.CodeUnauthenticated, 401, "UNAUTHENTICATED"},
		{true, rpc.CodeCanceled, 499, "CANCELLED"},
		{true, 99, 200, "UNKNOWN"},
		{false, 0, 204, "2xx"},
		{false, 0, 101, "1xx"},
		{false, 0, 304, "3xx"},
		{false, 0, 431, "4xx"},
		{false, 0, 503, "5xx"},
		{false, 0, 0, "1xx"},
		{false, 0, 999, "5xx"},
	} {
		if got := CodeOf(c.has, c.code, c.status).String(); got != c.want {
			t.Errorf("CodeOf(%v, %v, %d) = %s; want %s", c.has, c.code, c.status, got, c.want)
		}
	}
}

// scrape writes reg's series as /metrics does and parses them back.
func scrape(t *testing.T, reg prometheus.Gatherer) map[string]*dto.MetricFamily {
	t.Helper()
	var b bytes.Buffer
	if err := WriteText(&b, reg); err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(&b)
	if err != nil {
		t.Fatalf("%v in\n%s", err, b.String())
	}
	return mfs
}

// find returns the series of mf whose labels are all of want.
func find(mf *dto.MetricFamily, want map[string]string) *dto.Metric {
	for _, m := range mf.GetMetric() {
		n := 0
		for _, l := range m.GetLabel() {
			if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
				n++
			}
		}
		if n == len(want) {
			return m
		}
	}
	return nil
}

// TestRequests: each label set counts its own requests, the histogram's
// count and sum agree with them, bytes add up per protocol, and a
// method's Route is the same across calls (a reload keeps counting).
func TestRequests(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewRequests(reg)
	get := m.Route("bookstore.v1.Bookstore", "GetShelf")
	if m.Route("bookstore.v1.Bookstore", "GetShelf") != get {
		t.Fatal("Route: a second call made another cache")
	}
	unknown := m.Route(Unknown, Unknown)
	ok := CodeOf(true, rpc.CodeOK, 200)
	for range 3 {
		get.Observe(filter.ProtocolREST, ok, 2*time.Millisecond, 10, 100)
	}
	get.Observe(filter.ProtocolGRPC, CodeOf(true, rpc.CodeNotFound, 200), 300*time.Microsecond, 7, 0)
	get.Observe(filter.ProtocolGRPCWeb, ok, 20*time.Second, 0, 5)
	unknown.Observe(filter.ProtocolREST, CodeOf(false, 0, 204), 50*time.Microsecond, 0, 0)

	mfs := scrape(t, reg)
	for _, c := range []struct {
		service, method, protocol, code string
		n                               uint64
		sum                             float64
	}{
		{"bookstore.v1.Bookstore", "GetShelf", "rest", "OK", 3, 0.006},
		{"bookstore.v1.Bookstore", "GetShelf", "grpc", "NOT_FOUND", 1, 0.0003},
		{"bookstore.v1.Bookstore", "GetShelf", "grpc-web", "OK", 1, 20},
		{Unknown, Unknown, "rest", "2xx", 1, 0.00005},
	} {
		ls := map[string]string{"service": c.service, "method": c.method, "protocol": c.protocol, "code": c.code}
		total, hist := find(mfs["strait_requests_total"], ls), find(mfs["strait_request_duration_seconds"], ls)
		if total == nil || hist == nil {
			t.Fatalf("%v: no series", ls)
		}
		h := hist.GetHistogram()
		if uint64(total.GetCounter().GetValue()) != c.n || h.GetSampleCount() != c.n || math.Abs(h.GetSampleSum()-c.sum) > 1e-9 {
			t.Errorf("%v: total %v, histogram count %d sum %v; want %d, %v", ls, total.GetCounter().GetValue(), h.GetSampleCount(), h.GetSampleSum(), c.n, c.sum)
		}
		if b := h.GetBucket(); len(b) != len(Buckets)+1 || b[len(b)-1].GetCumulativeCount() != c.n {
			t.Errorf("%v: buckets %v", ls, b)
		}
	}
	if n := len(mfs["strait_requests_total"].GetMetric()); n != 4 {
		t.Errorf("%d request series; want 4 (only label sets that occurred)", n)
	}
	rest := map[string]string{"service": "bookstore.v1.Bookstore", "method": "GetShelf", "protocol": "rest"}
	if in, out := find(mfs["strait_request_bytes_total"], rest), find(mfs["strait_response_bytes_total"], rest); in.GetCounter().GetValue() != 30 || out.GetCounter().GetValue() != 300 {
		t.Errorf("bytes: in %v out %v; want 30, 300", in, out)
	}
}

// TestObserveZeroAlloc: counting a request whose label set occurred before
// allocates nothing.
func TestObserveZeroAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	rt := NewRequests(prometheus.NewRegistry()).Route("s", "m")
	c := CodeOf(true, rpc.CodeOK, 200)
	rt.Observe(filter.ProtocolREST, c, time.Millisecond, 1, 1)
	if n := testing.AllocsPerRun(1000, func() { rt.Observe(filter.ProtocolREST, c, time.Millisecond, 1, 1) }); n != 0 {
		t.Errorf("Observe: %v allocs; want 0", n)
	}
}

// TestUpstreams: every endpoint of every pool is reported under its
// upstream's name.
func TestUpstreams(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := upstream.NewPool([]string{"127.0.0.1:1", "127.0.0.1:2"}, upstream.Config{})
	b := upstream.NewPool([]string{"127.0.0.1:3"}, upstream.Config{})
	defer a.Close()
	defer b.Close()
	RegisterUpstreams(reg, func() []Pool { return []Pool{{"a", a}, {"b", b}} })
	mfs := scrape(t, reg)
	for _, name := range []string{"strait_upstream_connections", "strait_upstream_streams", "strait_upstream_ejected",
		"strait_upstream_healthy", "strait_upstream_ejections_total", "strait_upstream_dial_failures_total"} {
		if n := len(mfs[name].GetMetric()); n != 3 {
			t.Errorf("%s: %d series; want 3", name, n)
		}
	}
	if m := find(mfs["strait_upstream_healthy"], map[string]string{"upstream": "b", "endpoint": "127.0.0.1:3"}); m.GetGauge().GetValue() != 1 {
		t.Errorf("b's endpoint: %v; want healthy", m)
	}
}

// own is the cheapest hand-made alternative, for BenchmarkObserve: a
// counter, a histogram (buckets, sum in ns) and two byte counters of
// plain atomics.
type own struct {
	total   atomic.Uint64
	buckets [17]atomic.Uint64
	sumNS   atomic.Int64
	in, out atomic.Int64
}

func (o *own) observe(d time.Duration, in, out int64) {
	o.in.Add(in)
	o.out.Add(out)
	o.total.Add(1)
	s := d.Seconds()
	i := 0
	for i < len(Buckets) && s > Buckets[i] {
		i++
	}
	o.buckets[i].Add(1)
	o.sumNS.Add(int64(d))
}

// BenchmarkObserve: a request's metric update through the client
// library (the cached children: counter, histogram, two byte counters)
// against plain atomics doing the same.
func BenchmarkObserve(b *testing.B) {
	d := 3 * time.Millisecond
	b.Run("prometheus", func(b *testing.B) {
		rt := NewRequests(prometheus.NewRegistry()).Route("s", "m")
		c := CodeOf(true, rpc.CodeOK, 200)
		b.ReportAllocs()
		for b.Loop() {
			rt.Observe(filter.ProtocolREST, c, d, 100, 1000)
		}
	})
	b.Run("prometheus-parallel", func(b *testing.B) {
		rt := NewRequests(prometheus.NewRegistry()).Route("s", "m")
		c := CodeOf(true, rpc.CodeOK, 200)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				rt.Observe(filter.ProtocolREST, c, d, 100, 1000)
			}
		})
	})
	b.Run("atomics", func(b *testing.B) {
		var o own
		b.ReportAllocs()
		for b.Loop() {
			o.observe(d, 100, 1000)
		}
	})
	b.Run("atomics-parallel", func(b *testing.B) {
		var o own
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				o.observe(d, 100, 1000)
			}
		})
	})
}

// raceEnabled is set by race_test.go.
var raceEnabled bool
