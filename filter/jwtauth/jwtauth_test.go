package jwtauth

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/straitgw/strait/filter"
)

func TestRejections(t *testing.T) {
	es := newSigner(t, "ec-1", jose.ES256)
	f := staticFilter(t, Rule{Issuer: iss, Audiences: []string{"books"}}, es)
	now := time.Now()
	expired := claimsAt(iss, "books", now)
	expired["exp"] = now.Add(-time.Hour).Unix()
	tests := []struct {
		name string
		r    *fakeRequest
		want string
	}{
		{"no header", newRequest(filter.Route{}), `UNAUTHENTICATED: jwtauth: no bearer token | www-authenticate: Bearer`},
		{"another scheme", newRequest(filter.Route{}, "authorization", "Basic dTpw"), `UNAUTHENTICATED: jwtauth: no bearer token | www-authenticate: Bearer`},
		{"empty bearer", newRequest(filter.Route{}, "authorization", "Bearer "), `UNAUTHENTICATED: jwtauth: malformed token | www-authenticate: Bearer error="invalid_token", error_description="malformed token"`},
		{"expired", bearer(es.Sign(t, expired)), `UNAUTHENTICATED: jwtauth: the token expired | www-authenticate: Bearer error="invalid_token", error_description="the token expired"`},
		{"alg none", bearer(unsigned(claimsAt(iss, "books", now))), `UNAUTHENTICATED: jwtauth: the token's algorithm is not accepted | www-authenticate: Bearer error="invalid_token", error_description="the token's algorithm is not accepted"`},
		{"valid", bearer(es.Sign(t, claimsAt(iss, "books", now))), "continue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describe(run(t, f, tt.r)); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestForwardClaims(t *testing.T) {
	es := newSigner(t, "ec-1", jose.ES256)
	c := claimsAt(iss, "books", time.Now())
	c["tenant"] = "acme"
	c["uid"] = json.Number("9007199254740993") // past float64's exact integers
	c["admin"] = true
	c["roles"] = []any{"reader", "writer"}
	c["org"] = map[string]any{"id": 7}
	c["bad"] = "line\nbreak"
	tok := es.Sign(t, c)
	tests := []struct {
		name    string
		rule    Rule
		meta    []filter.Field
		dropped []string
	}{
		{"default", Rule{}, []filter.Field{{Name: "x-jwt-iss", Value: iss}, {Name: "x-jwt-sub", Value: "user-1"}},
			[]string{"x-jwt-iss", "x-jwt-sub"}},
		{"mapped", Rule{Forward: map[string]string{"tenant": "X-Tenant", "uid": "x-uid", "admin": "x-admin",
			"roles": "x-roles", "org": "x-org", "bad": "x-bad", "absent": "x-absent"}, DropToken: true},
			[]filter.Field{{Name: "x-admin", Value: "true"}, {Name: "x-org", Value: `{"id":7}`},
				{Name: "x-roles", Value: "reader,writer"}, {Name: "x-tenant", Value: "acme"}, {Name: "x-uid", Value: "9007199254740993"}},
			[]string{"x-absent", "x-admin", "x-bad", "x-org", "x-roles", "x-tenant", "x-uid", "authorization"}},
		{"none", Rule{Forward: map[string]string{}}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.rule.Issuer = iss
			f := staticFilter(t, tt.rule, es)
			for i := range 2 { // verified, then cached
				r := bearer(tok)
				if got := describe(run(t, f, r)); got != "continue" {
					t.Fatalf("got %s; want continue", got)
				}
				if !reflect.DeepEqual(r.meta, tt.meta) {
					t.Errorf("pass %d: metadata %v; want %v", i, r.meta, tt.meta)
				}
				if !reflect.DeepEqual(r.dropped, tt.dropped) {
					t.Errorf("pass %d: dropped %v; want %v", i, r.dropped, tt.dropped)
				}
				claims, _ := r.Value(filter.ClaimsKey{}).(map[string]any)
				if claims["tenant"] != "acme" || claims["uid"] != json.Number("9007199254740993") {
					t.Errorf("pass %d: claims %v; want tenant acme and uid as written", i, claims)
				}
			}
		})
	}
}

func TestRulesByRoute(t *testing.T) {
	a, b := newSigner(t, "a", jose.ES256), newSigner(t, "b", jose.EdDSA)
	ka, _ := StaticKeys("a", jwks(t, a))
	kb, _ := StaticKeys("b", jwks(t, b))
	const issA, issB = "https://a.example.com", "https://b.example.com"
	f, err := New([]Rule{
		{Issuer: issA, Keys: ka, Routes: []filter.Selector{"p.Books", "p.Both"}},
		{Issuer: issB, Keys: kb, Routes: []filter.Selector{"p.Both", "GET /v1/b/{id}"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	now := time.Now()
	tokA, tokB := a.Sign(t, claimsAt(issA, "x", now)), b.Sign(t, claimsAt(issB, "x", now))
	forged := b.Sign(t, claimsAt(issA, "x", now)) // issuer A's name, B's key
	books, both := filter.Route{Service: "p.Books", Method: "M"}, filter.Route{Service: "p.Both", Method: "M"}
	rest := filter.Route{Service: "p.B", Method: "Get", HTTPMethod: "GET", Template: "/v1/b/{id}"}
	open := filter.Route{Service: "p.Open", Method: "M"}
	tests := []struct {
		name  string
		route filter.Route
		tok   string
		want  string
	}{
		{"A on A's route", books, tokA, "continue"},
		{"B on A's route", books, tokB, "UNAUTHENTICATED: jwtauth: the token's issuer is not accepted here"},
		{"A on a shared route", both, tokA, "continue"},
		{"B on a shared route", both, tokB, "continue"},
		{"B on its HTTP rule", rest, tokB, "continue"},
		{"A on B's HTTP rule", rest, tokA, "UNAUTHENTICATED: jwtauth: the token's issuer is not accepted here"},
		{"A's name with B's key", both, forged, "UNAUTHENTICATED: jwtauth: the token's signing key is unknown"},
		{"an unguarded route", open, "", "continue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRequest(tt.route, "authorization", "Bearer "+tt.tok)
			res := run(t, f, r)
			got := describe(res)
			if res.Verdict == filter.VerdictReject {
				got = res.Status.Code.String() + ": " + res.Status.Message
			}
			if got != tt.want {
				t.Errorf("got %s; want %s", got, tt.want)
			}
		})
	}
}

func TestFromHeader(t *testing.T) {
	es := newSigner(t, "ec-1", jose.ES256)
	from, err := ParseFrom("header:X-Token")
	if err != nil {
		t.Fatal(err)
	}
	f := staticFilter(t, Rule{Issuer: iss, From: from, DropToken: true}, es)
	tok := es.Sign(t, claimsAt(iss, "x", time.Now()))
	r := newRequest(filter.Route{}, "x-token", tok, "authorization", "Bearer nope")
	if got := describe(run(t, f, r)); got != "continue" {
		t.Fatalf("got %s; want continue", got)
	}
	if want := []string{"x-jwt-iss", "x-jwt-sub", "x-token"}; !reflect.DeepEqual(r.dropped, want) {
		t.Errorf("dropped %v; want %v", r.dropped, want)
	}
}

func TestCache(t *testing.T) {
	es := newSigner(t, "ec-1", jose.ES256)
	f := staticFilter(t, Rule{Issuer: iss}, es)
	now := time.Now()
	f.now = func() time.Time { return now }
	c := claimsAt(iss, "x", now)
	c["exp"] = now.Add(time.Minute).Unix()
	tok := es.Sign(t, c)
	run(t, f, bearer(tok))
	v := f.cache.get(tok)
	if v == nil || v.tok != tok {
		t.Fatalf("got %v; want the token cached", v)
	}
	// A hit past exp + leeway is verified again, and refused.
	now = now.Add(time.Minute + DefaultLeeway + time.Second)
	if got := describe(run(t, f, bearer(tok))); got == "continue" {
		t.Errorf("expired cached token: got continue; want a rejection")
	}
	if f.cache.get(tok) != nil {
		t.Errorf("expired token still cached")
	}
}

func TestCacheBound(t *testing.T) {
	c := newCache(64)
	for i := range 1000 {
		tok := fmt.Sprintf("token-%d", i)
		c.add(&verified{tok: tok})
	}
	n := 0
	for i := range c.shards {
		n += len(c.shards[i].cur) + len(c.shards[i].old)
	}
	if n > 64 {
		t.Errorf("cache holds %d tokens; want at most 64", n)
	}
	c.add(&verified{tok: "recent"})
	if c.get("recent") == nil {
		t.Errorf("the latest token was evicted")
	}
}

func TestFilterRules(t *testing.T) {
	k, _ := StaticKeys("k", jwks(t, newSigner(t, "ec-1", jose.ES256)))
	if _, err := New([]Rule{{Keys: k}}); err == nil {
		t.Errorf("a rule without issuer: got no error")
	}
	if _, err := New(make([]Rule, maxRules+1)); err == nil {
		t.Errorf("%d rules: got no error", maxRules+1)
	}
}
