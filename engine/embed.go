package engine

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/transcode"
	"github.com/straitgw/strait/upstream"
)

// ErrNoRoute is Do's answer for a request no route matches (the gateway
// would answer 404 or 405): an embedding server passes it on.
var ErrNoRoute = errors.New("engine: no route")

// Request is a REST request handed over by an embedding server, such as
// the Hertz middleware. Its slices need only live until Do returns.
type Request struct {
	Method, Path, RawQuery, ContentType, Host []byte
	Headers                                   []Header
	Body                                      []byte
}

// Header is one request or response header.
type Header struct{ Name, Value string }

// Response is a whole REST response: a server stream is gathered (NDJSON)
// before Do returns.
type Response struct {
	Status      int
	ContentType string
	Headers     []Header
	Body        []byte
}

// Do serves one REST request through the engine's routes and upstreams
// and waits for the whole response. It blocks its goroutine: embedding
// servers such as Hertz already run a handler per connection goroutine.
func (e *Engine) Do(ctx context.Context, req *Request) (*Response, error) {
	s := e.snap.Load()
	var m transcode.Match
	msg, rej := s.prepareREST(&m, &restRequest{method: string(req.Method), path: req.Path,
		query: req.RawQuery, body: req.Body, ctype: req.ContentType}, nil)
	if rej != nil {
		if rej.status == 404 || rej.status == 405 {
			return nil, ErrNoRoute
		}
		return rejectResponse(s, rej), nil
	}
	out := &gather{done: make(chan struct{})}
	c := newCall(e, s, callREST, m.Route, out)
	fs, d := embedFields(s, req, m.Route.GRPCPath)
	if dl, ok := ctx.Deadline(); ok && (d == 0 || time.Until(dl) < d) {
		d = max(time.Until(dl), time.Millisecond)
	}
	if err := c.start(nil, fs, msg, d); err != nil {
		return rejectResponse(s, &reject{status: 503, code: 14, msg: err.Error()}), nil
	}
	select {
	case <-out.done:
		return &out.resp, nil
	case <-ctx.Done():
		c.cancel()
		return nil, ctx.Err()
	}
}

// embedFields builds the upstream HEADERS and the deadline for req.
func embedFields(s *snapshot, req *Request, path string) ([]h2.Field, time.Duration) {
	fs := requestFields(make([]h2.Field, 0, 8+len(req.Headers)), path, string(req.Host))
	var timeout string
	for _, h := range req.Headers {
		name := strings.ToLower(h.Name)
		if name == "grpc-timeout" {
			timeout = h.Value
		}
		fs = appendMetadata(fs, name, h.Value)
	}
	d := s.deadline(timeout)
	return appendTimeout(fs, d), d
}

func rejectResponse(s *snapshot, r *reject) *Response {
	resp := &Response{Status: r.status, ContentType: ctypeJSON, Body: appendErrorJSON(nil, r.code, r.msg, s)}
	if r.allow != "" {
		resp.Headers = []Header{{Name: "Allow", Value: r.allow}}
	}
	return resp
}

// gather is the sink of Do: it keeps the response until it ends.
type gather struct {
	mu   sync.Mutex
	resp Response
	done chan struct{}
}

func (g *gather) head(status int, ctype string, hdrs []h2.Field, _ int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.resp.Status, g.resp.ContentType = status, ctype
	for _, f := range hdrs {
		g.resp.Headers = append(g.resp.Headers, Header{Name: f.Name, Value: f.Value})
	}
}

func (g *gather) body(p []byte, end bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.resp.Body = append(g.resp.Body, p...)
	if end {
		close(g.done)
	}
}

func (g *gather) backlog() int { return 0 }

func (g *gather) cork(*upstream.Batch) {}
