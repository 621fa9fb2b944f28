package engine

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/internal/demo"
	"github.com/straitgw/strait/metric"
	"github.com/straitgw/strait/rpc"
)

// scrapeMetrics reads the admin port's /metrics and parses it as
// Prometheus would (a name twice, or a malformed line, fails).
func scrapeMetrics(t *testing.T, e *Engine) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + e.AdminAddr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return mfs
}

func labelsOf(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// requestKey is a request series' label set.
func requestKey(service, method, protocol, code string) string {
	return service + "|" + method + "|" + protocol + "|" + code
}

// TestMetricsScrape: after varied traffic (REST over HTTP/1.1 and h2,
// grpc-go, connect-go's gRPC-Web over both, upstream errors, local
// errors, a 404, a CORS preflight, a cancelled stream), /metrics parses,
// strait_requests_total has exactly one count per request under the
// right service, method, protocol and code, the histogram's count equals
// it with a sum within the test's time, and the engine's other series
// are there in the same scrape.
func TestMetricsScrape(t *testing.T) {
	e, up := startTelemetryGateway(t, nil)
	begin := time.Now()
	traffic := sendTraffic(t, e)
	want := map[string]float64{}
	for _, s := range traffic {
		svc, m := s.service, s.rpc
		if svc == "" {
			svc, m = metric.Unknown, metric.Unknown
		}
		want[requestKey(svc, m, s.protocol, s.code)]++
	}
	var mfs map[string]*dto.MetricFamily
	total := func() (n float64) {
		mfs = scrapeMetrics(t, e)
		for _, m := range mfs["strait_requests_total"].GetMetric() {
			n += m.GetCounter().GetValue()
		}
		return n
	}
	waitUntil(t, fmt.Sprintf("%d requests counted", len(traffic)), func() bool { return total() >= float64(len(traffic)) })
	elapsed := time.Since(begin).Seconds()

	got := map[string]float64{}
	for _, m := range mfs["strait_requests_total"].GetMetric() {
		l := labelsOf(m)
		got[requestKey(l["service"], l["method"], l["protocol"], l["code"])] = m.GetCounter().GetValue()
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("strait_requests_total{%s}: got %v; want %v", k, got[k], n)
		}
	}
	for k, n := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("strait_requests_total{%s} = %v: no such request was sent", k, n)
		}
	}
	for _, m := range mfs["strait_request_duration_seconds"].GetMetric() {
		l, h := labelsOf(m), m.GetHistogram()
		k := requestKey(l["service"], l["method"], l["protocol"], l["code"])
		if float64(h.GetSampleCount()) != got[k] || h.GetSampleSum() <= 0 || h.GetSampleSum() > elapsed*got[k] {
			t.Errorf("histogram {%s}: count %d sum %v; want count %v, sum in (0, %v]", k, h.GetSampleCount(), h.GetSampleSum(), got[k], elapsed*got[k])
		}
		bs := h.GetBucket()
		if len(bs) != len(metric.Buckets)+1 || bs[len(bs)-1].GetCumulativeCount() != h.GetSampleCount() ||
			!slices.IsSortedFunc(bs, func(a, b *dto.Bucket) int { return int(a.GetCumulativeCount()) - int(b.GetCumulativeCount()) }) {
			t.Errorf("histogram {%s}: buckets %v", k, bs)
		}
	}
	if n := len(mfs["strait_request_duration_seconds"].GetMetric()); n != len(want) {
		t.Errorf("%d histogram series; want %d", n, len(want))
	}
	restOut := map[string]string{"service": bookstore, "method": "GetShelf", "protocol": "rest"}
	var wantOut int64
	for _, s := range traffic {
		if s.protocol == "rest" && s.rpc == "GetShelf" {
			wantOut += s.out
		}
	}
	if m := findSeries(mfs["strait_response_bytes_total"], restOut); m == nil || int64(m.GetCounter().GetValue()) != wantOut {
		t.Errorf("strait_response_bytes_total{%v}: %v; want %d", restOut, m, wantOut)
	}
	if m := findSeries(mfs["strait_upstream_connections"], map[string]string{"upstream": "default", "endpoint": up}); m.GetGauge().GetValue() < 1 {
		t.Errorf("strait_upstream_connections: %v; want at least 1", m)
	}
	for _, name := range []string{"strait_connections_open", "strait_local_replies_total", "strait_upstream_streams_open",
		"strait_panics_total", "strait_upstream_retries_total", "strait_reloads_total", "strait_goroutines",
		"strait_upstream_dial_failures_total", "strait_upstream_ejections_total", "strait_access_log_dropped_total",
		"strait_request_bytes_total", "go_goroutines", "process_cpu_seconds_total"} {
		if mfs[name] == nil {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	for _, gone := range []string{"strait_grpc_status_total"} {
		if mfs[gone] != nil {
			t.Errorf("/metrics still has %s", gone)
		}
	}
}

func findSeries(mf *dto.MetricFamily, want map[string]string) *dto.Metric {
	for _, m := range mf.GetMetric() {
		l := labelsOf(m)
		ok := true
		for k, v := range want {
			ok = ok && l[k] == v
		}
		if ok {
			return m
		}
	}
	return nil
}

// TestMetricsAcrossReload: a method's series go on counting across a
// reload (the new snapshot's tables point at the same children).
func TestMetricsAcrossReload(t *testing.T) {
	e, _ := startTelemetryGateway(t, nil)
	get := func() {
		resp, err := http.Get("http://" + e.Addr().String() + "/v1/shelves/1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	ok := map[string]string{"service": bookstore, "method": "GetShelf", "protocol": "rest", "code": "OK"}
	count := func() float64 {
		return findSeries(scrapeMetrics(t, e)["strait_requests_total"], ok).GetCounter().GetValue()
	}
	get()
	waitUntil(t, "the first request counted", func() bool { return count() == 1 })
	s := e.snap.Load()
	if err := reloadWith(t, e, nil); err != nil {
		t.Fatal(err)
	}
	if e.snap.Load() == s {
		t.Fatal("no new snapshot")
	}
	get()
	waitUntil(t, "both requests counted", func() bool { return count() == 2 })
	if n := scrapeMetrics(t, e)["strait_reloads_total"].GetMetric()[0].GetCounter().GetValue(); n != 1 {
		t.Errorf("strait_reloads_total %v; want 1", n)
	}
}

// TestCountRequestZeroAlloc: the metrics observer allocates nothing for a
// request whose label set occurred before, known method or not.
func TestCountRequestZeroAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	e, err := New(Config{Listen: "127.0.0.1:0", Upstreams: []UpstreamConfig{{Name: "default", Endpoints: []string{"127.0.0.1:1"}}},
		DescriptorSets: [][]byte{demo.Descriptors()}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s := e.snap.Load()
	rt := s.router.Lookup("/bookstore.v1.Bookstore/GetShelf")
	var known, unknown observation
	known.begin(e, filter.ProtocolREST, "GET", []byte("/v1/shelves/1"))
	known.routed(s, rt)
	known.head(200, nil)
	known.setCode(rpc.CodeOK)
	unknown.begin(e, filter.ProtocolGRPC, "POST", []byte("/x.Y/Z"))
	unknown.setCode(rpc.CodeUnimplemented)
	for _, o := range []*observation{&known, &unknown} {
		e.countRequest(o)
		if n := testing.AllocsPerRun(1000, func() { e.countRequest(o) }); n != 0 {
			t.Errorf("countRequest(%s): %v allocs; want 0", o.service, n)
		}
	}
}

// raceEnabled is set by race_test.go.
var raceEnabled bool
