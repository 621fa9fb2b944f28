package jwtauth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/straitgw/strait/filter"
)

// jwksServer serves a JWKS the test changes, counting fetches; gate,
// when set, holds each answer until it is closed.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	doc     []byte
	status  int
	gate    chan struct{}
	fetches atomic.Int32
}

func startJWKS(t *testing.T, doc []byte) *jwksServer {
	s := &jwksServer{doc: doc, status: 200}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		doc, status, gate := s.doc, s.status, s.gate
		s.mu.Unlock()
		if gate != nil {
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		w.WriteHeader(status)
		_, _ = w.Write(doc)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(doc []byte, status int, gate chan struct{}) {
	s.mu.Lock()
	s.doc, s.status, s.gate = doc, status, gate
	s.mu.Unlock()
}

func fetchFilter(t *testing.T, url string, o FetchOptions) (*Filter, *Keys) {
	t.Helper()
	k := FetchKeys(url, url, o)
	f, err := New([]Rule{{Issuer: iss, Keys: k}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f, k
}

// waitFor polls cond for up to 5s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// A request that comes before the first key set is suspended and
// resumed when the fetch ends.
func TestFirstFetchResumes(t *testing.T) {
	es := newSigner(t, "ec-1", jose.ES256)
	gate := make(chan struct{})
	srv := startJWKS(t, jwks(t, es))
	srv.set(jwks(t, es), 200, gate)
	f, _ := fetchFilter(t, srv.URL, FetchOptions{})
	ch := make(chan filter.Result, 1)
	r := bearer(es.Sign(t, claimsAt(iss, "x", time.Now())))
	if res := f.OnRequest(r, func(res filter.Result) { ch <- res }); res.Verdict != filter.VerdictSuspend {
		t.Fatalf("before the keys: got %s; want suspend", describe(res))
	}
	close(gate)
	select {
	case res := <-ch:
		if got := describe(res); got != "continue" {
			t.Fatalf("resumed with %s; want continue", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("never resumed")
	}
	if len(r.meta) != 2 {
		t.Errorf("metadata %v; want the claims set before resume", r.meta)
	}
}

// A fetch that never answers resumes waiting requests with UNAVAILABLE
// after the filter's wait.
func TestFirstFetchTimesOut(t *testing.T) {
	es := newSigner(t, "ec-1", jose.ES256)
	srv := startJWKS(t, nil)
	srv.set(nil, 200, make(chan struct{}))
	f, _ := fetchFilter(t, srv.URL, FetchOptions{Timeout: time.Minute})
	f.wait = 50 * time.Millisecond
	got := describe(run(t, f, bearer(es.Sign(t, claimsAt(iss, "x", time.Now())))))
	if want := "UNAVAILABLE: jwtauth: the issuer's signing keys are not loaded yet | retry-after: 1"; got != want {
		t.Errorf("got %s; want %s", got, want)
	}
}

// A kid the set does not have asks for a fetch (at most once per
// MinRefetch); a rotated key then verifies without waiting for Refresh.
func TestUnknownKidRefetch(t *testing.T) {
	old, rotated := newSigner(t, "k1", jose.ES256), newSigner(t, "k2", jose.ES256)
	srv := startJWKS(t, jwks(t, old))
	f, k := fetchFilter(t, srv.URL, FetchOptions{Refresh: time.Hour, MinRefetch: 200 * time.Millisecond})
	waitFor(t, "the first set", k.Loaded)
	now := time.Now()
	if got := describe(run(t, f, bearer(old.Sign(t, claimsAt(iss, "x", now))))); got != "continue" {
		t.Fatalf("old key: got %s", got)
	}
	tok := rotated.Sign(t, claimsAt(iss, "x", now))
	time.Sleep(200 * time.Millisecond)
	// Not at the URL yet: the refetch finds nothing, 401.
	if got := describe(run(t, f, bearer(tok))); !strings.Contains(got, "signing key is unknown") {
		t.Fatalf("before the rotation: got %s; want unknown key", got)
	}
	n := srv.fetches.Load()
	if n != 2 {
		t.Errorf("fetches: got %d; want 2 (start, unknown kid)", n)
	}
	// Within MinRefetch another unknown kid fetches nothing.
	run(t, f, bearer(tok))
	if got := srv.fetches.Load(); got != n {
		t.Errorf("fetches within MinRefetch: got %d; want %d", got, n)
	}
	srv.set(jwks(t, old, rotated), 200, nil)
	time.Sleep(200 * time.Millisecond)
	if got := describe(run(t, f, bearer(tok))); got != "continue" {
		t.Fatalf("after the rotation: got %s; want continue", got)
	}
}

// A failed refresh keeps the last good set; Release stops fetching.
func TestRefreshKeepsLastGoodSet(t *testing.T) {
	es := newSigner(t, "ec-1", jose.ES256)
	srv := startJWKS(t, jwks(t, es))
	k := FetchKeys("k", srv.URL, FetchOptions{Refresh: 20 * time.Millisecond})
	waitFor(t, "the first set", k.Loaded)
	gen := k.set.Load().gen
	waitFor(t, "a refresh", func() bool { return srv.fetches.Load() >= 3 })
	if got := k.set.Load().gen; got != gen {
		t.Errorf("an unchanged set got a new generation (%d, was %d): cached tokens would be verified again", got, gen)
	}
	for _, bad := range []struct {
		doc    string
		status int
	}{{`{"keys":[]}`, 200}, {"oops", 500}, {strings.Repeat(" ", MaxJWKSBytes+1), 200}} {
		srv.set([]byte(bad.doc), bad.status, nil)
		n := srv.fetches.Load()
		waitFor(t, "a failed refresh", func() bool { return srv.fetches.Load() > n+1 })
		if ks := k.set.Load(); ks == nil || ks.gen != gen {
			t.Fatalf("after %d %.20q: the last good set was dropped", bad.status, bad.doc)
		}
	}
	k.Release()
	time.Sleep(50 * time.Millisecond)
	n := srv.fetches.Load()
	time.Sleep(1500 * time.Millisecond) // past the backoff
	if got := srv.fetches.Load(); got != n {
		t.Errorf("fetches after Release: got %d; want %d", got, n)
	}
}

// A filter reusing another's keys keeps them fetching after the first
// one closes (a reload).
func TestKeysSharedAcrossFilters(t *testing.T) {
	es := newSigner(t, "ec-1", jose.ES256)
	srv := startJWKS(t, jwks(t, es))
	k := FetchKeys("k", srv.URL, FetchOptions{Refresh: 20 * time.Millisecond})
	a, _ := New([]Rule{{Issuer: iss, Keys: k}, {Issuer: "other", Keys: k}})
	k.Retain()
	b, _ := New([]Rule{{Issuer: iss, Keys: k}})
	_ = a.Close()
	n := srv.fetches.Load()
	waitFor(t, "refreshes after the old filter closed", func() bool { return srv.fetches.Load() > n+1 })
	_ = b.Close()
	time.Sleep(50 * time.Millisecond)
	n = srv.fetches.Load()
	time.Sleep(100 * time.Millisecond)
	if got := srv.fetches.Load(); got != n {
		t.Errorf("fetches after the last filter closed: got %d; want %d", got, n)
	}
}
