package engine

import (
	"testing"
	"time"

	"github.com/straitgw/strait/internal/testjwt"
)

// TestJWTReload: a reload that leaves the jwt entries alone keeps the
// filter; one that changes them makes a new filter that shares the
// fetched keys (no fetch, no request refused meanwhile), and the keys'
// fetching goes on after the old filter is closed; removing the entries
// stops it. A JWKS file that changes is read again.
func TestJWTReload(t *testing.T) {
	k := newAuthKeys(t)
	up := startWho(t, "A")
	srv := startJWKSServer(t, testjwt.JWKS(t, k.es))
	e := jwtGateway(t, up.addr, k, func(j *JWTConfig) {
		j.JWKSFile, j.JWKSURL, j.JWKSRefresh, j.JWKSMinRefetch = "", srv.URL, time.Hour, 50*time.Millisecond
	})
	base, c := "http://"+e.Addr().String(), h1HTTPClient()
	bearer := func(aud string) []string {
		return []string{"Authorization", "Bearer " + k.es.Sign(t, testjwt.Claims(testIssuer, aud, time.Now()))}
	}
	if got := getREST(t, c, base, "/v1/shelves/1", bearer("books")...); got.status != 200 {
		t.Fatalf("before the reloads: got %v", got)
	}
	first := oldJWT(e.snap.Load())
	n := srv.fetches.Load()

	mustReload(t, e, func(c *Config) { c.Timeouts.Connect = 100 * time.Millisecond })
	if oldJWT(e.snap.Load()) != first {
		t.Errorf("unchanged jwt entries: the filter was rebuilt")
	}

	mustReload(t, e, func(c *Config) {
		j := c.JWT[0]
		j.Audiences = []string{"films"}
		c.JWT = []JWTConfig{j}
	})
	if oldJWT(e.snap.Load()) == first {
		t.Fatalf("changed jwt entries: the old filter kept")
	}
	if got := getREST(t, c, base, "/v1/shelves/1", bearer("films")...); got.status != 200 {
		t.Errorf("new audience right after the reload: got %v; want 200", got)
	}
	if got := getREST(t, c, base, "/v1/shelves/1", bearer("books")...); got.status != 401 {
		t.Errorf("old audience: got %v; want 401", got)
	}
	if got := srv.fetches.Load(); got != n {
		t.Errorf("fetches across the reloads: got %d; want %d (the keys kept)", got, n)
	}

	time.Sleep(1500 * time.Millisecond) // past the grace: the first filter is closed
	srv.set(testjwt.JWKS(t, k.es, k.rotated))
	tok := []string{"Authorization", "Bearer " + k.rotated.Sign(t, testjwt.Claims(testIssuer, "films", time.Now()))}
	if got := getREST(t, c, base, "/v1/shelves/1", tok...); got.status != 200 {
		t.Errorf("a new kid after the old filter closed: got %v; want 200 (the shared keys still fetch)", got)
	}

	mustReload(t, e, func(c *Config) { c.JWT = nil })
	if got := getREST(t, c, base, "/v1/shelves/1"); got.status != 200 {
		t.Errorf("jwt removed: got %v; want 200 without a token", got)
	}
}

// TestJWTRemovedStopsFetching: once no snapshot runs the filter, its key
// source fetches no more.
func TestJWTRemovedStopsFetching(t *testing.T) {
	k := newAuthKeys(t)
	srv := startJWKSServer(t, testjwt.JWKS(t, k.es))
	e := jwtGateway(t, startWho(t, "A").addr, k, func(j *JWTConfig) {
		j.JWKSFile, j.JWKSURL, j.JWKSRefresh = "", srv.URL, 50*time.Millisecond
	})
	waitUntil(t, "refreshes", func() bool { return srv.fetches.Load() >= 3 })
	mustReload(t, e, func(c *Config) { c.JWT, c.Timeouts.Connect = nil, 100*time.Millisecond })
	time.Sleep(1300 * time.Millisecond) // the grace: connect + 1s
	n := srv.fetches.Load()
	time.Sleep(300 * time.Millisecond)
	if got := srv.fetches.Load(); got != n {
		t.Errorf("fetches after the jwt entries went: %d, then %d; want none", n, got)
	}
}

// TestJWTReloadFile: a new JWKS file is read by a reload.
func TestJWTReloadFile(t *testing.T) {
	k := newAuthKeys(t)
	up := startWho(t, "A")
	e := jwtGateway(t, up.addr, k, nil)
	base, c := "http://"+e.Addr().String(), h1HTTPClient()
	tok := []string{"Authorization", "Bearer " + k.rotated.Sign(t, testjwt.Claims(testIssuer, "books", time.Now()))}
	if got := getREST(t, c, base, "/v1/shelves/1", tok...); got.status != 401 {
		t.Fatalf("before: got %v; want 401", got)
	}
	file := e.snap.Load().cfg.JWT[0].JWKSFile
	writeFile(t, "", file, testjwt.JWKS(t, k.es, k.rotated))
	mustReload(t, e, func(*Config) {})
	if got := getREST(t, c, base, "/v1/shelves/1", tok...); got.status != 200 {
		t.Fatalf("after: got %v; want 200", got)
	}
}
