package engine

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/straitgw/strait/internal/demo"
)

// startDemoUpstream runs the bookstore grpc-go server on loopback.
func startDemoUpstream(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := demo.NewServer()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return ln.Addr().String()
}

// startGateway runs a real engine on a loopback port in front of upstream.
func startGateway(t *testing.T, upstream string, mod func(*Config)) *Engine {
	t.Helper()
	cfg := Config{
		Listen:         "127.0.0.1:0",
		Upstreams:      []UpstreamConfig{{Name: "default", Endpoints: []string{upstream}}},
		DescriptorSets: [][]byte{demo.Descriptors()},
	}
	if mod != nil {
		mod(&cfg)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := e.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// h1Client is a raw HTTP/1.1 client on one keep-alive connection: it writes
// bytes as given and parses answers with net/http's reader.
type h1Client struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialH1(t *testing.T, addr string) *h1Client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &h1Client{t: t, c: c, br: bufio.NewReader(c)}
}

// do sends one request and returns status, headers and body.
func (h *h1Client) do(method, path, ctype, body string) (int, http.Header, string) {
	h.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: test\r\n", method, path)
	if ctype != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", ctype)
	}
	if body != "" || method == "POST" || method == "PATCH" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	h.write(b.String())
	return h.read()
}

func (h *h1Client) write(s string) {
	h.t.Helper()
	_ = h.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(h.c, s); err != nil {
		h.t.Fatal(err)
	}
}

func (h *h1Client) read() (int, http.Header, string) {
	h.t.Helper()
	resp, err := http.ReadResponse(h.br, nil)
	if err != nil {
		h.t.Fatalf("read response: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func grpcDial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}
