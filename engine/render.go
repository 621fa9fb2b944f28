package engine

import (
	"strconv"

	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/rpc"
	"github.com/straitgw/strait/transcode"
)

const (
	ctypeJSON   = "application/json"
	ctypeNDJSON = "application/x-ndjson"
)

// onMessage renders one response message, under c.mu.
func (c *call) onMessage(m grpcMsg) bool {
	if m.flags&1 != 0 {
		c.fail(rpc.New(rpc.CodeInternal, "upstream sent a compressed message; strait asks for identity encoding"))
		return false
	}
	c.nmsg++
	if !c.route.ServerStreaming {
		if c.nmsg > 1 {
			c.fail(rpc.New(rpc.CodeInternal, "upstream sent more than one message for a unary method"))
			return false
		}
		var err error
		if c.out1, err = c.render(c.out1[:0], m.data); err != nil {
			c.fail(rpc.New(rpc.CodeInternal, "upstream response: "+err.Error()))
			return false
		}
		return true
	}
	var err error
	if c.scratch, err = c.render(c.scratch[:0], m.data); err != nil {
		c.fail(rpc.New(rpc.CodeInternal, "upstream response: "+err.Error()))
		return false
	}
	if !c.route.HTTPBodyResponse {
		c.scratch = append(c.scratch, '\n')
	}
	if !c.started {
		c.started = true
		c.down.head(200, c.contentType(), c.hdrs, -1, false)
	}
	c.down.data(c.scratch, false)
	return true
}

// render appends one response message as the client sees it: JSON, or the
// raw bytes of a google.api.HttpBody (whose content type it remembers).
func (c *call) render(dst, wire []byte) ([]byte, error) {
	if !c.route.HTTPBodyResponse {
		return c.route.AppendResponse(dst, wire)
	}
	ct, data, err := c.route.HTTPBody(wire)
	if err != nil {
		return dst, err
	}
	if c.ctype == "" {
		c.ctype = string(ct)
	}
	return append(dst, data...), nil
}

// contentType is the response's type for a successful call.
func (c *call) contentType() string {
	switch {
	case c.route.HTTPBodyResponse && c.ctype != "":
		return c.ctype
	case c.route.HTTPBodyResponse:
		return "application/octet-stream"
	case c.route.ServerStreaming:
		return ctypeNDJSON
	}
	return ctypeJSON
}

// fail ends the call with a gateway-made status and resets the upstream
// stream.
func (c *call) fail(st rpc.Status) {
	if c.done {
		return
	}
	c.trail, c.seen = st, true
	c.finish()
	c.resetUp()
}

// finish writes the end of the response exactly once, then gives the
// call's buffers back: nothing writes to the client after this.
func (c *call) finish() {
	if c.done {
		return
	}
	c.done = true
	c.stopTimer()
	if !c.seen {
		c.trail = missingStatus(c.status)
	}
	t := &c.trail
	if t.OK() && !c.route.ServerStreaming && c.nmsg == 0 {
		*t = rpc.New(rpc.CodeInternal, "upstream sent no response message")
	}
	c.e.metrics.countStatus(t.Code)
	c.report(t.Code)
	c.filtersDone(*t)
	c.restFinish()
	c.putBufs()
	c.countReassembly()
}

func (c *call) restFinish() {
	t := c.trail
	if c.started {
		c.streamFinish(t)
		return
	}
	hdrs := append(c.hdrs, c.meta...)
	hdrs = appendStatusFields(hdrs, t)
	if !t.OK() {
		c.out1 = transcode.AppendStatusJSON(c.out1[:0], t, c.snap.schema)
		c.down.head(t.Code.HTTPStatus(), ctypeJSON, hdrs, len(c.out1), false)
		c.down.data(c.out1, true)
		return
	}
	c.down.head(200, c.contentType(), hdrs, len(c.out1), false)
	c.down.data(c.out1, true)
}

// streamFinish ends a server stream: an error is a last {"error":...}
// line; a client that sent TE: trailers then gets the upstream's trailers
// and the status as HTTP trailers.
func (c *call) streamFinish(t rpc.Status) {
	if !t.OK() {
		c.scratch = append(c.scratch[:0], `{"error":`...)
		c.scratch = transcode.AppendStatusJSON(c.scratch, t, c.snap.schema)
		c.scratch = append(c.scratch, "}\n"...)
		c.down.data(c.scratch, !c.teTrailers)
	} else if !c.teTrailers {
		c.down.data(nil, true)
	}
	if c.teTrailers {
		c.down.trailers(appendStatusFields(c.meta, t))
	}
}

// appendStatusFields adds grpc-status and, for an error, grpc-message.
func appendStatusFields(fs []h2.Field, st rpc.Status) []h2.Field {
	fs = append(fs, h2.Field{Name: "grpc-status", Value: st.Code.Value()})
	if !st.OK() && st.Message != "" {
		fs = append(fs, h2.Field{Name: "grpc-message", Value: rpc.EncodeMessage(st.Message)})
	}
	return fs
}

// missingStatus is the status of a response without grpc-status, read
// from the HTTP status the upstream (or a proxy before it) answered with.
func missingStatus(status string) rpc.Status {
	n, _ := strconv.Atoi(status)
	switch n {
	case 0, 200:
		return rpc.New(rpc.CodeUnknown, "upstream response had no grpc-status")
	case 400:
		return rpc.New(rpc.CodeInternal, "upstream answered HTTP 400 without grpc-status")
	}
	return rpc.New(rpc.CodeOfHTTP(n), "upstream answered HTTP "+status)
}
