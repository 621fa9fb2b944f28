package filter

import "strings"

// Selector names the routes a filter applies to: "" or "*" for every
// route, "pkg.v1.Service" for a service's methods, "pkg.v1.Service/Method"
// for one method, or "GET /v1/shelves/{shelf}" for one HTTP rule (as
// `strait routes` prints it).
type Selector string

// Route is what a selector is matched against.
type Route struct {
	Service    string // "pkg.v1.Service"
	Method     string // "Method"
	HTTPMethod string // "" for a gRPC call
	Template   string // the HTTP rule's path template
}

// Matches reports whether s selects r.
func (s Selector) Matches(r Route) bool {
	sel := strings.TrimSpace(string(s))
	switch {
	case sel == "" || sel == "*":
		return true
	case strings.Contains(sel, " "):
		m, t, _ := strings.Cut(sel, " ")
		return r.HTTPMethod != "" && strings.EqualFold(m, r.HTTPMethod) && strings.TrimSpace(t) == r.Template
	case strings.Contains(sel, "/"):
		svc, m, _ := strings.Cut(sel, "/")
		return svc == r.Service && m == r.Method
	}
	return sel == r.Service
}

// Entry is a filter and the routes it applies to (none: every route).
type Entry struct {
	Filter Filter
	Routes []Selector
}

// Applies reports whether e applies to r.
func (e Entry) Applies(r Route) bool {
	if len(e.Routes) == 0 {
		return true
	}
	for _, s := range e.Routes {
		if s.Matches(r) {
			return true
		}
	}
	return false
}

// Chain is the filters that apply to one route, in order.
type Chain []Filter

// For returns the chain of entries that apply to r.
func For(entries []Entry, r Route) Chain {
	var c Chain
	for _, e := range entries {
		if e.Applies(r) {
			c = append(c, e.Filter)
		}
	}
	return c
}
