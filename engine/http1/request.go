package http1

import "io"

// Reader is the part of netpoll.Reader the codec needs. Peek and Next block
// until n bytes are buffered or the reader fails. A slice from Next is
// valid until Release; one from Peek only until the next read (netpoll
// reuses its copy of bytes that span buffers).
type Reader interface {
	Len() int
	Peek(n int) ([]byte, error)
	Next(n int) ([]byte, error)
	Skip(n int) error
	Release() error
}

// Limits bound what one request may hold. Zero fields take the defaults.
type Limits struct {
	MaxHeaderBytes int // request line, header fields and the blank line; also chunked trailers
	MaxBodyBytes   int // body after chunked decoding
	MaxHeaders     int // header fields (and trailer fields)
}

// Defaults for zero Limits fields.
const (
	DefaultMaxHeaderBytes = 64 << 10
	DefaultMaxBodyBytes   = 4 << 20
	DefaultMaxHeaders     = 100
)

func (l Limits) withDefaults() Limits {
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if l.MaxHeaders <= 0 {
		l.MaxHeaders = DefaultMaxHeaders
	}
	return l
}

// Header is one header field as received: views, name case preserved,
// value without surrounding whitespace.
type Header struct {
	Name, Value []byte
}

// Request is one parsed request. Reuse it across requests of a connection
// with Reset, so its slices keep their capacity.
type Request struct {
	Method   []byte // a token; case-sensitive (RFC 9110 §9.1)
	Target   []byte // request-target as sent
	Path     []byte // "/..." (origin or absolute form; "/" for "http://h"), or "*"
	RawQuery []byte // after '?', without it; nil when absent

	Headers []Header // every field in order, Host included

	Host        []byte // Host field, or the authority of an absolute-form target
	ContentType []byte // first Content-Type field
	Accept      []byte // first Accept field

	ContentLength  int64 // -1 when chunked; 0 when no body
	Chunked        bool  // Transfer-Encoding: chunked
	KeepAlive      bool  // the connection may carry another request
	ExpectContinue bool  // Expect: 100-continue on HTTP/1.1
	Proto11        bool  // HTTP/1.1 (else HTTP/1.0)

	Body []byte // whole body: a view into r (Content-Length) or req's own buffer (chunked)

	body []byte // chunked decoding buffer, owned
}

// maxKeptBody caps the chunked buffer a Request keeps across Reset, so an
// idle connection does not pin one large body.
const maxKeptBody = 64 << 10

// Reset clears req for the next request, keeping its buffers (but a
// chunked-body buffer over 64 KiB).
func (req *Request) Reset() {
	clear(req.Headers)
	body := req.body[:0]
	if cap(body) > maxKeptBody {
		body = nil
	}
	*req = Request{Headers: req.Headers[:0], body: body}
}

// ReadRequest reads one whole request: ReadHead then ReadBody. Use the two
// steps instead when an Expect: 100-continue must be answered in between.
// The error is an *Error for a request the client gets an answer to, or
// the reader's error (timeout, EOF, closed connection).
func ReadRequest(r Reader, req *Request, lim Limits) error {
	if err := ReadHead(r, req, lim); err != nil {
		return err
	}
	return ReadBody(r, req, lim)
}

// fail skips what is buffered after an error, so that a caller looping
// while r.Len() > 0 stops even if it does not close, and returns err.
func fail(r Reader, err error) error {
	_ = r.Skip(r.Len())
	return err
}

// eof maps a reader failure that leaves a request incomplete.
func eof(err error) error {
	if err == nil {
		return io.ErrUnexpectedEOF
	}
	return err
}
