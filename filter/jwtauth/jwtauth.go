// Package jwtauth is strait's JWT authentication filter: a request on a
// route it guards must carry a token (RFC 7519) signed by one of the
// route's issuers with a key of its JWKS (RFC 7517), unexpired and for
// one of its audiences; its claims then travel upstream as metadata and
// to later filters (filter.ClaimsKey). Signatures are go-jose's.
//
// Verification runs on the event loop (tens of microseconds; a cache of
// verified tokens makes a repeated token a map lookup). Keys come from a
// JWKS given whole or fetched by a goroutine per URL; a request never
// waits for a fetch on the event loop: it is suspended and resumed from
// the fetch's goroutine.
//
// jwtauth imports filter and rpc of strait's packages, nothing else.
package jwtauth

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/rpc"
)

// DefaultLeeway is the clock skew allowed on exp, nbf and iat.
const DefaultLeeway = 30 * time.Second

// MaxWait bounds how long a request waits for a key fetch (the first
// one, or one its unknown kid asked for).
const MaxWait = 5 * time.Second

// maxRules: a filter's rules fit a uint64 mask.
const maxRules = 64

// DefaultForward is the claims forwarded when a rule names none.
var DefaultForward = map[string]string{"iss": "x-jwt-iss", "sub": "x-jwt-sub"}

// Rule is one accepted issuer and the routes it guards.
type Rule struct {
	Issuer    string   // the exact "iss" a token must carry
	Audiences []string // a token's "aud" must hold one of them (none: not checked)
	// Keys verify signatures. New takes one reference to each distinct
	// Keys of its rules; Close releases it.
	Keys    *Keys
	From    From              // zero: Authorization
	Forward map[string]string // claim -> header name; nil: DefaultForward
	// DropToken keeps the token's header from traveling upstream.
	DropToken bool
	Leeway    time.Duration     // zero: DefaultLeeway
	Routes    []filter.Selector // none: every route
}

// rule is a Rule compiled.
type rule struct {
	idx       int
	issuer    string
	audiences jwt.Audience
	keys      *Keys
	from      From
	forward   []forward // sorted by claim
	drop      bool
	leeway    time.Duration
	routes    []filter.Selector
}

func (ru *rule) bit() uint64 { return 1 << ru.idx }

func (ru *rule) applies(rt filter.Route) bool {
	return filter.Entry{Routes: ru.routes}.Applies(rt)
}

// Filter checks tokens on the routes of its rules. When several rules
// guard a route, a token passes if the rule its "iss" names accepts it.
type Filter struct {
	rules []*rule
	all   uint64 // every rule's bit
	every bool   // every rule guards every route
	keys  []*Keys
	cache *cache
	now   func() time.Time
	wait  time.Duration
}

// New compiles rules into a filter.
func New(rules []Rule) (*Filter, error) {
	if len(rules) > maxRules {
		return nil, fmt.Errorf("jwtauth: %d rules; at most %d", len(rules), maxRules)
	}
	f := &Filter{every: true, cache: newCache(DefaultCacheSize), now: time.Now, wait: MaxWait}
	for i, r := range rules {
		if r.Issuer == "" || r.Keys == nil {
			return nil, fmt.Errorf("jwtauth: rule %d: an issuer and keys are required", i)
		}
		ru := compile(i, r)
		f.rules = append(f.rules, ru)
		f.all |= ru.bit()
		f.every = f.every && len(ru.routes) == 0
		if !slices.Contains(f.keys, r.Keys) {
			f.keys = append(f.keys, r.Keys)
		}
	}
	return f, nil
}

func compile(i int, r Rule) *rule {
	ru := &rule{idx: i, issuer: r.Issuer, audiences: jwt.Audience(r.Audiences), keys: r.Keys,
		from: r.From, drop: r.DropToken, leeway: r.Leeway, routes: r.Routes}
	if ru.from.Header == "" {
		ru.from = Authorization
	}
	if ru.leeway == 0 {
		ru.leeway = DefaultLeeway
	}
	fw := r.Forward
	if fw == nil {
		fw = DefaultForward
	}
	for _, c := range slices.Sorted(maps.Keys(fw)) {
		ru.forward = append(ru.forward, forward{claim: c, header: strings.ToLower(fw[c])})
	}
	return ru
}

// Keys lists the distinct key sources of f's rules.
func (f *Filter) Keys() []*Keys { return f.keys }

