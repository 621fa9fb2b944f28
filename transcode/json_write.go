package transcode

import (
	"encoding/base64"
	"math"
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// appendQuoted appends s as a JSON string; for names, at compile time.
func appendQuoted(dst []byte, s string) []byte {
	dst, _ = appendJSONString(dst, []byte(s))
	return dst
}

// appendJSONString appends s quoted and escaped as protojson escapes
// strings; ok is false if s is not valid UTF-8.
func appendJSONString(dst, s []byte) ([]byte, bool) {
	dst = append(dst, '"')
	i := 0
	for i < len(s) {
		j := plainRun(s, i)
		for j < len(s) && !strClass[s[j]] {
			j++
		}
		dst = append(dst, s[i:j]...)
		if i = j; i >= len(s) {
			break
		}
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
			i++
		case c < 0x20:
			dst = appendControl(dst, c)
			i++
		default:
			n := runeLen(s, i)
			if n == 0 {
				return dst, false
			}
			dst = append(dst, s[i:i+n]...)
			i += n
		}
	}
	return append(dst, '"'), true
}

func appendControl(dst []byte, c byte) []byte {
	switch c {
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
}

// appendJSONFloat appends f as protojson does: NaN and infinities as
// strings, exponent form below 1e-6 and from 1e21, shortest digits.
func appendJSONFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' { // e-07 -> e-7
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

func appendJSONBytes(dst, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

// appendQuotedInt appends a 64-bit integer as a JSON string, as protojson.
func appendQuotedInt(dst []byte, v int64) []byte {
	return append(strconv.AppendInt(append(dst, '"'), v, 10), '"')
}

func appendQuotedUint(dst []byte, v uint64) []byte {
	return append(strconv.AppendUint(append(dst, '"'), v, 10), '"')
}

// runeLen returns the length of the valid UTF-8 sequence at s[i], or 0
// (overlong forms, surrogates and values past U+10FFFF are invalid, as in
// unicode/utf8).
func runeLen[S string | []byte](s S, i int) int {
	c := s[i]
	lo, hi, n := byte(0x80), byte(0xBF), 0
	switch {
	case c < 0x80:
		return 1
	case c >= 0xC2 && c <= 0xDF:
		n = 2
	case c == 0xE0:
		lo, n = 0xA0, 3
	case c == 0xED:
		hi, n = 0x9F, 3
	case c >= 0xE1 && c <= 0xEF:
		n = 3
	case c == 0xF0:
		lo, n = 0x90, 4
	case c == 0xF4:
		hi, n = 0x8F, 4
	case c >= 0xF1 && c <= 0xF3:
		n = 4
	default:
		return 0
	}
	if i+n > len(s) || s[i+1] < lo || s[i+1] > hi {
		return 0
	}
	for k := 2; k < n; k++ {
		if s[i+k] < 0x80 || s[i+k] > 0xBF {
			return 0
		}
	}
	return n
}

// validUTF8 reports whether b is valid UTF-8.
func validUTF8(b []byte) bool { return utf8.Valid(b) }
