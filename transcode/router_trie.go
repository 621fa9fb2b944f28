package transcode

import (
	"bytes"
	"fmt"
)

// rnode is one node of the route trie: children by the kind of the next
// segment. A node at depth k is reached by one sequence of choices only, so
// a match visits each node at most once.
type rnode struct {
	keys  []string          // literal segments, scanned when few
	kids  []*rnode          // kids[i] follows keys[i]
	lits  map[string]*rnode // the same, hashed when many
	wild  *rnode            // "*" (and "{var}")
	deep  *rnode            // "**": a terminal node, zero or more segments
	leafs []rleaf           // routes of templates ending here
}

// rleaf is one route at the end of a template, keyed by method and verb.
type rleaf struct {
	method string
	verb   string
	route  *Route
}

// insert adds rt under its template; a second route of the same method,
// verb and shape is a conflict, except that explicit rules shadow the
// default POST /pkg.Service/Method routes. It returns the default route
// that rt shadows or that shadows rt, if any.
func (n *rnode) insert(rt *Route) (shadowed *Route, err error) {
	for _, s := range rt.tmpl.segs {
		n = n.child(s)
	}
	for i := range n.leafs {
		l := &n.leafs[i]
		if l.method != rt.HTTPMethod || l.verb != rt.tmpl.verb {
			continue
		}
		switch {
		case rt.Default:
			return rt, nil
		case l.route.Default:
			shadowed, l.route = l.route, rt
			return shadowed, nil
		}
		return nil, fmt.Errorf("%w: %s %s: %s and %s", ErrRouteConflict, rt.HTTPMethod,
			rt.Template, l.route.GRPCPath, rt.GRPCPath)
	}
	n.leafs = append(n.leafs, rleaf{method: rt.HTTPMethod, verb: rt.tmpl.verb, route: rt})
	return nil, nil
}

// child returns (creating it) the node for segment s.
func (n *rnode) child(s tmplSeg) *rnode {
	pick := func(p **rnode) *rnode {
		if *p == nil {
			*p = &rnode{}
		}
		return *p
	}
	switch s.kind {
	case tmplWild:
		return pick(&n.wild)
	case tmplDeep:
		return pick(&n.deep)
	}
	for i, k := range n.keys {
		if k == s.lit {
			return n.kids[i]
		}
	}
	c := &rnode{}
	n.keys, n.kids = append(n.keys, s.lit), append(n.kids, c)
	if len(n.keys) > maxScannedLits {
		n.lits = make(map[string]*rnode, len(n.keys))
		for i, k := range n.keys {
			n.lits[k] = n.kids[i]
		}
	}
	return c
}

// maxScannedLits is where hashing a segment starts to beat comparing it
// with each literal.
const maxScannedLits = 8

// leaf returns the route for the walk's method and verb, or nil. With an
// empty method it records every method present in w.allow instead.
func (n *rnode) leaf(w *walker) *Route {
	for i := range n.leafs {
		l := &n.leafs[i]
		if l.verb != string(w.verb) {
			continue
		}
		if w.method == "" {
			w.addAllow(l.method)
			continue
		}
		if l.method == w.method {
			return l.route
		}
	}
	return nil
}

// walker is the state of one trie walk over path[:end]. Segment k starts at
// off[k] and ends at lim[k]; those are properties of the path, not of the
// branch taken, so backtracking never invalidates them.
type walker struct {
	m      *Match
	path   []byte
	end    int
	method string // "" collects allowed methods
	verb   []byte
	pct    bool // the path holds '%': compare literals after decoding
	allow  []string
}

// start is the offset of the first segment; "/" has none.
func (w *walker) start() int {
	if w.end <= 1 {
		return w.end + 1
	}
	return 1
}

// walk matches the segments from position i (the start of segment seg) at
// node n, trying literal, then "*", then "**": the most specific template
// wins whatever the order rules were loaded in.
func (w *walker) walk(n *rnode, i, seg int) *Route {
	if i > w.end {
		if r := n.leaf(w); r != nil {
			return r
		}
		return w.deepLeaf(n, i, seg)
	}
	j := i
	for j < w.end && w.path[j] != '/' {
		j++
	}
	if seg < maxTemplateSegs {
		w.m.off[seg], w.m.lim[seg] = int32(i), int32(j)
	}
	s := w.path[i:j]
	if c := w.literal(n, s); c != nil && seg < maxTemplateSegs {
		if r := w.walk(c, j+1, seg+1); r != nil {
			return r
		}
	}
	if n.wild != nil && len(s) > 0 && seg < maxTemplateSegs {
		if r := w.walk(n.wild, j+1, seg+1); r != nil {
			return r
		}
	}
	return w.deepLeaf(n, i, seg)
}

// deepLeaf tries n's "**" child on the rest of the path from i.
func (w *walker) deepLeaf(n *rnode, i, seg int) *Route {
	if n.deep == nil {
		return nil
	}
	if i > w.end {
		i = w.end
	}
	if seg < maxTemplateSegs {
		w.m.off[seg], w.m.lim[seg] = int32(i), int32(w.end)
	}
	return n.deep.leaf(w)
}

// literal finds the literal child for segment s. m[string(b)] does not
// allocate; escaped segments take the slow path and compare decoded.
func (w *walker) literal(n *rnode, s []byte) *rnode {
	if !w.pct || bytes.IndexByte(s, '%') < 0 {
		if n.lits != nil {
			return n.lits[string(s)]
		}
		for i, k := range n.keys {
			if k == string(s) {
				return n.kids[i]
			}
		}
		return nil
	}
	for i, k := range n.keys {
		if pctEqual(s, k) {
			return n.kids[i]
		}
	}
	return nil
}

func (w *walker) addAllow(method string) {
	for _, m := range w.allow {
		if m == method {
			return
		}
	}
	w.allow = append(w.allow, method)
}
