package engine

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/straitgw/strait/tlsconn"
	"github.com/straitgw/strait/upstream"
)

// Reload swaps in a new configuration without dropping a request. cfg and
// files compile into a new snapshot: upstreams the running snapshot has
// with the same settings keep their pools and connections, new ones are
// dialed first (for up to timeouts.connect). The swap is one atomic store;
// requests in flight finish on the snapshot they started with, and
// upstreams no longer configured drain (no new streams, GOAWAY once their
// streams end). A configuration that does not compile is rejected with
// the reason and the running one keeps serving. The listen and admin
// addresses change at the next start only.
func (e *Engine) Reload(cfg Config, files *protoregistry.Files) error {
	return e.reloadOver(nil, cfg, files)
}

// reloadOver reloads unless the snapshot in force is no longer over (a
// reflection refresh built from a configuration reloaded meanwhile).
func (e *Engine) reloadOver(over *snapshot, cfg Config, files *protoregistry.Files) error {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	if over != nil && e.snap.Load() != over {
		return nil
	}
	err := e.reload(cfg, files)
	if err != nil {
		e.ReloadFailed(err)
		return err
	}
	e.metrics.reloads.Add(1)
	return nil
}

// ReloadFailed counts a reload that failed before it reached Reload (the
// file would not load, or its descriptors would not): the running
// configuration keeps serving.
func (e *Engine) ReloadFailed(error) { e.metrics.reloadsRejected.Add(1) }

func (e *Engine) reload(cfg Config, files *protoregistry.Files) error {
	select {
	case <-e.done:
		return errors.New("engine closed")
	default:
	}
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := cfg.CheckServices(files); err != nil {
		return err
	}
	old := e.snap.Load()
	if cfg.Listen != old.cfg.Listen || cfg.Admin != old.cfg.Admin {
		e.log.Warn("listen and admin addresses change at the next start only")
		cfg.Listen, cfg.Admin = old.cfg.Listen, old.cfg.Admin
	}
	certs, err := e.reloadTLS(&cfg, old.cfg)
	if err != nil {
		return err
	}
	s, err := e.compileFrom(cfg, files, old)
	if err != nil {
		return err
	}
	if err := e.reloadAccessLog(cfg.AccessLog); err != nil {
		s.closeNew(old)
		return fmt.Errorf("access_log: %w", err)
	}
	if certs != nil {
		e.tls.Swap(certs) // with the snapshot: certificates and routes of one configuration
		e.tlsm.reloads.Add(1)
	}
	s.version = old.version + 1
	s.warmNew(old, cfg.Timeouts.Connect)
	e.snap.Store(s)
	retire(old, s, cfg.Timeouts.Connect+time.Second)
	e.retireTracer(old, s, cfg.Timeouts.Drain)
	return nil
}

// reloadTLS loads the listener certificates cfg names, to swap in with
// its snapshot (nil without TLS). Turning TLS on or off takes a restart,
// like the listen address: cfg keeps the running choice.
func (e *Engine) reloadTLS(cfg *Config, old Config) (*tlsconn.Certs, error) {
	if cfg.TLS.Enabled() != (e.tls != nil) {
		e.log.Warn("tls on the listen port is turned on or off at the next start only")
		cfg.TLS = old.TLS
	}
	if e.tls == nil {
		return nil, nil
	}
	certs, err := tlsconn.LoadServer(cfg.TLS.Files())
	if err != nil {
		e.tlsm.reloadsRejected.Add(1)
		return nil, fmt.Errorf("tls: %w", err)
	}
	return certs, nil
}

// poolKey is what a pool depends on: a pool is reused across a reload
// when its upstream's key is the same.
func poolKey(u UpstreamConfig, cfg Config) string {
	u.CircuitBreaker = CircuitBreaker{} // bounds change without a redial
	// The TLS files' contents count: a changed certificate dials anew.
	return fmt.Sprintf("%#v|%v|%d|%s", u, cfg.Timeouts.Connect, cfg.Limits.MaxBodyBytes, u.TLS.digest())
}

// warmNew starts dialing the pools s does not share with old and waits,
// up to wait, until each has a ready connection (or not: a backend down
// at reload must not block it).
func (s *snapshot) warmNew(old *snapshot, wait time.Duration) {
	var fresh []*upstream.Pool
	for _, p := range s.pools {
		if !old.owns(p) {
			p.Warm()
			fresh = append(fresh, p)
		}
	}
	deadline := time.Now().Add(wait)
	for _, p := range fresh {
		for !p.Ready() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// retire closes old's pools that s does not use, after grace: a request
// that loaded old just before the swap may still open a stream on one.
func retire(old, s *snapshot, grace time.Duration) {
	for _, p := range old.pools {
		if !s.owns(p) {
			time.AfterFunc(grace, p.Close)
		}
	}
	time.AfterFunc(grace, func() { closeFilters(old, s) })
}

func (s *snapshot) owns(p *upstream.Pool) bool {
	for _, q := range s.pools {
		if q == p {
			return true
		}
	}
	return false
}

// digest identifies a descriptor registry's content, so that a reflection
// refresh that finds nothing new does not reload.
func digest(files *protoregistry.Files) [32]byte {
	var fs []protoreflect.FileDescriptor
	files.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		fs = append(fs, f)
		return true
	})
	slices.SortFunc(fs, func(a, b protoreflect.FileDescriptor) int { return strings.Compare(a.Path(), b.Path()) })
	h := sha256.New()
	for _, f := range fs {
		b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(protodesc.ToFileDescriptorProto(f))
		h.Write(b)
	}
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// ConfigVersion is the version of the configuration in force: 1 at start,
// one more per reload.
func (e *Engine) ConfigVersion() int64 { return e.snap.Load().version }
