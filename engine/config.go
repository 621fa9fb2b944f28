package engine

import (
	"time"

	"github.com/straitgw/strait/filter"
)

// Config is the whole gateway configuration. It is immutable once handed to
// New, which compiles it into a snapshot.
type Config struct {
	Listen      string           `yaml:"listen"`
	Admin       string           `yaml:"admin"`
	Descriptors []string         `yaml:"descriptors"` // FileDescriptorSet files
	Upstreams   []UpstreamConfig `yaml:"upstreams"`
	Services    []ServiceConfig  `yaml:"services"` // empty: every service to the first upstream
	Timeouts    Timeouts         `yaml:"timeouts"`
	Limits      Limits           `yaml:"limits"`
	Transcode   TranscodeConfig  `yaml:"transcode"`
	Headers     HeaderConfig     `yaml:"headers"`
	CORS        CORSConfig       `yaml:"cors"`
	// TLS, with cert_file and key_file, makes the listen port TLS only
	// (config_tls.go).
	TLS TLSConfig `yaml:"tls"`
	// RateLimits are token buckets applied before requests go upstream
	// (ratelimit.go); each applies to every route unless it names some.
	RateLimits []RateLimitConfig `yaml:"rate_limits"`
	// JWT lists the accepted token issuers and the routes each guards
	// (config_jwt.go).
	JWT []JWTConfig `yaml:"jwt"`
	// Canary sends part of a route's traffic to another upstream
	// (config_canary.go).
	Canary []CanaryConfig `yaml:"canary"`
	// AccessLog, with a path, writes a JSON line per request
	// (config_access.go).
	AccessLog AccessLogConfig `yaml:"access_log"`
	// Tracing exports OpenTelemetry spans (config_tracing.go).
	Tracing TracingConfig `yaml:"tracing"`

	// DescriptorSets holds serialized FileDescriptorSets given in memory
	// (the demo embeds its own). Not settable from YAML.
	DescriptorSets [][]byte `yaml:"-"`

	// Filters are a Go program's own filters, run after the built-in ones
	// on the routes each selects (package filter). Not settable from YAML.
	Filters []filter.Entry `yaml:"-"`

	// src remembers where LoadConfig found each value, for error positions.
	src *source
}

// UpstreamConfig names a cluster of equivalent gRPC endpoints.
type UpstreamConfig struct {
	Name      string   `yaml:"name"`
	Endpoints []string `yaml:"endpoints"` // host:port, h2c unless TLS is set
	// TLS, with any key set, dials the endpoints over TLS (ALPN h2):
	// connections, health checks and server reflection alike.
	TLS UpstreamTLS `yaml:"tls"`
	// Reflection loads the descriptors of every service the upstream
	// offers through gRPC server reflection (v1, else v1alpha) at startup,
	// on top of any descriptor files.
	Reflection bool `yaml:"reflection"`
	// ReflectionRefresh, with Reflection, asks again this often; new or
	// changed services are swapped in as a reload would (0: at start only).
	ReflectionRefresh time.Duration `yaml:"reflection_refresh"`
	// HealthCheck, when set, probes every endpoint this often with
	// grpc.health.v1.Health/Check; endpoints not SERVING are skipped while
	// any other answers.
	HealthCheck time.Duration `yaml:"health_check"`
	// ConnsPerEndpoint is how many HTTP/2 connections each endpoint gets.
	ConnsPerEndpoint int `yaml:"conns_per_endpoint"`
	// LB picks an endpoint: round_robin (default) or least_request (the
	// fewer streams in flight of two at random).
	LB string `yaml:"lb"`
	// EjectAfter consecutive failures (failed dials, lost connections,
	// requests unanswered or UNAVAILABLE) eject an endpoint for
	// EjectionTime × the times it was ejected, at most 10×; the last
	// endpoint in rotation is never ejected (defaults 5 and 30s).
	EjectAfter   int           `yaml:"eject_after"`
	EjectionTime time.Duration `yaml:"ejection_time"`
	// DNSRefresh is how often endpoint host names are resolved again
	// (default 30s).
	DNSRefresh time.Duration `yaml:"dns_refresh"`
	// Keepalive is how long a connection may be silent before a PING
	// checks it, and KeepaliveTimeout how long that PING may go
	// unanswered before the connection is closed (defaults 10s and 5s).
	Keepalive        time.Duration `yaml:"keepalive"`
	KeepaliveTimeout time.Duration `yaml:"keepalive_timeout"`
	// PingMinInterval is the least time between two PINGs while the
	// backend sends no HEADERS or DATA (default 5m, grpc-go's default
	// keepalive MinTime, which its servers enforce with GOAWAY
	// "too_many_pings"); a GOAWAY "too_many_pings" doubles it for the
	// upstream's next connections.
	PingMinInterval time.Duration `yaml:"ping_min_interval"`
	// CircuitBreaker bounds the requests this upstream is given at once
	// (breaker.go); past a bound, requests are answered 503 / UNAVAILABLE.
	CircuitBreaker CircuitBreaker `yaml:"circuit_breaker"`
}

