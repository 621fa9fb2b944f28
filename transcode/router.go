package transcode

import (
	"bytes"
	"cmp"
	"errors"
	"slices"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// RouterOptions tune request binding.
type RouterOptions struct {
	// DiscardUnknownQuery ignores query parameters that name no bindable
	// field, instead of answering 400.
	DiscardUnknownQuery bool
}

// Router maps HTTP requests to RPCs by the google.api.http rules of every
// service in a set of files, plus POST /pkg.Service/Method for every method.
// It is immutable and safe for concurrent use.
type Router struct {
	opts    RouterOptions
	root    rnode
	verbs   bool              // some template has a custom verb
	byPath  map[string]*Route // gRPC path -> default route
	all     []*Route
	methods []protoreflect.MethodDescriptor // by Route.MethodIndex
}

// Match is the result of Router.Match: the route and the captured path
// variables, as offsets into the matched path. It borrows the path until
// AppendRequest returns. Reuse one Match per connection: matching a path
// without '%' allocates nothing.
type Match struct {
	Route *Route
	// ContentType is the request's content type, sent upstream as
	// google.api.HttpBody.content_type on HTTPBodyRequest routes.
	ContentType []byte

	path     []byte
	end      int32 // end of the segments (before ":verb")
	off, lim [maxTemplateSegs]int32
	scratch  []byte // decoded escapes and query keys, reused
	chain    [maxQueryDepth]protoreflect.FieldDescriptor
}

// NewRouter compiles the routes of every service in files. Conflicting
// rules (one method and path shape for two RPCs) and rules that name no
// field of their messages are errors.
func NewRouter(files *protoregistry.Files, schema *Schema, opts RouterOptions) (*Router, error) {
	r := &Router{opts: opts, byPath: map[string]*Route{}}
	var errs []error
	for _, sd := range sortedServices(files) {
		for i := 0; i < sd.Methods().Len(); i++ {
			errs = append(errs, r.addMethod(schema, sd.Methods().Get(i)))
		}
	}
	slices.SortFunc(r.all, compareRoutes)
	return r, errors.Join(errs...)
}

// sortedServices lists services by full name, so errors and listings do
// not depend on the registry's map order.
func sortedServices(files *protoregistry.Files) []protoreflect.ServiceDescriptor {
	var out []protoreflect.ServiceDescriptor
	files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Services().Len(); i++ {
			out = append(out, fd.Services().Get(i))
		}
		return true
	})
	slices.SortFunc(out, func(a, b protoreflect.ServiceDescriptor) int {
		return cmp.Compare(a.FullName(), b.FullName())
	})
	return out
}

// addMethod adds the default route and the rule's routes of one method.
func (r *Router) addMethod(schema *Schema, md protoreflect.MethodDescriptor) error {
	rules, err := methodRules(md)
	if err != nil {
		return err
	}
	def, err := newDefaultRoute(schema, md)
	if err != nil {
		return err
	}
	def.MethodIndex = len(r.methods)
	r.methods = append(r.methods, md)
	r.byPath[def.GRPCPath] = def
	var errs []error
	for _, rule := range rules {
		rt, err := newRuleRoute(schema, md, rule)
		if err == nil {
			rt.MethodIndex = def.MethodIndex
			err = r.add(rt)
		}
		errs = append(errs, err)
	}
	errs = append(errs, r.add(def))
	return errors.Join(errs...)
}

// add inserts rt into the trie and the listing.
func (r *Router) add(rt *Route) error {
	rt.discardQuery = r.opts.DiscardUnknownQuery
	shadowed, err := r.root.insert(rt)
	if err != nil {
		return err
	}
	r.verbs = r.verbs || rt.tmpl.verb != ""
	r.all = append(r.all, rt)
	if shadowed != nil { // still reachable by Lookup (gRPC, gRPC-Web), not by REST
		r.all = slices.DeleteFunc(r.all, func(x *Route) bool { return x == shadowed })
	}
	return nil
}

func compareRoutes(a, b *Route) int {
	return cmp.Or(cmp.Compare(a.Template, b.Template), cmp.Compare(a.HTTPMethod, b.HTTPMethod),
		cmp.Compare(a.GRPCPath, b.GRPCPath))
}

// Match finds the route of method and path (the request target without
// its query). Errors are *HTTPError: 404 no route, 405 the path has routes
// for other methods only, 400 a malformed percent escape; m.Route is
// then nil (a reused Match forgets its last route).
func (r *Router) Match(method string, path []byte, m *Match) error {
	m.Route = nil
	pct := false
	for i, c := range path { // one pass: paths are short, calls cost more
		if c == '%' {
			pct = true
		} else if c == '?' {
			path = path[:i]
			break
		}
	}
	if len(path) == 0 || path[0] != '/' {
		return errNotRouting
	}
	if pct && !validPct(path) {
		return errBadEscape
	}
	w := walker{m: m, path: path, method: method, pct: pct}
	if rt := r.find(&w); rt != nil {
		m.Route, m.path, m.end = rt, path, int32(w.end)
		return nil
	}
	w.method = ""
	r.find(&w)
	if len(w.allow) == 0 {
		return errNotFound
	}
	slices.Sort(w.allow)
	return &HTTPError{Status: 405, Msg: "method " + method + " not allowed", Allow: strings.Join(w.allow, ", ")}
}

// find walks the trie first with the last segment's ":verb" cut off (when
// any template has a verb), then with the whole path.
func (r *Router) find(w *walker) *Route {
	if r.verbs {
		slash := bytes.LastIndexByte(w.path, '/')
		if c := bytes.LastIndexByte(w.path[slash:], ':'); c > 0 && slash+c+1 < len(w.path) {
			w.end, w.verb = slash+c, w.path[slash+c+1:]
			if rt := w.walk(&r.root, w.start(), 0); rt != nil {
				return rt
			}
		}
	}
	w.end, w.verb = len(w.path), nil
	return w.walk(&r.root, w.start(), 0)
}

// Lookup returns the default route of a gRPC path ("/pkg.Service/Method"),
// or nil.
func (r *Router) Lookup(grpcPath string) *Route { return r.byPath[grpcPath] }

// Routes lists every route, sorted by template, then method, then RPC.
func (r *Router) Routes() []RouteInfo {
	out := make([]RouteInfo, len(r.all))
	for i, rt := range r.all {
		out[i] = rt.Info()
	}
	return out
}

// Methods lists every routed method; Route.MethodIndex indexes it.
// Callers must not modify it.
func (r *Router) Methods() []protoreflect.MethodDescriptor { return r.methods }

// All returns every route, in the order Routes lists them; callers must
// not modify them.
func (r *Router) All() []*Route { return r.all }

// varSpan returns the raw bytes of the route's i-th path variable.
func (m *Match) varSpan(v *tmplVar) []byte {
	start := m.off[v.first]
	end := m.end
	if !v.deep {
		end = m.lim[v.last-1]
	}
	return m.path[start:end]
}

// AppendVar appends the decoded value of the path variable bound to field
// (as written in the template), and whether the route has it.
func (m *Match) AppendVar(dst []byte, field string) ([]byte, bool) {
	for i := range m.Route.vars {
		v := &m.Route.vars[i].v
		if v.field == field {
			return appendPctDecoded(dst, m.varSpan(v), v.multi, false), true
		}
	}
	return dst, false
}
