package engine

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/internal/demo"
)

// TestTrafficConfigValues: rate_limits and circuit_breaker decode, and
// Defaults fills per, burst and max_keys.
func TestTrafficConfigValues(t *testing.T) {
	src := `
rate_limits:
  - {key: global, rate: 1000}
  - key: "header:X-Tenant"
    rate: 10
    per: 1m
    burst: 20
    max_keys: 5000
    routes: [bookstore.v1.Bookstore, "bookstore.v1.Bookstore/GetShelf", "GET /v1/shelves/{shelf}"]
upstreams:
  - name: a
    endpoints: ["127.0.0.1:1"]
    circuit_breaker: {max_pending: 1, max_requests: 2, max_retries: 3}
`
	c, err := ParseConfig([]byte(src), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c.Defaults()
	want := []RateLimitConfig{
		{Key: "global", Rate: 1000, Per: time.Second, Burst: 1000, MaxKeys: 100_000},
		{Key: "header:X-Tenant", Rate: 10, Per: time.Minute, Burst: 20, MaxKeys: 5000,
			Routes: []filter.Selector{"bookstore.v1.Bookstore", "bookstore.v1.Bookstore/GetShelf", "GET /v1/shelves/{shelf}"}},
	}
	if !reflect.DeepEqual(c.RateLimits, want) {
		t.Errorf("rate_limits: got %+v; want %+v", c.RateLimits, want)
	}
	if got, want := c.Upstreams[0].CircuitBreaker, (CircuitBreaker{1, 2, 3}); got != want {
		t.Errorf("circuit_breaker: got %+v; want %+v", got, want)
	}
}

func TestTrafficConfigProblems(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(c *Config)
		want   string
	}{
		{"valid", func(c *Config) {
			c.RateLimits = []RateLimitConfig{{Key: "claim:sub", Rate: 5, Routes: []filter.Selector{"*", "p.S/M", "post /v1/x"}}}
			c.Upstreams[0].CircuitBreaker = CircuitBreaker{MaxRequests: 100}
		}, ""},
		{"no key", func(c *Config) { c.RateLimits = []RateLimitConfig{{Rate: 5}} },
			"rate_limits[0].key: missing: global, client_ip, identity, header:NAME or claim:NAME"},
		{"bad key", func(c *Config) { c.RateLimits = []RateLimitConfig{{Key: "ip", Rate: 5}} },
			`rate_limits[0].key: ratelimit: bad key "ip": want global, client_ip, identity, header:NAME or claim:NAME`},
		{"bad header", func(c *Config) { c.RateLimits = []RateLimitConfig{{Key: "header:x y", Rate: 5}} },
			`rate_limits[0].key: ratelimit: bad key "header:x y": "x y" is not a header name (RFC 9110 token)`},
		{"no rate", func(c *Config) { c.RateLimits = []RateLimitConfig{{Key: "global"}} },
			"rate_limits[0].rate: must be at least 1"},
		{"negative per", func(c *Config) { c.RateLimits = []RateLimitConfig{{Key: "global", Rate: 1, Per: -time.Second}} },
			"rate_limits[0].per: must be a positive duration such as 1s"},
		{"negative burst", func(c *Config) { c.RateLimits = []RateLimitConfig{{Key: "global", Rate: 1, Burst: -2}} },
			"rate_limits[0].burst: must not be negative (0 means rate)"},
		{"too fast", func(c *Config) { c.RateLimits = []RateLimitConfig{{Key: "global", Rate: 2000, Per: time.Microsecond}} },
			"rate_limits[0].rate: more than one request per nanosecond"},
		{"too long", func(c *Config) {
			c.RateLimits = []RateLimitConfig{{Key: "global", Rate: 1, Per: time.Hour, Burst: 10_000}}
		},
			"rate_limits[0].burst: per × burst / rate is longer than a year"},
		{"negative max_keys", func(c *Config) { c.RateLimits = []RateLimitConfig{{Key: "global", Rate: 1, MaxKeys: -1}} },
			"rate_limits[0].max_keys: must not be negative (0 means 100000)"},
		{"bad routes", func(c *Config) {
			c.RateLimits = []RateLimitConfig{{Key: "global", Rate: 1, Routes: []filter.Selector{"", "p..S", "p.S/", "FETCH /x", "GET x"}}}
		}, strings.Join([]string{
			`rate_limits[0].routes[0]: empty selector; want "pkg.v1.Service", "pkg.v1.Service/Method" or "GET /v1/path/{var}"`,
			`rate_limits[0].routes[1]: "p..S" is not a service name; want "pkg.v1.Service", "pkg.v1.Service/Method" or "GET /v1/path/{var}"`,
			`rate_limits[0].routes[2]: "p.S/" is not a service and method; want "pkg.v1.Service", "pkg.v1.Service/Method" or "GET /v1/path/{var}"`,
			`rate_limits[0].routes[3]: "FETCH /x" is not an HTTP rule; want "pkg.v1.Service", "pkg.v1.Service/Method" or "GET /v1/path/{var}"`,
			`rate_limits[0].routes[4]: "GET x" is not an HTTP rule; want "pkg.v1.Service", "pkg.v1.Service/Method" or "GET /v1/path/{var}"`,
		}, "\n")},
		{"negative breaker", func(c *Config) { c.Upstreams[0].CircuitBreaker = CircuitBreaker{MaxPending: -1, MaxRetries: -3} },
			"upstreams[0].circuit_breaker.max_pending: must not be negative (0 means no limit), got -1\n" +
				"upstreams[0].circuit_breaker.max_retries: must not be negative (0 means no limit), got -3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid(t)
			tt.break_(&c)
			c.Defaults()
			if got := problems(t, c.Validate()); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestTrafficConfigPositions: problems point at the value in the file.
func TestTrafficConfigPositions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.yaml")
	src := "listen: 127.0.0.1:8080\ndescriptors: [" + filepath.Join(t.TempDir(), "x.pb") + "]\n" +
		"upstreams:\n  - name: a\n    endpoints: [\"127.0.0.1:1\"]\n    circuit_breaker: {max_requests: -5}\n" +
		"rate_limits:\n  - {key: \"cookie:x\", rate: 0}\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	c.Defaults()
	got := problems(t, c.Validate())
	for _, want := range []string{
		path + ":6:37: upstreams[0].circuit_breaker.max_requests: must not be negative (0 means no limit), got -5",
		path + `:8:11: rate_limits[0].key: ratelimit: bad key "cookie:x"`,
		path + ":8:29: rate_limits[0].rate: must be at least 1",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("got\n%s\nwant a line starting %s", got, want)
		}
	}
}

// TestRateLimitRoutesKnown: a selector naming a service or method the
// descriptors lack is an error: a typo would leave routes unlimited.
func TestRateLimitRoutesKnown(t *testing.T) {
	c := valid(t)
	c.RateLimits = []RateLimitConfig{{Key: "global", Rate: 1, Routes: []filter.Selector{
		"bookstore.v1.Bookstore", "bookstore.v1.Bookstore/GetShelf", "GET /v1/anything",
		"bookstore.v1.Bookshop", "bookstore.v1.Bookstore/GetShelves", "bookstore.v1.Shelf"}}}
	want := strings.Join([]string{
		`rate_limits[0].routes[3]: "bookstore.v1.Bookshop" is not a service in the descriptors`,
		`rate_limits[0].routes[4]: service bookstore.v1.Bookstore has no method "GetShelves"`,
		`rate_limits[0].routes[5]: "bookstore.v1.Shelf" is not a service in the descriptors`,
	}, "\n")
	if got := problems(t, c.CheckServices(demo.Files())); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
