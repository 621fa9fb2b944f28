package upstream

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/cloudwego/netpoll"

	"github.com/straitgw/strait/tlsconn"
)

// DialError is a failed dial: the TCP connect, the TLS handshake, or the
// server's first SETTINGS frame not arriving within DialTimeout. errors.Is(err, ErrDial)
// holds, and so does errors.Is(err, cause). No stream was sent.
type DialError struct {
	Addr string
	Err  error
}

func (e *DialError) Error() string   { return "upstream " + e.Addr + ": dial: " + e.Err.Error() }
func (e *DialError) Unwrap() []error { return []error{ErrDial, e.Err} }

var (
	errNoSettings  = errors.New("no SETTINGS from the server within the dial timeout")
	errClosedEarly = errors.New("connection closed before it was ready")
)

// startDialLocked starts e's one dial, under e.mu. The dial runs on a
// goroutine of its own, never on the goroutine of the Open that asked.
func (e *Endpoint) startDialLocked() {
	e.dialing = true
	go e.dial()
}

// dial establishes connections until e has what it needs, one at a time.
func (e *Endpoint) dial() {
	for {
		c, err := e.connect()
		if !e.dialed(c, err) {
			return
		}
	}
}

// connect dials e and waits for the server's first SETTINGS: until then
// the connection takes no stream, so a backend that accepts TCP and never
// speaks costs no request, only this dial.
func (e *Endpoint) connect() (*clientConn, error) {
	p := e.pool
	deadline := time.Now().Add(p.cfg.DialTimeout)
	nc, err := e.transport(deadline)
	if err != nil {
		return nil, &DialError{Addr: e.addr, Err: err}
	}
	c, err := newClientConn(e, nc)
	if err != nil {
		return nil, &DialError{Addr: e.addr, Err: err}
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-c.ready:
		return c, nil
	case <-c.gone:
		return nil, &DialError{Addr: e.addr, Err: errClosedEarly}
	case <-t.C:
		err = errNoSettings
	case <-p.ctx.Done():
		err = ErrClosed
	}
	_ = nc.Close()
	return nil, &DialError{Addr: e.addr, Err: err}
}

// transport connects to e: TCP (netpoll), or TCP and the TLS handshake
// (tlsconn, a reader goroutine per connection) when the pool has TLS,
// all before deadline.
func (e *Endpoint) transport(deadline time.Time) (netpoll.Connection, error) {
	p := e.pool
	if p.cfg.TLS == nil {
		return netpoll.DialConnection("tcp", e.addr, p.cfg.DialTimeout)
	}
	cfg := p.cfg.TLS
	if cfg.ServerName == "" {
		host := e.authority
		if h, _, err := net.SplitHostPort(e.authority); err == nil {
			host = h
		}
		cfg = cfg.Clone() // the session cache is shared by the clones
		cfg.ServerName = host
	}
	ctx, cancel := context.WithDeadline(p.ctx, deadline)
	defer cancel()
	return tlsconn.Dial(ctx, e.addr, cfg, tlsconn.Options{}) // clientConn sets the timeouts
}

// dialed records a dial's outcome, wakes the parked requests, and says
// whether to dial again (Warm wants more connections).
func (e *Endpoint) dialed(c *clientConn, err error) bool {
	again, eject, stale := e.lockedDialed(c, err)
	if stale != nil {
		stale.h2.Shutdown()
	}
	if eject {
		e.pool.eject(e)
	}
	e.pool.notify()
	return again
}

func (e *Endpoint) lockedDialed(c *clientConn, err error) (again, eject bool, stale *clientConn) {
	p := e.pool
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dialing = false
	if err == nil && c.lost { // ready, then closed before it joined
		err, c = &DialError{Addr: e.addr, Err: errClosedEarly}, nil
	}
	if p.closed.Load() || e.removed {
		return false, false, c
	}
	if err != nil {
		e.dialFails++
		e.dialFailures.Add(1)
		e.lastErr = err
		e.backoffUntil.Store(nanotime() + int64(p.cfg.backoff(e.dialFails)))
		e.scheduleLocked()
		return false, int(e.failures.Add(1)) >= p.cfg.EjectAfter, nil
	}
	e.conns = append(e.conns, c)
	e.nconns.Store(int32(len(e.conns)))
	e.dialFails, e.lastErr = 0, nil
	e.backoffUntil.Store(0)
	e.failures.Store(0)
	if p.warm.Load() && e.liveLocked() < p.cfg.ConnsPerEndpoint {
		e.dialing = true
		return true, false, nil
	}
	return false, false, nil
}

// maintain starts a dial when Warm wants more connections on e and no
// backoff forbids it; after a failure it comes back when the backoff ends.
func (e *Endpoint) maintain() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.maintainLocked()
}

func (e *Endpoint) maintainLocked() {
	p := e.pool
	if !p.warm.Load() || p.closed.Load() || e.removed || e.dialing ||
		e.liveLocked() >= p.cfg.ConnsPerEndpoint {
		return
	}
	if e.backoffUntil.Load() > nanotime() {
		e.scheduleLocked()
		return
	}
	e.startDialLocked()
}

// scheduleLocked arms Warm's redial for when the backoff ends.
func (e *Endpoint) scheduleLocked() {
	if !e.pool.warm.Load() || e.retry != nil {
		return
	}
	d := time.Duration(e.backoffUntil.Load() - nanotime())
	e.retry = time.AfterFunc(max(d, 0), func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.retry = nil
		e.maintainLocked()
	})
}
