package engine

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	jose "github.com/go-jose/go-jose/v4"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/internal/testjwt"
	"github.com/straitgw/strait/internal/testutil"
)

const testIssuer = "https://idp.test/"

// authKeys are the issuer's keys in the tests, and a stranger's.
type authKeys struct {
	rs, es, stranger, rotated testjwt.Key
}

func newAuthKeys(t *testing.T) authKeys {
	return authKeys{
		rs:       testjwt.New(t, "rsa-1", jose.RS256),
		es:       testjwt.New(t, "ec-1", jose.ES256),
		stranger: testjwt.New(t, "ec-1", jose.ES256), // the issuer's kid, another key
		rotated:  testjwt.New(t, "ec-2", jose.ES256),
	}
}

// tokens are the cases every protocol is tried with: a name, a token
// ("" for none) and the refusal's description ("" when it passes).
func (k authKeys) tokens(t *testing.T) []struct{ name, tok, refusal string } {
	now := time.Now()
	claims := func(edit func(map[string]any)) map[string]any {
		c := testjwt.Claims(testIssuer, "books", now)
		c["tenant"] = "acme"
		if edit != nil {
			edit(c)
		}
		return c
	}
	der, _ := x509.MarshalPKIXPublicKey(k.rs.Priv.Public())
	return []struct{ name, tok, refusal string }{
		{"RS256", k.rs.Sign(t, claims(nil)), ""},
		{"ES256", k.es.Sign(t, claims(nil)), ""},
		{"none", "", ""},
		{"expired", k.es.Sign(t, claims(func(c map[string]any) { c["exp"] = now.Add(-time.Hour).Unix() })), "the token expired"},
		{"wrong audience", k.es.Sign(t, claims(func(c map[string]any) { c["aud"] = "films" })), "the token is not for this audience"},
		{"wrong issuer", k.es.Sign(t, claims(func(c map[string]any) { c["iss"] = "https://evil.test/" })), "the token's issuer is not accepted here"},
		{"bad signature", k.stranger.Sign(t, claims(nil)), "invalid signature"},
		{"unknown kid", k.rotated.Sign(t, claims(nil)), "the token's signing key is unknown"},
		{"alg none", testjwt.Unsigned(claims(nil)), "the token's algorithm is not accepted"},
		{"HS256 with the public key", testjwt.HS256("rsa-1", der, claims(nil)), "the token's algorithm is not accepted"},
	}
}

// jwtGateway runs a gateway whose Bookstore service needs a token of
// testIssuer for audience books, with keys from a JWKS file.
func jwtGateway(t *testing.T, up string, k authKeys, mod func(*JWTConfig)) *Engine {
	file := writeFile(t, t.TempDir(), "jwks.json", testjwt.JWKS(t, k.rs, k.es))
	j := JWTConfig{Issuer: testIssuer, Audiences: []string{"books"}, JWKSFile: file,
		Routes: []filter.Selector{"bookstore.v1.Bookstore"}, ForwardClaims: map[string]string{"sub": "x-jwt-sub", "tenant": "x-tenant"}}
	if mod != nil {
		mod(&j)
	}
	return startGateway(t, up, func(c *Config) { c.JWT = []JWTConfig{j} })
}

// TestJWTREST: REST over HTTP/1.1 and h2 gets the exact 401 (challenge
// and JSON error) for each refused token, and a valid one reaches the
// upstream with its claims as metadata and a client's forged claim
// header gone.
func TestJWTREST(t *testing.T) {
	k := newAuthKeys(t)
	up := startWho(t, "A")
	e := jwtGateway(t, up.addr, k, nil)
	base := "http://" + e.Addr().String()
	for _, proto := range []struct {
		name string
		c    *http.Client
	}{{"h1", h1HTTPClient()}, {"h2", testutil.H2CClient()}} {
		for _, tc := range k.tokens(t) {
			t.Run(proto.name+"/"+tc.name, func(t *testing.T) {
				hdrs := []string{"X-Jwt-Sub", "forged", "Grpc-Metadata-X-Tenant", "forged"}
				if tc.tok != "" {
					hdrs = append(hdrs, "Authorization", "Bearer "+tc.tok)
				}
				got := getREST(t, proto.c, base, "/v1/shelves/1", hdrs...)
				want := restAnswer{status: 200, ctype: "application/json", body: `{"id":"1","theme":"A"}`, upstream: "A"}
				switch {
				case tc.tok == "":
					want = restAnswer{status: 401, challenge: "Bearer", ctype: "application/json",
						body: `{"code":16,"message":"jwtauth: no bearer token","details":[]}`}
				case tc.refusal != "":
					want = restAnswer{status: 401, challenge: `Bearer error="invalid_token", error_description="` + tc.refusal + `"`,
						ctype: "application/json", body: `{"code":16,"message":"jwtauth: ` + tc.refusal + `","details":[]}`}
				}
				if got != want {
					t.Fatalf("got  %v\nwant %v", got, want)
				}
				if want.status != 200 {
					return
				}
				md := up.last()
				if s, tn, a := md.Get("x-jwt-sub"), md.Get("x-tenant"), md.Get("authorization"); strings.Join(s, ",") != "user-1" ||
					strings.Join(tn, ",") != "acme" || strings.Join(a, ",") != "Bearer "+tc.tok {
					t.Errorf("upstream metadata: x-jwt-sub %q x-tenant %q authorization %q; want [user-1] [acme] and the token", s, tn, a)
				}
			})
		}
	}
}

