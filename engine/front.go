package engine

import (
	"strconv"
	"strings"
	"time"
	"unsafe"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/rpc"
	"github.com/straitgw/strait/transcode"
	"github.com/straitgw/strait/upstream"
)

// kind is how a request is served.
type kind uint8

const (
	kindREST kind = iota // JSON transcoded to one gRPC call
	kindGRPC             // native gRPC, relayed frame by frame (h2 only)
	kindWeb              // gRPC-Web, relayed with its framing translated
)

// classify picks the kind from the content type.
func classify(ctype []byte) kind {
	rest, ok := strings.CutPrefix(bstr(ctype), "application/grpc")
	switch {
	case !ok:
		return kindREST
	case strings.HasPrefix(rest, "-web"):
		return kindWeb
	case rest == "" || rest[0] == '+' || rest[0] == ';':
		return kindGRPC
	}
	return kindREST
}

// request is what every front end (HTTP/1.1, h2, an embedding server)
// hands to start, whatever the protocol. Its strings and slices may be
// views of the front end's buffers: they are valid only until start
// returns, and start copies what the exchange keeps.
type request struct {
	kind       kind
	method     string
	path       []byte // without the query
	query      []byte // after '?'
	authority  string
	ctype      []byte
	meta       []h2.Field // the other headers, lower-case names, in order
	body       []byte     // the body, or its first bytes when more follow
	end        bool       // the body is complete
	timeout    time.Duration
	teTrailers bool   // TE: trailers: the client reads trailers
	clientIP   string // the client's address, for X-Forwarded-For
	scheme     string // "http" or "https", for X-Forwarded-Proto
	requestID  string // set by upstreamFields: the response carries it back
	xfcc       string // the client's verified certificate (mTLS), as x-forwarded-client-cert
	identity   string // the same, as filters see it (identityName)
	traced     uint8  // untraced, tracedRoot or tracedChild (trace.go)

	// Scratch a front end may reuse across its requests (nil: fresh).
	match  *transcode.Match
	msg    []byte
	fields []h2.Field
}

// sbytes views an immutable string as bytes for APIs that only read them;
// nothing may write through the result.
func sbytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// start serves req: it routes it, opens its upstream stream and sends the
// body it has; the response goes to down. in is the client's h2 stream
// when the body goes on streaming (gRPC and gRPC-Web over h2): the
// returned exchange is then that stream's handler. b is the batch of the
// calling worker (nil: start uses its own). A request answered by the
// gateway itself returns a nil exchange.
func (e *Engine) start(s *snapshot, b *upstream.Batch, req *request, down downstream,
	in *h2.Stream, inBatch *upstream.Batch) exchange {
	var own upstream.Batch
	if b == nil {
		b = &own
		defer own.End() // after every lock is released: it delivers callbacks
	}
	req.requestID = s.headers.requestIDOf(req)
	down.obs().identified(req.requestID)
	s.traceStart(req, down.obs())
	extra := s.responseExtra(req)
	if s.cors != nil {
		origin, pre, want := browser(req)
		if pre {
			s.cors.preflight(down, origin, want)
			return nil
		}
		if origin != "" && s.cors.allows(origin) {
			extra = s.cors.appendActual(extra, origin)
		}
	}
	down.setExtra(extra)
	if req.kind == kindREST {
		return e.startCall(s, b, req, down)
	}
	return e.startRelay(s, b, req, down, in, inBatch)
}

// upstreamFields builds the upstream HEADERS into req.fields: pseudo
// fields, content type, the metadata that travels, and the deadline.
func (s *snapshot) upstreamFields(req *request, path, ctype string) ([]h2.Field, time.Duration) {
	if req.fields == nil { // room for the metadata and what the gateway adds
		req.fields = make([]h2.Field, 0, len(req.meta)+12)
	}
	fs := append(req.fields[:0],
		h2.Field{Name: ":method", Value: "POST"},
		h2.Field{Name: ":scheme", Value: "http"},
		h2.Field{Name: ":path", Value: path},
		h2.Field{Name: ":authority", Value: req.authority},
		h2.Field{Name: "content-type", Value: ctype},
		h2.Field{Name: "te", Value: "trailers"},
	)
	var timeout string
	conn := connectionHeader(req.meta)
	for _, f := range req.meta {
		switch f.Name {
		case "grpc-timeout":
			timeout = f.Value
		case "te":
			req.teTrailers = req.teTrailers || hasToken(f.Value, "trailers")
		}
		if f, ok := s.travels(req, f, conn); ok {
			fs = append(fs, f)
		}
	}
	fs = s.headers.forwarded(fs, req)
	if req.xfcc != "" { // the client's own is dropped (fields.go)
		fs = append(fs, h2.Field{Name: "x-forwarded-client-cert", Value: req.xfcc})
	}
	d := s.deadline(timeout)
	if req.timeout > 0 && (d == 0 || req.timeout < d) {
		d = req.timeout
	}
	fs = appendTimeout(fs, d)
	req.fields = fs
	return fs, d
}

