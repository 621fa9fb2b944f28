package engine

import (
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/h2"
)

// filterRequest is a request as filters see it (filter.Request). During
// start its strings are views of the front end's request; own copies them
// before the request outlives start (a suspension, or finishers that hear
// of its end).
type filterRequest struct {
	proto                         filter.Protocol
	method, path, service, rpc    string
	clientIP, requestID, identity string
	meta                          []h2.Field // the client's headers
	added                         []h2.Field // SetMetadata's, owned
	upstream                      string
	values                        map[any]any
	route                         filter.Route // its strings are views until own
	dropped                       []string     // client headers kept from upstream
	owned                         bool
}

func newFilterRequest(req *request, svc, rpcPath string) *filterRequest {
	return &filterRequest{proto: protocolOf(req.kind), method: req.method, path: bstr(req.path),
		service: svc, rpc: rpcPath, clientIP: req.clientIP, requestID: req.requestID, identity: req.identity, meta: req.meta}
}

func protocolOf(k kind) filter.Protocol {
	switch k {
	case kindGRPC:
		return filter.ProtocolGRPC
	case kindWeb:
		return filter.ProtocolGRPCWeb
	}
	return filter.ProtocolREST
}

// own copies every view, so the request may outlive start.
func (r *filterRequest) own() {
	if r.owned {
		return
	}
	r.owned = true
	r.method, r.path = strings.Clone(r.method), strings.Clone(r.path)
	r.service, r.rpc = strings.Clone(r.service), strings.Clone(r.rpc)
	rt := &r.route
	rt.Service, rt.Method = strings.Clone(rt.Service), strings.Clone(rt.Method)
	meta := make([]h2.Field, len(r.meta))
	for i, f := range r.meta {
		meta[i] = h2.Field{Name: strings.Clone(f.Name), Value: strings.Clone(f.Value)}
	}
	r.meta = meta
}

func (r *filterRequest) Protocol() filter.Protocol { return r.proto }
func (r *filterRequest) Method() string            { return r.method }
func (r *filterRequest) Path() string              { return r.path }
func (r *filterRequest) Service() string           { return r.service }
func (r *filterRequest) RPC() string               { return r.rpc }
func (r *filterRequest) ClientIP() string          { return r.clientIP }
func (r *filterRequest) RequestID() string         { return r.requestID }
func (r *filterRequest) Identity() string          { return r.identity }

func (r *filterRequest) Header(name string) string {
	for _, f := range r.meta {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

func (r *filterRequest) SetMetadata(name, value string) {
	r.added = append(r.added, h2.Field{Name: strings.ToLower(name), Value: strings.Clone(value)})
}

func (r *filterRequest) SetUpstream(name string) { r.upstream = strings.Clone(name) }

// Route is the route the request matched (filter.RouteOf).
func (r *filterRequest) Route() filter.Route { return r.route }

// DropMetadata keeps the client's header name from going upstream
// (filter.DropMetadata); proceed applies it.
func (r *filterRequest) DropMetadata(name string) {
	r.dropped = append(r.dropped, strings.ToLower(name))
}

// keep reports whether an upstream field survives DropMetadata.
func (r *filterRequest) keep(f h2.Field) bool {
	for _, n := range r.dropped {
		if f.Name == n {
			return false
		}
	}
	return true
}

func (r *filterRequest) Value(key any) any { return r.values[key] }

func (r *filterRequest) SetValue(key, value any) {
	if r.values == nil {
		r.values = map[any]any{}
	}
	r.values[key] = value
}

func protoreflectName(svc string) protoreflect.FullName { return protoreflect.FullName(svc) }
