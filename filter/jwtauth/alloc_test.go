package jwtauth

import (
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/straitgw/strait/filter"
)

// raceEnabled is set under -race, which changes allocation counts.
var raceEnabled bool

// TestCachedZeroAlloc pins the hot path: a route's rules found, the
// token taken, a cache hit applied allocate nothing of the filter's own.
func TestCachedZeroAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	s := newSigner(t, "k", jose.ES256)
	f := staticFilter(t, Rule{Issuer: iss, Routes: []filter.Selector{"p.S", "GET /v1/x/{y}"}}, s)
	r := bearer(s.Sign(t, claimsAt(iss, "x", time.Now())))
	resume := func(filter.Result) {}
	f.OnRequest(r, resume)
	got := testing.AllocsPerRun(1000, func() {
		r.meta, r.dropped = r.meta[:0], r.dropped[:0]
		if res := f.OnRequest(r, resume); res.Verdict != filter.VerdictContinue {
			t.Fatal(describe(res))
		}
	})
	if got != 0 {
		t.Errorf("cached token: %v allocs/op; want 0", got)
	}
}
