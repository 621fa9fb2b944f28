//go:build unix

package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/echo"
	"github.com/straitgw/strait/internal/testutil"
)

// The cases e2e/browser/page.js runs from each origin.
var (
	browserAllowedCases = []string{"rest/unary", "rest/error", "rest/stream",
		"grpcweb/unary", "grpcweb/unary-json", "grpcweb/server-stream",
		"grpcweb/unary-error", "grpcweb/server-stream-error"}
	browserDeniedCases = []string{"rest/preflighted", "rest/simple-get", "grpcweb/unary"}
)

// browserTenant is the X-Tenant value page.js sends on its REST calls.
const browserTenant = "tenant-browser-42"

// browserVariant is one way the browser reaches the gateway: cleartext
// (HTTP/1.1: browsers speak no h2c), or TLS (the listener's `tls:` block
// with a certificate made here, which Chromium trusts by its key's hash;
// ALPN then gives h2).
type browserVariant struct {
	name string
	tls  bool
}

// TestBrowser runs the gateway's CORS, REST and gRPC-Web paths in a real
// browser: headless Chromium (Debian's chromium, driven by playwright-core
// from e2e/browser/drive.mjs) loads a page (e2e/browser/page.js, bundled
// with esbuild now) from an origin other than the gateway's, and the page
// calls strait in front of the echo upstream:
//
//   - REST with fetch: POST with a JSON body and X-Tenant (so a preflight),
//     the echoed X-Tenant read through cors.expose_headers, the gateway's
//     x-request-id, a header not exposed staying hidden, an error status
//     with its JSON body, a server stream as NDJSON;
//   - gRPC-Web with connect-web (messages from e2e/testdata/echo.pb at run
//     time): unary (+proto and +json), server streaming, an error status
//     with message and details, custom headers and trailers both ways;
//   - from a second origin, not allowed: the preflighted POST and the
//     gRPC-Web call are refused by the browser after a preflight without
//     Access-Control-Allow-Origin (and never reach the upstream), and a
//     simple GET's answer is hidden from the page.
//
// All of it in cleartext (HTTP/1.1), and over TLS too (h2 by ALPN, a certificate made here; DevTools must report
// the protocol each time).
//
// It needs chromium and `npm ci` in e2e/browser, which .ci/run does;
// without them it fails rather than skips.
func TestBrowser(t *testing.T) {
	env := browserSetup(t)
	variants := []browserVariant{{name: "cleartext"}, {name: "tls", tls: true}}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) { env.run(t, v) })
	}
}

// browserEnv is what every variant shares: the tools and the bundled page.
type browserEnv struct {
	node, chromium, dir string
	site                string // index.html and bundle.js
}

