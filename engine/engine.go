package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudwego/netpoll"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/metric"
	"github.com/straitgw/strait/tlsconn"
	"github.com/straitgw/strait/tracing"
	"github.com/straitgw/strait/transcode"
	"github.com/straitgw/strait/upstream"
)

// Engine is a running gateway: one listener serving HTTP/1.1, h2c, gRPC and
// gRPC-Web, an optional admin listener, and the upstream pools.
type Engine struct {
	snap    atomic.Pointer[snapshot]
	ln      net.Listener // netpoll's, or with TLS the standard library's
	loop    netpoll.EventLoop
	tls     *tlsconn.Server // the listener's certificates when it is TLS
	tlsm    tlsMetrics
	admin   *adminServer
	metrics metrics
	log     *slog.Logger
	done    chan struct{}

	reloadMu    sync.Mutex   // one reload at a time
	retryTokens atomic.Int64 // retry budget, thousandths of a token (attempt.go)

	// observers hear of every finished request (observe.go); set before
	// serving. obsKeep: an observer reads paths and request ids (the
	// access log is on; a reload may turn it on or off).
	observers []func(*observation)
	obsKeep   atomic.Bool
	telemetry telemetry // metrics and the access log (telemetry.go)

	// tracers are the snapshots' tracers not yet shut down (trace.go);
	// traceCounts counts their spans across reloads.
	tracersMu   sync.Mutex
	tracers     map[*tracing.Tracer]struct{}
	traceCounts tracing.Counters

	draining atomic.Bool // Drain has begun: /readyz says 503
	connsMu  sync.Mutex
	conns    map[*conn]struct{} // open client connections, for Drain
}

// snapshot is everything a request needs, built once from a Config; a
// request keeps the snapshot it started with.
type snapshot struct {
	version int64     // 1 at start, one more per reload
	loaded  time.Time // when it was compiled
	digest  [32]byte  // of the descriptors it was compiled from
	cfg     Config
	schema  *transcode.Schema
	router  *transcode.Router
	pools   []*upstream.Pool
	byName  map[string]*upstream.Pool
	keys    map[string]string // upstream name -> poolKey, for reuse by a reload
	bySvc   map[protoreflect.FullName]*upstream.Pool
	retries map[protoreflect.FullName]*retryPolicy
	headers *headerPolicy
	cors    *corsPolicy // nil: CORS off
	filters []filter.Entry
	chains  map[*transcode.Route]filter.Chain
	def     *upstream.Pool  // services not listed go here
	methods []*metric.Route // each method's metric children, by Route.MethodIndex
	// breakers are the upstreams' circuit breakers, by pool (breaker.go).
	breakers map[*upstream.Pool]*breaker
	tracer   *tracing.Tracer // nil: tracing off (trace.go)
	sampler  tracing.Sampler
}

// New validates cfg, loads descriptors and compiles routes. It binds nothing.
func New(cfg Config) (*Engine, error) {
	cfg.Defaults()
	files, err := cfg.LoadDescriptors()
	if err != nil {
		return nil, err
	}
	return NewWithDescriptors(cfg, files)
}

// NewWithDescriptors is New with the descriptors already loaded (by
// cfg.Check or cfg.LoadDescriptors): it reads no descriptor file and runs
// no server reflection, so a start loads each source once.
func NewWithDescriptors(cfg Config, files *protoregistry.Files) (*Engine, error) {
	cfg.Defaults()
	e := &Engine{done: make(chan struct{}), log: slog.Default(), conns: map[*conn]struct{}{},
		tracers: map[*tracing.Tracer]struct{}{}}
	e.retryTokens.Store(retryTokensMax)
	e.initTelemetry()
	s, err := e.compile(cfg, files)
	if err != nil {
		return nil, err
	}
	if err := e.openAccessLog(cfg.AccessLog); err != nil {
		s.closeNew(nil)
		return nil, err
	}
	e.snap.Store(s)
	return e, nil
}

func (e *Engine) compile(cfg Config, files *protoregistry.Files) (*snapshot, error) {
	s, err := e.compileFrom(cfg, files, nil)
	if s != nil {
		s.version = 1
	}
	return s, err
}

// compileFrom compiles cfg and files into a snapshot, reusing the pools
// of old (nil at start) whose upstream settings did not change.
func (e *Engine) compileFrom(cfg Config, files *protoregistry.Files, old *snapshot) (*snapshot, error) {
	tc := cfg.Transcode
	schema, err := transcode.NewSchema(files, transcode.Options{
		DiscardUnknown:  tc.IgnoreUnknownFields,
		MaxDepth:        cfg.Limits.MaxJSONDepth,
		EmitUnpopulated: tc.EmitUnpopulated,
		UseProtoNames:   tc.UseProtoNames,
		UseEnumNumbers:  tc.UseEnumNumbers,
	})
	if err != nil {
		return nil, fmt.Errorf("descriptors: %w", err)
	}
	router, err := transcode.NewRouter(files, schema, transcode.RouterOptions{DiscardUnknownQuery: tc.IgnoreUnknownQuery})
	if err != nil {
		return nil, fmt.Errorf("routes: %w", err)
	}
	s := &snapshot{cfg: cfg, schema: schema, router: router, loaded: time.Now(), digest: digest(files),
		byName: map[string]*upstream.Pool{}, bySvc: map[protoreflect.FullName]*upstream.Pool{},
		keys: map[string]string{}, retries: compileRetries(cfg.Services), headers: compileHeaders(cfg.Headers, len(cfg.CORS.AllowOrigins) > 0),
		cors: compileCORS(cfg.CORS, strings.ToLower(cfg.Headers.RequestID))}
	if err := cfg.checkSelectors(router); err != nil {
		return nil, err
	}
	if s.filters, err = e.filtersOf(&cfg, old); err != nil {
		return nil, err
	}
	s.compileChains()
	s.methods = e.methodStats(router)
	if err := s.buildPools(old, e.h2Panic); err != nil {
		s.closeNew(old)
		return nil, err
	}
	s.compileBreakers(old)
	if err := e.tracerFor(s, old); err != nil { // last: nothing after it fails
		s.closeNew(old)
		return nil, err
	}
	return s, nil
}

