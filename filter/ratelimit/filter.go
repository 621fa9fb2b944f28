package ratelimit

import (
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/rpc"
)

// Message is the status message of a limited request.
const Message = "rate limit exceeded"

// Filter enforces one rule on the routes its filter.Entry names: a
// request's key picks a bucket of lim, and a request over the limit is
// answered at once with RESOURCE_EXHAUSTED (HTTP 429 for REST), with
// Retry-After and the RateLimit-* fields (Fields).
type Filter struct {
	key     Key
	lim     Limiter
	limited atomic.Int64
}

// New returns a filter keyed by key, deciding through lim.
func New(key Key, lim Limiter) *Filter { return &Filter{key: key, lim: lim} }

// OnRequest decides at once when the limiter can (Local always does),
// or suspends the request until the limiter answers.
func (f *Filter) OnRequest(r filter.Request, resume func(filter.Result)) filter.Result {
	key := f.key.Of(r)
	d, now := f.lim.Take(key)
	if now {
		return f.result(d)
	}
	// key may be a view that dies when OnRequest returns; Ask keeps it.
	f.lim.Ask(strings.Clone(key), func(d Decision) { resume(f.result(d)) })
	return filter.Suspend
}

func (f *Filter) result(d Decision) filter.Result {
	if d.Allowed {
		return filter.Continue
	}
	f.limited.Add(1)
	return filter.Reject(rpc.New(rpc.CodeResourceExhausted, Message), Fields(d)...)
}

// Limited is how many requests the filter has rejected.
func (f *Filter) Limited() int64 { return f.limited.Load() }

// Key is what the filter's buckets are keyed by.
func (f *Filter) Key() Key { return f.key }

// Limiter is where the filter's decisions are made.
func (f *Filter) Limiter() Limiter { return f.lim }

// Fields are the response fields of a decision, in whole seconds rounded
// up: Retry-After (RFC 9110 §10.2.3) when denied, and RateLimit-Limit
// (the bucket's capacity), RateLimit-Remaining and RateLimit-Reset (until
// the bucket is full again) in the form of
// draft-ietf-httpapi-ratelimit-headers-06, the last draft with three
// separate integer fields.
func Fields(d Decision) []filter.Field {
	fs := make([]filter.Field, 0, 4)
	if !d.Allowed {
		fs = append(fs, filter.Field{Name: "Retry-After", Value: seconds(d.RetryAfter)})
	}
	return append(fs,
		filter.Field{Name: "RateLimit-Limit", Value: strconv.Itoa(d.Limit)},
		filter.Field{Name: "RateLimit-Remaining", Value: strconv.Itoa(d.Remaining)},
		filter.Field{Name: "RateLimit-Reset", Value: seconds(d.Reset)})
}

// seconds formats d in whole seconds, rounded up.
func seconds(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}
