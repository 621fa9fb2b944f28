package engine

import (
	"errors"

	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/rpc"
	"github.com/straitgw/strait/upstream"
)

// relay is a gRPC or gRPC-Web exchange: request and response pass through
// frame by frame without decoding messages. Flow control is coupled: each
// side's receive window is returned only once the other side has taken
// the bytes, so a slow reader on either side slows the writer on the
// other. It handles the events of both streams; s == r.in tells the
// client's. Everything below leg is guarded by leg.mu.
type relay struct {
	leg
	in      *h2.Stream      // the client's stream when its body streams (h2); nil on HTTP/1.1
	inBatch *upstream.Batch // the client connection's batch: its worker only
	web     bool            // gRPC-Web: trailers become the body's last frame
	text    bool            // grpc-web-text: base64 both ways
	ctype   string          // the client's content type, owned: gateway replies carry it
	dec     textDecoder
	sent    bool // response headers are out
	owedIn  int  // request bytes taken from in while the upstream lagged
	fields  []h2.Field
	buf     []byte
}

// OnHeaders: on the client's stream, request trailers (they end the
// body); on the upstream's, the response headers, then its trailers.
func (r *relay) OnHeaders(s *h2.Stream, fields []h2.Field, end bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s == r.in {
		r.requestTrailers(fields)
		return
	}
	r.corkDown(s)
	r.answer()
	switch {
	case r.done:
	case !r.sent && end:
		r.trailersOnly(fields)
	case !r.sent:
		r.responseHeaders(fields)
	default:
		r.responseTrailers(fields)
	}
}

// requestTrailers ends the request. One held for a later attempt, or
// sent again, ends with END_STREAM on its body: its trailers are not
// kept (gRPC clients send none).
func (r *relay) requestTrailers(fields []h2.Field) {
	if r.up == nil {
		if !r.done {
			r.holdBody(nil, true)
		}
		return
	}
	r.keepBody(nil, true)
	r.inBatch.Cork(r.up.Conn())
	if r.web { // gRPC-Web has no request trailers: they only end the body
		_ = r.up.WriteData(nil, true)
		return
	}
	_ = r.up.WriteHeaders(fields, true)
}

// responseFields copies the upstream fields a client gets, and reads the
// status and content type.
func (r *relay) responseFields(fields []h2.Field) (status int, ctype string, fs []h2.Field) {
	if r.fields == nil {
		r.fields = make([]h2.Field, 0, len(fields))
	}
	status, fs = 200, r.fields[:0]
	for _, f := range fields {
		switch {
		case f.Name == ":status":
			status = atoiStatus(f.Value)
		case f.Name == "content-type":
			ctype = f.Value
		case f.Name == "" || f.Name[0] == ':' || relaySkip[f.Name]:
		case f.Name == "grpc-message" && r.web:
			fs = append(fs, h2.Field{Name: f.Name, Value: rpc.Reencode(f.Value)})
		case isStatusField(f.Name) || r.snap.headers.responseOK(f.Name):
			fs = append(fs, f)
		}
	}
	r.fields = fs
	if r.web || ctype == "" {
		ctype = r.ctype
	}
	return status, ctype, fs
}

func (r *relay) responseHeaders(fields []h2.Field) {
	status, ctype, fs := r.responseFields(fields)
	r.sent = true
	r.down.head(status, ctype, fs, -1, false)
}

// trailersOnly relays a response that is one header block: headers and
// trailers together, no body. gRPC-Web allows the same (PROTOCOL-WEB.md).
func (r *relay) trailersOnly(fields []h2.Field) {
	if r.retryByPolicy(statusOf(fields), true) {
		return
	}
	status, ctype, fs := r.responseFields(fields)
	r.end(statusOf(fields))
	r.down.head(status, ctype, fs, 0, true)
}

func (r *relay) responseTrailers(fields []h2.Field) {
	r.end(statusOf(fields))
	_, _, fs := r.responseFields(fields)
	if !r.web {
		r.down.trailers(fs)
		return
	}
	r.buf = appendTrailerFrame(r.buf[:0], fs)
	r.down.data(r.encode(r.buf), true)
}

// encode returns p as the client reads it: base64 for grpc-web-text.
func (r *relay) encode(p []byte) []byte {
	if !r.text {
		return p
	}
	r.buf = appendText(r.buf[len(r.buf):], p)
	return r.buf
}

// OnData forwards body bytes to the other side.
func (r *relay) OnData(s *h2.Stream, p []byte, end bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s == r.in {
		r.requestData(s, p, end)
		return
	}
	r.corkDown(s)
	if !r.done {
		r.down.data(r.encode(p), end && !r.web)
		if end {
			r.endWithoutTrailers()
		}
	}
	r.credit(s, len(p))
}

// endWithoutTrailers ends a response whose body ended without trailers:
// native gRPC relays that as it is (the client sees no status); a
// gRPC-Web client gets the status a gRPC client would infer.
func (r *relay) endWithoutTrailers() {
	if !r.web {
		r.end(rpc.CodeInternal)
		return
	}
	r.fail(rpc.New(rpc.CodeInternal, "upstream response had no grpc-status"))
}

