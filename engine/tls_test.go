package engine

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/straitgw/strait/internal/testcert"
	"github.com/straitgw/strait/internal/testutil"
)

// tlsGateway runs the demo gateway with TLS on its listen port.
func tlsGateway(t *testing.T, mod func(*Config)) (*Engine, *testcert.CA) {
	t.Helper()
	ca := testcert.NewCA(t, "test CA")
	dir := t.TempDir()
	cf, kf := ca.Server(t, "gateway").Write(t, dir, "gw")
	e := startGateway(t, startDemoUpstream(t), func(c *Config) {
		c.TLS = TLSConfig{CertFile: cf, KeyFile: kf}
		if mod != nil {
			mod(c)
		}
	})
	return e, ca
}

// httpsClient speaks HTTP/1.1 (h2 false) or h2 over TLS, trusting ca.
func httpsClient(ca *testcert.CA, h2 bool, leaves ...*testcert.Leaf) *http.Client {
	if h2 {
		return &http.Client{Timeout: 10 * time.Second, Transport: &http2.Transport{
			TLSClientConfig: testcert.ClientConfig(ca, "localhost", []string{"h2"}, leaves...)}}
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: testcert.ClientConfig(ca, "localhost", []string{"http/1.1"}, leaves...)}}
}

// TestTLSListen: REST over HTTP/1.1 and h2, chosen by ALPN, and native
// gRPC work over TLS as on cleartext, keep-alive and concurrency included.
func TestTLSListen(t *testing.T) {
	e, ca := tlsGateway(t, nil)
	url := "https://" + e.Addr().String() + "/v1/shelves/1"
	for _, h2 := range []bool{false, true} {
		hc := httpsClient(ca, h2)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 20 {
					resp, err := hc.Get(url)
					if err != nil {
						t.Error(err)
						return
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 || !strings.Contains(string(b), `"theme"`) {
						t.Errorf("h2 %v: %d %s", h2, resp.StatusCode, b)
					}
					if want := map[bool]int{false: 1, true: 2}[h2]; resp.ProtoMajor != want {
						t.Errorf("h2 %v: HTTP/%d", h2, resp.ProtoMajor)
					}
				}
			})
		}
		wg.Wait()
	}
	cc, err := grpc.NewClient(e.Addr().String(), grpc.WithTransportCredentials(credentials.NewTLS(testcert.ClientConfig(ca, "localhost", nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := testutil.RawCall(ctx, cc, "/bookstore.v1.Bookstore/GetShelf", []byte{0x08, 0x01})
	if err != nil || len(out) == 0 {
		t.Fatalf("gRPC over TLS: %x, %v", out, err)
	}
	// A cleartext client gets nowhere: the port is TLS only.
	h1 := dialH1(t, e.Addr().String())
	h1.write("GET /v1/shelves/1 HTTP/1.1\r\nHost: x\r\n\r\n")
	if b, _ := io.ReadAll(h1.c); strings.Contains(string(b), "HTTP/1.1 200") {
		t.Error("cleartext request answered on the TLS port")
	}
}

// TestTLSDrain: Drain covers TLS connections: an idle one closes, a
// request in flight over h2 finishes, and the listener stops accepting.
func TestTLSDrain(t *testing.T) {
	e, ca := tlsGateway(t, nil)
	addr := e.Addr().String()
	idle, err := tls.Dial("tcp", addr, testcert.ClientConfig(ca, "localhost", []string{"http/1.1"}))
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	hc := httpsClient(ca, true)
	// A server stream keeps its request in flight while Drain runs.
	resp, err := hc.Get("https://" + addr + "/v1/shelves/1/books:watch")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- e.Drain(ctx)
	}()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !strings.Contains(string(b), "{") {
		t.Errorf("stream in flight during drain: %q, %v", b, err)
	}
	_ = idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := idle.Read(make([]byte, 1)); err == nil {
		t.Error("idle TLS connection still open after drain")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c, err := tls.Dial("tcp", addr, testcert.ClientConfig(ca, "localhost", nil)); err == nil {
		c.Close()
		t.Error("accepted a TLS connection after drain")
	}
}
