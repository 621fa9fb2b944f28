package upstream

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/straitgw/strait/h2"
)

// Errors a caller maps to gRPC UNAVAILABLE. ErrPending is not a failure:
// the request's Wake will be called and it opens again.
var (
	ErrNoEndpoint = errors.New("upstream: no endpoint available")
	ErrClosed     = errors.New("upstream: pool closed")
	ErrPending    = errors.New("upstream: connection being established")
	ErrDial       = errors.New("upstream: dial failed")
	// ErrFull: every stream slot of the endpoint is taken at MaxConnsPerEndpoint.
	ErrFull = errors.New("upstream: every stream slot taken")
	// ErrConnLost is what streams see when their connection drops mid-flight.
	ErrConnLost = errors.New("upstream: connection lost")
)

// Request is one attempt to open an upstream stream. Open keeps none of
// it but Wake, so Fields may be views when Open returns.
type Request struct {
	Fields  []h2.Field // request HEADERS (h2's encoder copies what it keeps)
	End     bool       // END_STREAM on HEADERS
	Handler h2.StreamHandler
	// Wake is called once after Open returned ErrPending, when a dial or
	// a DNS lookup has ended either way, from a pool goroutine with no
	// lock of the pool held; the caller then calls Open again.
	Wake func()
	// Exclude is avoided when another endpoint can take the stream (a
	// retry after a failure there).
	Exclude *Endpoint
}

// Pool is a cluster of equivalent endpoints, each with a few multiplexed
// HTTP/2 connections. Open never blocks and never dials on its caller's
// goroutine: dials and DNS lookups run on goroutines of their own.
type Pool struct {
	cfg    Config
	eps    atomic.Pointer[[]*Endpoint] // where streams may go; replaced under mu
	rr     atomic.Uint32
	seq    atomic.Uint64 // bumped under mu when a dial or a lookup ends
	closed atomic.Bool
	warm   atomic.Bool // keep ConnsPerEndpoint connections per endpoint
	ctx    context.Context
	cancel context.CancelFunc

	// pingMin is new connections' h2 PingMinInterval, doubled by pingLess.
	pingMin atomic.Int64

	mu         sync.Mutex
	waiters    []func() // Wake of requests told ErrPending
	static     []*Endpoint
	targets    []*target // host names, resolved by resolve.go
	unresolved int       // targets whose first lookup has not ended
	hcInterval time.Duration
	hcTimeout  time.Duration
}

// NewPool makes a pool for addrs (host:port). Nothing is dialed and
// nothing blocks: IP literals become endpoints at once, host names once
// a lookup on a goroutine answers. Warm starts the dials.
func NewPool(addrs []string, cfg Config) *Pool {
	cfg.defaults()
	p := &Pool{cfg: cfg}
	p.pingMin.Store(int64(cfg.H2.PingMinInterval))
	p.ctx, p.cancel = context.WithCancel(context.Background())
	for _, a := range addrs {
		if host, port, ok := splitTarget(a); ok {
			p.targets = append(p.targets, &target{host: host, port: port, authority: a, eps: map[string]*Endpoint{}})
			continue
		}
		p.static = append(p.static, newEndpoint(p, a, a))
	}
	p.unresolved = len(p.targets)
	p.publishLocked()
	for _, t := range p.targets {
		go p.resolveLoop(t)
	}
	return p
}

// Open starts a stream on the best usable endpoint (pick.go). It returns
// ErrPending when none can take it now but a connection is being
// established; r.Wake is then called once. A dial failure reaches the
// caller only when no other endpoint can take the stream (ErrDial). With
// a batch, the chosen connection is corked in it.
func (p *Pool) Open(b *Batch, r *Request) (*h2.Stream, *Endpoint, error) {
	return p.open(b, r, nil)
}

// maxParks bounds Open's retries when dials end while it picks.
const maxParks = 4

// open picks an endpoint, or uses on (a health probe), and parks r.Wake
// on ErrPending. A dial that ends between the pick and the park bumps
// seq, so the pick is tried again rather than waiting for nothing.
func (p *Pool) open(b *Batch, r *Request, on *Endpoint) (*h2.Stream, *Endpoint, error) {
	for range maxParks {
		if p.closed.Load() {
			return nil, nil, ErrClosed
		}
		seq := p.seq.Load()
		var s *h2.Stream
		var err error
		e := on
		if e != nil {
			s, err = e.open(b, r)
		} else {
			s, e, err = p.pick(b, r)
		}
		if err != ErrPending {
			return s, e, err
		}
		if p.park(seq, r.Wake) {
			return nil, nil, ErrPending
		}
	}
	if r.Wake != nil {
		go r.Wake()
	}
	return nil, nil, ErrPending
}

// park queues wake unless something ended since seq was read.
func (p *Pool) park(seq uint64, wake func()) bool {
	if wake == nil {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seq.Load() != seq || p.closed.Load() {
		return false
	}
	p.waiters = append(p.waiters, wake)
	return true
}

// notify tells every parked request to open again. Call it with no lock
// held: it runs their Wake.
func (p *Pool) notify() {
	for _, w := range p.takeWaiters() {
		w()
	}
}

func (p *Pool) takeWaiters() []func() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq.Add(1)
	ws := p.waiters
	p.waiters = nil
	return ws
}

// publishLocked rebuilds the endpoint list Open reads, under mu.
func (p *Pool) publishLocked() {
	eps := append([]*Endpoint(nil), p.static...)
	for _, t := range p.targets {
		eps = append(eps, t.list...)
	}
	p.eps.Store(&eps)
}

func (p *Pool) endpoints() []*Endpoint { return *p.eps.Load() }

// Warm starts dials in the background so that every endpoint keeps
// ConnsPerEndpoint ready connections from now on, redialing after losses
// and failures (with backoff). It never blocks.
func (p *Pool) Warm() {
	p.warm.Store(true)
	for _, e := range p.endpoints() {
		e.maintain()
	}
}

// Ready reports whether some endpoint has a connection that takes
// streams (for /readyz). It never blocks on the network.
func (p *Pool) Ready() bool {
	for _, e := range p.endpoints() {
		if e.ready() {
			return true
		}
	}
	return false
}

// Close sends GOAWAY on every connection and refuses new streams; streams
// in flight finish. Parked requests are woken (Open says ErrClosed).
func (p *Pool) Close() {
	if p.closed.Swap(true) {
		return
	}
	p.cancel()
	ws := p.takeWaiters()
	for _, e := range p.endpoints() {
		e.drain()
	}
	if len(ws) > 0 {
		go func() {
			for _, w := range ws {
				w()
			}
		}()
	}
}

// maxPingMin bounds pingLess, far from overflow.
const maxPingMin = 24 * time.Hour

// pingLess doubles the PING interval of new connections after a backend
// told a connection made with interval d that it pings too often
// (GOAWAY "too_many_pings"). Connections made with the same d and told
// so together double it once.
func (p *Pool) pingLess(d time.Duration) {
	next := int64(min(2*d, maxPingMin))
	for cur := p.pingMin.Load(); cur < next; cur = p.pingMin.Load() {
		if p.pingMin.CompareAndSwap(cur, next) {
			return
		}
	}
}
