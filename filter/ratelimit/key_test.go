package ratelimit

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/straitgw/strait/filter"
)

func TestParseKey(t *testing.T) {
	tests := []struct {
		spec string
		want Key
		ok   bool
	}{
		{"global", Key{Kind: KeyGlobal}, true},
		{"client_ip", Key{Kind: KeyClientIP}, true},
		{"identity", Key{Kind: KeyIdentity}, true},
		{"header:X-Tenant", Key{Kind: KeyHeader, Name: "x-tenant"}, true},
		{"header:x-api-key", Key{Kind: KeyHeader, Name: "x-api-key"}, true},
		{"claim:sub", Key{Kind: KeyClaim, Name: "sub"}, true},
		{"claim:https://example.com/tenant", Key{Kind: KeyClaim, Name: "https://example.com/tenant"}, true},
		{"", Key{}, false},
		{"Global", Key{}, false},
		{"header", Key{}, false},
		{"header:", Key{}, false},
		{"header:x tenant", Key{}, false},
		{"header::authority", Key{}, false},
		{"claim:", Key{}, false},
		{"claim:a\nb", Key{}, false},
		{"cookie:session", Key{}, false},
	}
	for _, tt := range tests {
		got, err := ParseKey(tt.spec)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseKey(%q): got %+v, %v; want %+v, ok %v", tt.spec, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrKey) {
			t.Errorf("ParseKey(%q): %v does not wrap ErrKey", tt.spec, err)
		}
	}
}

// FuzzRateLimitKey: ParseKey never panics, and what it accepts prints
// back to a spec it reads the same.
func FuzzRateLimitKey(f *testing.F) {
	for _, s := range []string{"global", "client_ip", "identity", "header:X-Tenant", "claim:sub", "header:", "claim:a:b", "header:a:b", "x:y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		k, err := ParseKey(spec)
		if err != nil {
			if !errors.Is(err, ErrKey) {
				t.Fatalf("ParseKey(%q): %v does not wrap ErrKey", spec, err)
			}
			return
		}
		again, err := ParseKey(k.String())
		if err != nil || again != k {
			t.Fatalf("ParseKey(%q) = %+v prints %q, which reads %+v, %v", spec, k, k.String(), again, err)
		}
	})
}

// request is a filter.Request for tests.
type request struct {
	ip, identity string
	headers      map[string]string
	values       map[any]any
}

func (r *request) Protocol() filter.Protocol  { return filter.ProtocolREST }
func (r *request) Method() string             { return "GET" }
func (r *request) Path() string               { return "/v1/shelves/1" }
func (r *request) Service() string            { return "bookstore.v1.Bookstore" }
func (r *request) RPC() string                { return "/bookstore.v1.Bookstore/GetShelf" }
func (r *request) ClientIP() string           { return r.ip }
func (r *request) RequestID() string          { return "id" }
func (r *request) Header(name string) string  { return r.headers[name] }
func (r *request) Identity() string           { return r.identity }
func (r *request) SetMetadata(string, string) {}
func (r *request) SetUpstream(string)         {}
func (r *request) Value(key any) any          { return r.values[key] }
func (r *request) SetValue(key, value any)    { r.values[key] = value }

func withClaims(c map[string]any) map[any]any { return map[any]any{filter.ClaimsKey{}: c} }

func mustKey(t *testing.T, spec string) Key {
	t.Helper()
	k, err := ParseKey(spec)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKeyOf(t *testing.T) {
	r := &request{ip: "192.0.2.1", identity: "spiffe://example.org/a",
		headers: map[string]string{"x-tenant": "acme"},
		values: withClaims(map[string]any{"sub": "u1", "org": 42.0, "admin": true, "n": json.Number("7"),
			"roles": []any{"a"}})}
	tests := []struct{ spec, want string }{
		{"global", ""},
		{"client_ip", "192.0.2.1"},
		{"identity", "spiffe://example.org/a"},
		{"header:X-Tenant", "acme"},
		{"header:x-other", ""},
		{"claim:sub", "u1"},
		{"claim:org", "42"},
		{"claim:admin", "true"},
		{"claim:n", "7"},
		{"claim:roles", ""},
		{"claim:missing", ""},
	}
	for _, tt := range tests {
		if got := mustKey(t, tt.spec).Of(r); got != tt.want {
			t.Errorf("%s: got %q; want %q", tt.spec, got, tt.want)
		}
	}
	if got := mustKey(t, "claim:sub").Of(&request{}); got != "" {
		t.Errorf("claim with no claims stored: got %q; want \"\"", got)
	}
}
