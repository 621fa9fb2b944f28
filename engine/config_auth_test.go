package engine

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/internal/demo"
	"github.com/straitgw/strait/transcode"
)

// writeJWKS writes a JWKS of one fresh P-256 key and returns its path.
func writeJWKS(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: "k1", Use: "sig"}}})
	p := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseJWTAndCanary(t *testing.T) {
	src := `
jwt:
  - issuer: https://idp.example.com/
    audiences: [books]
    jwks_url: https://idp.example.com/jwks.json
    jwks_refresh: 10m
    routes: [bookstore.v1.Bookstore, "GET /v1/shelves/{shelf}"]
    from: header:x-token
    forward_claims: {sub: x-user, tenant: x-tenant}
    drop_token: true
    clock_skew: 10s
canary:
  - routes: [bookstore.v1.Bookstore/GetShelf]
    upstream: books-v2
    header: "x-canary: 1"
    percent: 2.5
    key: header:x-tenant
    keys: [acme, globex]
`
	c, err := ParseConfig([]byte(src), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	wantJWT := []JWTConfig{{Issuer: "https://idp.example.com/", Audiences: []string{"books"},
		JWKSURL: "https://idp.example.com/jwks.json", JWKSRefresh: 10 * time.Minute,
		Routes: []filter.Selector{"bookstore.v1.Bookstore", "GET /v1/shelves/{shelf}"}, From: "header:x-token",
		ForwardClaims: map[string]string{"sub": "x-user", "tenant": "x-tenant"}, DropToken: true, ClockSkew: 10 * time.Second}}
	wantCanary := []CanaryConfig{{Routes: []filter.Selector{"bookstore.v1.Bookstore/GetShelf"}, Upstream: "books-v2",
		Header: "x-canary: 1", Percent: 2.5, Key: "header:x-tenant", Keys: []string{"acme", "globex"}}}
	if !reflect.DeepEqual(c.JWT, wantJWT) {
		t.Errorf("jwt: got %+v; want %+v", c.JWT, wantJWT)
	}
	if !reflect.DeepEqual(c.Canary, wantCanary) {
		t.Errorf("canary: got %+v; want %+v", c.Canary, wantCanary)
	}
	for _, tt := range []struct{ yaml, want string }{
		{"jwt: [{forward_claims: {sub: a, sub: b}}]\n", `c.yaml:1:33: jwt[0].forward_claims.sub: repeated key (first at line 1)`},
		{"jwt: [{forward_claims: [sub]}]\n", `c.yaml:1:24: jwt[0].forward_claims: want a mapping, got a list`},
		{"jwt: [{issuer: i, audience: a}]\n", `c.yaml:1:19: jwt[0].audience: unknown key "audience" (did you mean "audiences"?)`},
		{"canary: [{percent: lots}]\n", `c.yaml:1:20: canary[0].percent: want a number, got "lots"`},
	} {
		_, err := ParseConfig([]byte(tt.yaml), "c.yaml")
		if got := problems(t, err); got != tt.want {
			t.Errorf("%q:\ngot  %s\nwant %s", tt.yaml, got, tt.want)
		}
	}
}

func TestJWTDefaults(t *testing.T) {
	c := Config{JWT: []JWTConfig{{JWKSURL: "https://x/k"}, {JWKSFile: "k.json", ForwardClaims: map[string]string{}}}}
	c.Defaults()
	u, f := c.JWT[0], c.JWT[1]
	if u.JWKSRefresh != 5*time.Minute || u.JWKSMinRefetch != 5*time.Second || u.ClockSkew != 30*time.Second || u.From != "authorization" {
		t.Errorf("url entry: got %+v", u)
	}
	if !reflect.DeepEqual(u.ForwardClaims, map[string]string{"iss": "x-jwt-iss", "sub": "x-jwt-sub"}) {
		t.Errorf("default forward_claims: got %v", u.ForwardClaims)
	}
	if f.JWKSRefresh != 0 || len(f.ForwardClaims) != 0 {
		t.Errorf("file entry: got %+v; want no refresh and no forwarded claims", f)
	}
}

func TestValidateJWTAndCanary(t *testing.T) {
	jwks := writeJWKS(t)
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	ok := JWTConfig{Issuer: "i", JWKSFile: jwks}
	tests := []struct {
		name string
		mod  func(c *Config)
		want string
	}{
		{"valid", func(c *Config) {
			c.JWT = []JWTConfig{ok, {Issuer: "j", JWKSURL: "http://127.0.0.1:1/k", Routes: []filter.Selector{"p.S", "GET /v1/x"}}}
			c.Canary = []CanaryConfig{{Upstream: "a", Header: "x-canary: 1"}, {Upstream: "a", Key: "claim:org", Keys: []string{"acme"}, Percent: 0.01}}
		}, ""},
		{"jwt missing", func(c *Config) { c.JWT = []JWTConfig{{}} },
			"jwt[0].issuer: missing: the exact \"iss\" of the tokens accepted\njwt[0]: give one of jwks_file and jwks_url"},
		{"jwt both sources", func(c *Config) { c.JWT = []JWTConfig{{Issuer: "i", JWKSFile: jwks, JWKSURL: "https://x/k"}} },
			"jwt[0]: give one of jwks_file and jwks_url"},
		{"jwt bad file", func(c *Config) { c.JWT = []JWTConfig{{Issuer: "i", JWKSFile: bad}} },
			"jwt[0].jwks_file: " + bad + ": jwtauth: the JWKS has no usable public signing key"},
		{"jwt not a file", func(c *Config) { c.JWT = []JWTConfig{{Issuer: "i", JWKSFile: "/dev/null"}} },
			"jwt[0].jwks_file: /dev/null: not a regular file"},
		{"jwt no file", func(c *Config) { c.JWT = []JWTConfig{{Issuer: "i", JWKSFile: "/nonexistent/k.json"}} },
			"jwt[0].jwks_file: /nonexistent/k.json: no such file or directory"},
		{"jwt refresh with a file", func(c *Config) { o := ok; o.JWKSRefresh = time.Minute; c.JWT = []JWTConfig{o} },
			"jwt[0]: jwks_refresh and jwks_min_refetch go with jwks_url (a file is read again when it changes)"},
		{"jwt bad url", func(c *Config) {
			c.JWT = []JWTConfig{{Issuer: "i", JWKSURL: "ftp://x/k", JWKSRefresh: time.Millisecond}}
		}, "jwt[0].jwks_url: \"ftp://x/k\" is not an http(s) URL\njwt[0].jwks_refresh: 1ms is too often; at least 1s"},
		{"jwt bad from", func(c *Config) { o := ok; o.From = "query:token"; c.JWT = []JWTConfig{o} },
			`jwt[0].from: "query:token": from is "authorization" or "header:NAME"`},
		{"jwt bad forward", func(c *Config) {
			o := ok
			o.ForwardClaims = map[string]string{"a": "grpc-status", "b": "x y", "c": "x-request-id", "d": "Authorization", "e": "x-ok"}
			c.JWT = []JWTConfig{o}
		}, "jwt[0].forward_claims.a: \"grpc-status\" is a header the gateway or gRPC sets; pick another name\n" +
			"jwt[0].forward_claims.b: \"x y\" is not a header name\n" +
			"jwt[0].forward_claims.c: \"x-request-id\" is a header the gateway or gRPC sets; pick another name\n" +
			"jwt[0].forward_claims.d: \"Authorization\" is a header the gateway or gRPC sets; pick another name"},
		{"jwt bad selectors", func(c *Config) { o := ok; o.Routes = []filter.Selector{" ", "GET v1/x"}; c.JWT = []JWTConfig{o} },
			"jwt[0].routes[0]: empty selector (leave routes out to select every route)\n" +
				"jwt[0].routes[1]: \"GET v1/x\": an HTTP rule selector is \"METHOD /template\""},
		{"jwt skew", func(c *Config) { o := ok; o.ClockSkew = time.Hour; c.JWT = []JWTConfig{o} },
			"jwt[0].clock_skew: 1h0m0s is not between 0 and 5m"},
		{"canary unknown upstream", func(c *Config) { c.Canary = []CanaryConfig{{Upstream: "b", Percent: 5}} },
			`canary[0].upstream: unknown upstream "b" (known: "a")`},
		{"canary nothing", func(c *Config) { c.Canary = []CanaryConfig{{}} },
			"canary[0].upstream: missing: the name of the canary's upstream\ncanary[0]: sends nothing to the canary: give header, percent or keys"},
		{"canary bad specs", func(c *Config) {
			c.Canary = []CanaryConfig{{Upstream: "a", Header: "x canary: 1", Key: "cookie:x", Percent: 101}}
		}, "canary[0].header: \"x canary: 1\": header is \"name: value\" or \"name\"\n" +
			"canary[0].key: \"cookie:x\": key is \"header:NAME\", \"client_ip\" or \"claim:NAME\"\n" +
			"canary[0].percent: 101 is not between 0 and 100"},
		{"canary keys without key", func(c *Config) { c.Canary = []CanaryConfig{{Upstream: "a", Keys: []string{"acme"}}} },
			"canary[0].keys: keys need a key (header:NAME, client_ip or claim:NAME)"},
		{"canary claim without jwt", func(c *Config) { c.Canary = []CanaryConfig{{Upstream: "a", Key: "claim:org", Percent: 1}} },
			`canary[0].key: a claim key needs a jwt entry to verify the token`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid(t)
			tt.mod(&c)
			c.Defaults()
			if got := problems(t, c.Validate()); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestCheckSelectors: a selector that selects no route is refused, so a
// misspelt service does not leave routes unguarded.
func TestCheckSelectors(t *testing.T) {
	files := demo.Files()
	schema, err := transcode.NewSchema(files, transcode.Options{})
	if err != nil {
		t.Fatal(err)
	}
	router, err := transcode.NewRouter(files, schema, transcode.RouterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := Config{
		JWT: []JWTConfig{{Routes: []filter.Selector{"bookstore.v1.Bookstore", "bookstore.v1.Bookstor",
			"GET /v1/shelves/{shelf}", "GET /v1/shelves/{id}", "bookstore.v1.Bookstore/GetShelf"}}},
		Canary: []CanaryConfig{{Routes: []filter.Selector{"bookstore.v1.Bookstore/GetShelve"}}},
	}
	want := strings.Join([]string{
		`jwt[0].routes[1]: "bookstore.v1.Bookstor" selects no route (see strait routes)`,
		`jwt[0].routes[3]: "GET /v1/shelves/{id}" selects no route (see strait routes)`,
		`canary[0].routes[0]: "bookstore.v1.Bookstore/GetShelve" selects no route (see strait routes)`,
	}, "\n")
	if got := problems(t, c.checkSelectors(router)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
