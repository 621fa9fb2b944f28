package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"

	"github.com/straitgw/strait/internal/demo"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// straitBin builds cmd/strait once per test binary.
func straitBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "strait-e2e")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "strait")
		out, err := exec.Command("go", "build", "-race", "-o", binPath, "../cmd/strait").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// descriptorFile writes the demo's descriptor set where strait can read it.
func descriptorFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bookstore.pb")
	if err := os.WriteFile(p, demo.Descriptors(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// runStrait starts `strait args...` and waits until addr accepts.
func runStrait(t *testing.T, addr string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(straitBin(t), args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
		if t.Failed() {
			t.Logf("strait output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return cmd
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("strait did not listen on %s:\n%s", addr, out.String())
	return nil
}

// rawCodec lets a test upstream answer any method with bytes it builds.
type rawCodec struct{}

type rawMsg []byte

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*rawMsg)), nil }
func (rawCodec) Unmarshal(b []byte, v any) error {
	*(v.(*rawMsg)) = append((*v.(*rawMsg))[:0], b...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

var _ encoding.Codec = rawCodec{}

// startRawUpstream runs a grpc-go server whose every method calls fn.
func startRawUpstream(t *testing.T, fn func(method string, req []byte) ([]byte, error)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(func(_ any, ss grpc.ServerStream) error {
		method, _ := grpc.MethodFromServerStream(ss)
		var req rawMsg
		if err := ss.RecvMsg(&req); err != nil {
			return err
		}
		resp, err := fn(method, req)
		if err != nil {
			return err
		}
		r := rawMsg(resp)
		return ss.SendMsg(&r)
	}))
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return ln.Addr().String()
}

func h2cClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}}
}

// metric reads one value from strait's /metrics.
func metric(t *testing.T, admin, name string) int {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	t.Fatalf("metric %s not found", name)
	return 0
}
