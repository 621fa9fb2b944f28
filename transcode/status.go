package transcode

import (
	"encoding/base64"
	"strconv"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/straitgw/strait/rpc"
)

// AppendStatusJSON appends {"code":N,"message":"...","details":[...]}.
// st.Details is the grpc-status-details-bin value (a serialized
// google.rpc.Status, already base64-decoded); its Any details are rendered
// through s when s has google.protobuf.Any and the detail's type, else as
// {"@type":..., "value": base64}. s may be nil.
func AppendStatusJSON(dst []byte, st rpc.Status, s *Schema) []byte {
	detailsBin := st.Details
	dst = append(dst, `{"code":`...)
	dst = strconv.AppendUint(dst, uint64(st.Code), 10)
	dst = append(dst, `,"message":`...)
	dst = appendStatusString(dst, st.Message)
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
