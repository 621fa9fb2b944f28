package ratelimit

import (
	"testing"
	"time"
)

// TestBucket walks one bucket through a burst, a denial and its refill
// at exact times: rate 2 per second (a token every 500ms), capacity 3.
func TestBucket(t *testing.T) {
	b := newBucket(Rate{Rate: 2, Per: time.Second, Burst: 3})
	ms := func(n int64) int64 { return n * int64(time.Millisecond) }
	steps := []struct {
		at   int64
		want Decision
	}{
		{0, Decision{Allowed: true, Limit: 3, Remaining: 2, Reset: 500 * time.Millisecond}},
		{0, Decision{Allowed: true, Limit: 3, Remaining: 1, Reset: time.Second}},
		{0, Decision{Allowed: true, Limit: 3, Remaining: 0, Reset: 1500 * time.Millisecond}},
		{0, Decision{Limit: 3, RetryAfter: 500 * time.Millisecond, Reset: 1500 * time.Millisecond}},
		{ms(400), Decision{Limit: 3, RetryAfter: 100 * time.Millisecond, Reset: 1100 * time.Millisecond}},
		{ms(500), Decision{Allowed: true, Limit: 3, Remaining: 0, Reset: 1500 * time.Millisecond}},
		{ms(1500), Decision{Allowed: true, Limit: 3, Remaining: 1, Reset: time.Second}},
		{ms(10_000), Decision{Allowed: true, Limit: 3, Remaining: 2, Reset: 500 * time.Millisecond}},
	}
	var tat int64
	for i, s := range steps {
		var got Decision
		tat, got = b.take(tat, s.at)
		if got != s.want {
			t.Fatalf("step %d at %v: got %+v; want %+v", i, time.Duration(s.at), got, s.want)
		}
	}
}

// TestBucketSteadyRate: over a long run at any request pace, the
// allowance is burst + rate × time, never more.
func TestBucketSteadyRate(t *testing.T) {
	for _, r := range []Rate{{Rate: 10, Per: time.Second}, {Rate: 4, Per: time.Second, Burst: 1}, {Rate: 1, Per: time.Minute, Burst: 5}} {
		b := newBucket(r)
		var tat int64
		allowed := 0
		span := 10 * r.Per
		pace := r.Per / time.Duration(4*r.Rate) // four times too fast
		for now := time.Duration(0); now <= span; now += pace {
			var d Decision
			if tat, d = b.take(tat, int64(now)); d.Allowed {
				allowed++
			}
		}
		if want := r.capacity() + 10*r.Rate; allowed != want {
			t.Errorf("%+v: %d allowed in %v; want %d", r, allowed, span, want)
		}
	}
}

func TestRateCheck(t *testing.T) {
	tests := []struct {
		r     Rate
		field string // "" when valid
	}{
		{Rate{Rate: 1, Per: time.Second}, ""},
		{Rate{Rate: 100, Per: time.Second, Burst: 1}, ""},
		{Rate{Rate: 0, Per: time.Second}, "rate"},
		{Rate{Rate: 1}, "per"},
		{Rate{Rate: 1, Per: -time.Second}, "per"},
		{Rate{Rate: 1, Per: time.Second, Burst: -1}, "burst"},
		{Rate{Rate: 2_000_000_000, Per: time.Second}, "rate"},
		{Rate{Rate: 1, Per: 24 * time.Hour, Burst: 400}, "burst"},
	}
	for _, tt := range tests {
		err := tt.r.Check()
		var re *RateError
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("%+v: got %v; want valid", tt.r, err)
		case tt.field != "" && (err == nil || !asRateError(err, &re) || re.Field != tt.field):
			t.Errorf("%+v: got %v; want a problem with %s", tt.r, err, tt.field)
		}
	}
}

func asRateError(err error, re **RateError) bool {
	e, ok := err.(*RateError)
	*re = e
	return ok
}
