package ratelimit

import (
	"slices"
	"testing"
	"time"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/rpc"
)

// TestFilterReject: under the limit a request goes on; over it, it is
// rejected with RESOURCE_EXHAUSTED and every field, and counted.
func TestFilterReject(t *testing.T) {
	l, c := newTestLocal(t, Rate{Rate: 2, Per: 3 * time.Second, Burst: 2}, 0)
	f := New(mustKey(t, "header:x-tenant"), l)
	r := &request{headers: map[string]string{"x-tenant": "acme"}}
	for i := 0; i < 2; i++ {
		if res := f.OnRequest(r, nil); res.Verdict != filter.VerdictContinue {
			t.Fatalf("request %d: got %+v; want Continue", i, res)
		}
	}
	c.advance(100 * time.Millisecond)
	res := f.OnRequest(r, nil)
	want := filter.Reject(rpc.New(rpc.CodeResourceExhausted, "rate limit exceeded"),
		filter.Field{Name: "Retry-After", Value: "2"}, // 1.4s rounded up
		filter.Field{Name: "RateLimit-Limit", Value: "2"},
		filter.Field{Name: "RateLimit-Remaining", Value: "0"},
		filter.Field{Name: "RateLimit-Reset", Value: "3"}) // 2.9s rounded up
	if res.Verdict != want.Verdict || res.Status.Code != want.Status.Code || res.Status.Message != want.Status.Message ||
		!slices.Equal(res.Headers, want.Headers) {
		t.Fatalf("over the limit: got %+v; want %+v", res, want)
	}
	if n := f.Limited(); n != 1 {
		t.Fatalf("Limited: %d; want 1", n)
	}
	other := &request{headers: map[string]string{"x-tenant": "globex"}}
	if res := f.OnRequest(other, nil); res.Verdict != filter.VerdictContinue {
		t.Fatalf("another tenant: got %+v; want Continue", res)
	}
}

func TestFieldsRounding(t *testing.T) {
	tests := []struct {
		d    Decision
		want []string
	}{
		{Decision{Allowed: true, Limit: 10, Remaining: 9, Reset: 100 * time.Millisecond}, []string{"RateLimit-Limit: 10", "RateLimit-Remaining: 9", "RateLimit-Reset: 1"}},
		{Decision{Limit: 1, RetryAfter: time.Nanosecond, Reset: time.Second}, []string{"Retry-After: 1", "RateLimit-Limit: 1", "RateLimit-Remaining: 0", "RateLimit-Reset: 1"}},
		{Decision{Limit: 5, RetryAfter: 60 * time.Second, Reset: 300*time.Second + 1}, []string{"Retry-After: 60", "RateLimit-Limit: 5", "RateLimit-Remaining: 0", "RateLimit-Reset: 301"}},
	}
	for _, tt := range tests {
		var got []string
		for _, f := range Fields(tt.d) {
			got = append(got, f.Name+": "+f.Value)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%+v: got %q; want %q", tt.d, got, tt.want)
		}
	}
}

// remote is a Limiter that must always ask, as a shared limiter would:
// it answers from a goroutine with what the test tells it.
type remote struct {
	asked chan string
	reply chan Decision
}

func (m *remote) Take(string) (Decision, bool) { return Decision{}, false }
func (m *remote) Ask(key string, done func(Decision)) {
	m.asked <- key
	go func() { done(<-m.reply) }()
}

// TestFilterAsks: a limiter that cannot decide at once gets its own copy
// of the key, the request is suspended, and the answer resumes it.
func TestFilterAsks(t *testing.T) {
	m := &remote{asked: make(chan string, 1), reply: make(chan Decision)}
	f := New(mustKey(t, "header:x-tenant"), m)
	buf := []byte("acme")
	r := &request{headers: map[string]string{"x-tenant": string(buf)}}
	resumed := make(chan filter.Result, 1)
	if res := f.OnRequest(r, func(res filter.Result) { resumed <- res }); res.Verdict != filter.VerdictSuspend {
		t.Fatalf("got %+v; want Suspend", res)
	}
	if k := <-m.asked; k != "acme" {
		t.Fatalf("asked for %q; want acme", k)
	}
	m.reply <- Decision{Limit: 1, RetryAfter: time.Second, Reset: time.Second}
	select {
	case res := <-resumed:
		if res.Verdict != filter.VerdictReject || res.Status.Code != rpc.CodeResourceExhausted {
			t.Fatalf("resumed with %+v; want a RESOURCE_EXHAUSTED rejection", res)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("never resumed")
	}
}

// TestFilterZeroAlloc pins the filter's hot path: a request whose key's
// bucket is kept, let through, costs no allocation.
func TestFilterZeroAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	l, _ := newTestLocal(t, Rate{Rate: 1, Per: time.Second, Burst: 1 << 20}, 0)
	f := New(mustKey(t, "header:x-tenant"), l)
	r := &request{headers: map[string]string{"x-tenant": "acme"}}
	f.OnRequest(r, nil)
	if n := testing.AllocsPerRun(1000, func() { f.OnRequest(r, nil) }); n != 0 {
		t.Fatalf("OnRequest of a kept key: %v allocations; want 0", n)
	}
}
