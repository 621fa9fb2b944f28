package engine

import (
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/straitgw/strait/engine/http1"
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

// appendH1Head writes an HTTP/1.1 response head with response metadata.
func appendH1Head(dst []byte, status int, ctype string, contentLength int, keepAlive bool, hdrs []h2.Field) []byte {
	dst = http1.OpenHead(http1.AppendResponseHead(dst, status, ctype, contentLength, keepAlive, nil))
	dst = append(dst, "\r\nServer: strait"...)
	for _, f := range hdrs {
		dst = http1.AppendField(dst, f.Name, f.Value)
	}
	return http1.EndHead(dst)
}