// travels reports whether a request header goes upstream as metadata,
// and under which name (see policy.go).
func (s *snapshot) travels(req *request, f h2.Field, conn string) (h2.Field, bool) {
	if n, ok := strings.CutPrefix(f.Name, metadataPrefix); ok && n != "" {
		f.Name = n // grpc-gateway's convention: Grpc-Metadata-Foo is foo
	}
	p := s.headers
	ok := metadataOK(req.kind, f.Name) && !hopByHop(f.Name) && !p.gatewaySet(f.Name) &&
		p.requestOK(f.Name) && (conn == "" || !hasToken(conn, f.Name)) &&
		(req.traced == untraced || traceHeaderTravels(req, f.Name))
	return f, ok
}

// startCall starts a REST exchange.
func (e *Engine) startCall(s *snapshot, b *upstream.Batch, req *request, down downstream) exchange {
	m := req.match
	if m == nil {
		m = new(transcode.Match)
	}
	if req.method == "OPTIONS" {
		s.options(e, down, req, m)
		return nil
	}
	msg, rej := s.prepareREST(m, req)
	req.msg = msg
	down.obs().routed(s, m.Route)
	if rej != nil {
		e.replyJSON(s, down, rej.status, rej.rpcStatus(), rej.fields())
		return nil
	}
	fs, d := s.upstreamFields(req, m.Route.GRPCPath, "application/grpc")
	c := newCall(e, s, m.Route, down)
	c.teTrailers = req.teTrailers
	c.mu.Lock()
	c.arm(d, c.onTimeout)
	c.policy = s.retries[m.Route.Service]
	c.extra = down.extra()
	// msg is the front end's scratch, untouched until this exchange ends.
	c.prepare(fs, true, msg, true)
	if c.startChain(s, req, m.Route, string(m.Route.Service), m.Route.GRPCPath) {
		if err := c.proceed(b, s, string(m.Route.Service)); err != nil {
			c.fail(unavailable(err)) // 503
		}
	}
	c.mu.Unlock()
	return c
}

// startRelay starts a gRPC or gRPC-Web exchange. The relay is returned
// even when answered at once, as the client stream's handler.
func (e *Engine) startRelay(s *snapshot, b *upstream.Batch, req *request, down downstream,
	in *h2.Stream, inBatch *upstream.Batch) exchange {
	r := &relay{leg: leg{e: e, snap: s, down: down}, in: in, inBatch: inBatch, web: req.kind == kindWeb}
	r.self, r.giveUp, r.onSent, r.restart = r, r.fail, r.bodySent, func() {}
	ctype := bstr(req.ctype)
	upType := ctype
	r.ctype = strings.Clone(responseType(ctype)) // kept for replies
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.web {
		t, err := parseWebType(ctype)
		if err != nil {
			r.ctype = "application/grpc-web+proto"
			r.fail(rpc.New(rpc.CodeInvalidArgument, "unsupported content type "+quoteCT(ctype)))
			return r
		}
		r.text, upType = t.text, t.upstreamType()
	}
	path := bstr(req.path)
	svc, ok := serviceOf(path)
	if !ok || req.method != "POST" {
		r.fail(rpc.New(rpc.CodeUnimplemented, "no gRPC method at "+quoteCT(path)))
		return r
	}
	fs, d := s.upstreamFields(req, path, upType)
	body, owned := req.body, false
	if r.text && len(body) > 0 {
		var err error
		if body, err = r.dec.decode(nil, body, req.end); err != nil {
			r.fail(rpc.New(rpc.CodeInvalidArgument, err.Error()))
			return r
		}
		owned = true // decoded into a buffer of its own
	}
	r.arm(d, r.onTimeout)
	r.policy = s.retries[svc]
	r.extra = down.extra()
	r.prepare(fs, req.end, body, owned)
	rt := s.router.Lookup(path)
	down.obs().routed(s, rt)
	if !r.startChain(s, req, rt, string(svc), path) {
		return r // rejected, or a filter suspended it: no stream, the body is held
	}
	if err := r.proceed(b, s, string(svc)); err != nil {
		r.fail(unavailable(err))
	}
	return r
}

// serviceOf extracts "pkg.Service" from a gRPC path "/pkg.Service/Method".
// The name is a view of path: compare or copy it, do not keep it.
func serviceOf(path string) (protoreflect.FullName, bool) {
	if len(path) < 4 || path[0] != '/' {
		return "", false
	}
	svc, method, ok := strings.Cut(path[1:], "/")
	if !ok || svc == "" || method == "" || strings.Contains(method, "/") {
		return "", false
	}
	return protoreflect.FullName(svc), true
}

// quoteCT quotes a client-supplied value for an error message.
func quoteCT(v string) string {
	if v == "" {
		return "(none)"
	}
	return strconv.Quote(v)
}
