package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/straitgw/strait/internal/demo"
	"github.com/straitgw/strait/internal/echo"
	pb "github.com/straitgw/strait/internal/echopb"
	"github.com/straitgw/strait/internal/testutil"
)

// startBookstore runs the demo bookstore (with reflection) on addr
// ("127.0.0.1:0" for any port) and returns its address and a stop func.
func startBookstore(t *testing.T, addr string, withEcho bool) (string, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := demo.NewServer()
	if withEcho {
		pb.RegisterEchoServer(srv, echo.New())
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return ln.Addr().String(), srv.Stop
}

// TestReloadUnderLoad: under continuous REST and gRPC load, a reload on
// SIGHUP adds an upstream and the methods of a new descriptor set (they
// answer), and an invalid configuration is rejected while the running one
// keeps serving. No request fails.
func TestReloadUnderLoad(t *testing.T) {
	books, _ := startBookstore(t, "127.0.0.1:0", false)
	echoUp := echo.Start(t)
	dir := t.TempDir()
	bookPB, echoPB := descriptorFile(t), must(filepath.Abs("testdata/echo.pb"))
	listen, admin := testutil.FreeAddr(t), testutil.FreeAddr(t)
	conf := filepath.Join(dir, "strait.yaml")
	v1 := fmt.Sprintf("listen: %s\nadmin: %s\ndescriptors: [%s]\nupstreams:\n  - {name: books, endpoints: [%s]}\n",
		listen, admin, bookPB, books)
	writeFile(t, conf, v1)
	cmd := runStrait(t, listen, "serve", "--config", conf)
	cc, err := grpc.NewClient(listen, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	l := startLoad(t, listen, cc)

	v2 := v1 + fmt.Sprintf("  - {name: echo, endpoints: [%s]}\nservices:\n  - {name: strait.test.v1.Echo, upstream: echo}\n", echoUp.Addr)
	v2 = strings.Replace(v2, "descriptors: ["+bookPB+"]", "descriptors: ["+bookPB+", "+echoPB+"]", 1)
	writeFile(t, conf, v2)
	_ = cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the new method to answer", func() bool {
		resp, err := http.Post("http://"+listen+"/v1/echo", "application/json", strings.NewReader(`{"text":"hi"}`))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	version := configVersion(t, admin)
	if version < 2 {
		t.Fatalf("config version %d after a reload; want at least 2", version)
	}

	writeFile(t, conf, "listen: [not, an, address\n")
	_ = cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the bad reload to be rejected", func() bool { return metric(t, admin, "strait_reloads_rejected_total") >= 1 })
	if v := configVersion(t, admin); v != version {
		t.Errorf("config version %d after a rejected reload; want %d", v, version)
	}
	if err := getBody(http.DefaultClient, "http://"+listen+"/v1/shelves", "shelves"); err != nil {
		t.Errorf("after the rejected reload: %v", err)
	}

	time.Sleep(300 * time.Millisecond) // load runs on the old configuration a while
	l.stop()
	if n := l.failed.Load(); n > 0 {
		t.Fatalf("%d requests failed during the reloads (%d ok); first: %v", n, l.ok.Load(), l.first.Load())
	}
	if l.ok.Load() == 0 {
		t.Fatal("the load sent nothing")
	}
	t.Logf("%d requests during the reloads, none failed", l.ok.Load())
}

// TestReflectionRefresh: a method the upstream adds after the gateway
// started becomes routable without a restart (reflection_refresh).
func TestReflectionRefresh(t *testing.T) {
	up, stop := startBookstore(t, "127.0.0.1:0", false)
	listen, admin := testutil.FreeAddr(t), testutil.FreeAddr(t)
	conf := filepath.Join(t.TempDir(), "strait.yaml")
	writeFile(t, conf, fmt.Sprintf("listen: %s\nadmin: %s\nupstreams:\n  - {name: up, endpoints: [%s], reflection: true, reflection_refresh: 1s}\n",
		listen, admin, up))
	runStrait(t, listen, "serve", "--config", conf)
	url := "http://" + listen + "/strait.test.v1.Echo/Unary"
	if code := post(url, `{"text":"hi"}`); code != 404 {
		t.Fatalf("before the upstream has Echo: got %d; want 404", code)
	}
	stop()
	startBookstore(t, up, true) // the same address, now with the Echo service too
	waitFor(t, "the new method to be routed", func() bool { return post(url, `{"text":"hi"}`) == 200 })
	if v := configVersion(t, admin); v < 2 {
		t.Fatalf("config version %d; want a refresh to have reloaded", v)
	}
}

func post(url, body string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func configVersion(t *testing.T, admin string) int64 {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/config_dump")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d struct{ Version int64 }
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	return d.Version
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
