package engine

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/transcode"
)

// requestFields starts the upstream HEADERS of a unary call made for a
// REST or gRPC-Web client.
func requestFields(fs []h2.Field, path, authority string) []h2.Field {
	return append(fs,
		h2.Field{Name: ":method", Value: "POST"},
		h2.Field{Name: ":scheme", Value: "http"},
		h2.Field{Name: ":path", Value: path},
		h2.Field{Name: ":authority", Value: authority},
		h2.Field{Name: "content-type", Value: "application/grpc"},
		h2.Field{Name: "te", Value: "trailers"},
	)
}

// timeoutCache holds encoded grpc-timeout values for the common defaults so
// the hot path does not format one per request.
var timeoutCache = map[time.Duration]string{}

func init() {
	for _, s := range []int{1, 2, 5, 10, 15, 20, 30, 60, 120, 300} {
		d := time.Duration(s) * time.Second
		timeoutCache[d] = string(appendGRPCTimeout(nil, d))
	}
}

func appendTimeout(fs []h2.Field, d time.Duration) []h2.Field {
	if d <= 0 {
		return fs
	}
	v, ok := timeoutCache[d]
	if !ok {
		v = string(appendGRPCTimeout(nil, d))
	}
	return append(fs, h2.Field{Name: "grpc-timeout", Value: v})
}

// isGRPC reports a native gRPC content type (not gRPC-Web).
func isGRPC(ctype string) bool {
	if !strings.HasPrefix(ctype, "application/grpc") {
		return false
	}
	rest := ctype[len("application/grpc"):]
	return rest == "" || rest[0] == '+' || rest[0] == ';'
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

func quoteCT(ctype string) string {
	if ctype == "" {
		return "(none)"
	}
	return strconv.Quote(ctype)
}

// serviceOf extracts "pkg.Service" from a gRPC path "/pkg.Service/Method".
func serviceOf(path string) (protoreflect.FullName, bool) {
	if len(path) < 4 || path[0] != '/' {
		return "", false
	}
	svc, method, ok := strings.Cut(path[1:], "/")
	if !ok || svc == "" || method == "" || strings.Contains(method, "/") {
		return "", false
	}
	return protoreflect.FullName(svc), true
}

// httpToGRPC picks the gRPC code for a locally generated HTTP error.
func httpToGRPC(status int) uint32 {
	switch status {
	case 400, 411, 413, 414, 415, 431, 505:
		return 3 // INVALID_ARGUMENT
	case 401:
		return 16
	case 403:
		return 7
	case 404:
		return 12 // UNIMPLEMENTED: no such method
	case 405, 501:
		return 12
	case 408, 504:
		return 4
	case 429:
		return 8
	case 502, 503:
		return 14
	}
	return 2
}

// appendErrorJSON renders the contract's error body.
func appendErrorJSON(dst []byte, code uint32, msg string, s *snapshot) []byte {
	return transcode.AppendStatusJSON(dst, code, msg, nil, s.schema)
}

// Response framings other than a Content-Length.
const (
	lengthChunked = -1 // Transfer-Encoding: chunked
	lengthClose   = -2 // the body ends when the connection closes (HTTP/1.0)
)

// appendH1Head writes an HTTP/1.1 response head with response metadata.
func appendH1Head(dst []byte, status int, ctype string, contentLength int, keepAlive, proto11 bool, hdrs []h2.Field) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = append(dst, statusText(status)...)
	dst = append(dst, "\r\nServer: strait\r\nContent-Type: "...)
	dst = append(dst, ctype...)
	switch {
	case contentLength >= 0:
		dst = append(dst, "\r\nContent-Length: "...)
		dst = strconv.AppendInt(dst, int64(contentLength), 10)
	case contentLength == lengthChunked:
		dst = append(dst, "\r\nTransfer-Encoding: chunked"...)
	}
	if !keepAlive {
		dst = append(dst, "\r\nConnection: close"...)
	} else if !proto11 {
		dst = append(dst, "\r\nConnection: keep-alive"...) // HTTP/1.0 closes by default
	}
	for _, f := range hdrs {
		if !validHeaderValue(f.Value) {
			continue
		}
		dst = append(dst, "\r\n"...)
		dst = append(dst, f.Name...)
		dst = append(dst, ": "...)
		dst = append(dst, f.Value...)
	}
	return append(dst, "\r\n\r\n"...)
}

// validHeaderValue keeps CR, LF and NUL from metadata out of HTTP/1.1 heads.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '\r' || c == '\n' || c == 0 {
			return false
		}
	}
	return true
}

func statusText(status int) string {
	if t := http.StatusText(status); t != "" {
		return t
	}
	if status == 499 {
		return "Client Closed Request"
	}
	return "Status"
}
