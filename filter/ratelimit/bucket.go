package ratelimit

import "time"

// bucket is a token bucket in the form of GCRA's virtual scheduling
// (ITU-T I.371): instead of a token count and a refill time, a bucket is
// one number, tat, the time at which it will be full again. A request at
// now spends a token by pushing tat one step further; it is denied when
// that would put tat more than span (a full bucket's worth of steps)
// ahead of now. tat <= now is a full bucket, so a bucket that old
// carries no information and may be forgotten. Times are nanoseconds on
// the limiter's clock.
type bucket struct {
	step  int64 // one token's refill time: Per / Rate
	span  int64 // step × capacity
	limit int   // capacity
}

func newBucket(r Rate) bucket {
	step := int64(r.step())
	return bucket{step: step, span: step * int64(r.capacity()), limit: r.capacity()}
}

// take decides one request at now for a bucket whose tat is tat; it
// returns the bucket's new tat, unchanged when the request is denied.
func (b bucket) take(tat, now int64) (int64, Decision) {
	from := max(tat, now)
	next := from + b.step
	ahead := next - now
	if ahead > b.span {
		return tat, Decision{Limit: b.limit, RetryAfter: time.Duration(ahead - b.span), Reset: time.Duration(from - now)}
	}
	return next, Decision{Allowed: true, Limit: b.limit, Remaining: int((b.span - ahead) / b.step), Reset: time.Duration(ahead)}
}
