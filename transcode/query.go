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
// element per occurrence; a map entry is written "labels[key]=value".
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
		var err error
		if dst, err = m.appendParam(dst, m.scratch[:kn], m.scratch[kn:]); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// appendParam appends one decoded parameter.
func (m *Match) appendParam(dst, name, val []byte) ([]byte, error) {
	path, mapKey := name, []byte(nil)
	if i := bytes.IndexByte(name, '['); i >= 0 && name[len(name)-1] == ']' {
		path, mapKey = name[:i], name[i+1:len(name)-1]
	}
	chain := m.queryChain(path, mapKey != nil)
	if chain == nil {
		if m.Route.discardQuery {
			return dst, nil
		}
		return dst, badRequest("unknown query parameter " + string(name))
	}
	if mapKey == nil {
		return appendChainText(dst, chain, val)
	}
	start := len(dst)
	fd := chain[len(chain)-1]
	dst, err := appendFieldText(dst, fd.MapKey(), mapKey)
	if err == nil {
		dst, err = appendFieldText(dst, fd.MapValue(), val)
	}
	if err != nil {
		return dst[:start], err
	}
	for k := len(chain) - 1; k >= 0; k-- {
		dst = spliceField(dst, start, chain[k].Number())
	}
	return dst, nil
}

// queryChain resolves a parameter name to its field chain, or nil when no
// field can take it. With isMap the last field must be a map whose values
// have a text form.
func (m *Match) queryChain(key []byte, isMap bool) []protoreflect.FieldDescriptor {
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
		if fd == nil {
			return nil
		}
		m.chain[n] = fd
		n++
		md = nil
		if fd.Message() != nil && !fd.IsList() && !fd.IsMap() && !hasTextForm(fd) {
			md = fd.Message()
		}
	}
	chain := m.chain[:n]
	if md != nil || !queryLeafOK(chain[n-1], isMap) || rt.queryBound(chain) {
		return nil
	}
	return chain
}

// queryLeafOK reports whether a parameter can set fd: a scalar, a list of
// them, or (isMap) a map of them.
func queryLeafOK(fd protoreflect.FieldDescriptor, isMap bool) bool {
	if isMap {
		return fd.IsMap() && hasTextForm(fd.MapValue())
	}
	return !fd.IsMap() && hasTextForm(fd)
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
