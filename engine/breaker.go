package engine

import (
	"fmt"
	"io"
	"sync/atomic"

	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/upstream"
)

// CircuitBreaker bounds what one upstream is given at once, as Envoy's
// circuit breakers do; 0 is no bound. A request that would pass a bound
// is answered at once with 503 / UNAVAILABLE and the header
// x-strait-overloaded naming it (pending or requests); a retry that would
// pass max_retries is not made, and the failure it would have retried
// goes to the client as it is.
type CircuitBreaker struct {
	// MaxPending bounds the requests waiting for a connection (one being
	// dialed, attempt.go's park).
	MaxPending int `yaml:"max_pending"`
	// MaxRequests bounds the requests with a stream open on the upstream.
	MaxRequests int `yaml:"max_requests"`
	// MaxRetries bounds the requests being retried: from the decision to
	// retry (a request the upstream never processed, or a service's retry
	// policy) until the request ends.
	MaxRetries int `yaml:"max_retries"`
}

// overload is one resource a circuit breaker bounds.
type overload uint8

const (
	overPending overload = iota
	overRequests
	overRetries
	numOverloads
)

// overloadNames are the values of x-strait-overloaded and the reason
// label of strait_circuit_open_total.
var overloadNames = [numOverloads]string{"pending", "requests", "retries"}

// breaker counts what an upstream holds and enforces its bounds. One per
// upstream name, kept across reloads (compileBreakers): a leg gives back
// to the breaker it took from, whatever snapshot is in force by then, so
// the counts stay exact.
type breaker struct {
	name  string
	max   [numOverloads]atomic.Int64 // 0: none
	busy  [numOverloads]atomic.Int64
	opens [numOverloads]atomic.Int64 // requests refused, retries not made
}

func (b *breaker) set(cb CircuitBreaker) {
	b.max[overPending].Store(int64(cb.MaxPending))
	b.max[overRequests].Store(int64(cb.MaxRequests))
	b.max[overRetries].Store(int64(cb.MaxRetries))
}

// take counts one more o, unless that would pass the bound: then it
// counts an opening and reports false. A nil breaker bounds nothing.
func (b *breaker) take(o overload) bool {
	if b == nil {
		return true
	}
	limit := b.max[o].Load()
	for {
		n := b.busy[o].Load()
		if limit > 0 && n >= limit {
			b.opens[o].Add(1)
			return false
		}
		if b.busy[o].CompareAndSwap(n, n+1) {
			return true
		}
	}
}

func (b *breaker) give(o overload) {
	if b != nil {
		b.busy[o].Add(-1)
	}
}

// compileBreakers gives each upstream of s its breaker: old's of the
// same name (counts and all), with the bounds of s's configuration.
func (s *snapshot) compileBreakers(old *snapshot) {
	s.breakers = make(map[*upstream.Pool]*breaker, len(s.cfg.Upstreams))
	for _, u := range s.cfg.Upstreams {
		b := old.breakerNamed(u.Name)
		if b == nil {
			b = &breaker{name: u.Name}
		}
		b.set(u.CircuitBreaker)
		s.breakers[s.byName[u.Name]] = b
	}
}

func (s *snapshot) breakerNamed(name string) *breaker {
	if s == nil {
		return nil
	}
	return s.breakers[s.byName[name]]
}

// slots are what a leg holds of its breaker; guarded by leg.mu. A
// request slot goes with the upstream stream (upClosed gives it back),
// a pending one with the wait for a connection, a retry one with the
// rest of the exchange (stopTimer).
type slots struct {
	brk  *breaker
	held [numOverloads]bool
}

// hold takes o for the leg unless it holds it already.
func (l *leg) hold(o overload) bool {
	if l.held[o] {
		return true
	}
	if !l.brk.take(o) {
		return false
	}
	l.held[o] = true
	return true
}

func (l *leg) release(o overload) {
	if l.held[o] {
		l.held[o] = false
		l.brk.give(o)
	}
}

// overloaded turns the request away at once: its upstream holds as much
// of o as its circuit breaker allows. The response says which.
func (l *leg) overloaded(o overload) error {
	l.down.setExtra(append(l.extra, h2.Field{Name: "x-strait-overloaded", Value: overloadNames[o]}))
	return &overloadError{upstream: l.brk.name, what: o}
}

// overloadError is a request a circuit breaker turned away.
type overloadError struct {
	upstream string
	what     overload
}

func (e *overloadError) Error() string {
	return fmt.Sprintf("upstream %q overloaded: circuit_breaker.max_%s reached", e.upstream, overloadNames[e.what])
}

// writeBreakers writes each upstream's circuit breaker counts.
func (s *snapshot) writeBreakers(w io.Writer) {
	families := []struct {
		name, typ, help string
		o               overload
	}{
		{"strait_upstream_pending_requests", "gauge", "Requests waiting for a connection to the upstream.", overPending},
		{"strait_upstream_active_requests", "gauge", "Requests with a stream open on the upstream.", overRequests},
		{"strait_upstream_active_retries", "gauge", "Requests being retried on the upstream.", overRetries},
	}
	for _, f := range families {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", f.name, f.help, f.name, f.typ)
		for _, u := range s.cfg.Upstreams {
			fmt.Fprintf(w, "%s{upstream=%q} %d\n", f.name, u.Name, s.breakerNamed(u.Name).busy[f.o].Load())
		}
	}
	fmt.Fprintf(w, "# HELP strait_circuit_open_total Requests a circuit breaker turned away, and retries it did not let happen.\n# TYPE strait_circuit_open_total counter\n")
	for _, u := range s.cfg.Upstreams {
		b := s.breakerNamed(u.Name)
		for o := range numOverloads {
			fmt.Fprintf(w, "strait_circuit_open_total{upstream=%q,reason=%q} %d\n", u.Name, overloadNames[o], b.opens[o].Load())
		}
	}
}
