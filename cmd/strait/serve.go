package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/straitgw/strait/engine"
)

// probeTimeout bounds the startup dial of each upstream endpoint.
const probeTimeout = time.Second

// gatewayFlags are the flags serve and check share. Each given flag
// overrides the configuration file.
type gatewayFlags struct {
	config      string
	listen      string
	admin       string
	upstreams   listFlag
	descriptors listFlag
	reflection  bool
	tlsCert     string
	tlsKey      string
	tlsClientCA string
	accessLog   string
}

func (g *gatewayFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&g.config, "config", "", "YAML configuration `file` (flags given too override it)")
	fs.StringVar(&g.listen, "listen", "", "`address` serving REST/JSON, gRPC and gRPC-Web, e.g. 127.0.0.1:8080")
	fs.StringVar(&g.admin, "admin", "", "`address` serving /metrics, /debug/pprof/, /healthz, /readyz (empty: none)")
	fs.Var(&g.upstreams, "upstream", "gRPC server `host:port` for every service (repeat for more endpoints; replaces the file's upstreams)")
	fs.Var(&g.descriptors, "descriptors", "FileDescriptorSet `file` from protoc --include_imports (repeatable; replaces the file's list)")
	fs.BoolVar(&g.reflection, "reflection", false, "also load descriptors from the upstreams through gRPC server reflection")
	fs.StringVar(&g.tlsCert, "tls-cert", "", "PEM certificate `file`: the listen port serves TLS (ALPN h2, http/1.1); with --tls-key")
	fs.StringVar(&g.tlsKey, "tls-key", "", "PEM private key `file` of --tls-cert")
	fs.StringVar(&g.tlsClientCA, "tls-client-ca", "", "PEM CA bundle `file`: require and verify client certificates (mTLS)")
	fs.StringVar(&g.accessLog, "access-log", "", "write a JSON line per request to `path` (stdout or a file; SIGHUP reopens it)")
}

// load builds the configuration: the file if any, then the flags that were
// given, then defaults. It does not validate.
func (g *gatewayFlags) load(fs *flag.FlagSet) (engine.Config, error) {
	var cfg engine.Config
	if g.config != "" {
		c, err := engine.LoadConfig(g.config)
		if err != nil {
			return cfg, err
		}
		cfg = c
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "listen":
			cfg.Listen = g.listen
		case "admin":
			cfg.Admin = g.admin
		case "descriptors":
			cfg.Descriptors = g.descriptors
		case "tls-cert":
			cfg.TLS.CertFile = g.tlsCert
		case "tls-key":
			cfg.TLS.KeyFile = g.tlsKey
		case "tls-client-ca":
			cfg.TLS.ClientCAFile = g.tlsClientCA
		case "access-log":
			cfg.AccessLog = engine.AccessLogConfig{Path: g.accessLog}
		case "upstream":
			// One upstream takes every service, as the flags-only form promises.
			cfg.Upstreams = []engine.UpstreamConfig{{Name: "default", Endpoints: g.upstreams}}
			cfg.Services = nil
		}
	})
	if g.reflection {
		for i := range cfg.Upstreams {
			cfg.Upstreams[i].Reflection = true
		}
	}
	cfg.Defaults()
	return cfg, nil
}

func serve(args []string, stdout, stderr io.Writer) error {
	var g gatewayFlags
	fs := newFlags("serve", "--listen ADDR --upstream ADDR --descriptors FILE.pb [--admin ADDR] [--config strait.yaml]", stdout)
	g.register(fs)
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if g.config == "" && fs.NFlag() == 0 {
		fmt.Fprintln(stderr, "strait serve: give --listen, --upstream and --descriptors, or --config (strait serve -h for help)")
		return errUsage
	}
	cfg, err := g.load(fs)
	if err != nil {
		return err
	}
	files, err := cfg.Check()
	if err != nil {
		return err
	}
	probeUpstreams(cfg.Upstreams, stderr)
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(cfg.Limits.MemoryLimit)
	}
	e, err := engine.NewWithDescriptors(cfg, files)
	if err != nil {
		return err
	}
	// Signals are caught before the port opens: one that arrives as soon
	// as a client can connect must shut down, not kill.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := e.Start(); err != nil {
		e.Close()
		return err
	}
	fmt.Fprintf(stderr, "strait: serving on %s%s; upstreams %s\n", e.Addr(), adminNote(e), upstreamList(cfg.Upstreams))
	startReloader(ctx, e, cfg, func() (engine.Config, error) { return g.load(fs) }, stderr)
	<-ctx.Done()
	return shutdown(e, stderr)
}

// shutdown drains e (requests in flight finish within timeouts.drain); a
// second signal closes at once.
func shutdown(e *engine.Engine, stderr io.Writer) error {
	fmt.Fprintln(stderr, "strait: draining (a second signal stops at once)")
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(again)
	done := make(chan error, 1)
	go func() { done <- e.Shutdown() }()
	select {
	case err := <-done:
		fmt.Fprintln(stderr, "strait: stopped")
		return err
	case <-again:
		fmt.Fprintln(stderr, "strait: stopping now")
		return e.Close()
	}
}

func adminNote(e *engine.Engine) string {
	if a := e.AdminAddr(); a != nil {
		return ", admin on " + a.String()
	}
	return ""
}

func upstreamList(us []engine.UpstreamConfig) string {
	var parts []string
	for _, u := range us {
		parts = append(parts, u.Name+"="+strings.Join(u.Endpoints, ","))
	}
	return strings.Join(parts, " ")
}

// probeUpstreams dials every endpoint once, concurrently, and warns of
// those that do not accept a connection. A gateway starts whatever its
// upstreams' state (the lifecycle contract): in a cluster, upstreams often
// come up after it, and the pools keep dialing them.
func probeUpstreams(us []engine.UpstreamConfig, stderr io.Writer) {
	errs := make([][]error, len(us))
	var wg sync.WaitGroup
	for i, u := range us {
		errs[i] = make([]error, len(u.Endpoints))
		for j, ep := range u.Endpoints {
			wg.Go(func() { errs[i][j] = dial(ep) })
		}
	}
	wg.Wait()
	for i, u := range us {
		var down []string
		for j, err := range errs[i] {
			if err != nil {
				down = append(down, u.Endpoints[j]+": "+err.Error())
			}
		}
		for _, d := range down {
			fmt.Fprintf(stderr, "strait: warning: upstream %q endpoint %s\n", u.Name, d)
		}
		if len(down) == len(u.Endpoints) {
			fmt.Fprintf(stderr, "strait: warning: upstream %q: no endpoint reachable yet; its requests get UNAVAILABLE (503) and /readyz says 503 until one answers\n", u.Name)
		}
	}
}

// dial opens and closes one TCP connection, reducing the error to its cause
// ("connection refused", "no answer within 1s").
func dial(addr string) error {
	c, err := net.DialTimeout("tcp", addr, probeTimeout)
	if err == nil {
		return c.Close()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("no answer within %v", probeTimeout)
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err
	}
	var de *net.DNSError
	if errors.As(err, &de) {
		return fmt.Errorf("cannot resolve %s", de.Name)
	}
	return err
}
