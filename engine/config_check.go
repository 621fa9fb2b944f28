package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/straitgw/strait/descriptors"
	"github.com/straitgw/strait/rpc"
)

// ErrConfig is matched (errors.Is) by every *ConfigError.
var ErrConfig = errors.New("engine: invalid configuration")

// Problem is one thing wrong with a configuration. Line and Col are 1-based
// and zero when unknown (a value from a flag, or a YAML syntax error, which
// has no column).
type Problem struct {
	File      string
	Line, Col int
	Path      string // e.g. "upstreams[0].endpoints[1]"; empty for the whole file
	Msg       string
}

// String formats the problem as "file:line:col: path: msg", leaving out the
// parts that are unknown.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" && p.Line > 0 {
		b.WriteString(p.File + ":" + strconv.Itoa(p.Line) + ":")
		if p.Col > 0 {
			b.WriteString(strconv.Itoa(p.Col) + ":")
		}
		b.WriteString(" ")
	} else if p.File != "" {
		b.WriteString(p.File + ": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// ConfigError lists every problem found, one per line in Error.
type ConfigError struct{ Problems []Problem }

func (e *ConfigError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Is makes errors.Is(err, ErrConfig) true.
func (e *ConfigError) Is(target error) bool { return target == ErrConfig }

// checker collects problems, placing each at the value it is about when the
// value still holds what LoadConfig read.
type checker struct {
	c        *Config
	problems []Problem
}

func (k *checker) add(path, value, format string, args ...any) {
	p := Problem{Path: path, Msg: fmt.Sprintf(format, args...)}
	if k.c.src != nil {
		p.File = k.c.src.file
		if pos, ok := k.c.src.at(path, value); ok {
			p.Line, p.Col = pos.line, pos.col
		}
	}
	k.problems = append(k.problems, p)
}

// Validate reports every problem in c (call Defaults first): missing or
// malformed addresses, missing descriptor files, upstreams without
// endpoints, duplicate names, services naming an unknown upstream and
// negative limits. The error is a *ConfigError.
func (c *Config) Validate() error {
	k := &checker{c: c}
	if c.Listen == "" {
		k.add("listen", "", "missing: give the address to serve on, e.g. 127.0.0.1:8080")
	} else {
		k.address("listen", c.Listen)
	}
	if c.Admin != "" {
		k.address("admin", c.Admin)
		if c.Admin == c.Listen {
			k.add("admin", c.Admin, "same address as listen; pick another port")
		}
	}
	k.descriptors()
	k.tls()
	k.accessLog()
	k.upstreams()
	k.services()
	k.jwt()
	k.canary()
	k.bounds()
	k.rateLimits()
	k.tracing()
	if len(k.problems) > 0 {
		return &ConfigError{Problems: k.problems}
	}
	return nil
}

// address checks a host:port with a numeric port.
func (k *checker) address(path, addr string) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		k.add(path, addr, "%q is not host:port (e.g. 127.0.0.1:8080)", addr)
		return
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && path != "listen" && path != "admin") {
		k.add(path, addr, "%q: bad port %q", addr, port)
	}
}

func (k *checker) descriptors() {
	if len(k.c.Descriptors) == 0 && len(k.c.DescriptorSets) == 0 && !k.c.usesReflection() {
		k.add("descriptors", "", "none given: list FileDescriptorSet files (protoc --include_imports --descriptor_set_out=api.pb ...) or set reflection: true on an upstream")
	}
	for i, f := range k.c.Descriptors {
		path := fmt.Sprintf("descriptors[%d]", i)
		if f == "" {
			k.add(path, f, "empty file name")
		} else if _, err := os.Stat(f); err != nil {
			k.add(path, f, "%v", unwrapPath(err))
		}
	}
}

func (k *checker) upstreams() {
	if len(k.c.Upstreams) == 0 {
		k.add("upstreams", "", "none given: add an upstream with at least one endpoint (host:port)")
	}
	first := map[string]int{}
	for i, u := range k.c.Upstreams {
		path := fmt.Sprintf("upstreams[%d]", i)
		if u.Name == "" {
			k.add(path+".name", "", "missing")
		} else if j, dup := first[u.Name]; dup {
			k.add(path+".name", u.Name, "%q is already the name of upstreams[%d]", u.Name, j)
		} else {
			first[u.Name] = i
		}
		if len(u.Endpoints) == 0 {
			k.add(path+".endpoints", "", "no endpoints: list at least one host:port")
		}
		seen := make(map[string]bool, len(u.Endpoints))
		for j, ep := range u.Endpoints {
			ePath := fmt.Sprintf("%s.endpoints[%d]", path, j)
			k.address(ePath, ep)
			if seen[ep] {
				k.add(ePath, ep, "%q is listed twice", ep)
			}
			seen[ep] = true
		}
		if u.ConnsPerEndpoint < 0 || u.ConnsPerEndpoint > 1024 {
			k.add(path+".conns_per_endpoint", strconv.Itoa(u.ConnsPerEndpoint), "%d is not between 1 and 1024", u.ConnsPerEndpoint)
		}
		k.upstreamTuning(path, u)
		k.circuitBreaker(path, u.CircuitBreaker)
		k.upstreamTLS(path, u.TLS)
		switch r := u.ReflectionRefresh; {
		case r < 0:
			k.add(path+".reflection_refresh", r.String(), "must not be negative, got %v", r)
		case r > 0 && !u.Reflection:
			k.add(path+".reflection_refresh", r.String(), "needs reflection: true")
		case r > 0 && r < time.Second:
			k.add(path+".reflection_refresh", r.String(), "%v is too often; at least 1s", r)
		}
	}
}

// upstreamTuning checks the pool settings of an upstream.
func (k *checker) upstreamTuning(path string, u UpstreamConfig) {
	switch u.LB {
	case "", "round_robin", "least_request":
	default:
		k.add(path+".lb", u.LB, "%q is not round_robin or least_request", u.LB)
	}
	if u.EjectAfter < 0 {
		k.add(path+".eject_after", strconv.Itoa(u.EjectAfter), "must not be negative, got %d", u.EjectAfter)
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"ejection_time", u.EjectionTime}, {"dns_refresh", u.DNSRefresh}, {"keepalive", u.Keepalive}, {"keepalive_timeout", u.KeepaliveTimeout},
		{"ping_min_interval", u.PingMinInterval}} {
		if d.v < 0 {
			k.add(path+"."+d.key, d.v.String(), "must not be negative, got %v", d.v)
		}
	}
}

