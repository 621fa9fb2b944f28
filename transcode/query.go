package transcode

import (
	"bytes"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// maxQueryDepth bounds the dotted depth of a query parameter name.
const maxQueryDepth = 16

var errBadQueryEscape = &HTTPError{Status: 400, Msg: "malformed percent escape in query"}

// appendQuery binds the parameters of a raw query string ("a.b=1&x=2&x=3",
// '+' for space) to the request fields that neither the path nor the body
// binds. Names are proto or JSON field names; a repeated field takes one
// element per occurrence.
func (m *Match) appendQuery(dst, q []byte) ([]byte, error) {
	for len(q) > 0 {
		pair := q
		if i := bytes.IndexByte(q, '&'); i >= 0 {
			pair, q = q[:i], q[i+1:]
		} else {
			q = nil
		}
		if len(pair) == 0 {
			continue
		}
		if !validPct(pair) {
			return dst, errBadQueryEscape
		}
		key, val := pair, pair[len(pair):]
		if i := bytes.IndexByte(pair, '='); i >= 0 {
			key, val = pair[:i], pair[i+1:]
		}
		m.scratch = appendPctDecoded(m.scratch[:0], key, false, true)
		kn := len(m.scratch)
		m.scratch = appendPctDecoded(m.scratch, val, false, true)
		chain := m.queryChain(m.scratch[:kn])
		if chain == nil {
			if m.Route.discardQuery {
				continue
			}
			return dst, badRequest("unknown query parameter " + string(m.scratch[:kn]))
		}
		var err error
		if dst, err = appendChainText(dst, chain, m.scratch[kn:]); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// queryChain resolves a parameter name to its field chain, or nil when no
// field can take it.
func (m *Match) queryChain(key []byte) []protoreflect.FieldDescriptor {
	rt := m.Route
	if rt.noQuery || len(key) == 0 {
		return nil
	}
	md := rt.Method.Input()
	n := 0
	for len(key) > 0 {
		part := key
		if i := bytes.IndexByte(key, '.'); i >= 0 {
			part, key = key[:i], key[i+1:]
			if len(key) == 0 {
				return nil
			}
		} else {
			key = nil
		}
		if md == nil || n == maxQueryDepth {
			return nil
		}
		fd := queryField(md, part)
		if fd == nil || fd.IsMap() || !hasTextForm(fd) && (fd.IsList() || fd.Message() == nil) {
			return nil
		}
		m.chain[n] = fd
		n++
		md = nil
		if fd.Message() != nil && !fd.IsList() && !hasTextForm(fd) {
			md = fd.Message()
		}
	}
	chain := m.chain[:n]
	if md != nil || !hasTextForm(chain[n-1]) || rt.queryBound(chain) {
		return nil
	}
	return chain
}

// queryField finds a field by proto name, then by JSON name.
func queryField(md protoreflect.MessageDescriptor, name []byte) protoreflect.FieldDescriptor {
	fds := md.Fields()
	if fd := fds.ByName(protoreflect.Name(textView(name))); fd != nil {
		return fd
	}
	return fds.ByJSONName(textView(name))
}

// queryBound reports whether chain overlaps the body field or a path
// variable: those fields are not query parameters.
func (rt *Route) queryBound(chain []protoreflect.FieldDescriptor) bool {
	if rt.bodyField != nil && chain[0] == rt.bodyField {
		return true
	}
	for i := range rt.vars {
		vc := rt.vars[i].chain
		k := min(len(vc), len(chain))
		same := true
		for j := 0; j < k && same; j++ {
			same = vc[j] == chain[j]
		}
		if same {
			return true
		}
	}
	return false
}
