package engine

import (
	"errors"
	"strconv"

	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/transcode"
)

// reject is a request answered by the gateway itself.
type reject struct {
	status int
	code   uint32 // gRPC code in the JSON body
	msg    string
	allow  string // for 405
}

func (r *reject) fields() []h2.Field {
	if r.allow == "" {
		return nil
	}
	return []h2.Field{{Name: "allow", Value: r.allow}}
}

// restRequest is what every REST front end (HTTP/1.1, h2, an embedding
// server) hands to prepareREST. Its slices need only live until it returns.
type restRequest struct {
	method            string
	path, query, body []byte
	ctype             []byte
}

// prepareREST routes req and appends its upstream message, behind a
// patched 5-byte gRPC prefix, to msg[:0]. m is the caller's reusable match.
func (s *snapshot) prepareREST(m *transcode.Match, req *restRequest, msg []byte) ([]byte, *reject) {
	if err := s.router.Match(req.method, req.path, m); err != nil {
		var he *transcode.HTTPError
		if errors.As(err, &he) {
			return msg, &reject{status: he.Status, code: httpToGRPC(he.Status), msg: he.Msg, allow: he.Allow}
		}
		return msg, &reject{status: 400, code: 3, msg: err.Error()}
	}
	ctype := bstr(req.ctype)
	if !jsonOK(m.Route, ctype, len(req.body)) {
		return msg, &reject{status: 415, code: 3, msg: "unsupported content type " + quoteCT(ctype) + "; send application/json"}
	}
	m.ContentType = req.ctype
	msg, err := m.AppendRequest(append(msg[:0], 0, 0, 0, 0, 0), req.query, req.body)
	if err != nil {
		return msg, &reject{status: 400, code: 3, msg: clientMessage(err)}
	}
	putPrefix(msg, len(msg)-5)
	return msg, nil
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