func browserSetup(t *testing.T) *browserEnv {
	t.Helper()
	e := &browserEnv{chromium: os.Getenv("STRAIT_CHROMIUM")}
	if e.chromium == "" {
		p, err := exec.LookPath("chromium")
		if err != nil {
			t.Fatal("chromium not found: `apt-get install chromium` (Debian's package, .ci/run installs it), or STRAIT_CHROMIUM=path")
		}
		e.chromium = p
	}
	var err error
	if e.node, err = exec.LookPath("node"); err != nil {
		t.Fatal("node not found: install Node.js 20+ and run `npm ci` in e2e/browser (.ci/run does)")
	}
	if e.dir, err = filepath.Abs("browser"); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"playwright-core", "esbuild", "@connectrpc/connect-web", ".bin/esbuild"} {
		if _, err := os.Stat(filepath.Join(e.dir, "node_modules", m)); err != nil {
			t.Fatalf("e2e/browser/node_modules/%s missing: run `npm ci` in e2e/browser (.ci/run does)", m)
		}
	}

	// Bundle the page with esbuild, the descriptor set inside.
	e.site = t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// node_modules/.bin/esbuild is the native binary, or (when npm ran no
	// install scripts) a Node.js launcher of it.
	cmd := exec.CommandContext(ctx, filepath.Join(e.dir, "node_modules", ".bin", "esbuild"), "page.js", "--bundle", "--format=iife", "--target=es2020", "--loader:.pb=binary", "--log-level=warning",
		"--outfile="+filepath.Join(e.site, "bundle.js"))
	cmd.Dir = e.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("esbuild: %v\n%s", err, out)
	}
	const index = `<!doctype html><meta charset="utf-8"><title>strait browser test</title><script src="/bundle.js"></script>`
	if err := os.WriteFile(filepath.Join(e.site, "index.html"), []byte(index), 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

// servePage serves the bundled page on a loopback port of its own: an
// origin other than the gateway's.
func (e *browserEnv) servePage(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(e.site)))
	mux.HandleFunc("/favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// startBrowserGateway runs an echo upstream and `strait serve --config`
// with CORS open to origin, exposing the headers the page reads. It
// returns the gateway's URL and the Chromium flags that reach it.
func startBrowserGateway(t *testing.T, origin string, v browserVariant) (string, *echo.Server, []string) {
	t.Helper()
	up := echo.Start(t)
	listen, admin := testutil.FreeAddr(t), testutil.FreeAddr(t)
	scheme, tlsCfg, flags := "http", "", []string(nil)
	if v.tls {
		cert, key, spki := browserCert(t)
		scheme, tlsCfg = "https", fmt.Sprintf("tls: {cert_file: %q, key_file: %q}\n", cert, key)
		// Trust this certificate only (the flag needs --user-data-dir,
		// which playwright always passes).
		flags = []string{"--ignore-certificate-errors-spki-list=" + spki}
	}
	cfg := fmt.Sprintf(`listen: %s
admin: %s
descriptors: [%q]
upstreams:
  - name: echo
    endpoints: [%s]
cors:
  allow_origins: [%q]
  expose_headers: [x-tenant, x-custom-header, x-custom-bin]
%s`, listen, admin, echoDescriptors(t), up.Addr, origin, tlsCfg)
	p := filepath.Join(t.TempDir(), "strait.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	runStrait(t, listen, "serve", "--config", p)
	return scheme + "://" + listen, up, flags
}

// browserCert writes a self-signed certificate for 127.0.0.1 and its key,
// and returns their paths and the base64 SHA-256 of the public key, which
// --ignore-certificate-errors-spki-list takes.
func browserCert(t *testing.T) (certFile, keyFile, spki string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "strait browser test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return certFile, keyFile, base64.StdEncoding.EncodeToString(sum[:])
}

// The driver's report (drive.mjs).
type browserReport struct {
	Version string
	Pages   []struct {
		Name    string
		Results []struct {
			Name, Error string
			OK          bool
			Info        map[string]any
		}
		Preflights []struct{ URL, Method, Origin string }
		Responses  []struct {
			URL, Method, Protocol string
			Status                int
		}
		CORSErrors []struct {
			URL, Method, CORSError, FailedParameter string
		} `json:"corsErrors"`
		Console []string
	}
}

func (e *browserEnv) run(t *testing.T, v browserVariant) {
	allowedOrigin, deniedOrigin := e.servePage(t), e.servePage(t)
	gw, up, flags := startBrowserGateway(t, allowedOrigin, v)
	runID := "browser-" + v.name
	page := func(origin, mode string) string {
		return fmt.Sprintf("%s/index.html?gateway=%s&mode=%s&run=%s", origin, gw, mode, runID)
	}
	cfg, _ := json.Marshal(map[string]any{
		"chromium":  e.chromium,
		"timeoutMs": 30000,
		"args":      flags,
		"pages": []map[string]string{
			{"name": "allowed", "url": page(allowedOrigin, "allowed")},
			{"name": "denied", "url": page(deniedOrigin, "denied")},
		},
	})
	rep := e.drive(t, string(cfg))
	t.Logf("%s; page origins %s (allowed) and %s (denied), gateway %s", rep.Version, allowedOrigin, deniedOrigin, gw)
	if len(rep.Pages) != 2 {
		t.Fatalf("driver reported %d pages; want 2", len(rep.Pages))
	}

	for i, want := range [][]string{browserAllowedCases, browserDeniedCases} {
		pg := rep.Pages[i]
		var names []string
		for _, r := range pg.Results {
			names = append(names, r.Name)
			if !r.OK {
				t.Errorf("%s page: %s: %s (info %v)", pg.Name, r.Name, r.Error, r.Info)
			}
		}
		if !slices.Equal(names, want) {
			t.Errorf("%s page ran %q; want %q", pg.Name, names, want)
		}
		if t.Failed() {
			t.Logf("%s page console:\n%s", pg.Name, strings.Join(pg.Console, "\n"))
		}
	}
	allowed, denied := rep.Pages[0], rep.Pages[1]
	info := func(pg int, name string) map[string]any {
		for _, r := range rep.Pages[pg].Results {
			if r.Name == name {
				return r.Info
			}
		}
		return nil
	}

	// The browser itself sent the preflights (DevTools saw them), from
	// both origins, for the REST POST and for gRPC-Web.
	for _, pg := range []struct {
		name, origin string
		pre          []struct{ URL, Method, Origin string }
	}{{"allowed", allowedOrigin, allowed.Preflights}, {"denied", deniedOrigin, denied.Preflights}} {
		for _, path := range []string{"/v1/echo", "/strait.test.v1.Echo/Unary"} {
			if !slices.ContainsFunc(pg.pre, func(p struct{ URL, Method, Origin string }) bool {
				return p.URL == gw+path && p.Method == "OPTIONS" && (p.Origin == "" || p.Origin == pg.origin)
			}) {
				t.Errorf("%s page: no preflight for %s seen; preflights %+v", pg.name, path, pg.pre)
			}
		}
	}
	// Every answer from the gateway came over the protocol the variant
	// stands for: HTTP/1.1 in cleartext, h2 (by ALPN) over TLS.
	wantProto := map[bool]string{false: "http/1.1", true: "h2"}[v.tls]
	n := 0
	for _, pg := range rep.Pages {
		for _, r := range pg.Responses {
			if strings.HasPrefix(r.URL, gw+"/") {
				n++
				if r.Protocol != wantProto {
					t.Errorf("%s page: %s %s answered over %q; want %s", pg.Name, r.Method, r.URL, r.Protocol, wantProto)
				}
			}
		}
	}
	if n == 0 {
		t.Errorf("DevTools saw no response from the gateway")
	}
	if len(allowed.CORSErrors) != 0 {
		t.Errorf("allowed page: CORS errors %+v", allowed.CORSErrors)
	}
	// The disallowed origin: each call refused by the browser, for the
	// reason the policy gives.
	for _, want := range []struct{ url, method, err string }{
		{gw + "/v1/echo", "POST", "PreflightMissingAllowOriginHeader"},
		{gw + "/strait.test.v1.Echo/Unary", "POST", "PreflightMissingAllowOriginHeader"},
		{gw + "/v1/echo/" + runID + "-simple", "GET", "MissingAllowOriginHeader"},
	} {
		if !slices.ContainsFunc(denied.CORSErrors, func(c struct{ URL, Method, CORSError, FailedParameter string }) bool {
			return c.URL == want.url && c.Method == want.method && c.CORSError == want.err
		}) {
			t.Errorf("denied page: no %s CORS error for %s %s; CORS errors %+v", want.err, want.method, want.url, denied.CORSErrors)
		}
	}

	// Upstream: the REST call arrived with X-Tenant and the x-request-id
	// the page read; the refused calls never arrived.
	if in := info(0, "rest/unary"); in != nil {
		id, _ := in["reqId"].(string)
		if rec := up.Take(id, 2*time.Second); rec == nil {
			t.Errorf("upstream never saw the REST call %s", id)
		} else {
			if got := rec.MD.Get("x-tenant"); !slices.Equal(got, []string{browserTenant}) {
				t.Errorf("upstream x-tenant %q; want %q", got, browserTenant)
			}
			// One id: the gateway's, also the one the upstream got.
			if got, read := rec.MD.Get("x-request-id"), in["requestId"]; len(got) != 1 || got[0] != read {
				t.Errorf("rest/unary: response x-request-id %q as the page read it (duplicates joined with \", \" by the browser); want the one id the upstream got, %q", read, got)
			}
		}
	}
	for _, name := range []string{"rest/preflighted", "grpcweb/unary"} {
		if id, _ := info(1, name)["reqId"].(string); id == "" {
			t.Errorf("denied page: %s reported no reqId", name)
		} else if rec := up.Take(id, 0); rec != nil || up.Headers(id) != nil {
			t.Errorf("denied page: %s reached the upstream (%s)", name, id)
		}
	}
}

// drive runs drive.mjs with cfg and decodes its report; Chromium and all
// it started are killed with the driver's process group at the deadline.
func (e *browserEnv) drive(t *testing.T, cfg string) *browserReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.node, "drive.mjs", cfg)
	cmd.Dir = e.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // whatever Chromium left behind
	}
	t.Logf("browser run: %v", time.Since(start).Round(time.Millisecond))
	var rep browserReport
	if jerr := json.Unmarshal([]byte(stdout.String()), &rep); err != nil || jerr != nil {
		t.Fatalf("drive.mjs: %v (%v); output %q\n%s", err, jerr, stdout.String(), stderr.String())
	}
	return &rep
}
