package engine

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/filter/ratelimit"
)

// RateLimitConfig is one entry of rate_limits: the requests of its routes
// that have the same key share a token bucket of Rate requests per Per,
// Burst at once. Over it, a request is answered at once: 429 with
// Retry-After and RateLimit-* fields for REST, RESOURCE_EXHAUSTED for
// gRPC and gRPC-Web (package filter/ratelimit).
type RateLimitConfig struct {
	// Key is global, client_ip (the TCP peer's address), identity (the
	// mTLS client's, see identityName), header:NAME or claim:NAME (a claim
	// of the JWT the authentication filter verified). Requests with no
	// value for it share one bucket.
	Key   string        `yaml:"key"`
	Rate  int           `yaml:"rate"`
	Per   time.Duration `yaml:"per"`   // default 1s
	Burst int           `yaml:"burst"` // default Rate
	// MaxKeys bounds the keys whose buckets are kept (default 100000);
	// past it, requests with a key not kept share one more bucket.
	MaxKeys int `yaml:"max_keys"`
	// Routes limits the entry to some routes: "pkg.v1.Service",
	// "pkg.v1.Service/Method" or "GET /v1/shelves/{shelf}" (an HTTP rule
	// as `strait routes` prints it). None: every route.
	Routes []filter.Selector `yaml:"routes"`
}

func (c *Config) rateLimitDefaults() {
	for i := range c.RateLimits {
		r := &c.RateLimits[i]
		setDefault(&r.Per, time.Second)
		setDefault(&r.Burst, r.Rate)
		setDefault(&r.MaxKeys, ratelimit.DefaultMaxKeys)
	}
}

// rateRule is what a rate limit's buckets depend on: a reload keeps the
// filter (and its buckets) of an entry whose rule did not change, even
// if its routes did.
type rateRule struct {
	key     ratelimit.Key
	rate    ratelimit.Rate
	maxKeys int
}

func (r RateLimitConfig) rule() (rateRule, error) {
	key, err := ratelimit.ParseKey(r.Key)
	if err != nil {
		return rateRule{}, err
	}
	rate := ratelimit.Rate{Rate: r.Rate, Per: r.Per, Burst: r.Burst}
	return rateRule{key: key, rate: rate, maxKeys: r.MaxKeys}, rate.Check()
}

// rateFilter is a rate limit filter with the rule it was made for.
type rateFilter struct {
	*ratelimit.Filter
	rule rateRule
}

// makeRateLimits is the rate limits' builtinMaker: one filter per entry,
// the old snapshot's where the rule is the same.
func makeRateLimits(_ *Engine, cfg *Config, old *snapshot) ([]filter.Entry, error) {
	var prev []*rateFilter
	for _, en := range old.filterList() {
		if f, ok := en.Filter.(*rateFilter); ok {
			prev = append(prev, f)
		}
	}
	var out []filter.Entry
	for i, rl := range cfg.RateLimits {
		rule, err := rl.rule()
		if err != nil {
			return nil, fmt.Errorf("rate_limits[%d]: %w", i, err)
		}
		f := reuseRateFilter(&prev, rule)
		if f == nil {
			lim, err := ratelimit.NewLocal(rule.rate, ratelimit.Options{MaxKeys: rule.maxKeys})
			if err != nil {
				return nil, fmt.Errorf("rate_limits[%d]: %w", i, err)
			}
			f = &rateFilter{Filter: ratelimit.New(rule.key, lim), rule: rule}
		}
		out = append(out, filter.Entry{Filter: f, Routes: rl.Routes})
	}
	return out, nil
}

// reuseRateFilter takes the first filter of prev made for rule.
func reuseRateFilter(prev *[]*rateFilter, rule rateRule) *rateFilter {
	for i, f := range *prev {
		if f != nil && f.rule == rule {
			(*prev)[i] = nil
			return f
		}
	}
	return nil
}

func (s *snapshot) filterList() []filter.Entry {
	if s == nil {
		return nil
	}
	return s.filters
}

// writeRateLimits writes strait_rate_limited_total, by key and rate.
func (s *snapshot) writeRateLimits(w io.Writer) {
	type series struct{ key, rate string }
	var order []series
	sums := map[series]int64{}
	for _, en := range s.filters {
		f, ok := en.Filter.(*rateFilter)
		if !ok {
			continue
		}
		k := series{f.rule.key.String(), strconv.Itoa(f.rule.rate.Rate) + "/" + f.rule.rate.Per.String()}
		if _, seen := sums[k]; !seen {
			order = append(order, k)
		}
		sums[k] += f.Limited()
	}
	fmt.Fprintf(w, "# HELP strait_rate_limited_total Requests rejected by a rate limit.\n# TYPE strait_rate_limited_total counter\n")
	for _, k := range order {
		fmt.Fprintf(w, "strait_rate_limited_total{key=%q,rate=%q} %d\n", k.key, k.rate, sums[k])
	}
}
