package engine

import (
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/rpc"
)

// testSeed is a test's random seed, logged so a failure can be replayed
// with STRAIT_SEED.
func testSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("STRAIT_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d (STRAIT_SEED=%d replays it)", seed, seed)
	return seed
}

// tenantNames are n distinct header values of varied length and bytes.
func tenantNames(rng *rand.Rand, n int) []string {
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!*'+"
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		b := make([]byte, 1+rng.IntN(48))
		for i := range b {
			b[i] = chars[rng.IntN(len(chars))]
		}
		if s := string(b); !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// TestRateLimit: with a limit of 3 per hour by tenant header, in every
// protocol each tenant (random names from a logged seed, interleaved at
// random) gets exactly 3 calls through and the rest are answered by the
// gateway: 429 with Retry-After, the RateLimit-* fields and the JSON
// error for REST, RESOURCE_EXHAUSTED for gRPC and gRPC-Web; calls with
// no tenant share one bucket.
func TestRateLimit(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 12))
	up := startDemoUpstream(t)
	for _, p := range []string{"rest-h1", "rest-h2", "grpc", "grpc-web"} {
		t.Run(p, func(t *testing.T) {
			e := startGateway(t, up, func(c *Config) {
				c.RateLimits = []RateLimitConfig{{Key: "header:X-Tenant", Rate: 1, Per: time.Hour, Burst: 3}}
			})
			call := callerNamed(t, e.Addr().String(), p)
			var order []string
			for _, name := range append(tenantNames(rng, 6), "") {
				for range 5 {
					order = append(order, name)
				}
			}
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			seen, first := map[string]int{}, map[string]time.Time{}
			for _, name := range order {
				hdr := map[string]string{}
				if name != "" {
					hdr["x-tenant"] = name
				}
				if _, ok := first[name]; !ok {
					first[name] = time.Now()
				}
				seen[name]++
				o := call(t, hdr)
				if seen[name] <= 3 {
					if o.status != 200 || o.code != rpc.CodeOK {
						t.Fatalf("tenant %q call %d: got %d %v %q; want it through", name, seen[name], o.status, o.code, o.msg)
					}
					continue
				}
				checkLimited(t, p, o, time.Since(first[name]))
			}
			if n := limitedCount(e); n != 14 {
				t.Fatalf("strait_rate_limited_total: %d; want 14 (2 of 7 buckets' 5 calls)", n)
			}
		})
	}
}

func callerNamed(t *testing.T, addr, name string) caller {
	for _, p := range protocols(t, addr) {
		if p.name == name {
			return p.call
		}
	}
	t.Fatalf("no protocol %s", name)
	return nil
}

// checkLimited checks a call a limit of 3 per hour turned away, elapsed
// after its bucket's first call: the waits are exact when that took
// under a second, and within elapsed otherwise.
func checkLimited(t *testing.T, proto string, o outcome, elapsed time.Duration) {
	t.Helper()
	if o.code != rpc.CodeResourceExhausted || o.msg != "rate limit exceeded" {
		t.Fatalf("%s: got code %v %q; want RESOURCE_EXHAUSTED \"rate limit exceeded\"", proto, o.code, o.msg)
	}
	slack := int(math.Ceil(elapsed.Seconds()))
	for _, w := range []struct {
		name   string
		hi, lo int
	}{{"Retry-After", 3600, 3600 - slack}, {"RateLimit-Reset", 10800, 10800 - slack}, {"RateLimit-Limit", 3, 3}, {"RateLimit-Remaining", 0, 0}} {
		n, err := strconv.Atoi(o.header.Get(w.name))
		if err != nil || n < w.lo || n > w.hi {
			t.Fatalf("%s: %s: %q; want %d..%d (all headers %v)", proto, w.name, o.header.Get(w.name), w.lo, w.hi, o.header)
		}
	}
	if !strings.HasPrefix(proto, "rest") {
		return
	}
	if o.status != 429 || o.header.Get("Content-Type") != "application/json" ||
		o.body != `{"code":8,"message":"rate limit exceeded","details":[]}` {
		t.Fatalf("%s: got %d %q %q; want 429 application/json with the error body", proto, o.status, o.header.Get("Content-Type"), o.body)
	}
}

