package rpc

// DecodeMessage decodes a grpc-message value, which gRPC percent-encodes
// (PROTOCOL-HTTP2.md, "Responses"). A malformed escape is kept as it is,
// as the spec asks of receivers.
func DecodeMessage(s string) string {
	if !needsDecode(s) {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if h, ok := unhex(s[i+1]); ok {
				if l, ok := unhex(s[i+2]); ok {
					b = append(b, h<<4|l)
					i += 2
					continue
				}
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}

func needsDecode(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			return true
		}
	}
	return false
}

// EncodeMessage percent-encodes a status message for grpc-message: bytes
// outside printable ASCII, '%', and spaces at either end, which HTTP/1.1
// header lines (and gRPC-Web's trailer frame) would trim away.
func EncodeMessage(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if escaped(s, i) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if escaped(s, i) {
			b = append(b, '%', hex[c>>4], hex[c&15])
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

func escaped(s string, i int) bool {
	c := s[i]
	return c < 0x20 || c > 0x7e || c == '%' || c == ' ' && (i == 0 || i == len(s)-1)
}

// Reencode makes a grpc-message value received from a peer safe to carry
// in an HTTP/1.1 header line or a gRPC-Web trailer frame: one with a space
// at either end is decoded and encoded again, so the space survives.
func Reencode(v string) string {
	if v == "" || v[0] != ' ' && v[len(v)-1] != ' ' {
		return v
	}
	return EncodeMessage(DecodeMessage(v))
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