// requestData forwards request bytes, or holds them while no upstream
// stream is open (attempts.hold): the client's window for them comes
// back once they are sent (bodySent), so the client cannot outrun the
// upstream even then. Without a stream and not done, a leg always gets
// one: every way to lose it (a retry, a policy's backoff, a park) ends
// in an attempt or in giveUp.
func (r *relay) requestData(s *h2.Stream, p []byte, end bool) {
	r.down.obs().in += int64(len(p))
	if r.done {
		s.Consume(len(p))
		return
	}
	body := p
	if r.text {
		var err error
		if body, err = r.dec.decode(r.buf[:0], p, end); err != nil {
			s.Consume(len(p))
			r.fail(rpc.New(rpc.CodeInvalidArgument, err.Error()))
			return
		}
		r.buf = body
	}
	if r.up == nil {
		r.holdBody(body, end)
		r.owedIn += len(p)
		return
	}
	r.keepBody(body, end)
	r.inBatch.Cork(r.up.Conn())
	if err := r.up.WriteData(body, end); errors.Is(err, h2.ErrBufferFull) {
		// Only a client that ignores our window gets here.
		s.Reset(h2.ErrCodeFlowControl)
		r.fail(rpc.New(rpc.CodeInternal, "request flow control violated"))
		return
	}
	if r.up.Buffered() < relayHighWater {
		s.Consume(len(p))
	} else {
		r.owedIn += len(p)
	}
}

// OnDrain returns withheld window once the far side has taken the bytes.
func (r *relay) OnDrain(s *h2.Stream, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s == r.in {
		r.repay()
		return
	}
	// An attempt given up drains nothing the next one sends: what it owes
	// is held or kept for a resend, and comes back once that is sent.
	if s == r.up && r.owedIn > 0 && r.in != nil && s.Buffered() < relayHighWater {
		n := r.owedIn
		r.owedIn = 0
		r.in.Consume(n)
	}
}

func (r *relay) OnClose(s *h2.Stream, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s == r.in {
		if err != nil { // the client reset the stream or left
			r.abandon()
		}
		return
	}
	if s != r.up {
		return // an attempt the leg has already given up
	}
	r.upClosed()
	if err == nil || r.done || r.retry(err) {
		return
	}
	if st := streamStatus(err, r.deadline); !r.retryByPolicy(st.Code, !r.sent) {
		r.fail(st)
	}
}

// bodySent runs when an attempt's stream is open and the body held for it
// written: the client's window comes back for the bytes held.
func (r *relay) bodySent() {
	if r.owedIn > 0 && r.in != nil && r.up.Buffered() < relayHighWater {
		n := r.owedIn
		r.owedIn = 0
		r.in.Consume(n)
	}
}

// cancel: an HTTP/1.1 client went away.
func (r *relay) cancel() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.abandon()
}

func (r *relay) abandon() {
	r.leave()
	if !r.done {
		r.done = true
		r.stopTimer()
		r.down.obs().gone()
		r.filtersDone(rpc.New(rpc.CodeCanceled, "the client left"))
	}
	r.resetUp()
}

// expire ends the exchange with st, in the client's protocol.
func (r *relay) expire(st rpc.Status) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail(st)
}

// drained: an HTTP/1.1 client took queued bytes.
func (r *relay) drained() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.repay()
}

func (r *relay) onTimeout() {
	var b upstream.Batch
	r.mu.Lock()
	r.timerBatch(&b)
	if !r.done {
		r.fail(rpc.New(rpc.CodeDeadlineExceeded, "deadline exceeded"))
	}
	r.mu.Unlock()
	b.End()
}

// fail ends the client's response with a gateway-made status: as a
// trailers-only response if nothing was sent yet, else as trailers. The
// upstream stream, if any, is reset.
func (r *relay) fail(st rpc.Status) {
	if r.done {
		return
	}
	fs := appendStatusFields(r.fields[:0], st)
	r.fields = fs
	r.end(st.Code)
	switch {
	case !r.sent:
		r.sent = true
		r.down.head(200, r.ctype, fs, 0, true)
	case r.web:
		r.buf = appendTrailerFrame(r.buf[:0], fs)
		r.down.data(r.encode(r.buf), true)
	default:
		r.down.trailers(fs)
	}
	r.resetUp()
}

// end marks the response finished with code.
func (r *relay) end(code rpc.Code) {
	r.done = true
	r.stopTimer()
	r.report(code)
	r.filtersDone(rpc.New(code, ""))
}

// statusOf reads grpc-status from a header block; none is UNKNOWN.
func statusOf(fs []h2.Field) rpc.Code {
	for _, f := range fs {
		if f.Name == "grpc-status" {
			return rpc.ParseCode(f.Value)
		}
	}
	return rpc.CodeUnknown
}

// atoiStatus reads a :status value (validated by h2: three digits).
func atoiStatus(v string) int {
	n := 0
	for i := 0; i < len(v); i++ {
		n = n*10 + int(v[i]-'0')
	}
	return n
}
