package engine

import (
	"strconv"
	"strings"

	"github.com/straitgw/strait/h2"
)

// corsPolicy is CORSConfig, compiled: browsers on the allowed origins may
// call every route (REST and gRPC-Web); preflights are answered here.
type corsPolicy struct {
	any      bool // "*": every origin
	exact    map[string]bool
	suffixes []string // from "https://*.example.com": scheme, then ".example.com"
	methods  string
	headers  string // "": what the preflight asks for
	expose   string
	maxAge   string
	creds    bool
}

// exposedByDefault are the response headers a gRPC-Web client must read,
// and those that tell a script why the gateway turned it away and when to
// come back (rate limits, circuit breakers): none is CORS-safelisted.
var exposedByDefault = []string{"grpc-status", "grpc-message", "grpc-status-details-bin",
	"retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "x-strait-overloaded"}

func compileCORS(c CORSConfig, requestID string) *corsPolicy {
	if len(c.AllowOrigins) == 0 {
		return nil
	}
	p := &corsPolicy{exact: map[string]bool{}, creds: c.AllowCredentials,
		methods: strings.Join(c.AllowMethods, ", "), headers: strings.Join(c.AllowHeaders, ", "),
		maxAge: strconv.Itoa(int(c.MaxAge.Seconds()))}
	for _, o := range c.AllowOrigins {
		switch {
		case o == "*":
			p.any = true
		case strings.Contains(o, "://*."):
			scheme, host, _ := strings.Cut(o, "://*")
			p.suffixes = append(p.suffixes, scheme+"://", host)
		default:
			p.exact[strings.ToLower(o)] = true
		}
	}
	expose := append(append([]string{}, exposedByDefault...), c.ExposeHeaders...)
	if requestID != "" {
		expose = append(expose, requestID)
	}
	p.expose = strings.Join(expose, ", ")
	return p
}

// allows reports whether a browser on origin may call.
func (p *corsPolicy) allows(origin string) bool {
	if p.any || p.exact[strings.ToLower(origin)] {
		return true
	}
	o := strings.ToLower(origin)
	for i := 0; i+1 < len(p.suffixes); i += 2 {
		scheme, suffix := p.suffixes[i], p.suffixes[i+1]
		if rest, ok := strings.CutPrefix(o, scheme); ok && strings.HasSuffix(rest, suffix) && len(rest) > len(suffix) {
			return true
		}
	}
	return false
}

// allowOrigin is the Access-Control-Allow-Origin value for origin: "*"
// when every origin may call without credentials, else the origin.
func (p *corsPolicy) allowOrigin(origin string) string {
	if p.any && !p.creds {
		return "*"
	}
	return origin
}

// appendActual adds the headers of an actual (not preflight) response.
func (p *corsPolicy) appendActual(fs []h2.Field, origin string) []h2.Field {
	// The origin is a view of the request: the response may be written
	// after the request's buffers are released.
	fs = append(fs, h2.Field{Name: "access-control-allow-origin", Value: strings.Clone(p.allowOrigin(origin))},
		h2.Field{Name: "access-control-expose-headers", Value: p.expose},
		h2.Field{Name: "vary", Value: "Origin"})
	if p.creds {
		fs = append(fs, h2.Field{Name: "access-control-allow-credentials", Value: "true"})
	}
	return fs
}

// preflight answers a CORS preflight (RFC: Fetch, "CORS protocol"). A
// disallowed origin gets no CORS headers: the browser then refuses the
// call itself.
func (p *corsPolicy) preflight(down downstream, origin, wantHeaders string) {
	fs := []h2.Field{{Name: "vary", Value: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"}}
	if p.allows(origin) {
		headers := p.headers
		if headers == "" {
			headers = wantHeaders
		}
		fs = append(fs, h2.Field{Name: "access-control-allow-origin", Value: p.allowOrigin(origin)},
			h2.Field{Name: "access-control-allow-methods", Value: p.methods},
			h2.Field{Name: "access-control-max-age", Value: p.maxAge})
		if headers != "" {
			fs = append(fs, h2.Field{Name: "access-control-allow-headers", Value: headers})
		}
		if p.creds {
			fs = append(fs, h2.Field{Name: "access-control-allow-credentials", Value: "true"})
		}
	}
	down.head(204, "", fs, 0, true)
}

// browser reads the CORS request headers: the origin, and for a preflight
// the headers it asks to send.
func browser(req *request) (origin string, preflight bool, wantHeaders string) {
	for _, f := range req.meta {
		switch f.Name {
		case "origin":
			origin = f.Value
		case "access-control-request-method":
			preflight = req.method == "OPTIONS"
		case "access-control-request-headers":
			wantHeaders = f.Value
		}
	}
	return origin, preflight, wantHeaders
}
