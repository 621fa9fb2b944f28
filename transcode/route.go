package transcode

import (
	"errors"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// ErrRouteConflict reports two RPCs bound to the same method and path shape.
var ErrRouteConflict = errors.New("transcode: conflicting http rules")

// ErrHTTPRule reports a google.api.http rule that does not fit its method.
var ErrHTTPRule = errors.New("transcode: bad http rule")

// httpBodyName is the message whose requests and responses travel as raw
// bytes with their own content type.
const httpBodyName protoreflect.FullName = "google.api.HttpBody"

// Route is one HTTP binding of an RPC: a rule, one of its
// additional_bindings, or the default POST /pkg.Service/Method. Routes are
// immutable and shared by every request.
type Route struct {
	Service  protoreflect.FullName
	GRPCPath string // "/pkg.Service/Method"
	Method   protoreflect.MethodDescriptor
	Input    *Plan
	Output   *Plan

	ClientStreaming, ServerStreaming bool

	HTTPMethod   string // "GET", "POST", ... or a custom kind
	Template     string // as written in the rule, e.g. "/v1/{name=shelves/*}"
	Body         string // "" (no body), "*" or a top-level request field name
	ResponseBody string // "" (whole message) or a response field name
	Default      bool   // the POST /pkg.Service/Method route
	// MethodIndex numbers the method in its Router (Router.Methods): every
	// route of one method has it, for per-method tables kept in slices.
	MethodIndex int

	// HTTPBodyRequest: the body is a google.api.HttpBody (the whole request
	// with body "*", or the body field): any content type is accepted and
	// sent as raw bytes, with Match.ContentType. Otherwise the engine
	// accepts JSON only (415).
	HTTPBodyRequest bool
	// HTTPBodyResponse: the response (or response_body field) is a
	// google.api.HttpBody; the engine writes HTTPBody's bytes and type.
	HTTPBodyResponse bool

	tmpl         *pathTemplate
	vars         []varBinding
	bodyField    protoreflect.FieldDescriptor // nil for "" and "*"
	respField    protoreflect.FieldDescriptor // nil for the whole message
	noQuery      bool                         // body "*": every field comes from the body
	discardQuery bool                         // RouterOptions.DiscardUnknownQuery
}

// RouteInfo describes a route for listings such as `strait routes`.
type RouteInfo struct {
	HTTPMethod   string
	Template     string
	RPC          protoreflect.FullName // "bookstore.v1.Bookstore.GetShelf"
	Body         string
	ResponseBody string
	Default      bool
}

// String reads "GET /v1/shelves/{shelf} -> bookstore.v1.Bookstore.GetShelf".
func (ri RouteInfo) String() string {
	s := ri.HTTPMethod + " " + ri.Template + " -> " + string(ri.RPC)
	if ri.Body != "" {
		s += " (body " + strconv.Quote(ri.Body) + ")"
	}
	if ri.ResponseBody != "" {
		s += " (response_body " + strconv.Quote(ri.ResponseBody) + ")"
	}
	return s
}

// HTTPError is a routing or binding failure with the HTTP status to answer:
// 404 unknown path, 405 known path but not this method, 400 a malformed
// request.
type HTTPError struct {
	Status int
	Msg    string
	Allow  string // 405: the methods that would match, "GET, POST", for the Allow header
}

// Error is Msg alone: it is written for the API client, in the response.
func (e *HTTPError) Error() string { return e.Msg }

var (
	errNotFound   = &HTTPError{Status: 404, Msg: "no route for path"}
	errBadEscape  = &HTTPError{Status: 400, Msg: "malformed percent escape in path"}
	errNotRouting = &HTTPError{Status: 404, Msg: "path must start with '/'"}
)

func badRequest(msg string) error { return &HTTPError{Status: 400, Msg: msg} }

// AppendResponse appends the JSON of one response message (wire bytes), or
// of its response_body field. For HTTPBodyResponse routes use HTTPBody.
func (rt *Route) AppendResponse(dst, wire []byte) ([]byte, error) {
	if rt.respField != nil {
		return rt.Output.AppendFieldJSON(dst, rt.respField, wire)
	}
	return rt.Output.AppendJSON(dst, wire)
}

// HTTPBody returns the content type and data of a google.api.HttpBody
// response (or response_body field), borrowed from wire.
func (rt *Route) HTTPBody(wire []byte) (contentType, data []byte, err error) {
	if rt.respField != nil {
		if wire, err = lastField(wire, rt.respField.Number()); err != nil {
			return nil, nil, err
		}
	}
	for len(wire) > 0 {
		num, typ, n := protowire.ConsumeTag(wire)
		if n < 0 {
			return nil, nil, protowire.ParseError(n)
		}
		wire = wire[n:]
		if typ == protowire.BytesType && (num == 1 || num == 2) {
			v, m := protowire.ConsumeBytes(wire)
			if m < 0 {
				return nil, nil, protowire.ParseError(m)
			}
			if num == 1 {
				contentType = v
			} else {
				data = v
			}
			wire = wire[m:]
			continue
		}
		if n = protowire.ConsumeFieldValue(num, typ, wire); n < 0 {
			return nil, nil, protowire.ParseError(n)
		}
		wire = wire[n:]
	}
	return contentType, data, nil
}

// lastField returns the bytes of the last occurrence of a length-delimited
// field (a message split across occurrences is rare enough to ignore here).
func lastField(wire []byte, want protowire.Number) ([]byte, error) {
	var out []byte
	for len(wire) > 0 {
		num, typ, n := protowire.ConsumeTag(wire)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		wire = wire[n:]
		m := protowire.ConsumeFieldValue(num, typ, wire)
		if m < 0 {
			return nil, protowire.ParseError(m)
		}
		if num == want && typ == protowire.BytesType {
			out, _ = protowire.ConsumeBytes(wire)
		}
		wire = wire[m:]
	}
	return out, nil
}

// Info describes the route for listings.
func (rt *Route) Info() RouteInfo {
	return RouteInfo{HTTPMethod: rt.HTTPMethod, Template: rt.Template,
		RPC: rt.Method.FullName(), Body: rt.Body, ResponseBody: rt.ResponseBody, Default: rt.Default}
}
