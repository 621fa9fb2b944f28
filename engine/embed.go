package engine

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/rpc"
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
	r := request{kind: kindREST, method: string(req.Method), path: req.Path, query: req.RawQuery,
		authority: string(req.Host), ctype: req.ContentType, body: req.Body, end: true}
	for _, h := range req.Headers {
		r.meta = append(r.meta, h2.Field{Name: strings.ToLower(h.Name), Value: h.Value})
	}
	if dl, ok := ctx.Deadline(); ok {
		r.timeout = max(time.Until(dl), time.Millisecond)
	}
	g := &gather{done: make(chan struct{})}
	g.o.begin(e, filter.ProtocolREST, r.method, r.path)
	g.o.in = int64(len(r.body))
	x := e.start(s, nil, &r, g, nil, nil)
	select {
	case <-g.done:
	case <-ctx.Done():
		if x != nil {
			x.cancel()
		}
		return nil, ctx.Err()
	}
	if x == nil && (g.resp.Status == 404 || g.resp.Status == 405) {
		return nil, ErrNoRoute
	}
	return &g.resp, nil
}

// gather is the downstream of Do: it keeps the response until it ends.
type gather struct {
	mu   sync.Mutex
	resp Response
	more []h2.Field
	done chan struct{}
	o    observation
}

func (g *gather) head(status int, ctype string, fields []h2.Field, _ int, end bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.resp.Status, g.resp.ContentType = status, ctype
	g.add(fields)
	g.add(g.more)
	g.o.head(status, fields)
	if end {
		g.o.end()
		close(g.done)
	}
}

func (g *gather) add(fields []h2.Field) {
	for _, f := range fields {
		g.resp.Headers = append(g.resp.Headers, Header{Name: f.Name, Value: f.Value})
	}
}

func (g *gather) data(p []byte, end bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.resp.Body = append(g.resp.Body, p...)
	g.o.out += int64(len(p))
	if end {
		g.o.end()
		close(g.done)
	}
}

func (g *gather) trailers(fields []h2.Field) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.add(fields)
	g.o.statusIn(fields)
	g.o.end()
	close(g.done)
}

func (g *gather) abort(h2.ErrCode) {
	g.mu.Lock()
	defer g.mu.Unlock()
	st := rpc.New(rpc.CodeUnavailable, "upstream response cut short")
	g.resp = Response{Status: 502, ContentType: ctypeJSON, Body: transcode.AppendStatusJSON(nil, st, nil)}
	g.o.end()
	close(g.done)
}

func (g *gather) setExtra(fs []h2.Field) { g.more = append(g.more[:0], fs...) }
func (g *gather) extra() []h2.Field      { return g.more }
func (g *gather) account(int)            {}
func (g *gather) backlog() int           { return 0 }
func (g *gather) cork(*upstream.Batch)   {}
func (g *gather) obs() *observation      { return &g.o }