// Close releases f's key sources: fetching stops once no filter holds one.
func (f *Filter) Close() error {
	for _, k := range f.keys {
		k.Release()
	}
	f.keys = nil
	return nil
}

// OnRequest checks the request's token. The token is a view of the
// request's buffer: it is compared, verified (go-jose keeps nothing of
// it) and copied only when kept (the cache, a wait for keys).
func (f *Filter) OnRequest(r filter.Request, resume func(filter.Result)) filter.Result {
	mask := f.maskOf(r)
	if mask == 0 {
		return filter.Continue
	}
	f.strip(r, mask)
	tok, present := f.token(r, mask)
	if !present {
		return rejection(ErrMissing)
	}
	if tok == "" {
		return rejection(ErrMalformed)
	}
	now := f.now()
	if v := f.cache.get(tok); v != nil {
		if v.fresh(mask, now) {
			v.apply(r)
			return filter.Continue
		}
		f.cache.drop(tok)
	}
	v, ru, err := f.verify(tok, mask, now)
	if err == nil {
		f.remember(v, tok).apply(r)
		return filter.Continue
	}
	if ru != nil && (err == ErrNoKeys || err == ErrUnknownKey) {
		return f.waitKeys(ru, strings.Clone(tok), mask, r, resume)
	}
	return rejection(err)
}

// remember caches v under a copy of tok: the copy is what outlives the
// request.
func (f *Filter) remember(v *verified, tok string) *verified {
	v.tok = strings.Clone(tok)
	f.cache.add(v)
	return v
}

// maskOf is the set of rules that guard r's route.
func (f *Filter) maskOf(r filter.Request) uint64 {
	if f.every {
		return f.all
	}
	rt, ok := filter.RouteOf(r)
	if !ok {
		return f.all
	}
	var m uint64
	for _, ru := range f.rules {
		if ru.applies(rt) {
			m |= ru.bit()
		}
	}
	return m
}

// strip keeps the client's own copies of the headers the rules set from
// going upstream, and the token when a rule says so.
func (f *Filter) strip(r filter.Request, mask uint64) {
	for _, ru := range f.rules {
		if mask&ru.bit() == 0 {
			continue
		}
		for _, fw := range ru.forward {
			filter.DropMetadata(r, fw.header)
		}
		if ru.drop {
			filter.DropMetadata(r, ru.from.Header)
		}
	}
}

// token finds the token where the rules of mask look for it.
func (f *Filter) token(r filter.Request, mask uint64) (tok string, present bool) {
	for _, ru := range f.rules {
		if mask&ru.bit() != 0 {
			if tok, present = ru.from.Token(r.Header(ru.from.Header)); present {
				return tok, true
			}
		}
	}
	return "", false
}

// apply hands the verified claims to the request.
func (v *verified) apply(r filter.Request) {
	for _, fd := range v.fields {
		r.SetMetadata(fd.Name, fd.Value)
	}
	r.SetValue(filter.ClaimsKey{}, v.claims)
}

// rejection is the answer to a refused token: 401 UNAUTHENTICATED with a
// Bearer challenge (RFC 6750 §3: no error for a missing token,
// invalid_token otherwise), or 503 UNAVAILABLE while keys are missing.
func rejection(err error) filter.Result {
	if r, ok := rejections[err]; ok {
		return r
	}
	return rejections[ErrMalformed]
}

var rejections = func() map[error]filter.Result {
	m := map[error]filter.Result{
		ErrMissing: filter.Reject(rpc.New(rpc.CodeUnauthenticated, ErrMissing.Error()),
			filter.Field{Name: "www-authenticate", Value: "Bearer"}),
		ErrNoKeys: filter.Reject(rpc.New(rpc.CodeUnavailable, ErrNoKeys.Error()),
			filter.Field{Name: "retry-after", Value: "1"}),
	}
	for _, err := range []error{ErrMalformed, ErrAlgorithm, ErrUnknownKey, ErrSignature, ErrNoExpiry,
		ErrExpired, ErrNotYetValid, ErrIssuedInFuture, ErrIssuer, ErrAudience} {
		desc := strings.TrimPrefix(err.Error(), "jwtauth: ")
		m[err] = filter.Reject(rpc.New(rpc.CodeUnauthenticated, err.Error()),
			filter.Field{Name: "www-authenticate", Value: `Bearer error="invalid_token", error_description="` + desc + `"`})
	}
	return m
}()
