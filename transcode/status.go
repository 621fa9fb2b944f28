package transcode

import (
	"encoding/base64"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// httpStatuses maps gRPC codes to HTTP statuses the way google.rpc.Code
// documents them (and Envoy, grpc-gateway and vanguard agree).
var httpStatuses = [...]int{
	0:  200, // OK
	1:  499, // CANCELLED
	2:  500, // UNKNOWN
	3:  400, // INVALID_ARGUMENT
	4:  504, // DEADLINE_EXCEEDED
	5:  404, // NOT_FOUND
	6:  409, // ALREADY_EXISTS
	7:  403, // PERMISSION_DENIED
	8:  429, // RESOURCE_EXHAUSTED
	9:  400, // FAILED_PRECONDITION
	10: 409, // ABORTED
	11: 400, // OUT_OF_RANGE
	12: 501, // UNIMPLEMENTED
	13: 500, // INTERNAL
	14: 503, // UNAVAILABLE
	15: 500, // DATA_LOSS
	16: 401, // UNAUTHENTICATED
}

// HTTPStatus returns the HTTP status for a gRPC status code; codes outside
// the known range are 500.
func HTTPStatus(grpcCode uint32) int {
	if grpcCode < uint32(len(httpStatuses)) {
		return httpStatuses[grpcCode]
	}
	return 500
}

// AppendStatusJSON appends {"code":N,"message":"...","details":[...]}.
// detailsBin is the grpc-status-details-bin value (a serialized
// google.rpc.Status, already base64-decoded); its Any details are rendered
// through s when s has google.protobuf.Any and the detail's type, else as
// {"@type":..., "value": base64}. s may be nil.
func AppendStatusJSON(dst []byte, code uint32, msg string, detailsBin []byte, s *Schema) []byte {
	dst = append(dst, `{"code":`...)
	dst = strconv.AppendUint(dst, uint64(code), 10)
	dst = append(dst, `,"message":`...)
	dst = appendStatusString(dst, msg)
	dst = append(dst, `,"details":[`...)
	first := true
	for _, anyWire := range statusDetails(detailsBin) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendStatusDetail(dst, anyWire, s)
	}
	return append(dst, "]}"...)
}

// statusDetails returns the details (field 3, google.protobuf.Any) of a
// serialized google.rpc.Status; a malformed message yields what parsed.
func statusDetails(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return out
		}
		b = b[n:]
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return out
		}
		if num == 3 && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(b)
			out = append(out, v)
		}
		b = b[m:]
	}
	return out
}

// appendStatusDetail renders one Any through the schema, falling back to
// the raw form when the type is not loaded.
func appendStatusDetail(dst, anyWire []byte, s *Schema) []byte {
	if s != nil {
		if p := s.Plan("google.protobuf.Any"); p != nil {
			if out, err := p.AppendJSON(dst, anyWire); err == nil {
				return out
			}
		}
	}
	var url, value []byte
	for b := anyWire; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			break
		}
		b = b[n:]
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			break
		}
		if typ == protowire.BytesType && (num == 1 || num == 2) {
			v, _ := protowire.ConsumeBytes(b)
			if num == 1 {
				url = v
			} else {
				value = v
			}
		}
		b = b[m:]
	}
	dst = append(dst, `{"@type":`...)
	dst = appendStatusString(dst, string(url))
	dst = append(dst, `,"value":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, value)
	return append(dst, `"}`...)
}

// appendStatusString appends s as a JSON string; invalid UTF-8 becomes
// U+FFFD, as protojson would never emit it.
func appendStatusString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, `\n`...)
		case c == '\t':
			dst = append(dst, `\t`...)
		case c == '\r':
			dst = append(dst, `\r`...)
		case c < 0x20 || c == 0x7f:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		default:
			dst = append(dst, c)
		}
		i++
	}
	return append(dst, '"')
}

// DecodeGRPCMessage decodes a grpc-message header value, which gRPC
// percent-encodes (PROTOCOL-HTTP2.md, "Responses"). A malformed escape is
// kept as it is, as the spec asks of receivers.
func DecodeGRPCMessage(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && pctUnhex(s[i+1]) >= 0 && pctUnhex(s[i+2]) >= 0 {
			b = append(b, byte(pctUnhex(s[i+1])<<4|pctUnhex(s[i+2])))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

// EncodeGRPCMessage percent-encodes a status message for the grpc-message
// header: bytes outside printable ASCII, and '%'.
func EncodeGRPCMessage(s string) string {
	need := false
	for i := 0; i < len(s) && !need; i++ {
		need = grpcMessageEscaped(s[i])
	}
	if !need {
		return s
	}
	const hexDigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+16)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if grpcMessageEscaped(c) {
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

func grpcMessageEscaped(c byte) bool { return c < 0x20 || c > 0x7e || c == '%' }
