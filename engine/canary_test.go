package engine

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/filter/canary"
	"github.com/straitgw/strait/internal/testjwt"
	"github.com/straitgw/strait/internal/testutil"
)

// canaryGateway runs a gateway whose default upstream is a and whose
// canary upstream (named "canary") is b, with the canary entries given.
func canaryGateway(t *testing.T, a, b *who, entries ...CanaryConfig) *Engine {
	return startGateway(t, a.addr, func(c *Config) {
		c.Upstreams = append(c.Upstreams, UpstreamConfig{Name: "canary", Endpoints: []string{b.addr}})
		c.Canary = entries
	})
}

// grpcWho calls GetShelf over gRPC with metadata pairs and returns who
// answered.
func grpcWho(t *testing.T, cc *grpc.ClientConn, md ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var hdr metadata.MD
	if _, err := testutil.RawCall(metadata.AppendToOutgoingContext(ctx, md...), cc, "/bookstore.v1.Bookstore/GetShelf",
		[]byte{0x08, 0x01}, grpc.Header(&hdr)); err != nil {
		t.Fatal(err)
	}
	return hdr.Get("x-upstream")[0]
}

// TestCanaryHeader: the header rule, exactly, over REST (h1, h2) and gRPC.
func TestCanaryHeader(t *testing.T) {
	a, b := startWho(t, "A"), startWho(t, "B")
	e := canaryGateway(t, a, b, CanaryConfig{Routes: []filter.Selector{"bookstore.v1.Bookstore/GetShelf"},
		Upstream: "canary", Header: "x-canary: 1"})
	base, cc := "http://"+e.Addr().String(), grpcDial(t, e.Addr().String())
	tests := []struct {
		name, path string
		headers    []string
		want       string
	}{
		{"x-canary: 1", "/v1/shelves/1", []string{"X-Canary", "1"}, "B"},
		{"x-canary: 2", "/v1/shelves/1", []string{"X-Canary", "2"}, "A"},
		{"x-canary: 1 with a space", "/v1/shelves/1", []string{"X-Canary", "1 0"}, "A"},
		{"x-canary: 11", "/v1/shelves/1", []string{"X-Canary", "11"}, "A"},
		{"no header", "/v1/shelves/1", nil, "A"},
		{"another route", "/v1/shelves", []string{"X-Canary", "1"}, "A"},
	}
	for _, tt := range tests {
		for _, hc := range []struct {
			name string
			c    *http.Client
		}{{"h1", h1HTTPClient()}, {"h2", testutil.H2CClient()}} {
			if got := getREST(t, hc.c, base, tt.path, tt.headers...).upstream; got != tt.want {
				t.Errorf("%s %s: answered by %q; want %q", hc.name, tt.name, got, tt.want)
			}
		}
		if tt.path == "/v1/shelves/1" {
			var md []string
			if tt.headers != nil {
				md = []string{"x-canary", tt.headers[1]}
			}
			if got := grpcWho(t, cc, md...); got != tt.want {
				t.Errorf("grpc %s: answered by %q; want %q", tt.name, got, tt.want)
			}
		}
	}
}

// fourSigma fails unless got is within 4 standard deviations of a
// binomial(n, p) count.
func fourSigma(t *testing.T, what string, got, n int, p float64) {
	t.Helper()
	mean, sd := float64(n)*p, math.Sqrt(float64(n)*p*(1-p))
	if math.Abs(float64(got)-mean) > 4*sd {
		t.Errorf("%s: %d of %d; want %.0f ± %.0f (4 sigma)", what, got, n, mean, 4*sd)
	}
}

