package upstream

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/straitgw/strait/h2"
)

// Sentinel errors a caller maps to gRPC UNAVAILABLE.
var (
	ErrNoEndpoint = errors.New("upstream: no endpoint available")
	ErrClosed     = errors.New("upstream: pool closed")
)

// Config tunes one cluster's connections.
type Config struct {
	ConnsPerEndpoint    int           // connections kept per endpoint (at least 1)
	MaxConnsPerEndpoint int           // hard cap when every connection's streams are taken
	DialTimeout         time.Duration // TCP connect
	H2                  h2.Config     // client side settings
	// RetryBackoff is how long a failed endpoint is skipped before a new dial.
	RetryBackoff time.Duration
	// OnPanic is told of a panic recovered while serving a connection (the
	// connection is aborted: its streams fail); unset, it is raised again.
	OnPanic func(*h2.PanicError)
}

func (c *Config) defaults() {
	if c.ConnsPerEndpoint <= 0 {
		c.ConnsPerEndpoint = 1
	}
	if c.MaxConnsPerEndpoint < c.ConnsPerEndpoint {
		c.MaxConnsPerEndpoint = c.ConnsPerEndpoint * 8
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 2 * time.Second
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = 500 * time.Millisecond
	}
}

// Pool is a cluster of equivalent endpoints. Open picks an endpoint round
// robin and a connection on it with a free stream slot; it never waits for a
// slot: a full pool dials one more connection, up to the cap.
type Pool struct {
	cfg       Config
	endpoints []*endpoint
	next      atomic.Uint32
	closed    atomic.Bool
}

// NewPool makes a pool for addrs; no connection is dialed until first use
// (Warm dials eagerly).
func NewPool(addrs []string, cfg Config) *Pool {
	cfg.defaults()
	p := &Pool{cfg: cfg}
	for _, a := range addrs {
		p.endpoints = append(p.endpoints, &endpoint{addr: a, pool: p})
	}
	return p
}

// Open starts a stream on some healthy endpoint. It is called from netpoll
// handlers of downstream connections: it may dial (bounded by DialTimeout)
// but never waits for other streams. With a batch, the chosen connection
// is corked in it, so the caller's next writes share one flush.
func (p *Pool) Open(b *Batch, fields []h2.Field, end bool, h h2.StreamHandler) (*h2.Stream, error) {
	if p.closed.Load() {
		return nil, ErrClosed
	}
	n := len(p.endpoints)
	if n == 0 {
		return nil, ErrNoEndpoint
	}
	start := int(p.next.Add(1))
	var last error = ErrNoEndpoint
	for i := 0; i < 2*n; i++ {
		e := p.endpoints[(start+i)%n]
		if (i < n) == e.unhealthy.Load() {
			continue // healthy endpoints first, then the rest
		}
		s, err := e.open(b, fields, end, h)
		if err == nil {
			return s, nil
		}
		last = err
	}
	return nil, last
}

// Warm dials ConnsPerEndpoint connections to every endpoint and reports
// whether at least one endpoint answered.
func (p *Pool) Warm() error {
	var first error
	ok := false
	for _, e := range p.endpoints {
		if _, err := e.conn(); err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		ok = true
	}
	if ok {
		return nil
	}
	if first == nil {
		first = ErrNoEndpoint
	}
	return first
}

// Close drains every connection with GOAWAY and refuses new streams.
func (p *Pool) Close() {
	if p.closed.Swap(true) {
		return
	}
	for _, e := range p.endpoints {
		e.closeAll()
	}
}

// Stats reports open connections per endpoint (for /metrics).
func (p *Pool) Stats() map[string]int {
	m := make(map[string]int, len(p.endpoints))
	for _, e := range p.endpoints {
		e.mu.Lock()
		m[e.addr] = len(e.conns)
		e.mu.Unlock()
	}
	return m
}

type endpoint struct {
	unhealthy atomic.Bool  // last health probe failed
	probes    atomic.Int64 // health probes completed
	addr      string
	pool      *Pool
	mu        sync.Mutex
	conns     []*clientConn
	failed    time.Time // last dial failure, for back-off
	lastErr   error
}

func (e *endpoint) open(b *Batch, fields []h2.Field, end bool, h h2.StreamHandler) (*h2.Stream, error) {
	for attempt := 0; attempt < 3; attempt++ {
		c, err := e.conn()
		if err != nil {
			return nil, err
		}
		if b != nil {
			b.Cork(c.h2)
		}
		s, err := c.h2.OpenStream(fields, end, h)
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, h2.ErrNoStreamSlot) && !errors.Is(err, h2.ErrConnClosing) {
			return nil, err
		}
	}
	return nil, ErrNoEndpoint
}

// conn returns a connection with a free stream slot, dialing if needed.
func (e *endpoint) conn() (*clientConn, error) {
	e.mu.Lock()
	best := e.pickLocked()
	if best != nil && (best.h2.Available() > 0) {
		e.mu.Unlock()
		return best, nil
	}
	if len(e.conns) >= e.pool.cfg.MaxConnsPerEndpoint {
		e.mu.Unlock()
		if best != nil {
			return best, nil // let OpenStream report the limit
		}
		return nil, ErrNoEndpoint
	}
	if !e.failed.IsZero() && time.Since(e.failed) < e.pool.cfg.RetryBackoff {
		err := e.lastErr
		e.mu.Unlock()
		return nil, err
	}
	e.mu.Unlock()
	return e.dial()
}

// pickLocked returns the live connection with the most free slots.
func (e *endpoint) pickLocked() *clientConn {
	var best *clientConn
	bestFree := 0
	for _, c := range e.conns {
		if f := c.h2.Available(); f > bestFree {
			best, bestFree = c, f
		}
	}
	return best
}

func (e *endpoint) remove(c *clientConn) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, x := range e.conns {
		if x == c {
			e.conns = append(e.conns[:i], e.conns[i+1:]...)
			return
		}
	}
}

func (e *endpoint) closeAll() {
	e.mu.Lock()
	cs := append([]*clientConn(nil), e.conns...)
	e.mu.Unlock()
	for _, c := range cs {
		c.h2.Shutdown()
	}
}

// ErrConnLost is what streams see when their connection drops mid-flight.
var ErrConnLost = errors.New("upstream: connection lost")
