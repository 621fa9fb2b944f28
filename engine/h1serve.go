package engine

import (
	"errors"

	"github.com/straitgw/strait/engine/http1"
	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/rpc"
)

// serve parses and dispatches every complete request buffered.
func (h *h1Conn) serve() error {
	r := h.c.r
	lim := h.c.e.snap.Load().cfg.Limits
	for r.Len() > 0 {
		if h.waitIdle() {
			// No request will be read any more: drop what the client sent,
			// or netpoll would call serve again for it forever.
			_ = r.Skip(r.Len())
			_ = r.Release()
			return h.c.nc.Close()
		}
		h.req.Reset()
		h.startReading()
		err := h.read(r, http1.Limits{MaxHeaderBytes: lim.MaxHeaderBytes, MaxBodyBytes: lim.MaxBodyBytes})
		if err != nil {
			h.readFailed(err)
			return nil
		}
		h.dispatch()
		// The request's views die here: dispatch encoded what the
		// upstream needs, and the exchange copied what it keeps.
		_ = r.Release()
	}
	return nil
}

// startReading: the header timeout bounds a whole request, however slowly
// its bytes drip in.
func (h *h1Conn) startReading() {
	h.c.idle.Reset(h.c.e.snap.Load().cfg.Timeouts.Header)
	h.setState(h1Reading)
}

// read reads one request, answering Expect: 100-continue between head and
// body when the body is not already on its way.
func (h *h1Conn) read(r http1.Reader, lim http1.Limits) error {
	if err := http1.ReadHead(r, &h.req, lim); err != nil {
		return err
	}
	if h.req.ExpectContinue && r.Len() == 0 {
		h.w.write(http1.AppendContinue(h.out[:0]), true)
	}
	return http1.ReadBody(r, &h.req, lim)
}

func (h *h1Conn) readFailed(err error) {
	var he *http1.Error
	if errors.As(err, &he) {
		h.begin(false, true, false)
		h.o.begin(h.c.e, filter.ProtocolREST, "", nil)
		h.c.e.replyJSON(h.c.e.snap.Load(), h, he.Status, rpc.New(localCode(he.Status), he.Msg), nil)
	}
	_ = h.c.nc.Close()
}

// dispatch hands the parsed request to the front end. The request's views
// (header names and values, path, body) are valid until the caller
// releases the reader: start encodes or copies all it needs before then.
func (h *h1Conn) dispatch() {
	q := &h.req
	h.begin(q.KeepAlive, q.Proto11, bstr(q.Method) == "HEAD")
	req := request{
		method: bstr(q.Method), path: q.Path, query: q.RawQuery,
		authority: bstr(q.Host), ctype: q.ContentType,
		body: q.Body, end: true, clientIP: h.c.clientIP, scheme: h.c.scheme, xfcc: h.c.xfcc, identity: h.c.identity,
		match: &h.match, msg: h.msg, fields: h.fields,
	}
	req.kind = classify(req.ctype)
	h.o.begin(h.c.e, protocolOf(req.kind), req.method, req.path)
	h.o.in = int64(len(req.body))
	if req.kind == kindGRPC {
		s := h.c.e.snap.Load()
		h.c.e.replyJSON(s, h, 415, rpc.New(rpc.CodeInvalidArgument, "native gRPC needs HTTP/2; use h2c on this port"), nil)
		return
	}
	req.meta = h.metadata()
	h.mu.Lock()
	h.cur = nil
	h.mu.Unlock()
	x := h.c.e.start(h.c.e.snap.Load(), nil, &req, h, nil, nil)
	h.msg, h.fields = req.msg, req.fields
	h.mu.Lock()
	gone := h.state == h1Closing
	if h.state == h1Busy {
		h.cur = x // unless the response already ended
	}
	h.mu.Unlock()
	if gone && x != nil {
		x.cancel() // the client left while start ran; a finished exchange ignores it
	}
}

// metadata lists the request's headers with lower-cased names, into
// scratch: views of the request and of h.lower, valid for this request.
func (h *h1Conn) metadata() []h2.Field {
	h.lower = h.lower[:0]
	fs := h.meta[:0]
	for _, hd := range h.req.Headers {
		fs = append(fs, h2.Field{Name: h.lowerName(hd.Name), Value: bstr(hd.Value)})
	}
	h.meta = fs
	return fs
}

// lowerName lower-cases an HTTP/1.1 header name into h.lower.
func (h *h1Conn) lowerName(b []byte) string {
	if lowerASCII(b) {
		return bstr(b)
	}
	start := len(h.lower)
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		h.lower = append(h.lower, c)
	}
	return bstr(h.lower[start:])
}