// closeNew closes the pools s made that old does not share (a snapshot
// that will not be used).
func (s *snapshot) closeNew(old *snapshot) {
	for _, p := range s.pools {
		if old == nil || !old.owns(p) {
			p.Close()
		}
	}
	if old == nil {
		old = &snapshot{}
	}
	closeFilters(s, old)
}

func (s *snapshot) buildPools(old *snapshot, onPanic func(*h2.PanicError)) error {
	cfg := s.cfg
	for _, u := range cfg.Upstreams {
		if len(u.Endpoints) == 0 {
			return fmt.Errorf("upstream %q: no endpoints", u.Name)
		}
		key := poolKey(u, cfg)
		p := old.reusable(u.Name, key)
		if p == nil {
			pc := poolConfig(cfg, u, onPanic)
			tc, err := u.TLS.ClientConfig()
			if err != nil {
				return fmt.Errorf("upstream %q: %w", u.Name, err)
			}
			pc.TLS = tc
			p = upstream.NewPool(u.Endpoints, pc)
			p.StartHealthChecks(u.HealthCheck, cfg.Timeouts.Connect)
		}
		s.keys[u.Name] = key
		s.pools = append(s.pools, p)
		s.byName[u.Name] = p
		if s.def == nil {
			s.def = p
		}
	}
	for _, sv := range cfg.Services {
		p, ok := s.byName[sv.Upstream]
		if !ok {
			return fmt.Errorf("service %s: unknown upstream %q", sv.Name, sv.Upstream)
		}
		s.bySvc[protoreflect.FullName(sv.Name)] = p
	}
	return nil
}

// poolConfig is an upstream's pool settings.
func poolConfig(cfg Config, u UpstreamConfig, onPanic func(*h2.PanicError)) upstream.Config {
	hc := upstreamH2Config(cfg)
	hc.KeepAlive, hc.PingTimeout = u.Keepalive, u.KeepaliveTimeout
	hc.PingMinInterval = u.PingMinInterval
	pc := upstream.Config{
		ConnsPerEndpoint: u.ConnsPerEndpoint,
		DialTimeout:      cfg.Timeouts.Connect,
		EjectAfter:       u.EjectAfter,
		BaseEjection:     u.EjectionTime,
		MaxEjection:      10 * u.EjectionTime,
		DNSRefresh:       u.DNSRefresh,
		H2:               hc,
		OnPanic:          onPanic,
	}
	if u.LB == "least_request" {
		pc.LB = upstream.LBLeastRequest
	}
	return pc
}

// reusable returns old's pool for upstream name if its settings are key.
func (s *snapshot) reusable(name, key string) *upstream.Pool {
	if s == nil || s.keys[name] != key {
		return nil
	}
	return s.byName[name]
}

// pool picks the upstream of a service.
func (s *snapshot) pool(svc protoreflect.FullName) *upstream.Pool {
	if p, ok := s.bySvc[svc]; ok {
		return p
	}
	return s.def
}

// nameOf is the configured name of pool p ("" for nil).
func (s *snapshot) nameOf(p *upstream.Pool) string {
	for name, q := range s.byName {
		if q == p && p != nil {
			return name
		}
	}
	return ""
}

// Router is the route table in force.
func (e *Engine) Router() *transcode.Router { return e.snap.Load().router }

// Start binds the listeners and starts serving: netpoll's event loop
// for cleartext, or a TLS accept loop (listen_tls.go) whose connections
// run the same callbacks.
func (e *Engine) Start() error {
	s := e.snap.Load()
	if err := e.listen(s.cfg); err != nil {
		return err
	}
	for _, p := range s.pools {
		p.Warm() // dials in the background: a down upstream delays nothing
	}
	e.refreshReflection()
	go e.watchBudget()
	if s.cfg.Admin != "" {
		a, err := startAdmin(s.cfg.Admin, e)
		if err != nil {
			e.Close()
			return err
		}
		e.admin = a
	}
	return nil
}

// Addr is the bound REST/gRPC address.
func (e *Engine) Addr() net.Addr { return e.ln.Addr() }

// AdminAddr is the bound admin address, or nil.
func (e *Engine) AdminAddr() net.Addr {
	if e.admin == nil {
		return nil
	}
	return e.admin.addr()
}

// Close stops listening, drains upstream connections and returns.
func (e *Engine) Close() error {
	select {
	case <-e.done:
		return nil
	default:
		close(e.done)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if e.loop != nil {
		_ = e.loop.Shutdown(ctx)
	}
	if e.tls != nil {
		e.closeTLS()
	}
	if e.admin != nil {
		e.admin.close()
	}
	s := e.snap.Load()
	for _, p := range s.pools {
		p.Close()
	}
	closeFilters(s, &snapshot{})
	e.closeTracers() // the spans of requests finished so far are exported
	e.closeTelemetry()
	return nil
}

func unwrapSyscall(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		var se *os.SyscallError
		if errors.As(op.Err, &se) {
			return se.Err
		}
		return op.Err
	}
	return err
}