// TestCanarySplit: a percentage sends that share of tenants (keys drawn
// from a logged seed) or of requests (no key) to the canary, within 4
// sigma of the binomial count.
func TestCanarySplit(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	a, b := startWho(t, "A"), startWho(t, "B")
	keyed := canaryGateway(t, a, b, CanaryConfig{Upstream: "canary", Percent: 20, Key: "header:x-tenant"})
	random := canaryGateway(t, a, b, CanaryConfig{Upstream: "canary", Percent: 20})
	const n = 1500
	c := h1HTTPClient()
	for _, g := range []struct {
		name string
		e    *Engine
	}{{"keyed", keyed}, {"random", random}} {
		toB := 0
		for range n {
			tenant := fmt.Sprintf("t-%x", rng.Uint64())
			if getREST(t, c, "http://"+g.e.Addr().String(), "/v1/shelves/1", "X-Tenant", tenant).upstream == "B" {
				toB++
			}
		}
		fourSigma(t, g.name+" requests to the canary at 20%", toB, n, 0.2)
	}
}

// TestCanarySticky: every request of a tenant goes one way; listed
// tenants always go to the canary; a tenant's JWT claim keys it as well;
// raising the percentage by a reload moves tenants to the canary only.
func TestCanarySticky(t *testing.T) {
	k := newAuthKeys(t)
	a, b := startWho(t, "A"), startWho(t, "B")
	jwks := writeFile(t, t.TempDir(), "jwks.json", testjwt.JWKS(t, k.es))
	e := startGateway(t, a.addr, func(c *Config) {
		c.Upstreams = append(c.Upstreams, UpstreamConfig{Name: "canary", Endpoints: []string{b.addr}})
		c.JWT = []JWTConfig{{Issuer: testIssuer, JWKSFile: jwks, Routes: []filter.Selector{"bookstore.v1.Bookstore/ListShelves"}}}
		c.Canary = []CanaryConfig{
			{Routes: []filter.Selector{"bookstore.v1.Bookstore/GetShelf"}, Upstream: "canary", Percent: 30, Key: "header:x-tenant", Keys: []string{"acme"}},
			{Routes: []filter.Selector{"bookstore.v1.Bookstore/ListShelves"}, Upstream: "canary", Key: "claim:tenant", Keys: []string{"acme"}},
		}
	})
	base, c := "http://"+e.Addr().String(), h1HTTPClient()
	ways := func(percent float64) map[string]string {
		m := map[string]string{}
		for i := range 100 {
			tenant := fmt.Sprintf("tenant-%d", i)
			for range 3 {
				got := getREST(t, c, base, "/v1/shelves/1", "X-Tenant", tenant).upstream
				if m[tenant] != "" && m[tenant] != got {
					t.Fatalf("tenant %s answered by %s and %s", tenant, m[tenant], got)
				}
				m[tenant] = got
			}
			if want := map[bool]string{true: "B", false: "A"}[canary.Bucket("canary", tenant) < percent]; m[tenant] != want {
				t.Errorf("tenant %s: %s; want %s (bucket %v)", tenant, m[tenant], want, canary.Bucket("canary", tenant))
			}
		}
		return m
	}
	at30 := ways(30)
	if got := getREST(t, c, base, "/v1/shelves/1", "X-Tenant", "acme").upstream; got != "B" {
		t.Errorf("listed tenant acme: %s; want B", got)
	}
	for tenant, want := range map[string]string{"acme": "B", "globex": "A"} {
		tok := k.es.Sign(t, map[string]any{"iss": testIssuer, "exp": time.Now().Add(time.Hour).Unix(), "tenant": tenant})
		if got := getREST(t, c, base, "/v1/shelves", "Authorization", "Bearer "+tok).upstream; got != want {
			t.Errorf("claim tenant %s: %s; want %s", tenant, got, want)
		}
	}
	mustReload(t, e, func(c *Config) {
		cs := append([]CanaryConfig(nil), c.Canary...)
		cs[0].Percent = 60
		c.Canary = cs
	})
	at60 := ways(60)
	moved := 0
	for tenant, was := range at30 {
		if was == "B" && at60[tenant] != "B" {
			t.Errorf("tenant %s left the canary when the percentage rose", tenant)
		}
		if was != at60[tenant] {
			moved++
		}
	}
	if moved == 0 {
		t.Errorf("no tenant moved from 30%% to 60%%")
	}
}