// TestJWTGRPC: grpc-go gets UNAUTHENTICATED with the description, and
// the challenge in its trailers; a valid token reaches the upstream.
func TestJWTGRPC(t *testing.T) {
	k := newAuthKeys(t)
	up := startWho(t, "A")
	e := jwtGateway(t, up.addr, k, func(j *JWTConfig) { j.DropToken = true })
	cc := grpcDial(t, e.Addr().String())
	for _, tc := range k.tokens(t) {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if tc.tok != "" {
				ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tc.tok)
			}
			var hdr, tr metadata.MD
			_, err := testutil.RawCall(ctx, cc, "/bookstore.v1.Bookstore/GetShelf", []byte{0x08, 0x01}, grpc.Header(&hdr), grpc.Trailer(&tr))
			st := status.Convert(err)
			switch {
			case tc.tok == "":
				if st.Code() != codes.Unauthenticated || st.Message() != "jwtauth: no bearer token" {
					t.Fatalf("got %v; want UNAUTHENTICATED jwtauth: no bearer token", st)
				}
			case tc.refusal != "":
				if st.Code() != codes.Unauthenticated || st.Message() != "jwtauth: "+tc.refusal {
					t.Fatalf("got %v; want UNAUTHENTICATED jwtauth: %s", st, tc.refusal)
				}
				want := `Bearer error="invalid_token", error_description="` + tc.refusal + `"`
				if got := append(hdr.Get("www-authenticate"), tr.Get("www-authenticate")...); len(got) != 1 || got[0] != want {
					t.Errorf("www-authenticate %q; want [%s]", got, want)
				}
			default:
				if err != nil || hdr.Get("x-upstream")[0] != "A" {
					t.Fatalf("got %v, header %v; want OK from A", err, hdr)
				}
				md := up.last()
				if len(md.Get("authorization")) != 0 || strings.Join(md.Get("x-jwt-sub"), ",") != "user-1" {
					t.Errorf("upstream metadata %v: want the token dropped and x-jwt-sub user-1", md)
				}
			}
		})
	}
}

