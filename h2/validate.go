package h2

import "strings"

// Request pseudo-header bits.
const (
	pseudoMethod = 1 << iota
	pseudoScheme
	pseudoPath
	pseudoAuthority
	pseudoProtocol
	pseudoStatus
)

// pseudoBit returns the bit of a known pseudo-header field, 0 otherwise;
// a switch, because hashing for a map lookup showed in profiles.
func pseudoBit(name string) int {
	switch name {
	case ":method":
		return pseudoMethod
	case ":scheme":
		return pseudoScheme
	case ":path":
		return pseudoPath
	case ":authority":
		return pseudoAuthority
	case ":protocol":
		return pseudoProtocol
	case ":status":
		return pseudoStatus
	}
	return 0
}

// tokenLower marks the octets allowed in a field name: RFC 9110 tchar
// without upper case (RFC 9113 §8.2.1).
var tokenLower = func() (t [256]bool) {
	for _, b := range []byte("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") {
		t[b] = true
	}
	return t
}()

// validName reports whether a regular field name is non-empty, lower case
// and a token.
func validName(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		if !tokenLower[n[i]] {
			return false
		}
	}
	return true
}

// validValue rejects NUL, CR and LF (RFC 9113 §8.2.1).
func validValue(v string) bool {
	return !strings.ContainsAny(v, "\x00\r\n")
}

// connectionSpecific reports the fields RFC 9113 §8.2.2 forbids.
func connectionSpecific(f Field) bool {
	switch f.Name {
	case "connection", "proxy-connection", "keep-alive", "transfer-encoding", "upgrade":
		return true
	case "te":
		return f.Value != "trailers"
	}
	return false
}

// checkRegular validates the regular fields of any header section and
// returns the declared content-length, -1 if none.
func checkRegular(fields []Field) (int64, error) {
	cl := int64(-1)
	for _, f := range fields {
		if !validName(f.Name) || !validValue(f.Value) || connectionSpecific(f) {
			return 0, ErrBadHeader
		}
		if f.Name == "content-length" {
			n, ok := parseLength(f.Value)
			if !ok || (cl >= 0 && cl != n) {
				return 0, ErrBadHeader
			}
			cl = n
		}
	}
	return cl, nil
}

func parseLength(v string) (int64, bool) {
	if v == "" || len(v) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(v[i]-'0')
	}
	return n, true
}

// splitPseudo checks that pseudo-header fields come first, are known and
// appear once; it returns their bits and the regular fields.
func splitPseudo(fields []Field) (bits int, rest []Field, err error) {
	i := 0
	for ; i < len(fields) && strings.HasPrefix(fields[i].Name, ":"); i++ {
		b := pseudoBit(fields[i].Name)
		if b == 0 || bits&b != 0 || !validValue(fields[i].Value) {
			return 0, nil, ErrBadHeader
		}
		bits |= b
	}
	for _, f := range fields[i:] {
		if strings.HasPrefix(f.Name, ":") {
			return 0, nil, ErrBadHeader
		}
	}
	return bits, fields[i:], nil
}

// checkRequest validates a request header section (RFC 9113 §8.3.1) and
// returns its content-length, -1 if none.
func checkRequest(fields []Field) (int64, error) {
	bits, rest, err := splitPseudo(fields)
	if err != nil || bits&pseudoStatus != 0 || bits&pseudoMethod == 0 {
		return 0, ErrBadHeader
	}
	if fieldValue(fields, ":method") == "CONNECT" {
		if bits&pseudoProtocol == 0 && bits != pseudoMethod|pseudoAuthority {
			return 0, ErrBadHeader
		}
	} else if bits&(pseudoScheme|pseudoPath) != pseudoScheme|pseudoPath ||
		bits&pseudoProtocol != 0 || fieldValue(fields, ":path") == "" {
		return 0, ErrBadHeader
	}
	return checkRegular(rest)
}

// checkResponse validates a response header section (RFC 9113 §8.3.2) and
// returns its status code.
func checkResponse(fields []Field) (int, error) {
	bits, rest, err := splitPseudo(fields)
	if err != nil || bits != pseudoStatus {
		return 0, ErrBadHeader
	}
	v := fields[0].Value
	if len(v) != 3 || v[0] < '1' || v[0] > '9' || v[1] < '0' || v[1] > '9' || v[2] < '0' || v[2] > '9' {
		return 0, ErrBadHeader
	}
	if _, err := checkRegular(rest); err != nil {
		return 0, err
	}
	return int(v[0]-'0')*100 + int(v[1]-'0')*10 + int(v[2]-'0'), nil
}

// checkTrailers validates a trailer section: no pseudo-header fields.
func checkTrailers(fields []Field) error {
	for _, f := range fields {
		if !validName(f.Name) || !validValue(f.Value) || connectionSpecific(f) {
			return ErrBadHeader
		}
	}
	return nil
}

func fieldValue(fields []Field, name string) string {
	for _, f := range fields {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}
