package e2e

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"

	pb "github.com/straitgw/strait/internal/echopb"
	"github.com/straitgw/strait/internal/testcert"
)

// httpsClient speaks HTTP/1.1 or h2 (by ALPN) over cfg.
func httpsClient(cfg *tls.Config, h2 bool) *http.Client {
	if h2 {
		return &http.Client{Timeout: 20 * time.Second, Transport: &http2.Transport{TLSClientConfig: cfg}}
	}
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: false}}
}

// getEcho calls GET /v1/echo/{id} with extra headers and returns the
// status, the response headers (the echo server sends the request's
// metadata back) and the body.
func getEcho(t *testing.T, hc *http.Client, base, id string, hdr ...string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/v1/echo/"+id, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", id, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// curl runs curl with args and returns its output.
func curl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed (.ci/run installs it)")
	}
	out, err := exec.Command("curl", append([]string{"-sS", "--max-time", "20"}, args...)...).CombinedOutput()
	return string(out), err
}

// TestTLSClients: on a TLS listen port, curl and Go's client (HTTP/1.1
// and h2 by ALPN), grpc-go and connect-go's gRPC-Web (over HTTP/1.1 and
// h2) all work as on cleartext.
func TestTLSClients(t *testing.T) {
	g := startTLSGateway(t, tlsOpts{})
	base := "https://localhost:" + g.port()
	ca := g.Dir + "/ca.crt"
	for _, v := range []struct{ flag, want string }{{"--http1.1", "1.1"}, {"--http2", "2"}} {
		out, err := curl(t, "--cacert", ca, v.flag, "-w", "\n%{http_version} %{http_code}", base+"/v1/echo/curl-"+v.want)
		if err != nil || !strings.Contains(out, `"id":"curl-`+v.want+`"`) || !strings.HasSuffix(out, "\n"+v.want+" 200") {
			t.Errorf("curl %s: %q, %v", v.flag, out, err)
		}
	}
	out, err := curl(t, "--cacert", ca, "-X", "POST", "-H", "content-type: application/json", "-d", `{"text":"hi"}`, base+"/v1/echo")
	if err != nil || !strings.Contains(out, `"text":"hi"`) {
		t.Errorf("curl POST: %q, %v", out, err)
	}
	for _, h2 := range []bool{false, true} {
		hc := httpsClient(g.client(nil), h2)
		if st, _, body := getEcho(t, hc, base, fmt.Sprint("go-", h2)); st != 200 || !strings.Contains(body, fmt.Sprint("go-", h2)) {
			t.Errorf("Go client h2=%v: %d %s", h2, st, body)
		}
		web := connect.NewClient[pb.EchoRequest, pb.EchoResponse](hc, base+"/strait.test.v1.Echo/Unary", connect.WithGRPCWeb())
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		resp, err := web.CallUnary(ctx, connect.NewRequest(&pb.EchoRequest{Text: "web", Payload: make([]byte, 100<<10)}))
		cancel()
		if err != nil || resp.Msg.Text != "web" || len(resp.Msg.Payload) != 100<<10 {
			t.Errorf("gRPC-Web over TLS h2=%v: %v", h2, err)
		}
	}
	cc, err := grpc.NewClient(g.Listen, grpc.WithTransportCredentials(credentials.NewTLS(g.client(nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := pb.NewEchoClient(cc).Bidi(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := stream.Send(&pb.EchoRequest{Text: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		if m, err := stream.Recv(); err != nil || m.Text != fmt.Sprint(i) {
			t.Fatalf("grpc-go bidi over TLS: %v, %v", m, err)
		}
	}
	_ = stream.CloseSend()
}

// xfccOf is the x-forwarded-client-cert element strait must send for a
// client certificate, built here from the certificate's fields.
func xfccOf(l *testcert.Leaf) string {
	sum := sha256.Sum256(l.Cert.Raw)
	s := "By=spiffe://strait.test/gateway;Hash=" + hex.EncodeToString(sum[:]) + `;Subject="` + l.Cert.Subject.String() + `"`
	for _, u := range l.Cert.URIs {
		s += ";URI=" + u.String()
	}
	for _, d := range l.Cert.DNSNames {
		s += ";DNS=" + d
	}
	return s
}

// TestTLSMutual: with client_ca_file, clients without a certificate or
// with one of another CA are refused; one of the CA gets through, and its
// identity reaches the upstream in x-forwarded-client-cert whatever the
// client sent in that header, over REST, gRPC and gRPC-Web. Without mTLS
// the client's header is dropped.
func TestTLSMutual(t *testing.T) {
	g := startTLSGateway(t, tlsOpts{clientCA: true})
	base := "https://localhost:" + g.port()
	alice := g.CA.Issue(t, testcert.Spec{CN: "alice", Org: "Acme", Client: true,
		URIs: []string{"spiffe://acme.test/alice"}, DNS: []string{"alice.acme.test"}})
	want := xfccOf(alice)
	for _, h2 := range []bool{false, true} {
		hc := httpsClient(g.client(nil, alice), h2)
		st, hdr, body := getEcho(t, hc, base, "m", "X-Forwarded-Client-Cert", "By=evil;Hash=forged")
		if st != 200 || hdr.Get("x-forwarded-client-cert") != want || len(hdr.Values("x-forwarded-client-cert")) != 1 {
			t.Errorf("h2=%v: %d %s; xfcc %q; want %q", h2, st, body, hdr.Values("x-forwarded-client-cert"), want)
		}
		web := connect.NewClient[pb.EchoRequest, pb.EchoResponse](hc, base+"/strait.test.v1.Echo/Unary", connect.WithGRPCWeb())
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		resp, err := web.CallUnary(ctx, connect.NewRequest(&pb.EchoRequest{Text: "w"}))
		cancel()
		if err != nil || resp.Header().Get("x-forwarded-client-cert") != want {
			t.Errorf("gRPC-Web h2=%v: %v", h2, err)
		}
	}
	cc, err := grpc.NewClient(g.Listen, grpc.WithTransportCredentials(credentials.NewTLS(g.client(nil, alice))))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	var hdr metadata.MD
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "x-forwarded-client-cert", "forged")
	if _, err := pb.NewEchoClient(cc).Unary(ctx, &pb.EchoRequest{}, grpc.Header(&hdr)); err != nil || len(hdr["x-forwarded-client-cert"]) != 1 || hdr["x-forwarded-client-cert"][0] != want {
		t.Errorf("grpc-go: %v; xfcc %q", err, hdr["x-forwarded-client-cert"])
	}
	alice.Write(t, g.Dir, "alice")
	if out, err := curl(t, "--cacert", g.Dir+"/ca.crt", "--cert", g.Dir+"/alice.crt", "--key", g.Dir+"/alice.key", base+"/v1/echo/curl"); err != nil || !strings.Contains(out, `"id":"curl"`) {
		t.Errorf("curl with a client certificate: %q, %v", out, err)
	}
	if out, err := curl(t, "--cacert", g.Dir+"/ca.crt", base+"/v1/echo/curl"); err == nil {
		t.Errorf("curl without a client certificate: accepted: %q", out)
	}
	other := testcert.NewCA(t, "other").Issue(t, testcert.Spec{CN: "mallory", Client: true})
	for _, leaves := range [][]*testcert.Leaf{nil, {other}} {
		hc := httpsClient(g.client(nil, leaves...), false)
		if resp, err := hc.Get(base + "/v1/echo/x"); err == nil {
			resp.Body.Close()
			t.Errorf("client certificates %d: accepted (%d)", len(leaves), resp.StatusCode)
		}
	}

	plain := startTLSGateway(t, tlsOpts{})
	_, hdr2, _ := getEcho(t, httpsClient(plain.client(nil), true), "https://localhost:"+plain.port(), "p", "X-Forwarded-Client-Cert", "forged")
	if v := hdr2.Values("x-forwarded-client-cert"); len(v) != 0 {
		t.Errorf("without mTLS the client's x-forwarded-client-cert reached the upstream: %q", v)
	}
}

// TestTLSSNI: a client's server name picks its certificate; others get
// the default one.
func TestTLSSNI(t *testing.T) {
	var g *tlsGateway
	ca := testcert.NewCA(t, "sni CA")
	dir := t.TempDir()
	ca.Issue(t, testcert.Spec{CN: "api", DNS: []string{"api.example.test"}}).Write(t, dir, "api")
	ca.Issue(t, testcert.Spec{CN: "apps", DNS: []string{"*.apps.example.test"}}).Write(t, dir, "apps")
	g = startTLSGateway(t, tlsOpts{extra: fmt.Sprintf("  certificates:\n    - {cert_file: %q, key_file: %q}\n    - {cert_file: %q, key_file: %q, server_names: [grpc.example.test]}\n",
		dir+"/api.crt", dir+"/api.key", dir+"/apps.crt", dir+"/apps.key")})
	for _, tt := range []struct{ sni, want string }{
		{"localhost", "gateway"}, {"api.example.test", "api"}, {"grpc.example.test", "apps"}, {"x.apps.example.test", "gateway"}, {"", "gateway"},
	} {
		c, err := tls.Dial("tcp", g.Listen, &tls.Config{ServerName: tt.sni, InsecureSkipVerify: true})
		if err != nil {
			t.Fatalf("%q: %v", tt.sni, err)
		}
		if got := c.ConnectionState().PeerCertificates[0].Subject.CommonName; got != tt.want {
			t.Errorf("SNI %q: got %s; want %s", tt.sni, got, tt.want)
		}
		c.Close()
	}
}

// servedCN is the common name a new connection is served.
func servedCN(t *testing.T, addr string) string {
	c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "localhost", InsecureSkipVerify: true})
	if err != nil {
		t.Errorf("dial: %v", err)
		return ""
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].Subject.CommonName
}

// TestTLSCertificateSwapUnderLoad: the certificate files are replaced on
// disk while REST (HTTP/1.1 with a connection per request, h2 kept
// alive) and gRPC calls run: not one fails, new connections get the new
// certificate, and the connections open before keep theirs. Then SIGHUP
// reloads the same way.
func TestTLSCertificateSwapUnderLoad(t *testing.T) {
	g := startTLSGateway(t, tlsOpts{gatewayCN: "first"})
	base := "https://localhost:" + g.port()
	pool := g.CA.Pool()
	trusting := func(protos ...string) *tls.Config {
		return &tls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: protos}
	}
	fresh := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: trusting("http/1.1"), DisableKeepAlives: true}}
	kept := httpsClient(trusting("h2"), true)
	cc, err := grpc.NewClient(g.Listen, grpc.WithTransportCredentials(credentials.NewTLS(trusting())))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	echo := pb.NewEchoClient(cc)

	var ok, failed atomic.Int64
	var firstErr atomic.Value
	fail := func(err error) {
		failed.Add(1)
		firstErr.CompareAndSwap(nil, err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("w%d-%d", i, n)
				switch i % 3 {
				case 0, 1:
					hc := map[int]*http.Client{0: fresh, 1: kept}[i%3]
					resp, err := hc.Get(base + "/v1/echo/" + id)
					if err != nil {
						fail(err)
						continue
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 || !strings.Contains(string(b), id) {
						fail(fmt.Errorf("%d %s", resp.StatusCode, b))
						continue
					}
				default:
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					r, err := echo.Unary(ctx, &pb.EchoRequest{Id: id})
					cancel()
					if err != nil || r.Id != id {
						fail(fmt.Errorf("grpc: %v", err))
						continue
					}
				}
				ok.Add(1)
			}
		})
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	waitFor("load", func() bool { return ok.Load() > 150 })
	g.CA.Issue(t, testcert.Spec{CN: "second", DNS: []string{"localhost"}}).Write(t, g.Dir, "gw")
	waitFor("the new certificate", func() bool { return servedCN(t, g.Listen) == "second" })
	before := ok.Load()
	waitFor("load after the swap", func() bool { return ok.Load() > before+150 })

	// SIGHUP reloads the whole configuration, certificates included.
	third := g.CA.Issue(t, testcert.Spec{CN: "third", DNS: []string{"localhost"}})
	reloads := metric(t, g.Admin, "strait_reloads_total")
	third.Write(t, g.Dir, "gw")
	_ = g.cmd.Process.Signal(syscall.SIGHUP)
	waitFor("the certificate after SIGHUP", func() bool { return servedCN(t, g.Listen) == "third" })
	waitFor("the SIGHUP reload", func() bool { return metric(t, g.Admin, "strait_reloads_total") > reloads })
	before = ok.Load()
	waitFor("load after SIGHUP", func() bool { return ok.Load() > before+150 })
	close(stop)
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed across the swaps; first: %v", failed.Load(), failed.Load()+ok.Load(), firstErr.Load())
	}
	if n := metric(t, g.Admin, "strait_tls_certificate_reloads_total"); n < 2 {
		t.Errorf("strait_tls_certificate_reloads_total %d; want at least 2", n)
	}
	t.Logf("%d requests, none failed", ok.Load())
}

