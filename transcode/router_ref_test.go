package transcode

import (
	"slices"
	"strings"
	"testing"
)

// refMatch is a brute-force reference for the trie: every route's
// template is tried against the path on its own, and the most specific
// match wins (per segment: literal, then "*", then "**"; a template that
// ends first wins over one that goes on).
func refMatch(routes []*Route, method, path string) *Route {
	path, _, _ = strings.Cut(path, "?")
	if !strings.HasPrefix(path, "/") || !validPct([]byte(path)) {
		return nil
	}
	slash := strings.LastIndexByte(path, '/')
	if c := strings.LastIndexByte(path[slash:], ':'); c > 0 && slash+c+1 < len(path) {
		if rt := refBest(routes, method, path[:slash+c], path[slash+c+1:]); rt != nil {
			return rt
		}
	}
	return refBest(routes, method, path, "")
}

func refBest(routes []*Route, method, path, verb string) *Route {
	var segs []string
	if path != "/" {
		segs = strings.Split(path[1:], "/")
	}
	var best *Route
	var bestKey []int
	for _, rt := range routes {
		if rt.HTTPMethod != method || rt.tmpl.verb != verb {
			continue
		}
		if key, ok := refKey(rt.tmpl.segs, segs); ok && (best == nil || slices.Compare(key, bestKey) < 0) {
			best, bestKey = rt, key
		}
	}
	return best
}

// refKey matches segs against a template; the key ranks specificity.
func refKey(tsegs []tmplSeg, segs []string) ([]int, bool) {
	var key []int
	for i, ts := range tsegs {
		if ts.kind == tmplDeep {
			return append(key, 2), true
		}
		if i >= len(segs) {
			return nil, false
		}
		switch ts.kind {
		case tmplLiteral:
			if !pctEqual([]byte(segs[i]), ts.lit) {
				return nil, false
			}
			key = append(key, 0)
		case tmplWild:
			if segs[i] == "" {
				return nil, false
			}
			key = append(key, 1)
		}
	}
	return key, len(tsegs) == len(segs)
}

// FuzzMatchReference compares the trie with refMatch on the overlapping
// priorityRules.
func FuzzMatchReference(f *testing.F) {
	r := &Router{byPath: map[string]*Route{}}
	for _, pr := range priorityRules {
		tp, err := parseTemplate(pr.tmpl)
		if err != nil {
			f.Fatal(err)
		}
		if err := r.add(&Route{HTTPMethod: pr.method, Template: pr.tmpl, GRPCPath: pr.name, tmpl: tp}); err != nil {
			f.Fatal(err)
		}
	}
	for _, c := range priorityCases {
		f.Add(c.method == "POST", c.path)
	}
	f.Add(false, "/v1/a/%62")
	f.Add(false, "/v1//b")
	f.Fuzz(func(t *testing.T, post bool, path string) {
		method := "GET"
		if post {
			method = "POST"
		}
		var m Match
		var got *Route
		if err := r.Match(method, []byte(path), &m); err == nil {
			got = m.Route
		}
		if want := refMatch(r.all, method, path); got != want {
			name := func(rt *Route) string {
				if rt == nil {
					return "none"
				}
				return rt.GRPCPath
			}
			t.Fatalf("%s %q: trie %s; reference %s", method, path, name(got), name(want))
		}
	})
}
