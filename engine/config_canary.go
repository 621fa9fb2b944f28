package engine

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/filter/canary"
)

// CanaryConfig sends part of a route's traffic to another upstream (the
// top-level list canary; filter/canary): requests with the header, those
// whose key is listed in Keys, and Percent of the keys (of requests,
// without a key). A key always goes the same way for a given percentage.
type CanaryConfig struct {
	Routes   []filter.Selector `yaml:"routes"`   // none: every route
	Upstream string            `yaml:"upstream"` // where the canary's requests go
	Header   string            `yaml:"header"`   // "name: value", or "name" for any value
	Percent  float64           `yaml:"percent"`  // 0 to 100, in steps of 0.01
	Key      string            `yaml:"key"`      // "header:NAME", "client_ip" or "claim:NAME"
	Keys     []string          `yaml:"keys"`     // key values always sent to the canary
}

// rule compiles c.
func (c CanaryConfig) rule() (canary.Rule, error) {
	r := canary.Rule{Upstream: c.Upstream, Percent: c.Percent, Keys: c.Keys}
	var err error
	if c.Header != "" {
		if r.Header, err = canary.ParseHeader(c.Header); err != nil {
			return r, err
		}
	}
	r.Key, err = canary.ParseKey(c.Key)
	return r, err
}

// canary checks the canary entries.
func (k *checker) canary() {
	for i, c := range k.c.Canary {
		path := fmt.Sprintf("canary[%d]", i)
		if c.Upstream == "" {
			k.add(path+".upstream", "", "missing: the name of the canary's upstream")
		} else if !slices.ContainsFunc(k.c.Upstreams, func(u UpstreamConfig) bool { return u.Name == c.Upstream }) {
			k.add(path+".upstream", c.Upstream, "unknown upstream %q (known: %s)", c.Upstream, upstreamNames(k.c.Upstreams))
		}
		if c.Header != "" {
			if _, err := canary.ParseHeader(c.Header); err != nil {
				k.add(path+".header", c.Header, "%q: %s", c.Header, strings.TrimPrefix(err.Error(), "canary: "))
			}
		}
		key, err := canary.ParseKey(c.Key)
		switch {
		case err != nil:
			k.add(path+".key", c.Key, "%q: %s", c.Key, strings.TrimPrefix(err.Error(), "canary: "))
		case key.Kind == canary.KeyClaim && len(k.c.JWT) == 0:
			k.add(path+".key", c.Key, "a claim key needs a jwt entry to verify the token")
		case len(c.Keys) > 0 && key.Kind == canary.KeyNone:
			k.add(path+".keys", "", "keys need a key (header:NAME, client_ip or claim:NAME)")
		}
		if c.Percent < 0 || c.Percent > 100 {
			k.add(path+".percent", strconv.FormatFloat(c.Percent, 'g', -1, 64), "%v is not between 0 and 100", c.Percent)
		}
		if c.Header == "" && c.Percent == 0 && len(c.Keys) == 0 {
			k.add(path, "", "sends nothing to the canary: give header, percent or keys")
		}
		k.selectors(path+".routes", c.Routes)
	}
}
