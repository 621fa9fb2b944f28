package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/straitgw/strait/internal/testjwt"
	"github.com/straitgw/strait/internal/testutil"
)

// whoUpstream answers GetShelf with a shelf whose theme is name and the
// header x-upstream: name, and hands each call's metadata to calls.
func whoUpstream(t *testing.T, name string, calls chan<- metadata.MD) string {
	shelf := append([]byte{0x08, 0x01, 0x12, byte(len(name))}, name...)
	return testutil.StartRawUpstream(t, func(c *testutil.Call) ([]byte, error) {
		select {
		case calls <- c.MD:
		default:
		}
		_ = grpc.SetHeader(c.Stream.Context(), metadata.Pairs("x-upstream", name))
		return shelf, nil
	})
}

// authConfig is a configuration with two issuers (a JWKS file, relative
// to the file, and a JWKS URL) and a canary for the header and a claim.
const authConfig = `listen: %s
admin: %s
descriptors: [%s]
upstreams:
  - {name: books, endpoints: [%s]}
  - {name: books-canary, endpoints: [%s]}
jwt:
  - issuer: https://a.test/
    audiences: [books]
    jwks_file: keys/a.json
    routes: [bookstore.v1.Bookstore]
    forward_claims: {sub: x-jwt-sub, tenant: x-tenant}
  - issuer: https://b.test/
    jwks_url: %s
    routes: [bookstore.v1.Bookstore]
canary:
  - routes: [bookstore.v1.Bookstore/GetShelf]
    upstream: books-canary
    header: "x-canary: 1"
    key: claim:tenant
    keys: [acme]
`

// TestAuthAndCanary runs the binary with jwt and canary configured:
// exact 401s, both issuers, claims upstream, the canary by header and by
// claim, UNAUTHENTICATED for grpc-go, a rotated JWKS file picked up by
// the file watcher, a canary changed by SIGHUP, and strait check's
// verdicts.
func TestAuthAndCanary(t *testing.T) {
	a, b := testjwt.New(t, "a1", jose.ES256), testjwt.New(t, "b1", jose.RS256)
	rotated := testjwt.New(t, "a2", jose.EdDSA)
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(testjwt.JWKS(t, b))
	}))
	defer idp.Close()
	calls := make(chan metadata.MD, 1)
	books, canary := whoUpstream(t, "A", calls), whoUpstream(t, "B", nil)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "keys", "a.json"), string(testjwt.JWKS(t, a)))
	listen, admin := testutil.FreeAddr(t), testutil.FreeAddr(t)
	conf := filepath.Join(dir, "strait.yaml")
	cfg := fmt.Sprintf(authConfig, listen, admin, descriptorFile(t), books, canary, idp.URL)
	writeFile(t, conf, cfg)
	if out, err := exec.Command(straitBin(t), "check", "--config", conf).CombinedOutput(); err != nil {
		t.Fatalf("strait check: %v\n%s", err, out)
	}
	cmd := runStrait(t, listen, "serve", "--config", conf)
	base := "http://" + listen

	tokA := func(k testjwt.Key, tenant string) string {
		c := testjwt.Claims("https://a.test/", "books", time.Now())
		c["tenant"] = tenant
		return "Bearer " + k.Sign(t, c)
	}
	code, hdr, body := get(t, base+"/v1/shelves/1")
	if code != 401 || hdr.Get("Www-Authenticate") != "Bearer" || body != `{"code":16,"message":"jwtauth: no bearer token","details":[]}` {
		t.Errorf("no token: got %d %q %s", code, hdr.Get("Www-Authenticate"), body)
	}
	code, hdr, _ = get(t, base+"/v1/shelves/1", "Authorization", tokA(a, "globex"), "X-Jwt-Sub", "forged")
	md := <-calls
	if code != 200 || hdr.Get("X-Upstream") != "A" || strings.Join(md.Get("x-jwt-sub"), ",") != "user-1" || strings.Join(md.Get("x-tenant"), ",") != "globex" {
		t.Errorf("issuer a: got %d from %q, upstream metadata %v", code, hdr.Get("X-Upstream"), md)
	}
	tokB := "Bearer " + b.Sign(t, testjwt.Claims("https://b.test/", "any", time.Now()))
	if code, hdr, _ = get(t, base+"/v1/shelves/1", "Authorization", tokB); code != 200 || hdr.Get("X-Upstream") != "A" {
		t.Errorf("issuer b: got %d from %q", code, hdr.Get("X-Upstream"))
	}
	for _, tc := range []struct{ what, auth, canaryHdr, want string }{
		{"x-canary: 1", tokB, "1", "B"},
		{"claim tenant acme", tokA(a, "acme"), "", "B"},
		{"claim tenant globex", tokA(a, "globex"), "", "A"},
	} {
		if _, hdr, _ := get(t, base+"/v1/shelves/1", "Authorization", tc.auth, "X-Canary", tc.canaryHdr); hdr.Get("X-Upstream") != tc.want {
			t.Errorf("%s: answered by %q; want %s", tc.what, hdr.Get("X-Upstream"), tc.want)
		}
	}

	cc, err := grpc.NewClient(listen, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	expired := testjwt.Claims("https://a.test/", "books", time.Now().Add(-2*time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = testutil.RawCall(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+a.Sign(t, expired)),
		cc, "/bookstore.v1.Bookstore/GetShelf", []byte{0x08, 0x01})
	if st := status.Convert(err); st.Code() != codes.Unauthenticated || st.Message() != "jwtauth: the token expired" {
		t.Errorf("grpc-go, expired: got %v", st)
	}

	// The issuer rotates its key: the watched file changes, strait reloads.
	writeFile(t, filepath.Join(dir, "keys", "a.json"), string(testjwt.JWKS(t, a, rotated)))
	waitFor(t, "the rotated key to verify", func() bool {
		st, _, _ := get(t, base+"/v1/shelves/1", "Authorization", tokA(rotated, "globex"))
		return st == 200
	})

	// SIGHUP: every tenant goes to the canary; a token without the
	// tenant claim has no key and stays.
	writeFile(t, conf, strings.Replace(cfg, `header: "x-canary: 1"`, "percent: 100", 1))
	_ = cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the canary at 100%", func() bool {
		_, hdr, _ := get(t, base+"/v1/shelves/1", "Authorization", tokA(a, "globex"))
		return hdr.Get("X-Upstream") == "B"
	})
	if _, hdr, _ := get(t, base+"/v1/shelves/1", "Authorization", tokB); hdr.Get("X-Upstream") != "A" {
		t.Errorf("no tenant claim at 100%%: answered by %q; want A", hdr.Get("X-Upstream"))
	}

	writeFile(t, conf, strings.Replace(cfg, "upstream: books-canary", "upstream: books-v2", 1))
	out, err := exec.Command(straitBin(t), "check", "--config", conf).CombinedOutput()
	want := conf + `:18:15: canary[0].upstream: unknown upstream "books-v2" (known: "books", "books-canary")`
	if err == nil || !strings.Contains(string(out), want) {
		t.Errorf("strait check, unknown canary upstream: got %v\n%s\nwant a line %s", err, out, want)
	}
}

// get sends GET url with header pairs and returns status, headers, body.
func get(t *testing.T, url string, headers ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] != "" {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}
