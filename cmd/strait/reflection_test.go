package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"

	"github.com/straitgw/strait/internal/demo"
)

// startCountingDemo serves the bookstore (with server reflection) on
// loopback and counts the reflection streams opened on it.
func startCountingDemo(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	count := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		if strings.HasSuffix(info.FullMethod, "/ServerReflectionInfo") {
			n.Add(1)
		}
		return h(srv, ss)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := demo.NewServer(grpc.StreamInterceptor(count))
	go s.Serve(ln)
	t.Cleanup(s.Stop)
	return ln.Addr().String(), &n
}

// TestServeReflectsOnce: `strait serve --reflection` checks the services
// and builds the engine from one reflection stream per upstream.
func TestServeReflectsOnce(t *testing.T) {
	a, na := startCountingDemo(t)
	b, nb := startCountingDemo(t)
	addr := closedPort(t)
	cfg := filepath.Join(t.TempDir(), "s.yaml")
	src := "listen: " + addr + "\nupstreams:\n  - {name: a, endpoints: [\"" + a + "\"]}\n  - {name: b, endpoints: [\"" + b + "\"]}\n" +
		"services:\n  - {name: bookstore.v1.Bookstore, upstream: b}\n"
	if err := os.WriteFile(cfg, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startStrait(t, "serve", "--config", cfg, "--reflection")
	waitListening(t, addr)
	if code, v := getJSON(t, "http://"+addr+"/v1/shelves/1"); code != 200 || v["theme"] != "Fiction" {
		t.Errorf("GET /v1/shelves/1: got %d %v; want 200 and the Fiction shelf", code, v)
	}
	p.stop(t)
	if na.Load() != 1 || nb.Load() != 1 {
		t.Errorf("reflection streams: got %d (a) and %d (b); want 1 each", na.Load(), nb.Load())
	}
}
