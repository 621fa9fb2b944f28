package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/straitgw/strait/internal/demo"
)

// process is a running strait, stopped by SIGINT at the end of the test.
type process struct {
	cmd    *exec.Cmd
	stdout syncBuffer
	stderr syncBuffer
	done   chan error
}

// syncBuffer is a bytes.Buffer safe to read while the process writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startStrait(t *testing.T, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(straitBin, args...), done: make(chan error, 1)}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// stop sends SIGINT and expects a clean exit within 5s; it returns stderr.
func (p *process) stop(t *testing.T) string {
	t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("exit after SIGINT: %v; stderr %q", err, p.stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Errorf("still running 5s after SIGINT; stderr %q", p.stderr.String())
	}
	return p.stderr.String()
}

// waitListening polls addr until it accepts a connection (at most 10s).
func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not listening after 10s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// listening reports whether addr accepts a connection within d.
func listening(addr string, d time.Duration) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return true
		}
	}
	return false
}

// get fetches url (at most 5s).
func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// waitReady polls the admin port's /readyz until it answers 200 (at most
// 10s): the gateway serves before its first upstream connection is up.
func waitReady(t *testing.T, admin string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := get(t, "http://"+admin+"/readyz")
		if code == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /readyz: got %d %q after 10s; want 200", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// getJSON fetches url and decodes a JSON object.
func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	code, body := get(t, url)
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("GET %s: %d %q is not a JSON object: %v", url, code, body, err)
	}
	return code, v
}

// startDemo serves the bookstore on loopback for the test's duration.
func startDemo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := demo.NewServer()
	go s.Serve(ln)
	t.Cleanup(s.Stop)
	return ln.Addr().String()
}

// TestServe runs `strait serve` in front of the demo service.
func TestServe(t *testing.T) {
	up := startDemo(t)
	var p *process
	var addr, admin string
	// A port closedPort freed may be taken by another test package before
	// strait binds it (CI saw strait not listening): start again on others.
	for try := 0; ; try++ {
		addr, admin = closedPort(t), closedPort(t)
		p = startStrait(t, "serve", "--listen", addr, "--upstream", up, "--descriptors", bookstorePB, "--admin", admin)
		if listening(addr, 10*time.Second) && listening(admin, 10*time.Second) {
			break
		}
		if try == 2 {
			t.Fatalf("strait not listening on %s and %s after 3 starts; stderr: %s", addr, admin, p.stderr.String())
		}
		t.Logf("strait not listening on %s and %s; stderr: %s; starting again", addr, admin, p.stderr.String())
		p.cmd.Process.Kill()
	}
	waitReady(t, admin)
	code, v := getJSON(t, "http://"+addr+"/v1/shelves/1")
	if code != 200 || v["theme"] != "Fiction" {
		t.Errorf("GET /v1/shelves/1: got %d %v; want 200 and the Fiction shelf", code, v)
	}
	code, v = getJSON(t, "http://"+addr+"/v1/shelves/42")
	if code != 404 || v["code"] != float64(5) || !strings.Contains(v["message"].(string), "shelf 42 not found") {
		t.Errorf("GET /v1/shelves/42: got %d %v; want 404 with code 5", code, v)
	}
	if stderr := p.stop(t); !strings.Contains(stderr, "strait: serving on "+addr+", admin on "+admin) {
		t.Errorf("stderr: got %q; want the serving line", stderr)
	}
}

// TestServeAccessLog: --access-log stdout writes a JSON line per
// request to standard output, flushed when strait stops.
func TestServeAccessLog(t *testing.T) {
	addr := closedPort(t)
	p := startStrait(t, "serve", "--listen", addr, "--upstream", startDemo(t), "--descriptors", bookstorePB, "--access-log", "stdout")
	waitListening(t, addr)
	get(t, "http://"+addr+"/v1/shelves/1")
	p.stop(t)
	var line map[string]any
	if err := json.Unmarshal([]byte(p.stdout.String()), &line); err != nil || line["path"] != "/v1/shelves/1" ||
		line["status"] != float64(200) || line["route"] != "bookstore.v1.Bookstore/GetShelf" {
		t.Errorf("stdout: %q (%v); want one access log line for GET /v1/shelves/1", p.stdout.String(), err)
	}
}

// TestServeConfigOverrides: flags given with --config replace the file's
// listen address and upstreams (and the file's service routes with them).
func TestServeConfigOverrides(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "strait.yaml")
	pb, _ := filepath.Abs(bookstorePB)
	src := "listen: " + closedPort(t) + "\ndescriptors: [" + pb + "]\n" +
		"upstreams: [{name: gone, endpoints: [\"" + closedPort(t) + "\"]}]\n" +
		"services: [{name: bookstore.v1.Bookstore, upstream: gone}]\n"
	if err := os.WriteFile(cfg, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := closedPort(t)
	p := startStrait(t, "serve", "--config", cfg, "--listen", addr, "--upstream", startDemo(t))
	waitListening(t, addr)
	if code, v := getJSON(t, "http://"+addr+"/v1/shelves/2"); code != 200 || v["theme"] != "Science" {
		t.Errorf("GET /v1/shelves/2: got %d %v; want 200 and the Science shelf", code, v)
	}
	p.stop(t)
}

// TestDemo runs `strait demo` as a user would and lists the shelves.
func TestDemo(t *testing.T) {
	addr := closedPort(t)
	p := startStrait(t, "demo", "--listen", addr)
	waitListening(t, addr)
	code, v := getJSON(t, "http://"+addr+"/v1/shelves")
	shelves, _ := v["shelves"].([]any)
	if code != 200 || len(shelves) != 2 {
		t.Errorf("GET /v1/shelves: got %d %v; want 200 and two shelves", code, v)
	}
	p.stop(t)
	if out := p.stdout.String(); !strings.Contains(out, "curl -s "+addr+"/v1/shelves\n") || !strings.Contains(out, demoCurls(addr)) {
		t.Errorf("stdout: got %q; want the curl commands for %s", out, addr)
	}
}

// TestDemoCalls runs every request `strait demo` suggests against a real
// `strait demo`, in order (some depend on earlier ones).
func TestDemoCalls(t *testing.T) {
	addr := closedPort(t)
	p := startStrait(t, "demo", "--listen", addr)
	waitListening(t, addr)
	defer p.stop(t)
	h2c := &http.Client{Transport: &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
	for _, c := range demoCalls {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req, _ := http.NewRequestWithContext(ctx, c.method, "http://"+addr+c.target, strings.NewReader(c.body))
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		hc := http.DefaultClient
		if strings.Contains(c.flags, "http2") {
			hc = h2c
		}
		resp, err := hc.Do(req)
		if err != nil {
			cancel()
			t.Fatalf("%s %s: %v", c.method, c.target, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		if resp.StatusCode != c.status || !json.Valid(firstLine(body)) {
			t.Errorf("%s %s: got %d %s; want %d and JSON", c.method, c.target, resp.StatusCode, body, c.status)
		}
	}
}

// firstLine is the first JSON document of a (possibly streamed) body.
func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}
