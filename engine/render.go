package engine

import (
	"encoding/base64"
	"strconv"

	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/transcode"
)

const (
	ctypeJSON   = "application/json"
	ctypeNDJSON = "application/x-ndjson"
)

// onMessage renders one response message. It runs under c.mu.
func (c *call) onMessage(m grpcMsg) bool {
	if m.flags&1 != 0 {
		c.failLocked(13, "upstream sent a compressed message; strait asks for identity encoding")
		return false
	}
	c.nmsg++
	if c.kind == callGRPCWeb {
		c.webMessage(m)
		return true
	}
	if !c.route.ServerStreaming {
		if c.nmsg > 1 {
			c.failLocked(13, "upstream sent more than one message for a unary method")
			return false
		}
		var err error
		c.out1, err = c.render(c.out1[:0], m.data)
		if err != nil {
			c.failLocked(13, "upstream response: "+err.Error())
			return false
		}
		return true
	}
	var err error
	c.scratch, err = c.render(c.scratch[:0], m.data)
	if err != nil {
		c.failLocked(13, "upstream response: "+err.Error())
		return false
	}
	if !c.route.HTTPBodyResponse {
		c.scratch = append(c.scratch, '\n')
	}
	if !c.started {
		c.started = true
		c.out.head(200, c.contentType(), c.hdrs, -1)
	}
	c.out.body(c.scratch, false)
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

// failLocked ends the call with a gateway-made status. The client's answer
// goes first: resetting upstream may call back into this call (queued).
func (c *call) failLocked(code uint32, msg string) {
	if c.done {
		return
	}
	c.trail = trailers{code: code, seen: true, message: msg}
	c.finishLocked()
	if c.up != nil {
		c.up.Reset(h2.ErrCodeCancel)
	}
}

// finishLocked writes the end of the response exactly once, then gives
// the call's buffers back: nothing writes to the client after this.
func (c *call) finishLocked() {
	if c.done {
		return
	}
	c.done = true
	c.stopTimer()
	if !c.trail.seen {
		c.trail.code, c.trail.message = missingStatus(c.status)
	}
	c.e.metrics.countStatus(c.trail.code)
	if c.kind == callGRPCWeb {
		c.webFinish()
	} else {
		c.restFinish()
	}
	c.putBufs()
}

func (c *call) restFinish() {
	t := &c.trail
	if t.code == 0 && !c.route.ServerStreaming && c.nmsg == 0 {
		t.code, t.message = 13, "upstream sent no response message"
	}
	if c.started {
		if t.code != 0 {
			c.scratch = append(c.scratch[:0], `{"error":`...)
			c.scratch = transcode.AppendStatusJSON(c.scratch, t.code, t.message, t.details, c.snap.schema)
			c.scratch = append(c.scratch, "}\n"...)
			c.out.body(c.scratch, true)
			return
		}
		c.out.body(nil, true)
		return
	}
	hdrs := append(c.hdrs, t.meta...)
	hdrs = append(hdrs, h2.Field{Name: "grpc-status", Value: strconv.Itoa(int(t.code))})
	if t.code != 0 {
		if t.message != "" {
			hdrs = append(hdrs, h2.Field{Name: "grpc-message", Value: transcode.EncodeGRPCMessage(t.message)})
		}
		c.out1 = transcode.AppendStatusJSON(c.out1[:0], t.code, t.message, t.details, c.snap.schema)
		c.out.head(transcode.HTTPStatus(t.code), ctypeJSON, hdrs, len(c.out1))
		c.out.body(c.out1, true)
		return
	}
	c.out.head(200, c.contentType(), hdrs, len(c.out1))
	c.out.body(c.out1, true)
}

// missingStatus maps a response without grpc-status to a gRPC code, from
// the HTTP status the upstream (or a proxy before it) answered with.
func missingStatus(status string) (uint32, string) {
	switch status {
	case "400":
		return 13, "upstream answered HTTP 400 without grpc-status"
	case "401":
		return 16, "upstream answered HTTP 401"
	case "403":
		return 7, "upstream answered HTTP 403"
	case "404":
		return 12, "upstream answered HTTP 404"
	case "429", "502", "503", "504":
		return 14, "upstream answered HTTP " + status
	case "", "200":
		return 2, "upstream response had no grpc-status"
	}
	return 2, "upstream answered HTTP " + status
}

// decodeBin decodes a -bin metadata value (unpadded or padded base64).
func decodeBin(v string) []byte {
	if b, err := base64.RawStdEncoding.DecodeString(trimPad(v)); err == nil {
		return b
	}
	return nil
}

func trimPad(s string) string {
	for len(s) > 0 && s[len(s)-1] == '=' {
		s = s[:len(s)-1]
	}
	return s
}
