package harness

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The gateway under test gets CPU 1 alone; the load tool and the upstream
// share CPU 0.
const (
	GatewayCPU = "1"
	LoadCPU    = "0"
)

// Gateway names, in table order. Baseline is the one ratios divide by.
const (
	Strait      = "strait"
	GRPCGateway = "grpc-gateway"
	Vanguard    = "vanguard"
	NetHTTP     = "net/http"
	Nginx       = "nginx"
	Direct      = "direct"
	Baseline    = GRPCGateway
)

// AllGateways is every gateway the harness knows, in table order.
var AllGateways = []string{Strait, GRPCGateway, Vanguard, NetHTTP, Nginx, Direct}

// Gateway is one running gateway, or why it is not running.
type Gateway struct {
	Name  string
	Addr  string // host:port the load goes to
	Admin string // strait's admin address
	Proc  *Proc
	Err   error // start failure: its cells read "failed"
}

// Env is what every gateway start needs.
type Env struct {
	PerfDir  string
	TmpDir   string
	Procs    *Procs
	Upstream string // the shared upstream's address
	Desc     string // proto/bench.pb

	// Straits are the strait binaries by gateway name: "strait" (built from
	// this checkout unless -strait-bin strait=PATH) and any other added
	// with -strait-bin or -strait-rev. A binary that did not build has an
	// error in StraitErrs instead; its cells read failed.
	Straits    map[string]string
	StraitErrs map[string]error
	// StraitConfigs: a --config file for a strait gateway, by name.
	StraitConfigs map[string]string
}

// StraitBin is a strait binary to run as the gateway Name: a file (Path)
// or built from a git revision of the main module (Rev).
type StraitBin struct {
	Name, Path, Rev string
}

// ParseStraitBin reads NAME=PATH (or NAME=REV for revisions).
func ParseStraitBin(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, "=")
	if !ok || value == "" || !validStraitName(name) {
		return "", "", fmt.Errorf("harness: want NAME=VALUE with NAME strait or strait-SOMETHING, got %q", s)
	}
	return name, value, nil
}

func validStraitName(n string) bool {
	if n == Strait {
		return true
	}
	rest, ok := strings.CutPrefix(n, Strait+"-")
	if !ok || rest == "" || slices.Contains(AllGateways, n) {
		return false
	}
	for _, c := range rest {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// IsStrait says whether a gateway name is strait or a strait variant
// (strait-before, ...).
func IsStrait(name string) bool {
	return name == Strait || strings.HasPrefix(name, Strait+"-")
}

var gomaxprocs1 = []string{"GOMAXPROCS=1"}

// StartGateway starts name pinned to GatewayCPU and waits for its port. It
// never fails: a gateway that does not come up carries Err.
func (e *Env) StartGateway(name string) *Gateway {
	g := &Gateway{Name: name}
	if err := e.StraitErrs[name]; IsStrait(name) && err != nil {
		g.Err = fmt.Errorf("build: %w", err)
		return g
	}
	addr, err := FreePort()
	if err != nil {
		g.Err = err
		return g
	}
	g.Addr = addr
	g.Proc, g.Err = e.launch(g)
	if g.Err == nil {
		g.Err = WaitPort(g.Proc, addr, 20*time.Second)
	}
	if g.Err != nil && g.Proc != nil {
		g.Proc.Kill()
	}
	if g.Err != nil {
		log.Printf("%s did not start: %v", name, g.Err)
	}
	return g
}

func (e *Env) launch(g *Gateway) (*Proc, error) {
	bin := func(n string) string { return filepath.Join(e.PerfDir, "bin", n) }
	peer := func(kind string) (*Proc, error) {
		return e.Procs.Start(kind, GatewayCPU, gomaxprocs1, bin("peer"),
			"-kind", kind, "-listen", g.Addr, "-upstream", e.Upstream, "-descriptors", e.Desc)
	}
	if IsStrait(g.Name) {
		path, ok := e.Straits[g.Name]
		if !ok {
			return nil, fmt.Errorf("harness: no binary for %s (-strait-bin %s=PATH)", g.Name, g.Name)
		}
		admin, err := FreePort()
		if err != nil {
			return nil, err
		}
		g.Admin = admin
		args := []string{"serve", "--listen", g.Addr, "--upstream", e.Upstream, "--descriptors", e.Desc, "--admin", admin}
		if c := e.StraitConfigs[g.Name]; c != "" {
			args = append(args, "--config", c)
		}
		return e.Procs.Start(g.Name, GatewayCPU, gomaxprocs1, path, args...)
	}
	switch g.Name {
	case GRPCGateway:
		return peer("grpcgateway")
	case Vanguard:
		return peer("vanguard")
	case NetHTTP:
		return peer("nethttp")
	case Direct:
		return e.Procs.Start("direct", GatewayCPU, gomaxprocs1, bin("upstream"), "-listen", g.Addr)
	case Nginx:
		conf, err := e.nginxConf(g.Addr)
		if err != nil {
			return nil, err
		}
		return e.Procs.Start("nginx", GatewayCPU, nil, "nginx", "-p", e.TmpDir, "-c", conf, "-e", filepath.Join(e.TmpDir, "nginx-error.log"))
	}
	return nil, fmt.Errorf("harness: unknown gateway %q", g.Name)
}

// nginxConf writes a one-worker grpc_pass configuration whose every path is
// under TmpDir, so nginx needs nothing from /etc or /var.
func (e *Env) nginxConf(listen string) (string, error) {
	t := e.TmpDir
	conf := fmt.Sprintf(`daemon off;
master_process on;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/nginx-error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path %[1]s/nginx-body;
  proxy_temp_path %[1]s/nginx-proxy;
  fastcgi_temp_path %[1]s/nginx-fastcgi;
  uwsgi_temp_path %[1]s/nginx-uwsgi;
  scgi_temp_path %[1]s/nginx-scgi;
  http2_max_concurrent_streams 1000;
  keepalive_requests 1000000;
  upstream bench { server %[2]s; keepalive 64; }
  server {
    listen %[3]s http2;
    location / { grpc_pass grpc://bench; }
  }
}
`, t, e.Upstream, listen)
	path := filepath.Join(t, "nginx.conf")
	return path, os.WriteFile(path, []byte(conf), 0o644)
}
