package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/straitgw/strait/internal/testutil"
)

// TestTrafficLimits runs `strait serve --config` with a rate limit by
// tenant on GetShelf and a circuit breaker of 2 requests on its upstream.
// A tenant's third call is answered 429 (REST, with every header and the
// JSON error) or RESOURCE_EXHAUSTED (gRPC), whichever protocol spent its
// bucket; a SIGHUP reload with the rule unchanged keeps the bucket; with
// two calls held upstream, a third is answered 503 with
// x-strait-overloaded; /metrics counts both, and the breaker's gauges
// come back to zero.
func TestTrafficLimits(t *testing.T) {
	hold := make(chan struct{})
	arrived := make(chan struct{}, 8)
	up := testutil.StartRawUpstream(t, func(c *testutil.Call) ([]byte, error) {
		if len(c.MD.Get("x-hold")) > 0 {
			arrived <- struct{}{}
			<-hold
		}
		return []byte{0x08, 0x01, 0x12, 0x01, 'x'}, nil
	})
	defer close(hold)
	dir := t.TempDir()
	listen, admin := testutil.FreeAddr(t), testutil.FreeAddr(t)
	conf := filepath.Join(dir, "strait.yaml")
	cfg := fmt.Sprintf(`listen: %s
admin: %s
descriptors: [%s]
upstreams:
  - name: books
    endpoints: [%s]
    circuit_breaker: {max_requests: 2}
rate_limits:
  - key: "header:x-tenant"
    rate: 1
    per: 1h
    burst: 2
    routes: [bookstore.v1.Bookstore/GetShelf]
`, listen, admin, descriptorFile(t), up)
	writeFile(t, conf, cfg)
	cmd := runStrait(t, listen, "serve", "--config", conf)
	cc, err := grpc.NewClient(listen, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()

	if st := getAsTenant(t, listen, "a"); st.code != 200 {
		t.Fatalf("tenant a over REST: %d; want 200", st.code)
	}
	if err := grpcGetShelf(cc, "a"); err != nil {
		t.Fatalf("tenant a over gRPC: %v", err)
	}
	limited := getAsTenant(t, listen, "a")
	h := limited.header
	if h.Get("RateLimit-Limit") != "2" || h.Get("RateLimit-Remaining") != "0" ||
		!near(h.Get("Retry-After"), 3600) || !near(h.Get("RateLimit-Reset"), 7200) {
		t.Errorf("tenant a's third call: headers %v; want RateLimit-Limit 2, -Remaining 0, Retry-After 3600, -Reset 7200", h)
	}
	if limited.code != 429 || limited.body != `{"code":8,"message":"rate limit exceeded","details":[]}` {
		t.Fatalf("tenant a's third call: %d %s; want 429 and the JSON error", limited.code, limited.body)
	}
	if err := grpcGetShelf(cc, "a"); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("tenant a over gRPC again: %v; want RESOURCE_EXHAUSTED", err)
	}
	if st := getAsTenant(t, listen, "b"); st.code != 200 {
		t.Fatalf("tenant b: %d; want 200", st.code)
	}

	writeFile(t, conf, cfg+"timeouts: {idle: 1m}\n")
	_ = cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the reload", func() bool { return configVersion(t, admin) >= 2 })
	if st := getAsTenant(t, listen, "a"); st.code != 429 {
		t.Fatalf("tenant a after a reload: %d; want 429 (the bucket kept)", st.code)
	}

	held := make(chan int, 2)
	for _, tenant := range []string{"h1", "h2"} {
		go func() { held <- getHeld(listen, tenant) }()
	}
	<-arrived
	<-arrived
	over := getAsTenant(t, listen, "c")
	if over.code != 503 || over.header.Get("X-Strait-Overloaded") != "requests" || !strings.Contains(over.body, `"code":14`) {
		t.Fatalf("a third call with two held: %d %v %s; want 503, x-strait-overloaded: requests", over.code, over.header, over.body)
	}
	hold <- struct{}{}
	hold <- struct{}{}
	for range 2 {
		if st := <-held; st != 200 {
			t.Fatalf("a held call: %d; want 200", st)
		}
	}
	if n := metric(t, admin, `strait_rate_limited_total{key="header:x-tenant",rate="1/1h0m0s"}`); n != 3 {
		t.Errorf("strait_rate_limited_total: %d; want 3", n)
	}
	if n := metric(t, admin, `strait_circuit_open_total{upstream="books",reason="requests"}`); n != 1 {
		t.Errorf("strait_circuit_open_total{reason=requests}: %d; want 1", n)
	}
	waitFor(t, "the breaker's gauges at zero", func() bool {
		return metric(t, admin, `strait_upstream_active_requests{upstream="books"}`) == 0 &&
			metric(t, admin, `strait_upstream_pending_requests{upstream="books"}`) == 0 &&
			metric(t, admin, `strait_upstream_active_retries{upstream="books"}`) == 0
	})
}

type answer struct {
	code   int
	header http.Header
	body   string
}

// getAsTenant calls GET /v1/shelves/1 as tenant over HTTP/1.1.
func getAsTenant(t *testing.T, addr, tenant string) answer {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/v1/shelves/1", nil)
	req.Header.Set("X-Tenant", tenant)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// getHeld makes a call the upstream holds; it runs on its own goroutine,
// so it reports failure as status 0.
func getHeld(addr, tenant string) int {
	req, _ := http.NewRequest("GET", "http://"+addr+"/v1/shelves/1", nil)
	req.Header.Set("X-Tenant", tenant)
	req.Header.Set("X-Hold", "1")
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func grpcGetShelf(cc *grpc.ClientConn, tenant string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "x-tenant", tenant)
	_, err := testutil.RawCall(ctx, cc, "/bookstore.v1.Bookstore/GetShelf", []byte{0x08, 0x01})
	return err
}

// near reports a count of seconds at most 2 below want: the waits shrink
// as the test runs.
func near(got string, want int) bool {
	g, err := strconv.Atoi(got)
	return err == nil && g <= want && g >= want-2
}
