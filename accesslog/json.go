package accesslog

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Entry is one request as the access log records it. Add copies the
// Entry into the queue, not what its strings point to: they must be
// immutable (constants, descriptors' names, or the caller's own copies).
type Entry struct {
	Time      time.Time // when the request's head was read
	Duration  time.Duration
	Protocol  string // "rest", "grpc", "grpc-web"
	Method    string // the HTTP method
	Path      string // without the query
	Service   string // the route's service, "" when nothing matched
	RPC       string // the route's method
	Status    int    // HTTP status
	GRPC      int    // gRPC status code; NoGRPCStatus when none was sent
	BytesIn   int64
	BytesOut  int64
	Upstream  string // the endpoint of the last attempt, "" if none
	Retries   int
	RequestID string
	TraceID   string // "" when the request was not traced
}

// NoGRPCStatus is Entry.GRPC for a response without a gRPC status (a
// CORS preflight, an OPTIONS answer): the line says "grpc_status":null.
const NoGRPCStatus = -1

// timeLayout is RFC 3339 with milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// AppendJSON appends e as one JSON object and a newline. Every key is
// always there but trace_id, which is left out when empty. Strings are
// escaped as encoding/json does (invalid UTF-8 becomes U+FFFD), so the
// line parses whatever the path holds.
func AppendJSON(dst []byte, e *Entry) []byte {
	dst = append(dst, `{"time":"`...)
	dst = e.Time.UTC().AppendFormat(dst, timeLayout)
	dst = append(dst, `","protocol":`...)
	dst = appendString(dst, e.Protocol)
	dst = append(dst, `,"method":`...)
	dst = appendString(dst, e.Method)
	dst = append(dst, `,"path":`...)
	dst = appendString(dst, e.Path)
	dst = append(dst, `,"route":"`...)
	if e.Service != "" {
		dst = appendEscaped(dst, e.Service)
		dst = append(dst, '/')
		dst = appendEscaped(dst, e.RPC)
	}
	dst = append(dst, `","status":`...)
	dst = strconv.AppendInt(dst, int64(e.Status), 10)
	dst = append(dst, `,"grpc_status":`...)
	if e.GRPC < 0 {
		dst = append(dst, "null"...)
	} else {
		dst = strconv.AppendInt(dst, int64(e.GRPC), 10)
	}
	dst = append(dst, `,"duration_ms":`...)
	dst = strconv.AppendFloat(dst, float64(e.Duration)/float64(time.Millisecond), 'f', 3, 64)
	dst = append(dst, `,"bytes_in":`...)
	dst = strconv.AppendInt(dst, e.BytesIn, 10)
	dst = append(dst, `,"bytes_out":`...)
	dst = strconv.AppendInt(dst, e.BytesOut, 10)
	dst = append(dst, `,"upstream":`...)
	dst = appendString(dst, e.Upstream)
	dst = append(dst, `,"retries":`...)
	dst = strconv.AppendInt(dst, int64(e.Retries), 10)
	dst = append(dst, `,"request_id":`...)
	dst = appendString(dst, e.RequestID)
	if e.TraceID != "" {
		dst = append(dst, `,"trace_id":`...)
		dst = appendString(dst, e.TraceID)
	}
	return append(dst, "}\n"...)
}

func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendEscaped(dst, s)
	return append(dst, '"')
}

const hex = "0123456789abcdef"

// appendEscaped appends s as the inside of a JSON string. Runs of bytes
// that need no escape are appended at once: a path seldom has any.
func appendEscaped(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			dst = appendControl(dst, c)
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			if r == utf8.RuneError {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, `\u202`...)
				dst = append(dst, hex[r&0xf])
			}
			start = i + n
		}
		i += n
	}
	return append(dst, s[start:]...)
}

// appendControl escapes an ASCII byte JSON does not allow raw in a string.
func appendControl(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
}