// ServiceConfig routes one fully qualified gRPC service to an upstream.
type ServiceConfig struct {
	Name     string `yaml:"name"`     // e.g. "bookstore.v1.Bookstore"
	Upstream string `yaml:"upstream"` // UpstreamConfig.Name
	// Retry retries calls the upstream answered with a retryable status,
	// before any response byte reached the client (off unless set).
	Retry RetryPolicy `yaml:"retry"`
}

// RetryPolicy is gRPC's retryPolicy (A6): MaxAttempts in all (2 to 5; 0
// turns retries off), waits of a random part of InitialBackoff ×
// BackoffMultiplier^n capped at MaxBackoff, on RetryableStatusCodes
// (names such as UNAVAILABLE). Requests the upstream never processed are
// retried without a policy (attempt.go).
type RetryPolicy struct {
	MaxAttempts          int           `yaml:"max_attempts"`
	InitialBackoff       time.Duration `yaml:"initial_backoff"`
	MaxBackoff           time.Duration `yaml:"max_backoff"`
	BackoffMultiplier    float64       `yaml:"backoff_multiplier"`
	RetryableStatusCodes []string      `yaml:"retryable_status_codes"`
}

// HeaderConfig is the header policy (policy.go). Names are
// case-insensitive; an entry ending in '*' matches by prefix.
type HeaderConfig struct {
	// RequestAllow, when not empty, lists the request headers that travel
	// upstream as metadata; RequestDeny those that never do (default:
	// cookie).
	RequestAllow []string `yaml:"request_allow"`
	RequestDeny  []string `yaml:"request_deny"`
	// ResponseAllow and ResponseDeny do the same for response metadata
	// coming back as headers.
	ResponseAllow []string `yaml:"response_allow"`
	ResponseDeny  []string `yaml:"response_deny"`
	// ResponsePrefix is put before response metadata names for REST
	// clients, e.g. Grpc-Metadata- as grpc-gateway does (default none).
	ResponsePrefix string `yaml:"response_prefix"`
	// RequestID is the header that carries a request's id: made when the
	// client sends none, passed upstream, and returned (default
	// x-request-id).
	RequestID string `yaml:"request_id"`
}

// CORSConfig lets browsers on other origins call every route (cors.go).
// Empty AllowOrigins: CORS off.
type CORSConfig struct {
	// AllowOrigins lists origins ("https://app.example.com"), "*" for any,
	// or a wildcard subdomain ("https://*.example.com").
	AllowOrigins []string `yaml:"allow_origins"`
	// AllowMethods answers preflights (default GET, HEAD, POST, PUT,
	// PATCH, DELETE).
	AllowMethods []string `yaml:"allow_methods"`
	// AllowHeaders answers preflights (default: the headers asked for).
	AllowHeaders []string `yaml:"allow_headers"`
	// ExposeHeaders adds to what browsers may read: grpc-status,
	// grpc-message, grpc-status-details-bin and the request id always.
	ExposeHeaders []string `yaml:"expose_headers"`
	// MaxAge is how long a browser may cache a preflight (default 10m).
	MaxAge time.Duration `yaml:"max_age"`
	// AllowCredentials lets the browser send cookies and credentials.
	AllowCredentials bool `yaml:"allow_credentials"`
}

// Timeouts bound every phase of a request.
type Timeouts struct {
	Header   time.Duration `yaml:"header"`   // reading one request head
	Idle     time.Duration `yaml:"idle"`     // keep-alive idle connection
	Write    time.Duration `yaml:"write"`    // flushing to a client
	Upstream time.Duration `yaml:"upstream"` // default deadline when the client sets none
	Connect  time.Duration `yaml:"connect"`  // dialing an upstream
	Drain    time.Duration `yaml:"drain"`    // requests in flight may finish after SIGTERM
}

