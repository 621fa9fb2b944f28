package jwtauth

import (
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/straitgw/strait/filter"
)

// go test -run '^$' -bench . -count 10 ./filter/jwtauth
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA} {
		s := newSigner(b, "k", alg)
		f := staticFilter(b, Rule{Issuer: iss, Audiences: []string{"books"}}, s)
		now := time.Now()
		tok := s.Sign(b, claimsAt(iss, "books", now))
		b.Run(string(alg), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := f.verify(tok, f.all, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOnRequest is the whole filter per request: a cached token,
// and one verified each time (the cache defeated).
func BenchmarkOnRequest(b *testing.B) {
	s := newSigner(b, "k", jose.ES256)
	f := staticFilter(b, Rule{Issuer: iss, Audiences: []string{"books"},
		Routes: []filter.Selector{"p.S", "GET /v1/x/{y}"}}, s)
	tok := s.Sign(b, claimsAt(iss, "books", time.Now()))
	r := bearer(tok)
	resume := func(filter.Result) {}
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r.meta, r.dropped = r.meta[:0], r.dropped[:0]
			if res := f.OnRequest(r, resume); res.Verdict != filter.VerdictContinue {
				b.Fatal(describe(res))
			}
		}
	})
	b.Run("uncached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			f.cache = newCache(DefaultCacheSize)
			r.meta, r.dropped = r.meta[:0], r.dropped[:0]
			if res := f.OnRequest(r, resume); res.Verdict != filter.VerdictContinue {
				b.Fatal(describe(res))
			}
		}
	})
}
