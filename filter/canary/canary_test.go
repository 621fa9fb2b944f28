package canary

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/straitgw/strait/filter"
)

// request is a filter.Request with headers, a client address and claims.
type request struct {
	headers  map[string]string
	ip       string
	values   map[any]any
	upstream string
}

func newRequest(headers ...string) *request {
	r := &request{headers: map[string]string{}, ip: "192.0.2.1", values: map[any]any{}}
	for i := 0; i+1 < len(headers); i += 2 {
		r.headers[headers[i]] = headers[i+1]
	}
	return r
}

func (r *request) Protocol() filter.Protocol { return filter.ProtocolREST }
func (r *request) Method() string            { return "GET" }
func (r *request) Path() string              { return "/" }
func (r *request) Service() string           { return "p.S" }
func (r *request) RPC() string               { return "/p.S/M" }
func (r *request) ClientIP() string          { return r.ip }
func (r *request) RequestID() string         { return "" }
func (r *request) Header(name string) string { return r.headers[name] }
func (r *request) Identity() string          { return "" }
func (r *request) SetMetadata(_, _ string)   {}
func (r *request) SetUpstream(name string)   { r.upstream = name }
func (r *request) Value(key any) any         { return r.values[key] }
func (r *request) SetValue(key, value any)   { r.values[key] = value }

