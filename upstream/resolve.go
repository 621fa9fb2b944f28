package upstream

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"
)

// target is a configured host name; each address it resolves to is an
// endpoint of its own.
type target struct {
	host, port string
	authority  string // as configured
	// Guarded by pool.mu.
	eps      map[string]*Endpoint // by ip:port
	list     []*Endpoint          // eps in the order they appeared
	resolved bool                 // the first lookup has ended
	err      error                // the last lookup's failure
}

// splitTarget reports whether addr names a host to resolve: host:port
// whose host is not an IP literal. Anything else is dialed as it is (an
// address without a port fails its dial, with the reason).
func splitTarget(addr string) (host, port string, ok bool) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return "", "", false
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return "", "", false
	}
	return host, port, true
}

// resolveLoop looks t up now and every DNSRefresh; a failed lookup is
// retried sooner, with the dial backoff. It ends when the pool closes.
func (p *Pool) resolveLoop(t *target) {
	fails := 0
	for {
		ctx, cancel := context.WithTimeout(p.ctx, p.cfg.DialTimeout)
		hosts, err := p.cfg.Resolve(ctx, t.host)
		cancel()
		if p.ctx.Err() != nil {
			return
		}
		if err == nil && len(hosts) == 0 {
			err = errNoAddresses
		}
		p.resolved(t, hosts, err)
		wait := p.cfg.DNSRefresh
		if err != nil {
			fails++
			wait = min(wait, p.cfg.backoff(fails))
		} else {
			fails = 0
		}
		tm := time.NewTimer(wait)
		select {
		case <-p.ctx.Done():
			tm.Stop()
			return
		case <-tm.C:
		}
	}
}

// errNoAddresses: a lookup answered nothing. The endpoints the host had
// are kept: an empty answer is more likely a glitch than a decommission.
var errNoAddresses = errors.New("no addresses")

// resolved applies a lookup: new addresses become endpoints, vanished ones
// drain (no new streams; GOAWAY, and their streams finish), and requests
// parked on the first lookup are woken.
func (p *Pool) resolved(t *target, hosts []string, err error) {
	added, gone, ws := p.lockedResolved(t, hosts, err)
	for _, e := range gone {
		e.drain()
	}
	for _, e := range added {
		e.maintain()
		p.probeNew(e)
	}
	for _, w := range ws {
		w()
	}
}

func (p *Pool) lockedResolved(t *target, hosts []string, err error) (added, gone []*Endpoint, ws []func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !t.resolved {
		t.resolved = true
		p.unresolved--
	}
	t.err = err
	if err == nil && !p.closed.Load() {
		added, gone = t.update(p, hosts)
		if len(added)+len(gone) > 0 {
			p.publishLocked()
		}
	}
	p.seq.Add(1)
	ws, p.waiters = p.waiters, nil
	return added, gone, ws
}

// update makes t's endpoints those of hosts, under pool.mu.
func (t *target) update(p *Pool, hosts []string) (added, gone []*Endpoint) {
	want := make(map[string]bool, len(hosts))
	for _, h := range hosts {
		a := net.JoinHostPort(h, t.port)
		want[a] = true
		if t.eps[a] == nil {
			e := newEndpoint(p, a, t.authority)
			t.eps[a] = e
			t.list = append(t.list, e)
			added = append(added, e)
		}
	}
	kept := t.list[:0]
	for _, e := range t.list {
		if want[e.addr] {
			kept = append(kept, e)
			continue
		}
		delete(t.eps, e.addr)
		gone = append(gone, e)
	}
	clear(t.list[len(kept):])
	t.list = kept
	return added, gone
}

// noEndpoint is Open's answer when the pool has no endpoint: ErrPending
// while a first lookup is under way, else why there is none.
func (p *Pool) noEndpoint() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.unresolved > 0 {
		return ErrPending
	}
	for _, t := range p.targets {
		if t.err != nil {
			return &ResolveError{Host: t.host, Err: t.err}
		}
	}
	return ErrNoEndpoint
}

// ResolveError is a failed lookup of an upstream host name, when it left
// the pool without endpoints. errors.Is(err, ErrNoEndpoint) holds.
type ResolveError struct {
	Host string
	Err  error
}

func (e *ResolveError) Error() string {
	return "upstream " + e.Host + ": resolve: " + e.Err.Error()
}
func (e *ResolveError) Unwrap() []error { return []error{ErrNoEndpoint, e.Err} }
