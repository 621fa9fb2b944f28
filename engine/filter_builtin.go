package engine

import (
	"fmt"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/filter/canary"
	"github.com/straitgw/strait/filter/jwtauth"
)

// jwtFilter is the built-in JWT filter and what it was made from: a
// reload that changes neither the jwt entries nor their JWKS files keeps
// it whole (its cache of verified tokens too).
type jwtFilter struct {
	*jwtauth.Filter
	key string
}

// makeJWT builds the JWT filter of cfg.JWT: one filter for every entry,
// which picks among a route's entries by the token's issuer. Key
// sources old's filter has (a URL with the same settings, a file with
// the same contents) are shared, so a reload keeps fetched keys.
func makeJWT(e *Engine, cfg *Config, old *snapshot) ([]filter.Entry, error) {
	if len(cfg.JWT) == 0 {
		return nil, nil
	}
	docs := make([][]byte, len(cfg.JWT))
	for i, j := range cfg.JWT {
		if j.JWKSFile != "" {
			var err error
			if docs[i], err = readJWKS(j.JWKSFile); err != nil {
				return nil, fmt.Errorf("jwt[%d]: %w", i, err)
			}
		}
	}
	key := fmt.Sprintf("%#v", cfg.JWT)
	for i := range docs {
		key += "|" + sourceID(cfg.JWT[i], docs[i])
	}
	prev := oldJWT(old)
	f := prev
	if prev == nil || prev.key != key {
		jf, err := buildJWT(e, cfg.JWT, docs, prev)
		if err != nil {
			return nil, err
		}
		f = &jwtFilter{Filter: jf, key: key}
	}
	return []filter.Entry{{Filter: f, Routes: unionRoutes(cfg.JWT)}}, nil
}

// buildJWT compiles the entries, taking one reference to each key
// source the filter holds: reused from prev, or new.
func buildJWT(e *Engine, js []JWTConfig, docs [][]byte, prev *jwtFilter) (*jwtauth.Filter, error) {
	reuse := map[string]*jwtauth.Keys{}
	if prev != nil {
		for _, k := range prev.Keys() {
			reuse[k.ID()] = k
		}
	}
	held := map[string]*jwtauth.Keys{}
	fail := func(err error) (*jwtauth.Filter, error) {
		for _, k := range held {
			k.Release()
		}
		return nil, err
	}
	rules := make([]jwtauth.Rule, len(js))
	for i, j := range js {
		id := sourceID(j, docs[i])
		k := held[id]
		switch {
		case k != nil:
		case reuse[id] != nil:
			k = reuse[id]
			k.Retain()
		case j.JWKSURL != "":
			k = jwtauth.FetchKeys(id, j.JWKSURL, jwtauth.FetchOptions{Refresh: j.JWKSRefresh, MinRefetch: j.JWKSMinRefetch, Log: e.log})
		default:
			var err error
			if k, err = jwtauth.StaticKeys(id, docs[i]); err != nil {
				return fail(fmt.Errorf("jwt[%d]: %w", i, err))
			}
		}
		held[id] = k
		from, err := jwtauth.ParseFrom(j.From)
		if err != nil {
			return fail(fmt.Errorf("jwt[%d]: %w", i, err))
		}
		rules[i] = jwtauth.Rule{Issuer: j.Issuer, Audiences: j.Audiences, Keys: k, From: from,
			Forward: j.ForwardClaims, DropToken: j.DropToken, Leeway: j.ClockSkew, Routes: j.Routes}
	}
	f, err := jwtauth.New(rules)
	if err != nil {
		return fail(err)
	}
	return f, nil
}

// oldJWT is the JWT filter old runs, or nil.
func oldJWT(old *snapshot) *jwtFilter {
	if old == nil {
		return nil
	}
	for _, en := range old.filters {
		if f, ok := en.Filter.(*jwtFilter); ok {
			return f
		}
	}
	return nil
}

// unionRoutes selects every route some entry guards (nil: every route).
func unionRoutes(js []JWTConfig) []filter.Selector {
	var out []filter.Selector
	for _, j := range js {
		if len(j.Routes) == 0 {
			return nil
		}
		out = append(out, j.Routes...)
	}
	return out
}

// makeCanary builds one filter per canary entry, in order: the first
// that picks its upstream wins. They keep no state (a key's way is a
// hash of it), so a reload needs nothing of old.
func makeCanary(_ *Engine, cfg *Config, _ *snapshot) ([]filter.Entry, error) {
	var out []filter.Entry
	for i, c := range cfg.Canary {
		r, err := c.rule()
		if err != nil {
			return nil, fmt.Errorf("canary[%d]: %w", i, err)
		}
		out = append(out, filter.Entry{Filter: canary.New(r), Routes: c.Routes})
	}
	return out, nil
}
