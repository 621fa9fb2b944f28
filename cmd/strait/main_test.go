package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/straitgw/strait/engine"
	"github.com/straitgw/strait/transcode"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// straitBin is the binary built once by TestMain.
var straitBin string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "strait-cmd-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	straitBin = filepath.Join(dir, "strait")
	out, err := exec.Command("go", "build", "-o", straitBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is a finished strait run.
type result struct {
	stdout, stderr string
	code           int
}

// strait runs the binary to completion (at most 20s).
func strait(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, straitBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("strait %v: %v", args, err)
	}
	return result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
}

// oneLine fails unless r exited with code and printed exactly one stderr
// line containing want.
func (r result) oneLine(t *testing.T, code int, want string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code: got %d; want %d (stderr %q)", r.code, code, r.stderr)
	}
	if n := strings.Count(r.stderr, "\n"); n != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Errorf("stderr: got %d lines %q; want one line", n, r.stderr)
	}
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr: got %q; want it to contain %q", r.stderr, want)
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// listener returns a loopback listener that accepts and holds connections,
// closed when the test ends: a reachable "upstream" or an occupied port.
func listener(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	return ln
}

const bookstorePB = "../../internal/demo/bookstore.pb"

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--bogus"}, "strait serve: flag provided but not defined: -bogus (strait serve -h for help)"},
		{[]string{"serve", "--listen"}, "strait serve: flag needs an argument: -listen"},
		{[]string{"serve"}, "strait serve: give --listen, --upstream and --descriptors, or --config"},
		{[]string{"check"}, "strait check: give --config FILE"},
		{[]string{"routes", "extra"}, `strait routes: unexpected argument "extra"`},
		{[]string{"demo", "--port", "1"}, "flag provided but not defined: -port"},
		{[]string{"frobnicate"}, `strait: unknown command "frobnicate"`},
	}
	for _, tt := range tests {
		r := strait(t, tt.args...)
		r.oneLine(t, exitUsage, tt.want)
		if r.stdout != "" {
			t.Errorf("%v: stdout %q; want none", tt.args, r.stdout)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	if r := strait(t, "serve", "-h"); r.code != 0 || !strings.Contains(r.stdout, "-upstream host:port") {
		t.Errorf("serve -h: got %d %q; want 0 and the flag list", r.code, r.stdout)
	}
	if r := strait(t, "-h"); r.code != 0 || !strings.Contains(r.stdout, "strait demo") {
		t.Errorf("-h: got %d %q; want 0 and the command list", r.code, r.stdout)
	}
	if r := strait(t); r.code != exitUsage || !strings.Contains(r.stderr, "Usage:") {
		t.Errorf("no args: got %d %q; want usage and exit 2", r.code, r.stderr)
	}
	r := strait(t, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "strait ") || !strings.Contains(r.stdout, "go1.") {
		t.Errorf("version: got %d %q", r.code, r.stdout)
	}
}

func TestServeFailsInOneLine(t *testing.T) {
	up := listener(t).Addr().String()
	busy := listener(t).Addr().String()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing descriptor file", []string{"--listen", "127.0.0.1:0", "--upstream", up, "--descriptors", "/nonexistent/api.pb"},
			"strait: descriptors[0]: /nonexistent/api.pb: no such file or directory"},
		{"port in use", []string{"--listen", busy, "--upstream", up, "--descriptors", bookstorePB},
			"strait: listen " + busy + ": address already in use"},
		{"bad listen", []string{"--listen", "8080", "--upstream", up, "--descriptors", bookstorePB},
			`strait: listen: "8080" is not host:port`},
		{"missing config", []string{"--config", "/nonexistent/strait.yaml"},
			"strait: open /nonexistent/strait.yaml: no such file or directory"},
		{"not a descriptor set", []string{"--listen", "127.0.0.1:0", "--upstream", up, "--descriptors", "main.go"},
			"strait: main.go: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			strait(t, append([]string{"serve"}, tt.args...)...).oneLine(t, exitError, tt.want)
		})
	}
}

// TestServeSomeEndpointsDown: a live endpoint is enough to start; the dead
// one is a warning. The gateway then runs until SIGINT.
func TestServeSomeEndpointsDown(t *testing.T) {
	up := listener(t).Addr().String()
	down := closedPort(t)
	addr := closedPort(t)
	p := startStrait(t, "serve", "--listen", addr, "--upstream", up, "--upstream", down, "--descriptors", bookstorePB)
	waitListening(t, addr)
	stderr := p.stop(t)
	if !strings.Contains(stderr, "warning: upstream \"default\" endpoint "+down+": connection refused") {
		t.Errorf("stderr: got %q; want a warning about %s", stderr, down)
	}
}

