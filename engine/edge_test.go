package engine

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/straitgw/strait/internal/testutil"
)

// recorder is a raw upstream that keeps the metadata of the last call and
// answers with a shelf and response metadata x-ok and x-secret, echoing
// x-request-id and adding an Access-Control-Allow-Origin of its own (as
// some backends do; the gateway's copies must be the only ones).
type recorder struct {
	mu sync.Mutex
	md metadata.MD
}

func (r *recorder) start(t *testing.T) string {
	return testutil.StartRawUpstream(t, func(c *testutil.Call) ([]byte, error) {
		r.mu.Lock()
		r.md = c.MD
		r.mu.Unlock()
		md := metadata.Pairs("x-ok", "1", "x-secret", "2", "access-control-allow-origin", "https://backend.example")
		md["x-request-id"] = c.MD.Get("x-request-id")
		_ = grpc.SetHeader(c.Stream.Context(), md)
		return []byte{0x08, 0x01, 0x12, 0x01, 'x'}, nil
	})
}

func (r *recorder) last() metadata.MD {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.md
}

// TestHeaderPolicy sends a raw request with hop-by-hop headers, a cookie,
// grpc-gateway's metadata prefix and forwarding headers: what reaches the
// upstream and what comes back follow the policy.
func TestHeaderPolicy(t *testing.T) {
	var rec recorder
	e := startGateway(t, rec.start(t), func(c *Config) {
		c.Headers.ResponseDeny = []string{"x-secret"}
		c.Headers.ResponsePrefix = "Grpc-Metadata-"
	})
	c := dialH1(t, e.Addr().String())
	c.write("GET /v1/shelves/1 HTTP/1.1\r\nHost: api.test\r\nConnection: keep-alive, X-Drop-Me\r\n" +
		"X-Drop-Me: 1\r\nKeep-Alive: timeout=5\r\nProxy-Authorization: Basic eA==\r\nUpgrade: h2c\r\n" +
		"TE: trailers\r\nCookie: session=1\r\nGrpc-Metadata-Tenant: acme\r\nX-Forwarded-For: 203.0.113.7\r\n" +
		"X-Custom: v\r\n\r\n")
	st, hdr, body := c.read()
	if st != 200 {
		t.Fatalf("got %d %s", st, body)
	}
	md := rec.last()
	want := map[string]string{"tenant": "acme", "x-custom": "v", "x-forwarded-for": "203.0.113.7, 127.0.0.1",
		"x-forwarded-proto": "http", "x-forwarded-host": "api.test"}
	for k, v := range want {
		if got := md.Get(k); len(got) != 1 || got[0] != v {
			t.Errorf("upstream %s: got %q; want %q", k, got, v)
		}
	}
	for _, k := range []string{"connection", "x-drop-me", "keep-alive", "proxy-authorization", "upgrade", "cookie", "grpc-metadata-tenant"} {
		if got := md.Get(k); len(got) > 0 {
			t.Errorf("upstream got %s: %q; want it dropped", k, got)
		}
	}
	id := md.Get("x-request-id")
	if len(id) != 1 || !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id[0]) || len(hdr.Values("X-Request-Id")) != 1 || hdr.Get("X-Request-Id") != id[0] {
		t.Errorf("request id: upstream %q, response %q; want one generated id, returned once", id, hdr.Values("X-Request-Id"))
	}
	if hdr.Get("Grpc-Metadata-X-Ok") != "1" || hdr.Get("Grpc-Metadata-X-Secret") != "" || hdr.Get("X-Secret") != "" {
		t.Errorf("response metadata: got %v; want x-ok under the prefix and x-secret denied", hdr)
	}
	c.write("GET /v1/shelves/1 HTTP/1.1\r\nHost: api.test\r\nX-Request-Id: client-42\r\n\r\n")
	if _, hdr, _ := c.read(); len(hdr.Values("X-Request-Id")) != 1 || hdr.Get("X-Request-Id") != "client-42" || rec.last().Get("x-request-id")[0] != "client-42" {
		t.Errorf("a client's request id: got %q upstream and %q back; want client-42 both", rec.last().Get("x-request-id"), hdr.Values("X-Request-Id"))
	}
}