func limitedCount(e *Engine) int64 {
	var n int64
	for _, en := range e.snap.Load().filters {
		if f, ok := en.Filter.(*rateFilter); ok {
			n += f.Limited()
		}
	}
	return n
}

// TestRateLimitRefill: a bucket refills at its rate: the second call of
// a limit of 1 per 2s is turned away, and a call goes through again no
// sooner than 2s after the first. Each protocol has a bucket of its own.
func TestRateLimitRefill(t *testing.T) {
	e := startGateway(t, startDemoUpstream(t), func(c *Config) {
		c.RateLimits = []RateLimitConfig{{Key: "header:x-proto", Rate: 1, Per: 2 * time.Second}}
	})
	for _, p := range protocols(t, e.Addr().String()) {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			hdr := map[string]string{"x-proto": p.name}
			start := time.Now()
			if o := p.call(t, hdr); o.code != rpc.CodeOK {
				t.Fatalf("first call: %v %q", o.code, o.msg)
			}
			if o := p.call(t, hdr); o.code != rpc.CodeResourceExhausted || o.header.Get("Retry-After") != "2" && o.header.Get("Retry-After") != "1" {
				t.Fatalf("second call: got %v, Retry-After %q; want RESOURCE_EXHAUSTED, 2 (or 1, a second later)", o.code, o.header.Get("Retry-After"))
			}
			for o := p.call(t, hdr); o.code != rpc.CodeOK; o = p.call(t, hdr) {
				if o.code != rpc.CodeResourceExhausted || time.Since(start) > 10*time.Second {
					t.Fatalf("waiting for the refill: got %v after %v", o.code, time.Since(start))
				}
				time.Sleep(50 * time.Millisecond) // the bucket refills with time: nothing to wait on
			}
			if d := time.Since(start); d < 2*time.Second {
				t.Fatalf("through again %v after the first call; want at least 2s", d)
			}
		})
	}
}

// TestRateLimitRoutes: an entry naming routes limits those only, by
// service, method or HTTP rule; an HTTP rule selects the REST route and
// not the gRPC method behind it.
func TestRateLimitRoutes(t *testing.T) {
	e := startGateway(t, startDemoUpstream(t), func(c *Config) {
		c.RateLimits = []RateLimitConfig{
			{Key: "global", Rate: 1, Per: time.Hour, Routes: []filter.Selector{"GET /v1/shelves/{shelf}/books/{book}"}},
			{Key: "header:x-a", Rate: 1, Per: time.Hour, Routes: []filter.Selector{"bookstore.v1.Bookstore/ListShelves"}},
		}
	})
	c := dialH1(t, e.Addr().String())
	get := func(path, hdr string) int {
		c.write("GET " + path + " HTTP/1.1\r\nHost: x\r\n" + hdr + "\r\n")
		st, _, _ := c.read()
		return st
	}
	for i, want := range []int{200, 429, 429} {
		if st := get("/v1/shelves/1/books/1", ""); st != want {
			t.Fatalf("GetBook call %d: %d; want %d", i, st, want)
		}
	}
	for i := range 5 {
		if st := get("/v1/shelves/1", ""); st != 200 {
			t.Fatalf("GetShelf call %d: %d; want 200 (no limit)", i, st)
		}
	}
	if st := get("/v1/shelves", "X-A: 1\r\n"); st != 200 {
		t.Fatalf("ListShelves: %d; want 200", st)
	}
	if st := get("/v1/shelves", "X-A: 1\r\n"); st != 429 {
		t.Fatalf("ListShelves again: %d; want 429", st)
	}
	grpc := grpcCaller(t, e.Addr().String())
	for i := range 3 {
		if o := grpc(t, nil); o.code != rpc.CodeOK {
			t.Fatalf("gRPC GetShelf %d: %v; want OK (the HTTP rule is another route)", i, o.code)
		}
	}
}