// retry checks a service's retry policy.
func (k *checker) retry(path string, r RetryPolicy) {
	if r.MaxAttempts == 0 {
		return
	}
	if r.MaxAttempts < 2 || r.MaxAttempts > 5 {
		k.add(path+".max_attempts", strconv.Itoa(r.MaxAttempts), "%d is not between 2 and 5 (0 turns retries off)", r.MaxAttempts)
	}
	if r.InitialBackoff < 0 || r.MaxBackoff < 0 {
		k.add(path, "", "backoffs must not be negative")
	}
	if r.BackoffMultiplier != 0 && r.BackoffMultiplier < 1 {
		k.add(path+".backoff_multiplier", strconv.FormatFloat(r.BackoffMultiplier, 'g', -1, 64), "must be at least 1")
	}
	if len(r.RetryableStatusCodes) == 0 {
		k.add(path+".retryable_status_codes", "", "missing: list codes such as UNAVAILABLE")
	}
	for i, c := range r.RetryableStatusCodes {
		if code, ok := rpc.CodeByName(c); !ok || code == rpc.CodeOK {
			k.add(fmt.Sprintf("%s.retryable_status_codes[%d]", path, i), c, "%q is not a gRPC status code name such as UNAVAILABLE", c)
		}
	}
}

func (k *checker) services() {
	first := map[string]int{}
	for i, s := range k.c.Services {
		path := fmt.Sprintf("services[%d]", i)
		switch j, dup := first[s.Name]; {
		case s.Name == "":
			k.add(path+".name", "", "missing: a fully qualified service name such as pkg.v1.Service")
		case !protoreflect.FullName(s.Name).IsValid():
			k.add(path+".name", s.Name, "%q is not a fully qualified service name such as pkg.v1.Service", s.Name)
		case dup:
			k.add(path+".name", s.Name, "%q is already routed by services[%d]", s.Name, j)
		default:
			first[s.Name] = i
		}
		k.retry(path+".retry", s.Retry)
		if s.Upstream == "" {
			k.add(path+".upstream", "", "missing: the name of an upstream")
		} else if !slices.ContainsFunc(k.c.Upstreams, func(u UpstreamConfig) bool { return u.Name == s.Upstream }) {
			k.add(path+".upstream", s.Upstream, "unknown upstream %q (known: %s)", s.Upstream, upstreamNames(k.c.Upstreams))
		}
	}
}