// TestHEADAndOPTIONS: HEAD is served by GET routes (same headers, no
// body); OPTIONS answers with Allow; a path with no route is 404.
func TestHEADAndOPTIONS(t *testing.T) {
	e := startGateway(t, startDemoUpstream(t), nil)
	addr := e.Addr().String()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	do := func(method, path string) *http.Response {
		t.Helper()
		_, _ = io.WriteString(c, method+" "+path+" HTTP/1.1\r\nHost: t\r\n\r\n")
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.ContentLength = int64(len(b))
		return resp
	}
	get := do("GET", "/v1/shelves/1")
	head := do("HEAD", "/v1/shelves/1")
	if head.StatusCode != 200 || head.Header.Get("Content-Length") != get.Header.Get("Content-Length") || head.ContentLength != 0 {
		t.Errorf("HEAD: got %d, Content-Length %q, %d body bytes; want 200, %q, none",
			head.StatusCode, head.Header.Get("Content-Length"), head.ContentLength, get.Header.Get("Content-Length"))
	}
	opt := do("OPTIONS", "/v1/shelves/1")
	if allow := opt.Header.Get("Allow"); opt.StatusCode != 204 || !hasToken(allow, "GET") || !hasToken(allow, "HEAD") ||
		!hasToken(allow, "DELETE") || !hasToken(allow, "OPTIONS") || hasToken(allow, "POST") {
		t.Errorf("OPTIONS: got %d Allow %q; want 204 and GET, HEAD, DELETE, OPTIONS", opt.StatusCode, allow)
	}
	if nope := do("OPTIONS", "/nope"); nope.StatusCode != 404 {
		t.Errorf("OPTIONS on no route: got %d; want 404", nope.StatusCode)
	}
	req, _ := http.NewRequest("HEAD", "http://"+addr+"/v1/shelves/1", nil)
	resp, err := testutil.H2CClient().Do(req)
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Length") != get.Header.Get("Content-Length") {
		t.Errorf("h2 HEAD: got %v %v; want 200 with GET's Content-Length", resp, err)
	}
}

// TestCORS: preflights are answered at the gateway for allowed origins;
// responses to them carry the CORS headers, gRPC-Web's status headers
// exposed; other origins get none.
func TestCORS(t *testing.T) {
	var rec recorder
	e := startGateway(t, rec.start(t), func(c *Config) {
		c.CORS.AllowOrigins = []string{"https://app.example.com", "https://*.trusted.dev"}
	})
	base := "http://" + e.Addr().String()
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", base+"/v1/shelves", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type, x-tenant")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, o := range []string{"https://app.example.com", "https://a.b.trusted.dev"} {
		r := preflight(o)
		if r.StatusCode != 204 || r.Header.Get("Access-Control-Allow-Origin") != o ||
			!hasToken(r.Header.Get("Access-Control-Allow-Methods"), "POST") ||
			r.Header.Get("Access-Control-Allow-Headers") != "content-type, x-tenant" || r.Header.Get("Access-Control-Max-Age") != "600" {
			t.Errorf("preflight from %s: got %d %v", o, r.StatusCode, r.Header)
		}
	}
	for _, o := range []string{"https://evil.example", "http://app.example.com", "https://trusted.dev"} {
		if r := preflight(o); r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight from %s: got Access-Control-Allow-Origin %q; want none", o, r.Header.Get("Access-Control-Allow-Origin"))
		}
	}
	req, _ := http.NewRequest("GET", base+"/v1/shelves/1", nil)
	req.Header.Set("Origin", "https://app.example.com")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	expose := resp.Header.Get("Access-Control-Expose-Headers")
	if acao := resp.Header.Values("Access-Control-Allow-Origin"); len(acao) != 1 || acao[0] != "https://app.example.com" || !hasToken(expose, "grpc-status") ||
		!hasToken(expose, "grpc-status-details-bin") || !hasToken(expose, "x-request-id") || resp.Header.Get("Vary") != "Origin" {
		t.Errorf("actual request: got %v", resp.Header)
	}
}

// TestH2BodyTooLarge: a 413 sent before the request body ends is followed
// by RST_STREAM NO_ERROR (RFC 9113 §8.1), so the client keeps the 413.
func TestH2BodyTooLarge(t *testing.T) {
	e := startGateway(t, startDemoUpstream(t), func(c *Config) { c.Limits.MaxBodyBytes = 1 << 10 })
	c, err := net.Dial("tcp", e.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(c, http2.ClientPreface)
	fr := http2.NewFramer(c, c)
	_ = fr.WriteSettings()
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":path", "/v1/shelves"}, {":authority", "t"}, {"content-type", "application/json"}} {
		_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndHeaders: true})
	_ = fr.WriteData(1, false, make([]byte, 2<<10)) // over the limit, and more to come
	var status string
	var body []byte
	dec := hpack.NewDecoder(4096, func(f hpack.HeaderField) {
		if f.Name == ":status" {
			status = f.Value
		}
	})
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("reading: %v (status %q, body %q)", err, status, body)
		}
		switch f := f.(type) {
		case *http2.HeadersFrame:
			_, _ = dec.Write(f.HeaderBlockFragment())
		case *http2.DataFrame:
			body = append(body, f.Data()...)
		case *http2.RSTStreamFrame:
			if status != "413" || !strings.Contains(string(body), `"code":3`) || f.ErrCode != http2.ErrCodeNo {
				t.Fatalf("got %s %q then RST_STREAM %v; want 413 with its JSON, then NO_ERROR", status, body, f.ErrCode)
			}
			return
		}
	}
}