// TestJWTGRPCWeb: connect-go's gRPC-Web client, over HTTP/1.1 and h2.
func TestJWTGRPCWeb(t *testing.T) {
	k := newAuthKeys(t)
	up := startWho(t, "A")
	e := jwtGateway(t, up.addr, k, nil)
	url := "http://" + e.Addr().String() + "/bookstore.v1.Bookstore/GetShelf"
	for _, hc := range []struct {
		name string
		c    *http.Client
	}{{"h1", h1HTTPClient()}, {"h2", testutil.H2CClient()}} {
		client := connect.NewClient[wrapperspb.StringValue, wrapperspb.StringValue](hc.c, url, connect.WithGRPCWeb())
		for _, tc := range k.tokens(t) {
			t.Run(hc.name+"/"+tc.name, func(t *testing.T) {
				req := connect.NewRequest(&wrapperspb.StringValue{})
				if tc.tok != "" {
					req.Header().Set("Authorization", "Bearer "+tc.tok)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				resp, err := client.CallUnary(ctx, req)
				want := "jwtauth: " + tc.refusal
				if tc.tok == "" {
					want = "jwtauth: no bearer token"
				}
				switch {
				case tc.tok != "" && tc.refusal == "":
					if err != nil || resp.Header().Get("X-Upstream") != "A" {
						t.Fatalf("got %v; want OK from A", err)
					}
				case connect.CodeOf(err) != connect.CodeUnauthenticated || err.(*connect.Error).Message() != want:
					t.Fatalf("got %v; want unauthenticated: %s", err, want)
				}
			})
		}
	}
}

// TestJWTRoutes: a selector of one HTTP rule guards that REST route
// only; other routes, and gRPC calls of the same method (the default
// route), pass without a token.
func TestJWTRoutes(t *testing.T) {
	k := newAuthKeys(t)
	up := startWho(t, "A")
	e := jwtGateway(t, up.addr, k, func(j *JWTConfig) { j.Routes = []filter.Selector{"GET /v1/shelves/{shelf}"} })
	base, c := "http://"+e.Addr().String(), h1HTTPClient()
	if got := getREST(t, c, base, "/v1/shelves/1"); got.status != 401 {
		t.Errorf("guarded route: got %v; want 401", got)
	}
	if got := getREST(t, c, base, "/v1/shelves"); got.status != 200 {
		t.Errorf("other route: got %v; want 200", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := testutil.RawCall(ctx, grpcDial(t, e.Addr().String()), "/bookstore.v1.Bookstore/GetShelf", []byte{0x08, 0x01}); err != nil {
		t.Errorf("gRPC call of the guarded REST rule's method: got %v; want OK", err)
	}
}

// TestJWTKeysFromURL: keys fetched from a JWKS URL on loopback. A token
// whose kid is unknown makes the gateway fetch again (after
// jwks_min_refetch) and is refused while the URL lacks the key; once the
// issuer publishes it, the same token passes, long before jwks_refresh.
func TestJWTKeysFromURL(t *testing.T) {
	k := newAuthKeys(t)
	up := startWho(t, "A")
	srv := startJWKSServer(t, testjwt.JWKS(t, k.rs, k.es))
	e := jwtGateway(t, up.addr, k, func(j *JWTConfig) {
		j.JWKSFile, j.JWKSURL, j.JWKSRefresh, j.JWKSMinRefetch = "", srv.URL+"/jwks.json", time.Hour, 100*time.Millisecond
	})
	base, c := "http://"+e.Addr().String(), h1HTTPClient()
	auth := func(k testjwt.Key) []string {
		return []string{"Authorization", "Bearer " + k.Sign(t, testjwt.Claims(testIssuer, "books", time.Now()))}
	}
	if got := getREST(t, c, base, "/v1/shelves/1", auth(k.es)...); got.status != 200 {
		t.Fatalf("ES256 key from the URL: got %v", got)
	}
	time.Sleep(150 * time.Millisecond)
	n := srv.fetches.Load()
	rotated := auth(k.rotated)
	if got := getREST(t, c, base, "/v1/shelves/1", rotated...); got.status != 401 || !strings.Contains(got.challenge, "signing key is unknown") {
		t.Fatalf("unpublished key: got %v; want 401 unknown key", got)
	}
	if got := srv.fetches.Load(); got != n+1 {
		t.Errorf("fetches: got %d; want %d (one for the unknown kid)", got, n+1)
	}
	srv.set(testjwt.JWKS(t, k.es, k.rotated))
	time.Sleep(150 * time.Millisecond)
	if got := getREST(t, c, base, "/v1/shelves/1", rotated...); got.status != 200 {
		t.Fatalf("after the rotation: got %v; want 200", got)
	}
	if got := getREST(t, c, base, "/v1/shelves/1", auth(k.rs)...); got.status != 401 {
		t.Errorf("a key the issuer withdrew: got %v; want 401", got)
	}
}

// TestJWTFirstFetch: requests that arrive before the first JWKS answer
// wait for it instead of failing, over REST and gRPC, and reach the
// upstream with their claims.
func TestJWTFirstFetch(t *testing.T) {
	k := newAuthKeys(t)
	up := startWho(t, "A")
	release := make(chan struct{})
	slow := httptestServer(t, func(w http.ResponseWriter, _ *http.Request) {
		<-release
		_, _ = w.Write(testjwt.JWKS(t, k.es))
	})
	e := jwtGateway(t, up.addr, k, func(j *JWTConfig) { j.JWKSFile, j.JWKSURL = "", slow.URL })
	time.AfterFunc(300*time.Millisecond, func() { close(release) })
	tok := "Bearer " + k.es.Sign(t, testjwt.Claims(testIssuer, "books", time.Now()))
	start := time.Now()
	grpcDone := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var hdr metadata.MD
		_, err := testutil.RawCall(metadata.AppendToOutgoingContext(ctx, "authorization", tok), grpcDial(t, e.Addr().String()),
			"/bookstore.v1.Bookstore/GetShelf", []byte{0x08, 0x01}, grpc.Header(&hdr))
		if err == nil && hdr.Get("x-upstream")[0] != "A" {
			err = fmt.Errorf("answered by %v", hdr)
		}
		grpcDone <- err
	}()
	got := getREST(t, h1HTTPClient(), "http://"+e.Addr().String(), "/v1/shelves/1", "Authorization", tok)
	if got.status != 200 || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("REST: got %v after %v; want 200 once the keys came", got, time.Since(start))
	}
	if err := <-grpcDone; err != nil {
		t.Fatalf("gRPC: %v", err)
	}
	if n := up.calls.Load(); n != 2 {
		t.Fatalf("upstream calls: %d; want 2", n)
	}
	if md := up.last(); strings.Join(md.Get("x-jwt-sub"), ",") != "user-1" {
		t.Errorf("upstream metadata %v: want x-jwt-sub user-1", md)
	}
}
