package engine

import (
	"math"
	"strconv"
	"time"
	"unsafe"

	"github.com/straitgw/strait/h2"
)

// hopByHop lists request headers that describe one HTTP hop or that the
// gateway sets itself; they never travel upstream as metadata.
var hopByHop = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-connection": true,
	"transfer-encoding": true, "upgrade": true, "te": true, "host": true,
	"content-length": true, "content-type": true, "accept-encoding": true,
	"expect": true, "http2-settings": true, "grpc-timeout": true,
	"grpc-encoding": true, "grpc-accept-encoding": true, "accept": true,
}

// responseSkip lists upstream response headers not copied to REST clients.
var responseSkip = map[string]bool{
	"content-type": true, "content-length": true, "grpc-encoding": true,
	"grpc-accept-encoding": true, "grpc-status-details-bin": true,
	"trailer": true, "te": true, "connection": true, "transfer-encoding": true,
}

// bstr views b as a string without copying. The string must not outlive b:
// header views die at the reader's Release, so use it only for values that
// are consumed (HPACK-encoded) before that.
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

// appendMetadata adds a client header as gRPC metadata when it may travel.
// name must be lower-case; HTTP/1.1 names are lowered into scratch first.
func appendMetadata(fs []h2.Field, name, value string) []h2.Field {
	if name == "" || name[0] == ':' || hopByHop[name] {
		return fs
	}
	return append(fs, h2.Field{Name: name, Value: value})
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

// appendGRPCTimeout encodes d in the largest exact unit that fits 8 digits.
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
				v++ // round up so the upstream never gets more time than us
			}
			dst = strconv.AppendInt(dst, v, 10)
			return append(dst, u.c)
		}
	}
	return append(dst, "99999999H"...)
}