// TestUpstreamTLS: upstreams dialed over TLS, with and without a client
// certificate (the upstream requires one), health-checked and reflected
// over the same settings; a wrong CA or a missing client certificate
// leaves the upstream unreachable (503), never plaintext.
func TestUpstreamTLS(t *testing.T) {
	upCA := testcert.NewCA(t, "upstream CA")
	dir := t.TempDir()
	caFile := upCA.Write(t, dir, "upca")
	gwClient := upCA.Issue(t, testcert.Spec{CN: "strait", Client: true})
	cf, kf := gwClient.Write(t, dir, "client")
	plainTLS := startTLSEcho(t, upCA, nil)
	mutual := startTLSEcho(t, upCA, upCA)
	for _, tt := range []struct {
		name, upstream string
		noDescr        bool
		want           int
	}{
		{"tls", fmt.Sprintf("    endpoints: [%s]\n    health_check: 1s\n    tls: {ca_file: %q}\n", plainTLS, caFile), false, 200},
		{"mtls", fmt.Sprintf("    endpoints: [%s]\n    health_check: 1s\n    tls: {ca_file: %q, cert_file: %q, key_file: %q, server_name: localhost}\n", mutual, caFile, cf, kf), false, 200},
		{"reflection over mtls", fmt.Sprintf("    endpoints: [%s]\n    reflection: true\n    tls: {ca_file: %q, cert_file: %q, key_file: %q}\n", mutual, caFile, cf, kf), true, 200},
		{"mtls without a client certificate", fmt.Sprintf("    endpoints: [%s]\n    tls: {ca_file: %q}\n", mutual, caFile), false, 503},
		{"wrong CA", fmt.Sprintf("    endpoints: [%s]\n    tls: {ca_file: %q}\n", plainTLS, testcert.NewCA(t, "x").Write(t, dir, "x")), false, 503},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := startTLSGateway(t, tlsOpts{upstream: "upstreams:\n  - name: echo\n" + tt.upstream, noDescr: tt.noDescr})
			hc := httpsClient(g.client(nil), true)
			st, _, body := getEcho(t, hc, "https://localhost:"+g.port(), "up")
			if st != tt.want || (tt.want == 200 && !strings.Contains(body, `"id":"up"`)) {
				t.Errorf("got %d %s; want %d", st, body, tt.want)
			}
			if tt.want == 200 && strings.Contains(tt.upstream, "health_check") {
				time.Sleep(1500 * time.Millisecond)
				if st, _, _ := getEcho(t, hc, "https://localhost:"+g.port(), "again"); st != 200 {
					t.Errorf("after health checks: %d", st)
				}
			}
		})
	}
}