func mustHeader(t *testing.T, s string) Header {
	h, err := ParseHeader(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func mustKey(t *testing.T, s string) Key {
	k, err := ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestFilter(t *testing.T) {
	withClaims := func(c map[string]any) *request {
		r := newRequest()
		r.values[filter.ClaimsKey{}] = c
		return r
	}
	ip := func(addr string) *request { r := newRequest(); r.ip = addr; return r }
	tests := []struct {
		name string
		rule Rule
		r    *request
		want string
	}{
		{"header equal", Rule{Header: mustHeader(t, "X-Canary: 1")}, newRequest("x-canary", "1"), "canary"},
		{"header differs", Rule{Header: mustHeader(t, "x-canary: 1")}, newRequest("x-canary", "2"), ""},
		{"header case of value", Rule{Header: mustHeader(t, "x-canary: yes")}, newRequest("x-canary", "Yes"), ""},
		{"header absent", Rule{Header: mustHeader(t, "x-canary: 1")}, newRequest(), ""},
		{"header present", Rule{Header: mustHeader(t, "x-canary")}, newRequest("x-canary", "anything"), "canary"},
		{"listed tenant", Rule{Key: mustKey(t, "header:x-tenant"), Keys: []string{"acme"}}, newRequest("x-tenant", "acme"), "canary"},
		{"other tenant", Rule{Key: mustKey(t, "header:x-tenant"), Keys: []string{"acme"}}, newRequest("x-tenant", "acme2"), ""},
		{"no tenant at 100%", Rule{Key: mustKey(t, "header:x-tenant"), Percent: 100}, newRequest(), ""},
		{"any tenant at 100%", Rule{Key: mustKey(t, "header:x-tenant"), Percent: 100}, newRequest("x-tenant", "z"), "canary"},
		{"no key at 0%", Rule{}, newRequest(), ""},
		{"no key at 100%", Rule{Percent: 100}, newRequest(), "canary"},
		{"listed client", Rule{Key: mustKey(t, "client_ip"), Keys: []string{"10.0.0.7"}}, ip("10.0.0.7"), "canary"},
		{"listed claim", Rule{Key: mustKey(t, "claim:org"), Keys: []string{"acme"}}, withClaims(map[string]any{"org": "acme"}), "canary"},
		{"numeric claim", Rule{Key: mustKey(t, "claim:uid"), Keys: []string{"9007199254740993"}},
			withClaims(map[string]any{"uid": json.Number("9007199254740993")}), "canary"},
		{"no claims", Rule{Key: mustKey(t, "claim:org"), Keys: []string{"acme"}, Percent: 100}, newRequest(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.rule.Upstream = "canary"
			New(tt.rule).OnRequest(tt.r, nil)
			if tt.r.upstream != tt.want {
				t.Errorf("got upstream %q; want %q", tt.r.upstream, tt.want)
			}
		})
	}
}

func TestFirstCanaryWins(t *testing.T) {
	a := New(Rule{Upstream: "a", Header: mustHeader(t, "x-canary")})
	b := New(Rule{Upstream: "b", Percent: 100})
	r := newRequest("x-canary", "1")
	a.OnRequest(r, nil)
	b.OnRequest(r, nil)
	if r.upstream != "a" {
		t.Errorf("got %q; want a, the first canary that picked", r.upstream)
	}
	r = newRequest()
	a.OnRequest(r, nil)
	b.OnRequest(r, nil)
	if r.upstream != "b" {
		t.Errorf("got %q; want b: a did not pick", r.upstream)
	}
}

// withinSigmas fails unless got is within k standard deviations of a
// binomial(n, p) count.
func withinSigmas(t *testing.T, what string, got, n int, p, k float64) {
	t.Helper()
	mean, sd := float64(n)*p, math.Sqrt(float64(n)*p*(1-p))
	if math.Abs(float64(got)-mean) > k*sd {
		t.Errorf("%s: %d of %d; want %.0f ± %.0f (%.0f sigma)", what, got, n, mean, k*sd, k)
	}
}

func TestRandomSplit(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	f := New(Rule{Upstream: "canary", Percent: 5})
	f.draw = func() float64 { return float64(rng.Uint64N(buckets)) / (buckets / 100) }
	const n = 20000
	got := 0
	for range n {
		r := newRequest()
		f.OnRequest(r, nil)
		if r.upstream == "canary" {
			got++
		}
	}
	withinSigmas(t, "requests to the canary", got, n, 0.05, 4)
}

// Buckets spread keys evenly, and a percentage raised only adds keys.
func TestBucket(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	const n = 50000
	var deciles [10]int
	for range n {
		key := fmt.Sprintf("tenant-%x", rng.Uint64())
		b := Bucket("canary", key)
		if b < 0 || b >= 100 || b != Bucket("canary", key) {
			t.Fatalf("Bucket(%q) = %v: not in [0,100) or not stable", key, b)
		}
		deciles[int(b/10)]++
	}
	for i, c := range deciles {
		withinSigmas(t, fmt.Sprintf("decile %d", i), c, n, 0.1, 4)
	}
	if Bucket("ab", "c") == Bucket("a", "bc") && Bucket("x", "yz") == Bucket("xy", "z") {
		t.Errorf("salt and key run together")
	}
}

func TestBucketGolden(t *testing.T) {
	// Changing the hash reshuffles every tenant of every running canary,
	// and gateways of one fleet must agree: these values are pinned.
	for _, tt := range []struct {
		salt, key string
		want      float64
	}{{"canary", "acme", 83.79}, {"books-v2", "tenant-1", 94.73}, {"books-v2", "10.0.0.1", 39.82}} {
		if got := Bucket(tt.salt, tt.key); got != tt.want {
			t.Errorf("Bucket(%q, %q) = %v; want %v", tt.salt, tt.key, got, tt.want)
		}
	}
}

func TestStickyAndMonotone(t *testing.T) {
	rules := []float64{0, 1, 5, 20, 50, 99.99, 100}
	for i := range 2000 {
		tenant := fmt.Sprintf("t%d", i)
		was := false
		for _, p := range rules {
			f := New(Rule{Upstream: "canary", Key: Key{Kind: KeyHeader, Name: "x-tenant"}, Percent: p})
			got := ""
			for range 3 { // the same tenant, the same way
				r := newRequest("x-tenant", tenant)
				f.OnRequest(r, nil)
				if got != "" && r.upstream != got[1:] {
					t.Fatalf("tenant %s at %v%%: not sticky", tenant, p)
				}
				got = "=" + r.upstream
			}
			in := got == "=canary"
			if was && !in {
				t.Fatalf("tenant %s left the canary when the percentage rose to %v", tenant, p)
			}
			was = in
		}
		if !was {
			t.Fatalf("tenant %s not in the canary at 100%%", tenant)
		}
	}
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		in, want string
		err      bool
	}{
		{"x-canary: 1", "x-canary: 1", false},
		{"X-Canary:1", "x-canary: 1", false},
		{" x-canary ", "x-canary", false},
		{"x-canary:", "x-canary", false},
		{"x-version: v2:beta", "x-version: v2:beta", false},
		{": 1", "", true},
		{"x canary: 1", "", true},
		{"x-canary: a\nb", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		h, err := ParseHeader(tt.in)
		if (err != nil) != tt.err || (err == nil && h.String() != tt.want) {
			t.Errorf("ParseHeader(%q): got %q, %v; want %q, error %v", tt.in, h, err, tt.want, tt.err)
		}
	}
}

func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{"x-canary: 1", "x", "x:", ":", "a: b: c", " X-A :\t1\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHeader(s)
		if err != nil {
			return
		}
		if h.Name != strings.ToLower(h.Name) || !filter.IsToken(h.Name) || h.Value != strings.Trim(h.Value, " \t") {
			t.Fatalf("ParseHeader(%q) = %+v: name not a lower-case token or value not trimmed", s, h)
		}
		again, err := ParseHeader(h.String())
		if err != nil || again != h {
			t.Fatalf("ParseHeader(%q) = %+v does not read back from %q: %+v, %v", s, h, h.String(), again, err)
		}
	})
}

func TestParseKey(t *testing.T) {
	tests := []struct {
		in, want string
		kind     KeyKind
		err      bool
	}{
		{"", "", KeyNone, false},
		{"client_ip", "client_ip", KeyClientIP, false},
		{"header:X-Tenant", "header:x-tenant", KeyHeader, false},
		{"header: x-tenant", "header:x-tenant", KeyHeader, false},
		{"claim:org_id", "claim:org_id", KeyClaim, false},
		{"claim:https://example.com/tenant", "claim:https://example.com/tenant", KeyClaim, false},
		{"header:", "", 0, true},
		{"claim:", "", 0, true},
		{"cookie:x", "", 0, true},
		{"client-ip", "", 0, true},
	}
	for _, tt := range tests {
		k, err := ParseKey(tt.in)
		if (err != nil) != tt.err || (err == nil && (k.String() != tt.want || k.Kind != tt.kind)) {
			t.Errorf("ParseKey(%q): got %+v, %v; want %q, error %v", tt.in, k, err, tt.want, tt.err)
		}
	}
}

func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"", "client_ip", "header:x-tenant", "claim:sub", "claim:a:b", "header:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKey(s)
		if err != nil {
			return
		}
		again, err := ParseKey(k.String())
		if err != nil || again != k {
			t.Fatalf("ParseKey(%q) = %+v does not read back from %q: %+v, %v", s, k, k.String(), again, err)
		}
	})
}

func BenchmarkOnRequest(b *testing.B) {
	f := New(Rule{Upstream: "canary", Header: Header{Name: "x-canary", Value: "1"},
		Key: Key{Kind: KeyHeader, Name: "x-tenant"}, Keys: []string{"acme"}, Percent: 5})
	r := newRequest("x-tenant", "tenant-42")
	b.ReportAllocs()
	for b.Loop() {
		f.OnRequest(r, nil)
	}
}
