package upstream

import (
	"context"
	"crypto/tls"
	"math/rand/v2"
	"net"
	"time"

	"github.com/straitgw/strait/h2"
)

// LB is a pool's load-balancing policy. Health, ejection and dial backoff
// filter the candidates first; the policy chooses among what is left.
type LB uint8

const (
	// LBRoundRobin takes endpoints in turn (the default).
	LBRoundRobin LB = iota
	// LBLeastRequest compares two random endpoints and takes the one with
	// fewer streams in flight (power of two choices).
	LBLeastRequest
)

// Config tunes one pool. Zero fields take the defaults given on each.
type Config struct {
	// ConnsPerEndpoint is how many connections Warm keeps per endpoint
	// (default 1).
	ConnsPerEndpoint int
	// MaxConnsPerEndpoint caps an endpoint's connections, a dial in
	// flight included, when every stream slot is taken (default
	// 8×ConnsPerEndpoint).
	MaxConnsPerEndpoint int
	// DialTimeout bounds a dial: TCP connect and the server's first
	// SETTINGS frame; DNS lookups too (default 2s).
	DialTimeout time.Duration
	// DialBackoff is the wait before redialing an endpoint whose dial
	// failed, doubling per consecutive failure up to MaxDialBackoff,
	// ±20% jitter (defaults 200ms and 5s).
	DialBackoff, MaxDialBackoff time.Duration
	// EjectAfter consecutive failures (failed dials, lost connections,
	// Report(false)) eject an endpoint (default 5).
	EjectAfter int
	// BaseEjection × the times an endpoint was ejected, capped at
	// MaxEjection, is how long an ejection lasts (defaults 30s and 5m).
	BaseEjection, MaxEjection time.Duration
	// LB picks among the usable endpoints (default LBRoundRobin).
	LB LB
	// DNSRefresh is how often a host name is resolved again (default 30s).
	DNSRefresh time.Duration
	// Resolve looks a host name up (default net.DefaultResolver.LookupHost).
	Resolve func(ctx context.Context, host string) ([]string, error)
	// H2 is the connections' client settings; KeepAlive and PingTimeout
	// find a backend that stopped answering on an open connection.
	// PingMinInterval doubles for new connections each time a backend
	// ends one with GOAWAY "too_many_pings", as grpc-go clients do (gRPC
	// A8), up to maxPingMin.
	H2 h2.Config
	// TLS, when set, dials every endpoint over TLS with it (ALPN h2; the
	// handshake counts toward DialTimeout). Without a ServerName the
	// configured endpoint's host is verified, not the address it
	// resolved to. Nil: h2c.
	TLS *tls.Config
	// OnPanic is told of a panic recovered while serving a connection (the
	// connection is aborted: its streams fail); unset, it is raised again.
	OnPanic func(*h2.PanicError)
}

func (c *Config) defaults() {
	c.ConnsPerEndpoint = max(c.ConnsPerEndpoint, 1)
	if c.MaxConnsPerEndpoint < c.ConnsPerEndpoint {
		c.MaxConnsPerEndpoint = 8 * c.ConnsPerEndpoint
	}
	setDefault(&c.DialTimeout, 2*time.Second)
	setDefault(&c.DialBackoff, 200*time.Millisecond)
	setDefault(&c.MaxDialBackoff, 5*time.Second)
	c.MaxDialBackoff = max(c.MaxDialBackoff, c.DialBackoff)
	if c.EjectAfter <= 0 {
		c.EjectAfter = 5
	}
	setDefault(&c.BaseEjection, 30*time.Second)
	setDefault(&c.MaxEjection, 5*time.Minute)
	c.MaxEjection = max(c.MaxEjection, c.BaseEjection)
	setDefault(&c.DNSRefresh, 30*time.Second)
	setDefault(&c.H2.PingMinInterval, h2.DefaultPingMinInterval)
	if c.Resolve == nil {
		c.Resolve = net.DefaultResolver.LookupHost
	}
}

func setDefault(p *time.Duration, d time.Duration) {
	if *p <= 0 {
		*p = d
	}
}

// backoff is the wait after the n-th consecutive failure (n >= 1).
func (c *Config) backoff(n int) time.Duration {
	d := c.MaxDialBackoff
	if n < 30 && c.DialBackoff<<(n-1) < d {
		d = c.DialBackoff << (n - 1)
	}
	return d - d/5 + time.Duration(rand.Int64N(int64(d/5)*2+1)) // ±20%: redials spread out
}

// ejection is how long the k-th ejection in a row lasts.
func (c *Config) ejection(k int) time.Duration {
	if time.Duration(k) >= c.MaxEjection/c.BaseEjection {
		return c.MaxEjection
	}
	return c.BaseEjection * time.Duration(k)
}
