package e2e

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/straitgw/strait/internal/testutil"
)

// TestTracingBinary: `strait serve` with a tracing: block exports to an
// OTLP collector: a client's sampled traceparent is continued (server
// span under the client's span, client span under it), a reload on
// SIGHUP changes the ratio, /metrics counts the exported spans, and
// SIGTERM exports what is left before exit.
func TestTracingBinary(t *testing.T) {
	col := testutil.StartCollector(t)
	books, _ := startBookstore(t, "127.0.0.1:0", false)
	listen, admin := testutil.FreeAddr(t), testutil.FreeAddr(t)
	conf := filepath.Join(t.TempDir(), "strait.yaml")
	base := fmt.Sprintf("listen: %s\nadmin: %s\ndescriptors: [%s]\nupstreams:\n  - {name: books, endpoints: [%s]}\n",
		listen, admin, descriptorFile(t), books)
	writeFile(t, conf, base+fmt.Sprintf("tracing: {otlp_endpoint: %q, sample_ratio: 0}\n", col.Addr))
	cmd := runStrait(t, listen, "serve", "--config", conf)

	get := func(traceparent string) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+listen+"/v1/shelves/1", nil)
		if traceparent != "" {
			req.Header.Set("Traceparent", traceparent)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("got %d %s", resp.StatusCode, b)
		}
	}
	const tid, sid = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	get("00-" + tid + "-" + sid + "-01")
	get("") // ratio 0: not traced
	// The batch processor exports within a second.
	spans := col.Wait(2, 10*time.Second)
	srv, client := serverAndClient(spans)
	if len(spans) != 2 || srv == nil || client == nil || hex.EncodeToString(srv.TraceId) != tid ||
		hex.EncodeToString(srv.ParentSpanId) != sid || !bytes.Equal(client.ParentSpanId, srv.SpanId) {
		t.Fatalf("got %d spans (server %v, client %v); want the client's trace continued", len(spans), srv, client)
	}
	if _, svc := col.Spans(); svc[0] != "strait" || srv.Name != "bookstore.v1.Bookstore/GetShelf" {
		t.Errorf("service %q, span %q", svc[0], srv.Name)
	}
	waitFor(t, "the exported spans in /metrics", func() bool {
		return metricLine(t, admin, `strait_trace_spans_total{result="exported"}`) == "2"
	})

	writeFile(t, conf, base+fmt.Sprintf("tracing: {otlp_endpoint: %q, sample_ratio: 1}\n", col.Addr))
	_ = cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the reload", func() bool { return configVersion(t, admin) >= 2 })
	col.Reset()
	for range 3 {
		get("")
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no exit 15s after SIGTERM")
	}
	if s, _ := col.Spans(); len(s) != 6 {
		t.Fatalf("%d spans by exit at ratio 1; want 6 (3 requests, exported at SIGTERM)", len(s))
	}
}

func serverAndClient(spans []*tracepb.Span) (srv, client *tracepb.Span) {
	for _, s := range spans {
		switch s.Kind {
		case tracepb.Span_SPAN_KIND_SERVER:
			srv = s
		case tracepb.Span_SPAN_KIND_CLIENT:
			client = s
		}
	}
	return srv, client
}

// metricLine returns the value of the /metrics line that starts with
// series, or "".
func metricLine(t *testing.T, admin, series string) string {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}