// Limits protect the gateway from oversized or abusive input.
type Limits struct {
	MaxHeaderBytes       int    `yaml:"max_header_bytes"`
	MaxBodyBytes         int    `yaml:"max_body_bytes"`
	MaxJSONDepth         int    `yaml:"max_json_depth"`
	MaxConcurrentStreams uint32 `yaml:"max_concurrent_streams"`
	// MaxBufferedBytes is the gateway-wide budget for response bytes held
	// for clients that read slowly (overload.go).
	MaxBufferedBytes int `yaml:"max_buffered_bytes"`
	// MemoryLimit is the Go runtime's soft memory limit `strait serve`
	// sets (runtime/debug.SetMemoryLimit) unless GOMEMLIMIT is set: the
	// collector then keeps the process near what it holds instead of
	// letting garbage double the heap (default 2×max_buffered_bytes +
	// 64 MiB).
	MemoryLimit int64 `yaml:"memory_limit"`
}

// TranscodeConfig selects the JSON mapping options.
type TranscodeConfig struct {
	IgnoreUnknownFields bool `yaml:"ignore_unknown_fields"`
	IgnoreUnknownQuery  bool `yaml:"ignore_unknown_query"`
	EmitUnpopulated     bool `yaml:"emit_unpopulated"`
	UseProtoNames       bool `yaml:"use_proto_names"`
	UseEnumNumbers      bool `yaml:"use_enum_numbers"`
}

// Defaults used for zero fields by Defaults.
const (
	DefaultHeaderTimeout        = 10 * time.Second
	DefaultIdleTimeout          = 2 * time.Minute
	DefaultWriteTimeout         = 30 * time.Second
	DefaultConnectTimeout       = 2 * time.Second
	DefaultDrainTimeout         = 30 * time.Second
	DefaultMaxHeaderBytes       = 64 << 10
	DefaultMaxBodyBytes         = 4 << 20 // grpc-go's default receive limit
	DefaultMaxJSONDepth         = 100
	DefaultMaxConcurrentStreams = 250
	DefaultMaxBufferedBytes     = 48 << 20
	DefaultConnsPerEndpoint     = 1
	DefaultKeepalive            = 10 * time.Second
	DefaultKeepaliveTimeout     = 5 * time.Second
	DefaultPingMinInterval      = 5 * time.Minute
)

// Defaults fills every zero timeout, limit and per-upstream setting. Listen,
// upstreams and descriptors have no default: Validate reports them missing.
// Timeouts.Upstream stays zero (no deadline unless the client sends one).
func (c *Config) Defaults() {
	setDefault(&c.Timeouts.Header, DefaultHeaderTimeout)
	setDefault(&c.Timeouts.Idle, DefaultIdleTimeout)
	setDefault(&c.Timeouts.Write, DefaultWriteTimeout)
	setDefault(&c.Timeouts.Connect, DefaultConnectTimeout)
	setDefault(&c.Timeouts.Drain, DefaultDrainTimeout)
	setDefault(&c.Limits.MaxHeaderBytes, DefaultMaxHeaderBytes)
	setDefault(&c.Limits.MaxBodyBytes, DefaultMaxBodyBytes)
	setDefault(&c.Limits.MaxJSONDepth, DefaultMaxJSONDepth)
	setDefault(&c.Limits.MaxConcurrentStreams, DefaultMaxConcurrentStreams)
	setDefault(&c.Limits.MaxBufferedBytes, DefaultMaxBufferedBytes)
	setDefault(&c.Limits.MemoryLimit, 2*int64(c.Limits.MaxBufferedBytes)+64<<20)
	setDefault(&c.Headers.RequestID, "x-request-id")
	setDefault(&c.CORS.MaxAge, 10*time.Minute)
	if c.CORS.AllowMethods == nil {
		c.CORS.AllowMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}
	}
	if c.Headers.RequestDeny == nil {
		c.Headers.RequestDeny = []string{"cookie"}
	}
	for i := range c.Upstreams {
		u := &c.Upstreams[i]
		setDefault(&u.ConnsPerEndpoint, DefaultConnsPerEndpoint)
		setDefault(&u.Keepalive, DefaultKeepalive)
		setDefault(&u.KeepaliveTimeout, DefaultKeepaliveTimeout)
		setDefault(&u.PingMinInterval, DefaultPingMinInterval)
	}
	c.rateLimitDefaults()
	c.jwtDefaults()
	for i := range c.Services {
		if r := &c.Services[i].Retry; r.MaxAttempts > 0 {
			setDefault(&r.InitialBackoff, 50*time.Millisecond)
			setDefault(&r.MaxBackoff, time.Second)
			setDefault(&r.BackoffMultiplier, 2)
		}
	}
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

// Source is the file the configuration was loaded from ("" for flags or a
// Config built in Go).
func (c *Config) Source() string {
	if c.src == nil {
		return ""
	}
	return c.src.file
}
