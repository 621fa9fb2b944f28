package engine

import (
	"errors"
	"strconv"
	"sync"

	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/transcode"
	"github.com/straitgw/strait/upstream"
)

var errClientGone = errors.New("engine: client connection closed")

// h2Request is a REST or gRPC-Web request on a downstream h2 stream: it
// gathers the body (bounded), then makes one call and is that call's sink.
type h2Request struct {
	e       *Engine
	snap    *snapshot
	s       *h2.Stream
	method  string
	path    string
	query   string
	host    string
	ctype   string
	web     webMode
	isWeb   bool
	meta    []h2.Field
	reqBody []byte

	batch *upstream.Batch // the client connection's: use on its worker only

	mu   sync.Mutex
	call *call
	hdrs []h2.Field
}

func newH2Request(e *Engine, snap *snapshot, b *upstream.Batch, s *h2.Stream, fields []h2.Field, ctype string, end bool) *h2Request {
	r := &h2Request{e: e, snap: snap, batch: b, s: s, ctype: ctype}
	for _, f := range fields {
		switch f.Name {
		case ":method":
			r.method = f.Value
		case ":path":
			r.path, r.query = splitQuery(f.Value)
		case ":authority":
			r.host = f.Value
		default:
			if f.Name != "" && f.Name[0] != ':' {
				r.meta = append(r.meta, h2.Field{Name: f.Name, Value: f.Value})
			}
		}
	}
	r.web, r.isWeb = grpcWebMode(ctype)
	if end {
		r.dispatch()
	}
	return r
}

func splitQuery(target string) (path, query string) {
	for i := 0; i < len(target); i++ {
		if target[i] == '?' {
			return target[:i], target[i+1:]
		}
	}
	return target, ""
}

// OnHeaders: request trailers are ignored; they end the body.
func (r *h2Request) OnHeaders(s *h2.Stream, fields []h2.Field, end bool) {
	if end {
		r.dispatch()
	}
}

func (r *h2Request) OnData(s *h2.Stream, p []byte, end bool) {
	if len(r.reqBody)+len(p) > r.snap.cfg.Limits.MaxBodyBytes {
		r.reply(413, 3, "request body larger than "+strconv.Itoa(r.snap.cfg.Limits.MaxBodyBytes)+" bytes", nil)
		s.Reset(h2.ErrCodeCancel)
		return
	}
	r.reqBody = append(r.reqBody, p...)
	s.Consume(len(p))
	if end {
		r.dispatch()
	}
}

func (r *h2Request) OnClose(s *h2.Stream, err error) {
	if err == nil {
		return
	}
	r.mu.Lock()
	c := r.call
	r.mu.Unlock()
	if c != nil {
		c.cancel()
	}
}

// dispatch runs once the whole request has arrived.
func (r *h2Request) dispatch() {
	if r.isWeb {
		r.dispatchWeb()
		return
	}
	var m transcode.Match
	msg, rej := r.snap.prepareREST(&m, &restRequest{method: r.method, path: []byte(r.path),
		query: []byte(r.query), body: r.reqBody, ctype: []byte(r.ctype)}, make([]byte, 0, 5+len(r.reqBody)+64))
	if rej != nil {
		r.reply(rej.status, rej.code, rej.msg, rej.fields())
		return
	}
	r.send(newCall(r.e, r.snap, callREST, m.Route, r), msg, m.Route.GRPCPath)
}

func (r *h2Request) dispatchWeb() {
	svc, ok := serviceOf(r.path)
	if !ok || r.method != "POST" {
		r.reply(404, 12, "no gRPC method at "+r.path, nil)
		return
	}
	body := r.reqBody
	if r.web == webText {
		var err error
		if body, err = decodeWebText(body); err != nil {
			r.reply(400, 3, "grpc-web-text body is not base64", nil)
			return
		}
	}
	c := newCall(r.e, r.snap, callGRPCWeb, r.snap.router.Lookup(r.path), r)
	c.svc, c.web = svc, r.web
	r.send(c, body, r.path)
}

func (r *h2Request) send(c *call, msg []byte, path string) {
	fs := requestFields(nil, path, r.host)
	var timeout string
	for _, f := range r.meta {
		if f.Name == "grpc-timeout" {
			timeout = f.Value
		}
		fs = appendMetadata(fs, f.Name, f.Value)
	}
	d := r.snap.deadline(timeout)
	fs = appendTimeout(fs, d)
	r.mu.Lock()
	r.call = c
	r.mu.Unlock()
	if err := c.start(r.batch, fs, msg, d); err != nil {
		r.reply(503, 14, err.Error(), nil)
	}
}

// head and body make h2Request the call's sink.
func (r *h2Request) head(status int, ctype string, hdrs []h2.Field, contentLength int) {
	fs := append(r.hdrs[:0], h2.Field{Name: ":status", Value: strconv.Itoa(status)},
		h2.Field{Name: "content-type", Value: ctype})
	if contentLength >= 0 {
		fs = append(fs, h2.Field{Name: "content-length", Value: strconv.Itoa(contentLength)})
	}
	fs = append(fs, hdrs...)
	r.hdrs = fs
	_ = r.s.WriteHeaders(fs, false)
}

func (r *h2Request) body(p []byte, end bool) {
	if err := r.s.WriteData(p, end); errors.Is(err, h2.ErrBufferFull) {
		r.s.Reset(h2.ErrCodeFlowControl) // only an upstream ignoring our window gets here
	}
}

func (r *h2Request) backlog() int { return r.s.Buffered() }

func (r *h2Request) cork(b *upstream.Batch) { b.Cork(r.s.Conn()) }

// OnDrain lets the call return window to its upstream.
func (r *h2Request) OnDrain(s *h2.Stream, n int) {
	r.mu.Lock()
	c := r.call
	r.mu.Unlock()
	if c != nil {
		c.drained()
	}
}

func (r *h2Request) reply(status int, code uint32, msg string, hdrs []h2.Field) {
	r.e.metrics.localReplies.Add(1)
	b := appendErrorJSON(nil, code, msg, r.snap)
	r.head(status, ctypeJSON, hdrs, len(b))
	r.body(b, true)
}