// bounds rejects negative timeouts and limits.
func (k *checker) bounds() {
	t := k.c.Timeouts
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"header", t.Header}, {"idle", t.Idle}, {"write", t.Write}, {"upstream", t.Upstream}, {"connect", t.Connect}, {"drain", t.Drain}} {
		if d.v < 0 {
			k.add("timeouts."+d.key, d.v.String(), "must not be negative, got %v", d.v)
		}
	}
	l := k.c.Limits
	for _, n := range []struct {
		key string
		v   int
	}{{"max_header_bytes", l.MaxHeaderBytes}, {"max_body_bytes", l.MaxBodyBytes}, {"max_json_depth", l.MaxJSONDepth}, {"max_buffered_bytes", l.MaxBufferedBytes}} {
		if n.v < 0 {
			k.add("limits."+n.key, strconv.Itoa(n.v), "must not be negative, got %d", n.v)
		}
	}
}

// Check is what serve verifies before it binds: Validate, then
// LoadDescriptors, then CheckServices. Hand the files to NewWithDescriptors
// so that nothing is read or reflected twice.
func (c *Config) Check() (*protoregistry.Files, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	files, err := c.LoadDescriptors()
	if err != nil {
		return nil, err
	}
	return files, c.CheckServices(files)
}

// LoadDescriptors loads every descriptor c names once: the files, the
// in-memory sets and the server reflection of each upstream with
// Reflection set (one session per upstream). Errors name the file or
// upstream at fault.
func (c *Config) LoadDescriptors() (*protoregistry.Files, error) {
	src := descriptors.Source{
		Files:   c.Descriptors,
		Sets:    c.DescriptorSets,
		Timeout: 5*c.Timeouts.Connect + 5*time.Second, // dial, then a few round trips
	}
	for _, u := range c.Upstreams {
		if u.Reflection {
			tc, err := u.TLS.ClientConfig()
			if err != nil {
				return nil, fmt.Errorf("upstream %q: %w", u.Name, err)
			}
			src.Reflect = append(src.Reflect, descriptors.Upstream{Name: u.Name, Endpoints: u.Endpoints, TLS: tc})
		}
	}
	return descriptors.Load(context.Background(), src)
}

// CheckServices reports services entries that name no service in files.
func (c *Config) CheckServices(files *protoregistry.Files) error {
	k := &checker{c: c}
	for i, s := range c.Services {
		d, err := files.FindDescriptorByName(protoreflect.FullName(s.Name))
		if _, ok := d.(protoreflect.ServiceDescriptor); err != nil || !ok {
			k.add(fmt.Sprintf("services[%d].name", i), s.Name, "%q is not a service in the descriptors", s.Name)
		}
	}
	k.checkRateLimitRoutes(files)
	if len(k.problems) > 0 {
		return &ConfigError{Problems: k.problems}
	}
	return nil
}

func (c *Config) usesReflection() bool {
	for _, u := range c.Upstreams {
		if u.Reflection {
			return true
		}
	}
	return false
}

func upstreamNames(us []UpstreamConfig) string {
	var names []string
	for _, u := range us {
		names = append(names, strconv.Quote(u.Name))
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// unwrapPath keeps "open x.pb: no such file or directory" as os reports it.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}
