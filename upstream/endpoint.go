package upstream

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/straitgw/strait/h2"
)

// Endpoint is one backend address of a pool. Its flags are atomics so
// that Open ranks endpoints without taking their locks.
type Endpoint struct {
	addr      string // ip:port dialed
	authority string // as configured (a host name for resolved endpoints)
	pool      *Pool

	unhealthy    atomic.Bool   // the last health probe failed
	probes       atomic.Int64  // health probes completed
	failures     atomic.Int32  // consecutive failures, toward ejection
	ejectedUntil atomic.Int64  // nanotime; 0: never ejected
	backoffUntil atomic.Int64  // nanotime before which no dial starts
	nconns       atomic.Int32  // len(conns)
	dialFailures atomic.Uint64 // total, for Stats
	ejections    atomic.Uint64 // total, for Stats

	mu        sync.Mutex
	conns     []*clientConn // ready connections, draining ones included
	dialing   bool          // a dial is in flight (one at a time)
	dialFails int           // consecutive failed dials, for backoff
	lastErr   error         // the last dial failure, until a dial succeeds
	removed   bool          // gone from DNS or the pool closed: drained
	retry     *time.Timer   // Warm's redial after a backoff

	// Guarded by pool.mu (eject.go).
	streak   int   // ejections in a row, for their length
	lastBack int64 // nanotime the last ejection ended
}

func newEndpoint(p *Pool, addr, authority string) *Endpoint {
	return &Endpoint{addr: addr, authority: authority, pool: p}
}

// Addr returns the address dialed, ip:port for a resolved host name.
func (e *Endpoint) Addr() string { return e.addr }

// EndpointOf returns the endpoint whose connection carries s, or nil if s
// is not an upstream stream.
func EndpointOf(s *h2.Stream) *Endpoint {
	if v, ok := byConn.Load(s.Conn()); ok {
		return v.(*clientConn).ep
	}
	return nil
}

// open starts a stream on one of e's ready connections. ErrPending: e
// has none free but a dial is in flight (or starts now).
func (e *Endpoint) open(b *Batch, r *Request) (*h2.Stream, error) {
	var err error
	for range 3 { // a connection may fill or drain between pick and open
		var c *clientConn
		if c, err = e.conn(); err != nil {
			return nil, err
		}
		if b != nil {
			b.Cork(c.h2)
		}
		var s *h2.Stream
		if s, err = c.h2.OpenStream(r.Fields, r.End, r.Handler); err == nil {
			return s, nil
		}
		if errors.Is(err, h2.ErrHeaderListTooLong) {
			return nil, err // the request's fault: no endpoint takes it
		}
	}
	return nil, err
}

// conn returns a ready connection with a free stream slot, or starts a
// dial when none has one and the cap (the dial included) allows.
func (e *Endpoint) conn() (*clientConn, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.removed {
		return nil, ErrNoEndpoint
	}
	var best *clientConn
	free := 0
	for _, c := range e.conns {
		if n := c.h2.Available(); n > free {
			best, free = c, n
		}
	}
	if best != nil {
		return best, nil
	}
	switch {
	case e.dialing:
		return nil, ErrPending
	case e.liveLocked() >= e.pool.cfg.MaxConnsPerEndpoint:
		return nil, ErrFull
	case e.backoffUntil.Load() > nanotime():
		return nil, e.lastErr
	}
	e.startDialLocked()
	return nil, ErrPending
}

// liveLocked counts the connections that still take streams.
func (e *Endpoint) liveLocked() int {
	n := 0
	for _, c := range e.conns {
		if !c.h2.Draining() {
			n++
		}
	}
	return n
}

// active sums the streams in flight on e's connections.
func (e *Endpoint) active() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, c := range e.conns {
		n += c.h2.Active()
	}
	return n
}

func (e *Endpoint) ready() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.liveLocked() > 0
}

// Report records an exchange's outcome for outlier ejection: EjectAfter
// failures in a row eject e. Cheap enough for every exchange.
func (e *Endpoint) Report(ok bool) {
	if ok {
		if e.failures.Load() != 0 {
			e.failures.Store(0)
		}
		return
	}
	e.failed()
}

// failed counts one failure and ejects e when they are enough.
func (e *Endpoint) failed() {
	if int(e.failures.Add(1)) >= e.pool.cfg.EjectAfter {
		e.pool.eject(e)
	}
}

// lost follows the close of one of e's connections: a loss that was no
// drain (no GOAWAY either way, or a keepalive timeout) counts as a
// failure, and Warm's connections are made up.
func (e *Endpoint) lost(failure bool) {
	if failure {
		e.failed()
	}
	e.maintain()
}

// remove forgets a closed connection and reports whether it had joined.
func (e *Endpoint) remove(c *clientConn) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	c.lost = true
	for i, x := range e.conns {
		if x == c {
			e.conns = append(e.conns[:i], e.conns[i+1:]...)
			e.nconns.Store(int32(len(e.conns)))
			return true
		}
	}
	return false
}

// drain takes e out of service: no new streams or dials, GOAWAY on its
// connections, which close once their streams end.
func (e *Endpoint) drain() {
	for _, c := range e.lockedDrain() {
		c.h2.Shutdown()
	}
}

func (e *Endpoint) lockedDrain() []*clientConn {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.removed = true
	if e.retry != nil {
		e.retry.Stop()
		e.retry = nil
	}
	return append([]*clientConn(nil), e.conns...)
}

func (e *Endpoint) isRemoved() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.removed
}

// epoch makes nanotime monotonic: wall clock jumps move no deadline.
var epoch = time.Now()

func nanotime() int64 { return int64(time.Since(epoch)) }
