package hertzgw

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/app/server"

	"github.com/straitgw/strait/engine"
	"github.com/straitgw/strait/internal/demo"
	"github.com/straitgw/strait/internal/testutil"
)

// TestMiddleware runs a real Hertz server with the middleware in front of
// the demo's grpc-go service: routed requests are transcoded, others reach
// Hertz's own handlers.
func TestMiddleware(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	up := demo.NewServer()
	go func() { _ = up.Serve(ln) }()
	defer up.Stop()

	e, err := engine.New(engine.Config{
		Listen:         "127.0.0.1:0",
		Upstreams:      []engine.UpstreamConfig{{Name: "bookstore", Endpoints: []string{ln.Addr().String()}}},
		DescriptorSets: [][]byte{demo.Descriptors()},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()

	addr := testutil.FreeAddr(t)
	h := server.New(server.WithHostPorts(addr), server.WithExitWaitTime(0))
	h.Use(Middleware(e))
	h.GET("/hello", func(_ context.Context, c *app.RequestContext) { c.String(200, "hertz") })
	go h.Run()
	defer h.Shutdown(context.Background()) //nolint:errcheck
	testutil.WaitListen(t, addr)

	hc := &http.Client{Timeout: 10 * time.Second}
	for _, tt := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "/v1/shelves/1", "", 200, `"id":"1"`},
		{"GET", "/v1/shelves/999", "", 404, `"code":5`},
		{"POST", "/v1/shelves", `{"theme":`, 400, `"code":3`},
		{"GET", "/hello", "", 200, "hertz"},
	} {
		req, _ := http.NewRequest(tt.method, "http://"+addr+tt.path, strings.NewReader(tt.body))
		if tt.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.method, tt.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.want) {
			t.Fatalf("%s %s: got %d %s; want %d containing %s", tt.method, tt.path, resp.StatusCode, b, tt.status, tt.want)
		}
	}
}
