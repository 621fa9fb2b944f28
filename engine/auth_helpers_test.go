package engine

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/straitgw/strait/internal/demo"
	"github.com/straitgw/strait/internal/testutil"
)

// who is a raw upstream that says who answered: GetShelf's shelf has its
// name as theme, and every answer carries x-upstream: name. It keeps the
// metadata of every call.
type who struct {
	name  string
	addr  string
	calls atomic.Int64
	mu    sync.Mutex
	mds   []metadata.MD
}

func startWho(t *testing.T, name string) *who {
	w := &who{name: name}
	shelf := append([]byte{0x08, 0x01, 0x12, byte(len(name))}, name...)
	w.addr = testutil.StartRawUpstream(t, func(c *testutil.Call) ([]byte, error) {
		w.calls.Add(1)
		w.mu.Lock()
		w.mds = append(w.mds, c.MD)
		w.mu.Unlock()
		_ = grpc.SetHeader(c.Stream.Context(), metadata.Pairs("x-upstream", name))
		return shelf, nil
	})
	return w
}

// last is the metadata of the latest call.
func (w *who) last() metadata.MD {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.mds) == 0 {
		return nil
	}
	return w.mds[len(w.mds)-1]
}

// jwksServer serves a JWKS on loopback that a test replaces, counting
// fetches.
type jwksServer struct {
	*httptest.Server
	doc     atomic.Pointer[[]byte]
	fetches atomic.Int64
}

func startJWKSServer(t *testing.T, doc []byte) *jwksServer {
	s := &jwksServer{}
	s.doc.Store(&doc)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.fetches.Add(1)
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(*s.doc.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(doc []byte) { s.doc.Store(&doc) }

// writeFile writes data to name in dir and returns its path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// restAnswer is one REST response as a test compares it.
type restAnswer struct {
	status    int
	challenge string // WWW-Authenticate
	ctype     string
	body      string
	upstream  string // x-upstream
}

func (a restAnswer) String() string {
	return fmt.Sprintf("%d www-authenticate=%q content-type=%q x-upstream=%q body=%s", a.status, a.challenge, a.ctype, a.upstream, a.body)
}

// getREST sends GET path with headers (name, value pairs) through c.
func getREST(t *testing.T, c *http.Client, base, path string, headers ...string) restAnswer {
	t.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return restAnswer{status: resp.StatusCode, challenge: strings.Join(resp.Header.Values("Www-Authenticate"), ", "),
		ctype: resp.Header.Get("Content-Type"), body: string(b), upstream: resp.Header.Get("X-Upstream")}
}

// h1Client is net/http's HTTP/1.1 client, keeping connections.
func h1HTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, ForceAttemptHTTP2: false}}
}

// httptestServer runs h on loopback.
func httptestServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

// mustReload reloads e with its configuration as mod changes it.
func mustReload(t *testing.T, e *Engine, mod func(*Config)) {
	t.Helper()
	cfg := e.snap.Load().cfg
	mod(&cfg)
	if err := e.Reload(cfg, demo.Files()); err != nil {
		t.Fatalf("reload: %v", err)
	}
}
