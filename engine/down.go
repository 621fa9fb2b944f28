package engine

import (
	"errors"
	"strconv"

	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/upstream"
)

// downstream is where a response goes: an HTTP/1.1 connection (h1Conn),
// an h2 stream (h2Response) or an embedding server (gather). An exchange
// calls it one call at a time, under its leg's lock, from whichever
// goroutine advances the exchange; implementations copy what they keep.
type downstream interface {
	// head starts the response. fields are response metadata (lower-case
	// names, no pseudo-headers). length < 0 means the body is streamed;
	// end means there is no body at all (a trailers-only gRPC response).
	head(status int, ctype string, fields []h2.Field, length int, end bool)
	// data writes body bytes; end finishes the response.
	data(p []byte, end bool)
	// trailers finishes the response with trailer fields.
	trailers(fields []h2.Field)
	// abort ends the response without finishing it: RST_STREAM code on
	// h2; on HTTP/1.1 the connection closes.
	abort(code h2.ErrCode)
	// backlog is how many response bytes wait for the client to read.
	backlog() int
	// cork adds the client's connection to a worker's batch.
	cork(b *upstream.Batch)
	// setExtra sets fields every head of this response carries besides
	// its own (the request id, CORS); fs is copied. extra returns them.
	setExtra(fs []h2.Field)
	extra() []h2.Field
	// account counts n more (or fewer) bytes the exchange holds for the
	// client, against its connection's and the gateway's budget.
	account(n int)
	// obs is the request's observation (observe.go), which the
	// downstream ends with the response.
	obs() *observation
}

// h2Response is an h2 stream as a downstream.
type h2Response struct {
	noBody bool // a HEAD request's: headers alone, then END_STREAM
	s      *h2.Stream
	w      *sockWriter // the connection's, whose backlog every stream shares
	hdrs   []h2.Field  // scratch for the response HEADERS (hbuf at first)
	hbuf   [6]h2.Field
	more   []h2.Field // setExtra's
	o      observation
}

func (r *h2Response) head(status int, ctype string, fields []h2.Field, length int, end bool) {
	if r.hdrs == nil {
		r.hdrs = r.hbuf[:0]
	}
	fs := append(r.hdrs[:0], h2.Field{Name: ":status", Value: statusValue(status)})
	if ctype != "" {
		fs = append(fs, h2.Field{Name: "content-type", Value: ctype})
	}
	if length >= 0 && !end {
		fs = append(fs, h2.Field{Name: "content-length", Value: strconv.Itoa(length)})
	}
	fs = append(fs, fields...)
	fs = append(fs, r.more...)
	r.hdrs = fs
	r.o.head(status, fields)
	_ = r.s.WriteHeaders(fs, end)
	if end {
		r.o.end()
	}
}

func (r *h2Response) data(p []byte, end bool) {
	if end {
		defer r.o.end()
	}
	if r.noBody {
		if end {
			_ = r.s.WriteData(nil, true)
		}
		return
	}
	r.o.out += int64(len(p))
	if err := r.s.WriteData(p, end); errors.Is(err, h2.ErrBufferFull) {
		// The connection holds its limit (MaxConnBuffer) for a client
		// that does not read: this stream goes, the others stay.
		r.s.Reset(h2.ErrCodeEnhanceYourCalm)
	}
}

func (r *h2Response) trailers(fields []h2.Field) {
	r.o.statusIn(fields)
	_ = r.s.WriteHeaders(fields, true)
	r.o.end()
}

func (r *h2Response) abort(code h2.ErrCode) {
	r.s.Reset(code)
	r.o.end()
}

func (r *h2Response) obs() *observation      { return &r.o }
func (r *h2Response) backlog() int           { return r.s.Buffered() + r.w.backlog() }
func (r *h2Response) cork(b *upstream.Batch) { b.Cork(r.s.Conn()) }
func (r *h2Response) setExtra(fs []h2.Field) { r.more = append(r.more[:0], fs...) }
func (r *h2Response) extra() []h2.Field      { return r.more }
func (r *h2Response) account(n int)          { r.w.account(n) }

// statusValue formats an HTTP status without allocating for common ones.
func statusValue(status int) string {
	switch status {
	case 200:
		return "200"
	case 400:
		return "400"
	case 404:
		return "404"
	case 503:
		return "503"
	}
	return strconv.Itoa(status)
}
