package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/testutil"
)

// echoGateway is `strait serve --config` in front of echo upstreams.
type echoGateway struct {
	Listen, Admin string
	Echo          []*echo.Server
}

// echoDescriptors is the committed FileDescriptorSet of the echo service.
func echoDescriptors(t testing.TB) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", "echo.pb"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startEchoGateway runs endpoints echo servers and a gateway with one
// upstream over them, conns connections per endpoint.
func startEchoGateway(t *testing.T, endpoints, conns int) *echoGateway {
	t.Helper()
	g := &echoGateway{Listen: testutil.FreeAddr(t), Admin: testutil.FreeAddr(t)}
	var eps []string
	for i := 0; i < endpoints; i++ {
		s := echo.Start(t)
		g.Echo = append(g.Echo, s)
		eps = append(eps, s.Addr)
	}
	cfg := fmt.Sprintf(`listen: %s
admin: %s
descriptors: [%q]
upstreams:
  - name: echo
    endpoints: [%s]
    conns_per_endpoint: %d
`, g.Listen, g.Admin, echoDescriptors(t), strings.Join(eps, ", "), conns)
	p := filepath.Join(t.TempDir(), "strait.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	runStrait(t, g.Listen, "serve", "--config", p)
	return g
}

// take finds the upstream record of a request on whichever endpoint
// served it.
func (g *echoGateway) take(id string, wait time.Duration) *echo.Record {
	defer func() { // a call that failed before its handler left headers only
		for _, s := range g.Echo {
			s.Headers(id)
		}
	}()
	deadline := time.Now().Add(wait)
	for {
		for _, s := range g.Echo {
			if r := s.Take(id, 0); r != nil {
				return r
			}
		}
		if time.Now().After(deadline) {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// dialer dials loopback with a short connect timeout.
func dialCtx(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	return d.DialContext(ctx, "tcp", addr)
}
