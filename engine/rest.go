package engine

import (
	"errors"
	"strconv"
	"strings"

	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/rpc"
	"github.com/straitgw/strait/transcode"
)

// reject is a REST request answered by the gateway itself.
type reject struct {
	status int
	code   rpc.Code // in the JSON body
	msg    string
	allow  string // for 405
}

func (r *reject) rpcStatus() rpc.Status { return rpc.New(r.code, r.msg) }

func (r *reject) fields() []h2.Field {
	if r.allow == "" {
		return nil
	}
	return []h2.Field{{Name: "allow", Value: r.allow}}
}

// prepareREST routes req and appends its upstream message, behind a
// patched 5-byte gRPC prefix, to req.msg[:0]. m is the caller's reusable
// match; it holds views of req's path until the next match.
func (s *snapshot) prepareREST(m *transcode.Match, req *request) ([]byte, *reject) {
	msg := req.msg
	method := req.method
	if method == "HEAD" {
		method = "GET" // a GET route serves HEAD: same headers, no body (h1Conn, h2Response)
	}
	if err := s.router.Match(method, req.path, m); err != nil {
		var he *transcode.HTTPError
		if errors.As(err, &he) {
			return msg, &reject{status: he.Status, code: localCode(he.Status), msg: he.Msg, allow: he.Allow}
		}
		return msg, &reject{status: 400, code: rpc.CodeInvalidArgument, msg: err.Error()}
	}
	ctype := bstr(req.ctype)
	if !jsonOK(m.Route, ctype, len(req.body)) {
		return msg, &reject{status: 415, code: rpc.CodeInvalidArgument,
			msg: "unsupported content type " + quoteCT(ctype) + "; send application/json"}
	}
	m.ContentType = req.ctype
	msg, err := m.AppendRequest(append(msg[:0], 0, 0, 0, 0, 0), req.query, req.body)
	if err != nil {
		return msg, &reject{status: 400, code: rpc.CodeInvalidArgument, msg: clientMessage(err)}
	}
	putPrefix(msg, len(msg)-5)
	return msg, nil
}

// jsonOK accepts JSON bodies, or any body for google.api.HttpBody requests.
// A request without a body needs no content type.
func jsonOK(rt *transcode.Route, ctype string, bodyLen int) bool {
	if bodyLen == 0 && ctype == "" || rt.HTTPBodyRequest {
		return true
	}
	mt, _, _ := strings.Cut(ctype, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "" && bodyLen == 0
}

// clientMessage words a request error for the API user, without the
// package prefixes of Go errors.
func clientMessage(err error) string {
	var te *transcode.Error
	if errors.As(err, &te) {
		if te.Offset >= 0 {
			return "invalid JSON body at offset " + strconv.Itoa(te.Offset) + ": " + te.Msg
		}
		return "invalid request: " + te.Msg
	}
	var he *transcode.HTTPError
	if errors.As(err, &he) {
		return he.Msg
	}
	return err.Error()
}

// localCode is the gRPC code of an HTTP error the gateway answers itself.
func localCode(status int) rpc.Code {
	switch status {
	case 400, 411, 413, 414, 415, 431, 505:
		return rpc.CodeInvalidArgument
	case 404, 405, 501:
		return rpc.CodeUnimplemented
	case 408:
		return rpc.CodeDeadlineExceeded
	}
	return rpc.CodeOfHTTP(status)
}

// replyJSON answers a REST request from the gateway: the contract's JSON
// error body, with grpc-status and grpc-message as for upstream errors.
func (e *Engine) replyJSON(s *snapshot, down downstream, status int, st rpc.Status, hdrs []h2.Field) {
	e.metrics.localReplies.Add(1)
	body := appendErrorBody(s, st)
	hdrs = appendStatusFields(hdrs, st)
	down.head(status, ctypeJSON, hdrs, len(body), false)
	down.data(body, true)
}

// appendErrorBody renders the contract's JSON error body.
func appendErrorBody(s *snapshot, st rpc.Status) []byte {
	return transcode.AppendStatusJSON(nil, st, s.schema)
}

// options answers OPTIONS on a path: 204 with Allow listing what its
// routes accept (HEAD wherever GET is, and OPTIONS), or 404.
func (s *snapshot) options(e *Engine, down downstream, req *request, m *transcode.Match) {
	err := s.router.Match("OPTIONS", req.path, m)
	var he *transcode.HTTPError
	if !errors.As(err, &he) || he.Status != 405 {
		if err == nil { // a route for OPTIONS itself: none is made today
			he = &transcode.HTTPError{Allow: "OPTIONS"}
		} else {
			e.replyJSON(s, down, 404, rpc.New(rpc.CodeUnimplemented, "no route for "+quoteCT(bstr(req.path))), nil)
			return
		}
	}
	allow := he.Allow
	if hasToken(allow, "GET") && !hasToken(allow, "HEAD") {
		allow += ", HEAD"
	}
	if !hasToken(allow, "OPTIONS") {
		allow += ", OPTIONS"
	}
	e.metrics.localReplies.Add(1)
	down.head(204, "", []h2.Field{{Name: "allow", Value: allow}}, 0, true)
}
