package e2e

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/straitgw/strait/internal/echo"
	pb "github.com/straitgw/strait/internal/echopb"
	"github.com/straitgw/strait/internal/testcert"
	"github.com/straitgw/strait/internal/testutil"
)

// tlsGateway is a strait serving TLS on Listen in front of echo servers,
// with its certificates in Dir (gw.crt, gw.key: CN "gateway", localhost).
type tlsGateway struct {
	Listen, Admin, Dir, Config string
	CA                         *testcert.CA
	Cert, Key                  string
	cmd                        *exec.Cmd
}

// tlsOpts shape a tlsGateway's configuration.
type tlsOpts struct {
	clientCA  bool   // tls.client_ca_file: the CA (mTLS)
	extra     string // more YAML under tls:
	upstream  string // the upstreams: block; empty: one plaintext echo server
	noDescr   bool   // no descriptors: (reflection only)
	gatewayCN string
}

func startTLSGateway(t *testing.T, o tlsOpts) *tlsGateway {
	t.Helper()
	g := &tlsGateway{Listen: testutil.FreeAddr(t), Admin: testutil.FreeAddr(t), Dir: t.TempDir(), CA: testcert.NewCA(t, "gateway CA")}
	cn := o.gatewayCN
	if cn == "" {
		cn = "gateway"
	}
	g.CA.Issue(t, testcert.Spec{CN: cn, DNS: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)},
		URIs: []string{"spiffe://strait.test/gateway"}}).Write(t, g.Dir, "gw")
	g.Cert, g.Key = filepath.Join(g.Dir, "gw.crt"), filepath.Join(g.Dir, "gw.key")
	g.CA.Write(t, g.Dir, "ca")
	tlsBlock := "tls:\n  cert_file: gw.crt\n  key_file: gw.key\n"
	if o.clientCA {
		tlsBlock += "  client_ca_file: ca.crt\n"
	}
	tlsBlock += o.extra
	up := o.upstream
	if up == "" {
		up = fmt.Sprintf("upstreams:\n  - name: echo\n    endpoints: [%s]\n", echo.Start(t).Addr)
	}
	descr := fmt.Sprintf("descriptors: [%q]\n", echoDescriptors(t))
	if o.noDescr {
		descr = ""
	}
	cfg := fmt.Sprintf("listen: %s\nadmin: %s\n%s%s%s", g.Listen, g.Admin, descr, tlsBlock, up)
	g.Config = filepath.Join(g.Dir, "strait.yaml")
	if err := os.WriteFile(g.Config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	g.cmd = runStrait(t, g.Listen, "serve", "--config", g.Config)
	return g
}

// client is a TLS client configuration trusting the gateway's CA.
func (g *tlsGateway) client(protos []string, leaves ...*testcert.Leaf) *tls.Config {
	return testcert.ClientConfig(g.CA, "localhost", protos, leaves...)
}

// port is the listen port, for https://localhost:PORT URLs.
func (g *tlsGateway) port() string { _, p, _ := net.SplitHostPort(g.Listen); return p }

// startTLSEcho runs an echo server (with health and reflection) whose
// certificate ca signed for localhost and 127.0.0.1; clientCA set, it
// requires client certificates from that CA.
func startTLSEcho(t *testing.T, ca *testcert.CA, clientCA *testcert.CA) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{ca.Server(t, "echo").TLS}, NextProtos: []string{"h2"}}
	if clientCA != nil {
		cfg.ClientAuth, cfg.ClientCAs = tls.RequireAndVerifyClientCert, clientCA.Pool()
	}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(cfg)))
	pb.RegisterEchoServer(srv, echo.New())
	healthpb.RegisterHealthServer(srv, health.NewServer())
	reflection.Register(srv)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return ln.Addr().String()
}

// yamlList renders strings as a flow list.
func yamlList(ss ...string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
