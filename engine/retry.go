package engine

import (
	"math"
	"math/rand/v2"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/straitgw/strait/rpc"
)

// retryPolicy is a service's RetryPolicy, compiled.
type retryPolicy struct {
	max     int
	initial time.Duration
	ceiling time.Duration
	mult    float64
	codes   [rpc.NumCodes]bool
}

// compileRetries compiles the services' retry policies.
func compileRetries(svcs []ServiceConfig) map[protoreflect.FullName]*retryPolicy {
	m := map[protoreflect.FullName]*retryPolicy{}
	for _, s := range svcs {
		r := s.Retry
		if r.MaxAttempts < 2 {
			continue
		}
		p := &retryPolicy{max: r.MaxAttempts, initial: r.InitialBackoff, ceiling: r.MaxBackoff, mult: r.BackoffMultiplier}
		for _, name := range r.RetryableStatusCodes {
			if c, ok := rpc.CodeByName(name); ok {
				p.codes[c] = true
			}
		}
		m[protoreflect.FullName(s.Name)] = p
	}
	return m
}

// backoff is the wait before the n-th retry (n from 1): a random part of
// initial × mult^(n-1), capped (gRPC A6).
func (p *retryPolicy) backoff(n int) time.Duration {
	d := float64(p.initial) * math.Pow(p.mult, float64(n-1))
	d = min(d, float64(p.ceiling))
	return time.Duration(jitter() * d)
}

// jitter is the random part of a backoff, in [0, 1). Tests that need a
// backoff of known length replace it.
var jitter = rand.Float64

// retryByPolicy retries, after a backoff, a call the upstream answered
// with a status the service's policy retries, when no response byte has
// reached the client yet. It reports whether a retry is scheduled; the
// caller then leaves the response alone. Under mu.
func (l *leg) retryByPolicy(code rpc.Code, untouched bool) bool {
	p := l.policy
	if p == nil || !untouched || code >= rpc.NumCodes || !p.codes[code] ||
		l.ptries+1 >= p.max || !l.keep || l.done || l.deadlineNear() || !l.hold(overRetries) {
		return false
	}
	l.ptries++
	l.e.metrics.retries.Add(1)
	l.report(code)
	l.upClosed() // its late OnClose finds s != up and is ignored
	time.AfterFunc(p.backoff(l.ptries), l.resend)
	return true
}

// deadlineNear reports a deadline too close for another attempt to help.
func (l *leg) deadlineNear() bool {
	return !l.deadline.IsZero() && time.Until(l.deadline) < 10*time.Millisecond
}

// resend makes the next attempt after a backoff.
func (l *leg) resend() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return
	}
	l.answered = false
	l.restart()
	if err := l.send(nil); err != nil {
		l.giveUp(unavailable(err))
	}
}
