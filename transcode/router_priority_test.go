package transcode

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// priorityRules overlap on purpose: each request below matches several.
var priorityRules = []struct{ method, tmpl, name string }{
	{"GET", "/v1/{a}/{b}", "var-var"},
	{"GET", "/v1/{a}/b", "var-lit"},
	{"GET", "/v1/a/{b}", "lit-var"},
	{"GET", "/v1/a/b", "lit-lit"},
	{"GET", "/v1/**", "deep"},
	{"GET", "/v1/a/**", "lit-deep"},
	{"GET", "/v1/{x=a/*}/c", "pattern"},
	{"GET", "/v1/{a}:verb", "verb"},
	{"POST", "/v1/{a}/{b}", "post-var-var"},
	{"GET", "/{x=**}", "root-deep"},
}

var priorityCases = []struct{ method, path, want string }{
	{"GET", "/v1/a/b", "lit-lit"},
	{"GET", "/v1/a/z", "lit-var"},
	{"GET", "/v1/z/b", "var-lit"},
	{"GET", "/v1/z/z", "var-var"},
	{"GET", "/v1/a/b/c", "pattern"},
	{"GET", "/v1/a/b/d", "lit-deep"},
	{"GET", "/v1/a/c", "lit-var"},
	{"GET", "/v1/z/y/x", "deep"},
	{"GET", "/v1/a/x/c/d", "lit-deep"},
	{"GET", "/v1/q:verb", "verb"},
	{"GET", "/v1/q:other", "deep"},
	{"GET", "/v1", "deep"},
	{"GET", "/v2/x", "root-deep"},
	{"POST", "/v1/a/b", "post-var-var"},
	{"PUT", "/v1/a/b", "405"},
	{"POST", "/v1/a", "405"},
}

func priorityRouter(t *testing.T, order []int) *Router {
	r := &Router{byPath: map[string]*Route{}}
	for _, i := range order {
		pr := priorityRules[i]
		tp, err := parseTemplate(pr.tmpl)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.add(&Route{HTTPMethod: pr.method, Template: pr.tmpl, GRPCPath: pr.name, tmpl: tp}); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// TestMatchPriority checks that literal beats variable beats "**", earlier
// segments first, whatever the order the rules were added in.
func TestMatchPriority(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	order := make([]int, len(priorityRules))
	for i := range order {
		order[i] = i
	}
	for round := 0; round < 50; round++ {
		r := priorityRouter(t, order)
		var m Match
		for _, c := range priorityCases {
			got := "405"
			err := r.Match(c.method, []byte(c.path), &m)
			var he *HTTPError
			switch {
			case err == nil:
				got = m.Route.GRPCPath
			case errors.As(err, &he) && he.Status == 405:
			default:
				got = err.Error()
			}
			if got != c.want {
				t.Fatalf("order %v: %s %s: got %s; want %s", order, c.method, c.path, got, c.want)
			}
		}
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
}

func TestInsertConflict(t *testing.T) {
	for _, pair := range [][2]string{
		{"/v1/{a}", "/v1/{b}"},
		{"/v1/{a=x/*}", "/v1/x/{b}"},
		{"/v1/{a=**}", "/v1/**"},
		{"/v1/x:v", "/v1/x:v"},
	} {
		r := &Router{byPath: map[string]*Route{}}
		for i, src := range pair {
			tp, _ := parseTemplate(src)
			err := r.add(&Route{HTTPMethod: "GET", Template: src, GRPCPath: src + string(rune('0'+i)), tmpl: tp})
			if i == 1 && !errors.Is(err, ErrRouteConflict) {
				t.Errorf("%v: got %v; want ErrRouteConflict", pair, err)
			}
		}
	}
}

// TestMatchManyLiterals covers the hashed literal children, with and
// without escapes in the segment.
func TestMatchManyLiterals(t *testing.T) {
	r := &Router{byPath: map[string]*Route{}}
	for i := 0; i < 20; i++ {
		src := "/v1/r" + string(rune('a'+i)) + "/{id}"
		tp, err := parseTemplate(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.add(&Route{HTTPMethod: "GET", Template: src, GRPCPath: src, tmpl: tp}); err != nil {
			t.Fatal(err)
		}
	}
	var m Match
	for path, want := range map[string]string{
		"/v1/rk/1": "/v1/rk/{id}", "/v1/r%6b/1": "/v1/rk/{id}", "/v1/%72t/%31": "/v1/rt/{id}",
	} {
		if err := r.Match("GET", []byte(path), &m); err != nil || m.Route.GRPCPath != want {
			t.Errorf("%s: got %v; want %s", path, err, want)
		}
	}
	if err := r.Match("GET", []byte("/v1/rz/1"), &m); !errors.Is(err, errNotFound) {
		t.Errorf("/v1/rz/1: got %v; want 404", err)
	}
}

// TestDefaultShadowed checks that an explicit rule on a default route's
// path wins, in either order, and the listing shows only the rule.
func TestDefaultShadowed(t *testing.T) {
	for _, ruleFirst := range []bool{true, false} {
		r := &Router{byPath: map[string]*Route{}}
		tp, _ := parseTemplate("/a.B/C")
		rule := &Route{HTTPMethod: "POST", Template: "/a.B/C", GRPCPath: "/x.Y/Z", tmpl: tp}
		def := &Route{HTTPMethod: "POST", Template: "/a.B/C", GRPCPath: "/a.B/C", tmpl: tp, Default: true}
		order := []*Route{def, rule}
		if ruleFirst {
			order = []*Route{rule, def}
		}
		for _, rt := range order {
			if err := r.add(rt); err != nil {
				t.Fatal(err)
			}
		}
		var m Match
		if err := r.Match("POST", []byte("/a.B/C"), &m); err != nil || m.Route != rule {
			t.Errorf("ruleFirst=%v: got %v; want the rule", ruleFirst, err)
		}
		if len(r.all) != 1 || r.all[0] != rule {
			t.Errorf("ruleFirst=%v: listing has %d routes; want the rule only", ruleFirst, len(r.all))
		}
	}
}
