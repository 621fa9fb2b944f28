package engine

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/filter/ratelimit"
)

// rateLimits checks rate_limits (after Defaults).
func (k *checker) rateLimits() {
	for i, r := range k.c.RateLimits {
		path := fmt.Sprintf("rate_limits[%d]", i)
		if r.Key == "" {
			k.add(path+".key", "", "missing: global, client_ip, identity, header:NAME or claim:NAME")
		} else if _, err := ratelimit.ParseKey(r.Key); err != nil {
			k.add(path+".key", r.Key, "%v", err)
		}
		var re *ratelimit.RateError
		if err := (ratelimit.Rate{Rate: r.Rate, Per: r.Per, Burst: r.Burst}).Check(); errors.As(err, &re) {
			k.add(path+"."+re.Field, rateValue(r, re.Field), "%s", re.Msg)
		}
		if r.MaxKeys < 0 {
			k.add(path+".max_keys", strconv.Itoa(r.MaxKeys), "must not be negative (0 means %d)", ratelimit.DefaultMaxKeys)
		}
		for j, sel := range r.Routes {
			if msg := selectorProblem(sel); msg != "" {
				k.add(fmt.Sprintf("%s.routes[%d]", path, j), string(sel), "%s", msg)
			}
		}
	}
}

// rateValue is the text of a rate limit's field, for error positions.
func rateValue(r RateLimitConfig, field string) string {
	switch field {
	case "rate":
		return strconv.Itoa(r.Rate)
	case "per":
		return r.Per.String()
	}
	return strconv.Itoa(r.Burst)
}

// selectorProblem says what is wrong with a route selector's form, ""
// when nothing is.
func selectorProblem(sel filter.Selector) string {
	s := strings.TrimSpace(string(sel))
	const want = `want "pkg.v1.Service", "pkg.v1.Service/Method" or "GET /v1/path/{var}"`
	switch {
	case s == "":
		return "empty selector; " + want
	case s == "*":
		return ""
	case strings.Contains(s, " "):
		m, t, _ := strings.Cut(s, " ")
		if t = strings.TrimSpace(t); !isHTTPMethod(m) || !strings.HasPrefix(t, "/") {
			return fmt.Sprintf("%q is not an HTTP rule; %s", s, want)
		}
	case strings.Contains(s, "/"):
		svc, m, _ := strings.Cut(s, "/")
		if !protoreflect.FullName(svc).IsValid() || !protoreflect.Name(m).IsValid() {
			return fmt.Sprintf("%q is not a service and method; %s", s, want)
		}
	case !protoreflect.FullName(s).IsValid():
		return fmt.Sprintf("%q is not a service name; %s", s, want)
	}
	return ""
}

func isHTTPMethod(m string) bool {
	switch strings.ToUpper(m) {
	case "GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS":
		return true
	}
	return false
}

// checkRateLimitRoutes reports selectors naming a service or method the
// descriptors do not have: a typo there would leave routes unlimited.
func (k *checker) checkRateLimitRoutes(files *protoregistry.Files) {
	for i, r := range k.c.RateLimits {
		for j, sel := range r.Routes {
			s := strings.TrimSpace(string(sel))
			if s == "*" || strings.Contains(s, " ") || selectorProblem(sel) != "" {
				continue
			}
			svc, method, hasMethod := strings.Cut(s, "/")
			d, _ := files.FindDescriptorByName(protoreflect.FullName(svc))
			sd, ok := d.(protoreflect.ServiceDescriptor)
			path := fmt.Sprintf("rate_limits[%d].routes[%d]", i, j)
			switch {
			case !ok:
				k.add(path, string(sel), "%q is not a service in the descriptors", svc)
			case hasMethod && sd.Methods().ByName(protoreflect.Name(method)) == nil:
				k.add(path, string(sel), "service %s has no method %q", svc, method)
			}
		}
	}
}

// circuitBreaker checks an upstream's circuit_breaker.
func (k *checker) circuitBreaker(path string, cb CircuitBreaker) {
	for _, n := range []struct {
		key string
		v   int
	}{{"max_pending", cb.MaxPending}, {"max_requests", cb.MaxRequests}, {"max_retries", cb.MaxRetries}} {
		if n.v < 0 {
			k.add(path+".circuit_breaker."+n.key, strconv.Itoa(n.v), "must not be negative (0 means no limit), got %d", n.v)
		}
	}
}
