package engine

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/straitgw/strait/h2"
)

// dropped lists request headers that never travel upstream as metadata:
// hop-by-hop ones (RFC 9110 §7.6.1) and those the gateway sets itself
// (framing, content type, deadline, client certificate). grpc-encoding and
// grpc-accept-encoding are dropped for REST only (see metadataOK).
var dropped = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-connection": true,
	"transfer-encoding": true, "upgrade": true, "te": true, "host": true,
	"content-length": true, "content-type": true, "expect": true,
	"http2-settings": true, "grpc-timeout": true,
	"x-forwarded-client-cert": true, // only the gateway's (mTLS) travels: listen_tls.go
}

// restDropped lists what REST clients send that means nothing upstream:
// the body is transcoded, so its encodings and media types are the
// gateway's business.
var restDropped = map[string]bool{
	"accept-encoding": true, "accept": true,
	"grpc-encoding": true, "grpc-accept-encoding": true,
}

// metadataOK reports whether a request header (lower-case name) travels
// upstream as metadata.
func metadataOK(k kind, name string) bool {
	if name == "" || name[0] == ':' || dropped[name] {
		return false
	}
	return k != kindREST || !restDropped[name]
}

// responseSkip lists upstream response headers that REST clients do not
// get as headers: framing and gRPC's own fields (the status is rendered).
var responseSkip = map[string]bool{
	"content-type": true, "content-length": true, "grpc-encoding": true,
	"grpc-accept-encoding": true, "grpc-status": true, "grpc-message": true,
	"grpc-status-details-bin": true, "trailer": true, "te": true,
	"connection": true, "transfer-encoding": true, "keep-alive": true,
}

// relaySkip lists upstream response fields a relayed gRPC or gRPC-Web
// response does not carry on: hop-by-hop ones, and content-length, which
// describes the upstream's body, not the one the client gets.
var relaySkip = map[string]bool{
	"content-length": true, "connection": true, "transfer-encoding": true,
	"keep-alive": true, "trailer": true, "te": true,
}

// hasToken reports whether a comma-separated header value lists tok
// (case-insensitive; parameters ignored).
func hasToken(v, tok string) bool {
	for v != "" {
		var el string
		el, v, _ = strings.Cut(v, ",")
		el, _, _ = strings.Cut(el, ";")
		if strings.EqualFold(strings.TrimSpace(el), tok) {
			return true
		}
	}
	return false
}

// bstr views b as a string without copying. The view must die before the
// buffer under b is released or reused: use it only for values consumed
// within the call that made it (compared, parsed, HPACK-encoded, copied).
// h2's encoder copies what its table keeps (h2/encoder.go).
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// lowerASCII reports whether s has no upper-case ASCII letters.
func lowerASCII(s []byte) bool {
	for _, c := range s {
		if 'A' <= c && c <= 'Z' {
			return false
		}
	}
	return true
}

// parseGRPCTimeout decodes the grpc-timeout header ("100m", "5S").
func parseGRPCTimeout(v string) (time.Duration, bool) {
	if len(v) < 2 || len(v) > 9 {
		return 0, false
	}
	n, err := strconv.ParseInt(v[:len(v)-1], 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	var unit time.Duration
	switch v[len(v)-1] {
	case 'H':
		unit = time.Hour
	case 'M':
		unit = time.Minute
	case 'S':
		unit = time.Second
	case 'm':
		unit = time.Millisecond
	case 'u':
		unit = time.Microsecond
	case 'n':
		unit = time.Nanosecond
	default:
		return 0, false
	}
	if n > math.MaxInt64/int64(unit) {
		return math.MaxInt64, true // hours beyond Duration's range: as good as none
	}
	return time.Duration(n) * unit, true
}

// appendGRPCTimeout encodes d in the smallest unit whose value fits 8
// digits, rounding up as grpc-go does: the upstream may get up to one unit
// more than the gateway waits, so the gateway's own timer ends the call.
func appendGRPCTimeout(dst []byte, d time.Duration) []byte {
	if d <= 0 {
		d = time.Nanosecond
	}
	units := [...]struct {
		d time.Duration
		c byte
	}{{time.Nanosecond, 'n'}, {time.Microsecond, 'u'}, {time.Millisecond, 'm'}, {time.Second, 'S'}, {time.Minute, 'M'}, {time.Hour, 'H'}}
	for _, u := range units {
		if v := int64(d / u.d); v < 1e8 {
			if d%u.d != 0 {
				v++
			}
			dst = strconv.AppendInt(dst, v, 10)
			return append(dst, u.c)
		}
	}
	return append(dst, "99999999H"...)
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

// deadline is the upstream deadline for a request: the client's
// grpc-timeout if it sent one, else the configured default (0: none).
func (s *snapshot) deadline(grpcTimeout string) time.Duration {
	if d, ok := parseGRPCTimeout(grpcTimeout); ok {
		if d > 100*365*24*time.Hour {
			return 0 // no deadline in practice, and none to overflow
		}
		return d
	}
	return s.cfg.Timeouts.Upstream
}
