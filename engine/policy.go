package engine

import (
	"encoding/hex"
	"math/rand/v2"
	"strings"

	"github.com/straitgw/strait/h2"
)

// The header policy (`headers:` in the configuration): which request
// headers travel upstream as metadata and which response metadata comes
// back as headers. Fixed rules first: hop-by-hop headers (Connection and
// what it names, Keep-Alive, Proxy-*, Upgrade, TE, Transfer-Encoding,
// RFC 9110 §7.6.1) never travel; a request header Grpc-Metadata-Foo
// travels as foo (grpc-gateway's convention); X-Forwarded-For gets the
// client's address appended, X-Forwarded-Proto and -Host are set, and a
// request without X-Request-Id gets one, which the response carries back.
// Then the allow and deny lists.

// metadataPrefix is grpc-gateway's prefix for metadata in HTTP headers.
const metadataPrefix = "grpc-metadata-"

// headerPolicy is HeaderConfig, compiled.
type headerPolicy struct {
	reqAllow, reqDeny   nameSet
	respAllow, respDeny nameSet
	respPrefix          string // lower-case; "" keeps response names as they are
	requestID           string // the request id header, lower-case
	cors                bool   // the gateway answers CORS: the upstream's CORS headers do not pass
}

func compileHeaders(c HeaderConfig, cors bool) *headerPolicy {
	return &headerPolicy{
		reqAllow: newNameSet(c.RequestAllow), reqDeny: newNameSet(c.RequestDeny),
		respAllow: newNameSet(c.ResponseAllow), respDeny: newNameSet(c.ResponseDeny),
		respPrefix: strings.ToLower(c.ResponsePrefix), requestID: strings.ToLower(c.RequestID),
		cors: cors,
	}
}

// nameSet matches lower-case header names exactly or, for entries ending
// in '*', by prefix.
type nameSet struct {
	exact    map[string]bool
	prefixes []string
}

func newNameSet(names []string) nameSet {
	s := nameSet{exact: map[string]bool{}}
	for _, n := range names {
		n = strings.ToLower(n)
		if p, ok := strings.CutSuffix(n, "*"); ok {
			s.prefixes = append(s.prefixes, p)
		} else {
			s.exact[n] = true
		}
	}
	return s
}

func (s *nameSet) empty() bool { return len(s.exact) == 0 && len(s.prefixes) == 0 }

func (s *nameSet) has(name string) bool {
	if s.exact[name] {
		return true
	}
	for _, p := range s.prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// requestOK applies the lists to a request header about to travel.
func (p *headerPolicy) requestOK(name string) bool {
	return (p.reqAllow.empty() || p.reqAllow.has(name)) && !p.reqDeny.has(name)
}

// responseOK applies the lists to response metadata. The headers the
// gateway sets itself on every response (the request id, and the CORS
// headers when it answers CORS) never also come from the upstream: a
// backend echoing x-request-id would otherwise send it twice, and a
// browser refuses two Access-Control-Allow-Origin. (Vary is a list: the
// upstream's passes beside the gateway's.)
func (p *headerPolicy) responseOK(name string) bool {
	if name == p.requestID || p.cors && strings.HasPrefix(name, "access-control-") {
		return false
	}
	return (p.respAllow.empty() || p.respAllow.has(name)) && !p.respDeny.has(name)
}

// hopByHop reports the headers that describe one connection (RFC 9110
// §7.6.1), besides those a Connection header names.
func hopByHop(name string) bool {
	switch name {
	case "connection", "keep-alive", "upgrade", "te", "transfer-encoding", "http2-settings":
		return true
	}
	return strings.HasPrefix(name, "proxy-")
}

// connectionHeader returns the request's Connection header ("" when
// none: h2 forbids it, most HTTP/1.1 requests lack one).
func connectionHeader(meta []h2.Field) string {
	for _, f := range meta {
		if f.Name == "connection" {
			return f.Value
		}
	}
	return ""
}

// newRequestID makes a request id: 128 random bits in hex.
func newRequestID() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := rand.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return hex.EncodeToString(b[:])
}

// requestIDOf returns the request's id: the client's (copied: the
// response carries it back after the request's views die), else a new one.
func (p *headerPolicy) requestIDOf(req *request) string {
	if p.requestID == "" {
		return ""
	}
	for _, f := range req.meta {
		if f.Name == p.requestID && f.Value != "" {
			return strings.Clone(f.Value)
		}
	}
	return newRequestID()
}

// forwarded appends X-Forwarded-For (the client's address after what the
// client sent), X-Forwarded-Proto and X-Forwarded-Host to fs, and the
// request id.
func (p *headerPolicy) forwarded(fs []h2.Field, req *request) []h2.Field {
	var xff string
	for _, f := range req.meta {
		if f.Name == "x-forwarded-for" {
			if xff == "" {
				xff = f.Value
			} else {
				xff += ", " + f.Value
			}
		}
	}
	switch {
	case req.clientIP == "":
	case xff == "":
		xff = req.clientIP
	default:
		xff += ", " + req.clientIP
	}
	if xff != "" {
		fs = append(fs, h2.Field{Name: "x-forwarded-for", Value: xff})
	}
	fs = append(fs, h2.Field{Name: "x-forwarded-proto", Value: req.scheme})
	if req.authority != "" {
		fs = append(fs, h2.Field{Name: "x-forwarded-host", Value: req.authority})
	}
	if req.requestID != "" {
		fs = append(fs, h2.Field{Name: p.requestID, Value: req.requestID})
	}
	return fs
}

// gatewaySet lists the headers forwarded sets itself: the client's own
// copies do not travel as they are.
func (p *headerPolicy) gatewaySet(name string) bool {
	switch name {
	case "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host":
		return true
	}
	return name == p.requestID
}

// responseExtra lists the fields every response to req carries besides
// the upstream's: the request id (and the CORS headers, cors.go).
func (s *snapshot) responseExtra(req *request) []h2.Field {
	var fs []h2.Field
	if req.requestID != "" {
		fs = append(fs, h2.Field{Name: s.headers.requestID, Value: req.requestID})
	}
	return fs
}

// appendResponse adds upstream metadata to a REST response's headers,
// under the response prefix, when the lists let it through. h2-decoded
// strings are owned: kept as they are.
func (p *headerPolicy) appendResponse(fs []h2.Field, f h2.Field) []h2.Field {
	if !p.responseOK(f.Name) {
		return fs
	}
	if p.respPrefix != "" {
		f.Name = p.respPrefix + f.Name
	}
	return append(fs, f)
}

// isStatusField reports the fields that carry a gRPC status: the lists
// never hold them back.
func isStatusField(name string) bool {
	switch name {
	case "grpc-status", "grpc-message", "grpc-status-details-bin", "content-type",
		"grpc-encoding", "grpc-accept-encoding":
		return true
	}
	return false
}
