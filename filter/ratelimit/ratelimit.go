// Package ratelimit is strait's rate-limit filter: token buckets per key
// (every request, the client's address, its mTLS identity, a header, a
// JWT claim), kept in this process by Local, or decided by a limiter
// shared across a fleet behind the same Limiter interface. It imports
// filter and rpc only, and never engine, upstream, transcode or h2.
package ratelimit

import "time"

// Rate is a token bucket: Burst requests at once (its capacity; 0 means
// Rate), refilled at Rate requests per Per.
type Rate struct {
	Rate  int
	Per   time.Duration
	Burst int
}

// RateError is a Rate that cannot be enforced; Field names the part at
// fault (rate, per or burst), so a configuration can point at it.
type RateError struct{ Field, Msg string }

func (e *RateError) Error() string { return "ratelimit: " + e.Field + ": " + e.Msg }

// maxSpan bounds how far ahead of now a bucket may run (Per × Burst /
// Rate): longer would be a limit no one means, and the arithmetic stays
// far from overflow.
const maxSpan = 365 * 24 * time.Hour

// Check reports a rate that cannot be enforced, as a *RateError.
func (r Rate) Check() error {
	switch {
	case r.Rate < 1:
		return &RateError{"rate", "must be at least 1"}
	case r.Per <= 0:
		return &RateError{"per", "must be a positive duration such as 1s"}
	case r.Burst < 0:
		return &RateError{"burst", "must not be negative (0 means rate)"}
	case r.Per < time.Duration(r.Rate):
		return &RateError{"rate", "more than one request per nanosecond"}
	case int64(r.capacity()) > int64(maxSpan)/int64(r.step()):
		return &RateError{"burst", "per × burst / rate is longer than a year"}
	}
	return nil
}

func (r Rate) capacity() int {
	if r.Burst == 0 {
		return r.Rate
	}
	return r.Burst
}

// step is the time one request's token takes to come back.
func (r Rate) step() time.Duration { return r.Per / time.Duration(r.Rate) }

// Decision is a limiter's answer for one request, and what the response
// fields tell the client.
type Decision struct {
	Allowed    bool
	Limit      int           // the bucket's capacity (Burst)
	Remaining  int           // requests that would pass now, after this one
	RetryAfter time.Duration // when denied: until one request would pass
	Reset      time.Duration // until the bucket is full again
}

// Limiter makes a rule's decisions. Local keeps token buckets in this
// process; a limiter shared across a fleet (Envoy's rate limit service,
// see ARCHITECTURE.md) would implement it too, answering through Ask.
type Limiter interface {
	// Take spends one request of key's allowance and decides, when it
	// can do so at once (now is true); otherwise the caller asks. It
	// must not block. key may be a view of a buffer the caller reuses
	// once Take returns: a limiter that keeps it copies it.
	Take(key string) (d Decision, now bool)
	// Ask decides later, for a key Take could not decide: done runs
	// exactly once, after Ask has returned, on any goroutine. key is
	// the limiter's to keep.
	Ask(key string, done func(Decision))
}