// TestRateLimitReload: a reload keeps the buckets of an unchanged rule
// (even with other routes) and starts afresh for a changed one.
func TestRateLimitReload(t *testing.T) {
	var cfg Config
	e := startGateway(t, startDemoUpstream(t), func(c *Config) {
		c.RateLimits = []RateLimitConfig{{Key: "client_ip", Rate: 1, Per: time.Hour, Burst: 2}}
		cfg = *c
	})
	c := dialH1(t, e.Addr().String())
	get := func() int {
		st, _, _ := c.do("GET", "/v1/shelves/1", "", "")
		return st
	}
	for i, want := range []int{200, 200, 429} {
		if st := get(); st != want {
			t.Fatalf("call %d: %d; want %d", i, st, want)
		}
	}
	cfg.RateLimits = []RateLimitConfig{{Key: "client_ip", Rate: 1, Per: time.Hour, Burst: 2, Routes: []filter.Selector{"bookstore.v1.Bookstore"}}}
	reload(t, e, cfg)
	if st := get(); st != 429 {
		t.Fatalf("after a reload with the same rule: %d; want 429 (the bucket kept)", st)
	}
	cfg.RateLimits[0].Burst = 3
	reload(t, e, cfg)
	if st := get(); st != 200 {
		t.Fatalf("after a reload with a new burst: %d; want 200 (a new bucket)", st)
	}
}

func reload(t *testing.T, e *Engine, cfg Config) {
	t.Helper()
	files, err := cfg.LoadDescriptors()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Reload(cfg, files); err != nil {
		t.Fatalf("reload: %v", err)
	}
}

// TestRateLimitMetrics: /metrics counts limited requests by key and rate.
func TestRateLimitMetrics(t *testing.T) {
	e := startGateway(t, startDemoUpstream(t), func(c *Config) {
		c.Admin = "127.0.0.1:0"
		c.RateLimits = []RateLimitConfig{{Key: "header:x-tenant", Rate: 1, Per: time.Minute}}
	})
	c := dialH1(t, e.Addr().String())
	for range 3 {
		c.write("GET /v1/shelves/1 HTTP/1.1\r\nHost: x\r\nX-Tenant: a\r\n\r\n")
		c.read()
	}
	resp, err := http.Get("http://" + e.AdminAddr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	body := string(b)
	if want := `strait_rate_limited_total{key="header:x-tenant",rate="1/1m0s"} 2`; !strings.Contains(body, want+"\n") {
		t.Fatalf("/metrics lacks %s:\n%s", want, body)
	}
}

// TestRateLimitCORS: a browser on an allowed origin can read why it was
// turned away: the 429 carries the CORS headers, and they expose
// Retry-After and the RateLimit-* fields.
func TestRateLimitCORS(t *testing.T) {
	e := startGateway(t, startDemoUpstream(t), func(c *Config) {
		c.CORS.AllowOrigins = []string{"https://app.example.com"}
		c.RateLimits = []RateLimitConfig{{Key: "global", Rate: 1, Per: time.Hour}}
	})
	c := dialH1(t, e.Addr().String())
	var st int
	var h http.Header
	for range 2 {
		c.write("GET /v1/shelves/1 HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example.com\r\n\r\n")
		st, h, _ = c.read()
	}
	expose := h.Get("Access-Control-Expose-Headers")
	if st != 429 || h.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Fatalf("got %d, Access-Control-Allow-Origin %q; want 429 for the origin", st, h.Get("Access-Control-Allow-Origin"))
	}
	for _, name := range []string{"retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "x-strait-overloaded"} {
		if !hasToken(expose, name) {
			t.Errorf("Access-Control-Expose-Headers %q lacks %s", expose, name)
		}
	}
}