func TestCheck(t *testing.T) {
	r := strait(t, "check", "--config", "../../examples/strait.yaml")
	if r.code != 0 || !strings.Contains(r.stdout, "examples/strait.yaml: OK (2 upstreams, ") {
		t.Errorf("example: got %d %q %q; want OK", r.code, r.stdout, r.stderr)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	src := "listen: 127.0.0.1:8080\ndescriptors: [" + filepath.Join("..", "..", "..", "nowhere.pb") + "]\nupstreams:\n  - name: a\n    endpoint: 127.0.0.1:1\ntimeouts:\n  idle: forever\n"
	if err := os.WriteFile(bad, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r = strait(t, "check", "--config", bad)
	want := "strait: " + bad + ":5:5: upstreams[0].endpoint: unknown key \"endpoint\" (did you mean \"endpoints\"?)\n" +
		"strait: " + bad + ":7:9: timeouts.idle: want a duration such as \"5s\" or \"250ms\", got \"forever\"\n"
	if r.code != exitError || r.stderr != want {
		t.Errorf("got %d\n%s\nwant 1\n%s", r.code, r.stderr, want)
	}
	// Loading succeeds here; validation finds two problems.
	src = "listen: 127.0.0.1:8080\ndescriptors: [missing.pb]\nupstreams:\n  - name: a\n    endpoints: []\n"
	if err := os.WriteFile(bad, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r = strait(t, "check", "--config", bad)
	want = "strait: " + bad + ":2:15: descriptors[0]: " + filepath.Join(filepath.Dir(bad), "missing.pb") + ": no such file or directory\n" +
		"strait: " + bad + ":5:16: upstreams[0].endpoints: no endpoints: list at least one host:port\n"
	if r.code != exitError || r.stderr != want {
		t.Errorf("got %d\n%s\nwant 1\n%s", r.code, r.stderr, want)
	}
}

func TestCheckUnknownService(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "s.yaml")
	pb, _ := filepath.Abs(bookstorePB)
	src := "listen: 127.0.0.1:8080\ndescriptors: [" + pb + "]\nupstreams: [{name: a, endpoints: [\"127.0.0.1:1\"]}]\nservices:\n  - {name: bookstore.v1.Bookshop, upstream: a}\n"
	if err := os.WriteFile(cfg, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	strait(t, "check", "--config", cfg).oneLine(t, exitError,
		cfg+`:5:12: services[0].name: "bookstore.v1.Bookshop" is not a service in the descriptors`)
}

func TestRoutes(t *testing.T) {
	r := strait(t, "routes", "--descriptors", bookstorePB)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("got %d %q", r.code, r.stderr)
	}
	golden := filepath.Join("testdata", "routes.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if r.stdout != string(want) {
		t.Errorf("got\n%s\nwant\n%s", r.stdout, want)
	}
	if !strings.Contains(r.stdout, "GET /v1/shelves/{shelf} -> bookstore.v1.Bookstore.GetShelf\n") {
		t.Errorf("missing the GetShelf route")
	}
	all := strait(t, "routes", "--all", "--config", "../../examples/strait.yaml")
	if !strings.Contains(all.stdout, "POST /bookstore.v1.Bookstore/GetShelf -> ") {
		t.Errorf("--all: got %q; want the default routes too", all.stdout)
	}
	strait(t, "routes", "--descriptors", "nope.pb").oneLine(t, exitError, "strait: open nope.pb: no such file or directory")
}

func TestDemoPortInUse(t *testing.T) {
	busy := listener(t).Addr().String()
	strait(t, "demo", "--listen", busy).oneLine(t, exitError,
		"strait: listen "+busy+": address already in use (pick another port with --listen)")
}

// TestPrintRoutes: a method without an http rule shows its default route;
// with --all every default route shows.
func TestPrintRoutes(t *testing.T) {
	rs := []transcode.RouteInfo{
		{HTTPMethod: "GET", Template: "/v1/a", RPC: "p.S.A"},
		{HTTPMethod: "POST", Template: "/p.S/A", RPC: "p.S.A", Body: "*", Default: true},
		{HTTPMethod: "POST", Template: "/p.S/B", RPC: "p.S.B", Body: "*", Default: true},
	}
	for _, tt := range []struct {
		all  bool
		want string
	}{
		{false, "GET /v1/a -> p.S.A\nPOST /p.S/B -> p.S.B (body \"*\")\n"},
		{true, "GET /v1/a -> p.S.A\nPOST /p.S/A -> p.S.A (body \"*\")\nPOST /p.S/B -> p.S.B (body \"*\")\n"},
	} {
		var b strings.Builder
		engine.WriteRoutes(&b, rs, tt.all)
		if b.String() != tt.want {
			t.Errorf("all=%v: got\n%s\nwant\n%s", tt.all, b.String(), tt.want)
		}
	}
}
