// Package canary is strait's canary and gray-release filter: it sends a
// route's requests to another upstream when they carry a header, when
// their key (a tenant header, the client address, a JWT claim) is listed,
// or for a percentage of keys. A key's share is fixed by a hash of it,
// so a client always goes the same way for a given percentage, and
// raising the percentage only moves clients to the canary, never back.
//
// canary imports filter of strait's packages, nothing else.
package canary

import (
	"math/rand/v2"

	"github.com/straitgw/strait/filter"
)

// Rule is one canary: where its requests go, and which requests.
type Rule struct {
	Upstream string  // the canary's upstream name
	Header   Header  // zero: no header rule
	Percent  float64 // of keys (of requests without Key), 0 to 100
	Key      Key     // identifies clients; KeyNone: each request drawn alone
	Keys     []string
}

// Filter routes requests to one canary upstream. When several canary
// filters apply to a route, the first that picks its upstream wins.
type Filter struct {
	rule Rule
	keys map[string]bool
	draw func() float64 // a bucket for a request without a key
}

// New makes the filter of r.
func New(r Rule) *Filter {
	f := &Filter{rule: r, keys: make(map[string]bool, len(r.Keys)), draw: drawBucket}
	for _, k := range r.Keys {
		f.keys[k] = true
	}
	return f
}

// Rule is the filter's rule.
func (f *Filter) Rule() Rule { return f.rule }

// picked marks a request a canary filter already sent elsewhere.
type picked struct{}

// OnRequest picks the canary upstream for requests that match: the
// header rule, then a listed key, then the key's bucket against Percent.
func (f *Filter) OnRequest(r filter.Request, _ func(filter.Result)) filter.Result {
	if r.Value(picked{}) != nil {
		return filter.Continue
	}
	if f.matches(r) {
		r.SetUpstream(f.rule.Upstream)
		r.SetValue(picked{}, true)
	}
	return filter.Continue
}

// matches reports whether r goes to the canary. A key is a view of the
// request: hashed and looked up here, never kept.
func (f *Filter) matches(r filter.Request) bool {
	rule := &f.rule
	if rule.Header.Name != "" && rule.Header.matches(r) {
		return true
	}
	if rule.Key.Kind == KeyNone {
		return rule.Percent > 0 && f.draw() < rule.Percent
	}
	k, ok := rule.Key.value(r)
	if !ok {
		return false // no key: the primary upstream, so a client never flaps
	}
	return f.keys[k] || rule.Percent > 0 && Bucket(rule.Upstream, k) < rule.Percent
}

// buckets is the resolution of a percentage: 0.01%.
const buckets = 10000

// Bucket places a key in [0, 100) in steps of 0.01: a hash (FNV-1a,
// then a 64-bit finalizer to spread FNV's low bits) of salt and key. The
// same key always lands in the same bucket, in every gateway of a fleet;
// salting with the canary's upstream name gives each canary its own
// order of clients, so one tenant is not always first.
func Bucket(salt, key string) float64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := 0; i < len(salt); i++ {
		h = (h ^ uint64(salt[i])) * prime
	}
	h = (h ^ 0) * prime // a separator: ("ab","c") and ("a","bc") differ
	for i := 0; i < len(key); i++ {
		h = (h ^ uint64(key[i])) * prime
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return float64(h%buckets) / (buckets / 100)
}

func drawBucket() float64 { return float64(rand.Uint64N(buckets)) / (buckets / 100) }
