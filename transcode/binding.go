package transcode

import (
	"bytes"
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// varBinding is a path variable compiled against the request message: the
// chain of fields from the message to the bound scalar.
type varBinding struct {
	v     tmplVar
	chain []protoreflect.FieldDescriptor
}

// newDefaultRoute is POST /pkg.Service/Method with the whole request as
// the JSON body.
func newDefaultRoute(schema *Schema, md protoreflect.MethodDescriptor) (*Route, error) {
	path := "/" + string(md.Parent().FullName()) + "/" + string(md.Name())
	rt, err := newRoute(schema, md, "POST", path)
	if err != nil {
		return nil, err
	}
	rt.Default = true
	rt.tmpl = &pathTemplate{src: path, segs: []tmplSeg{
		{kind: tmplLiteral, lit: string(md.Parent().FullName())},
		{kind: tmplLiteral, lit: string(md.Name())},
	}}
	return rt, rt.setBody("*")
}

// newRuleRoute compiles one google.api.http rule of md.
func newRuleRoute(schema *Schema, md protoreflect.MethodDescriptor, rule httpRule) (*Route, error) {
	if rule.method == "" || rule.path == "" {
		return nil, ruleErr(md, fmt.Errorf("rule has no method and path"))
	}
	rt, err := newRoute(schema, md, rule.method, rule.path)
	if err != nil {
		return nil, err
	}
	if rt.tmpl, err = parseTemplate(rule.path); err != nil {
		return nil, ruleErr(md, err)
	}
	for _, v := range rt.tmpl.vars {
		chain, err := fieldChain(md.Input(), v.field, false)
		if err != nil {
			return nil, ruleErr(md, fmt.Errorf("path %s: %w", rule.path, err))
		}
		rt.vars = append(rt.vars, varBinding{v: v, chain: chain})
	}
	if err := rt.setBody(rule.body); err != nil {
		return nil, err
	}
	return rt, rt.setResponseBody(rule.responseBody)
}

// newRoute fills what every binding of md shares: names, plans, streaming.
func newRoute(schema *Schema, md protoreflect.MethodDescriptor, method, path string) (*Route, error) {
	rt := &Route{
		Service:         md.Parent().FullName(),
		GRPCPath:        "/" + string(md.Parent().FullName()) + "/" + string(md.Name()),
		Method:          md,
		ClientStreaming: md.IsStreamingClient(),
		ServerStreaming: md.IsStreamingServer(),
		HTTPMethod:      method,
		Template:        path,
	}
	if schema != nil {
		rt.Input, rt.Output = schema.Plan(md.Input().FullName()), schema.Plan(md.Output().FullName())
	}
	if rt.Input == nil || rt.Output == nil {
		return nil, ruleErr(md, fmt.Errorf("no plan for %s or %s", md.Input().FullName(), md.Output().FullName()))
	}
	rt.HTTPBodyResponse = md.Output().FullName() == httpBodyName
	return rt, nil
}

// setBody binds the request body: "" none, "*" the whole message, else a
// top-level field.
func (rt *Route) setBody(body string) error {
	rt.Body = body
	in := rt.Method.Input()
	switch body {
	case "":
		return nil
	case "*":
		rt.noQuery = true
		rt.HTTPBodyRequest = in.FullName() == httpBodyName
		return nil
	}
	fd := in.Fields().ByName(protoreflect.Name(body))
	if fd == nil || fd.IsMap() {
		return ruleErr(rt.Method, fmt.Errorf("body %q is not a field of %s", body, in.FullName()))
	}
	for _, v := range rt.vars {
		if v.chain[0] == fd && len(v.chain) == 1 {
			return ruleErr(rt.Method, fmt.Errorf("body %q is bound by the path", body))
		}
	}
	rt.bodyField = fd
	rt.HTTPBodyRequest = fd.Message() != nil && fd.Message().FullName() == httpBodyName && !fd.IsList()
	return nil
}

// setResponseBody selects a top-level response field as the response.
func (rt *Route) setResponseBody(name string) error {
	rt.ResponseBody = name
	if name == "" {
		return nil
	}
	out := rt.Method.Output()
	fd := out.Fields().ByName(protoreflect.Name(name))
	if fd == nil {
		return ruleErr(rt.Method, fmt.Errorf("response_body %q is not a field of %s", name, out.FullName()))
	}
	rt.respField = fd
	rt.HTTPBodyResponse = fd.Message() != nil && fd.Message().FullName() == httpBodyName && !fd.IsList()
	return nil
}

// fieldChain resolves a dotted field path (proto names; JSON names too for
// query parameters) to the fields from md down to a singular leaf that has
// a text form.
func fieldChain(md protoreflect.MessageDescriptor, path string, repeatedLeaf bool) ([]protoreflect.FieldDescriptor, error) {
	var chain []protoreflect.FieldDescriptor
	for part := range strings.SplitSeq(path, ".") {
		if md == nil {
			return nil, fmt.Errorf("field %s: %s is not a message", path, chain[len(chain)-1].Name())
		}
		fd := md.Fields().ByName(protoreflect.Name(part))
		if fd == nil {
			return nil, fmt.Errorf("field %s: no field %q in %s", path, part, md.FullName())
		}
		chain = append(chain, fd)
		md = nil
		if fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap() && !hasTextForm(fd) {
			md = fd.Message()
		}
	}
	leaf := chain[len(chain)-1]
	if md != nil || leaf.IsMap() || (leaf.IsList() && !repeatedLeaf) || !hasTextForm(leaf) {
		return nil, fmt.Errorf("field %s: a %s cannot be bound from text", path, kindName(leaf))
	}
	return chain, nil
}

// kindName names a field's type for error messages.
func kindName(fd protoreflect.FieldDescriptor) string {
	switch {
	case fd.IsMap():
		return "map"
	case fd.IsList():
		return "repeated field"
	case fd.Message() != nil:
		return string(fd.Message().FullName())
	}
	return fd.Kind().String()
}

// AppendRequest appends the request message's wire bytes: the body (JSON,
// or raw bytes for HttpBody), then query parameters, then path variables,
// so by proto merge rules a path value overrides a body value of the same
// field. A malformed value is a *HTTPError (400) or the codec's *Error.
func (m *Match) AppendRequest(dst, rawQuery, body []byte) ([]byte, error) {
	rt := m.Route
	dst, err := m.appendBody(dst, body)
	if err != nil {
		return dst, err
	}
	if len(rawQuery) > 0 {
		if dst, err = m.appendQuery(dst, rawQuery); err != nil {
			return dst, err
		}
	}
	for i := range rt.vars {
		if dst, err = m.appendVar(dst, &rt.vars[i]); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// appendBody writes the body as the route binds it; a blank body is an
// empty message.
func (m *Match) appendBody(dst, body []byte) ([]byte, error) {
	rt := m.Route
	switch {
	case rt.HTTPBodyRequest:
		return m.appendHTTPBody(dst, body), nil
	case rt.Body == "" || bodyIsBlank(body):
		return dst, nil
	case rt.bodyField == nil:
		return rt.Input.AppendWire(dst, body)
	}
	return rt.Input.AppendFieldWire(dst, rt.bodyField, body)
}

// appendHTTPBody writes google.api.HttpBody {content_type=1, data=2},
// nested in the body field when there is one.
func (m *Match) appendHTTPBody(dst, body []byte) []byte {
	start := len(dst)
	if len(m.ContentType) > 0 {
		dst = protowire.AppendTag(dst, 1, protowire.BytesType)
		dst = protowire.AppendBytes(dst, m.ContentType)
	}
	if len(body) > 0 {
		dst = protowire.AppendTag(dst, 2, protowire.BytesType)
		dst = protowire.AppendBytes(dst, body)
	}
	if fd := m.Route.bodyField; fd != nil {
		dst = spliceField(dst, start, fd.Number())
	}
	return dst
}

// appendVar appends one path variable; escapes are decoded into the
// Match's scratch buffer, so a path without '%' costs no copy.
func (m *Match) appendVar(dst []byte, vb *varBinding) ([]byte, error) {
	raw := m.varSpan(&vb.v)
	if len(raw) > 0 && bytes.IndexByte(raw, '%') >= 0 {
		m.scratch = appendPctDecoded(m.scratch[:0], raw, vb.v.multi, false)
		raw = m.scratch
	}
	return appendChainText(dst, vb.chain, raw)
}

func bodyIsBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// appendChainText appends the leaf value text wrapped in the messages of
// chain: tag(a) len(tag(b) len(value)), which proto merges into any a.b
// already written.
func appendChainText(dst []byte, chain []protoreflect.FieldDescriptor, text []byte) ([]byte, error) {
	start := len(dst)
	dst, err := appendFieldText(dst, chain[len(chain)-1], text)
	if err != nil {
		return dst[:start], err
	}
	for k := len(chain) - 2; k >= 0; k-- {
		dst = spliceField(dst, start, chain[k].Number())
	}
	return dst, nil
}

// spliceField turns dst[start:] into the value of a length-delimited
// field by inserting its tag and length before it.
func spliceField(dst []byte, start int, num protowire.Number) []byte {
	var hdr [16]byte
	h := protowire.AppendTag(hdr[:0], num, protowire.BytesType)
	h = protowire.AppendVarint(h, uint64(len(dst)-start))
	return spliceBytes(dst, start, h)
}

// spliceLen inserts the varint length of dst[start:] at start.
func spliceLen(dst []byte, start int) []byte {
	var hdr [10]byte
	return spliceBytes(dst, start, protowire.AppendVarint(hdr[:0], uint64(len(dst)-start)))
}

func spliceBytes(dst []byte, at int, p []byte) []byte {
	n := len(dst)
	dst = append(dst, p...)
	copy(dst[at+len(p):], dst[at:n])
	copy(dst[at:], p)
	return dst
}
