package engine

import (
	"io"

	"github.com/straitgw/strait/filter"
)

// builtinMaker builds one kind of built-in filter from the configuration.
// old is the snapshot a reload replaces (nil at start): a maker reuses
// old's filter for a rule that did not change, so its state (a rate
// limit's buckets, a fetched key set) survives the reload.
type builtinMaker func(e *Engine, cfg *Config, old *snapshot) ([]filter.Entry, error)

// builtinMakers run in this order, and their filters run in it too:
// authentication first (its claims may key a rate limit), then rate
// limits, then routing choices. A Go program's own (Config.Filters) run
// after all of them.
var builtinMakers = []builtinMaker{
	makeJWT,        // authentication (filter_builtin.go)
	makeRateLimits, // rate limits (ratelimit.go)
	makeCanary,     // routing choices, last
}

// filtersOf builds the chain entries of cfg.
func (e *Engine) filtersOf(cfg *Config, old *snapshot) ([]filter.Entry, error) {
	var out []filter.Entry
	for _, mk := range builtinMakers {
		es, err := mk(e, cfg, old)
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
	}
	return append(out, cfg.Filters...), nil
}

// closeFilters stops the background work (io.Closer) of old's filters
// that s no longer runs.
func closeFilters(old, s *snapshot) {
	keep := map[filter.Filter]bool{}
	for _, en := range s.filters {
		keep[en.Filter] = true
	}
	for _, en := range old.filters {
		if c, ok := en.Filter.(io.Closer); ok && !keep[en.Filter] {
			_ = c.Close()
		}
	}
}
