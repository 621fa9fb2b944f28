package jwtauth

import (
	"errors"
	"strings"

	"github.com/straitgw/strait/filter"
)

// maxTokenBytes bounds the token a request may carry; real ones are a
// few KB, and a bigger one is refused before any decoding.
const maxTokenBytes = 16 << 10

// ErrFrom is returned by ParseFrom for a spec it does not know.
var ErrFrom = errors.New(`jwtauth: from is "authorization" or "header:NAME"`)

// From is where a request carries its token: the Authorization header
// as "Bearer <token>" (RFC 6750 §2.1), or another header holding the
// token alone.
type From struct {
	Header string // lower-case header name
	Bearer bool   // the value is "Bearer <token>"
}

// Authorization is the default From.
var Authorization = From{Header: "authorization", Bearer: true}

// ParseFrom parses a from spec: "" or "authorization" for the
// Authorization header, "header:NAME" for a header holding the bare token.
func ParseFrom(s string) (From, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "authorization") {
		return Authorization, nil
	}
	kind, name, ok := strings.Cut(s, ":")
	name = strings.ToLower(strings.TrimSpace(name))
	if !ok || strings.TrimSpace(kind) != "header" || !filter.IsToken(name) || name == "authorization" {
		return From{}, ErrFrom
	}
	return From{Header: name}, nil
}

// String is the spec ParseFrom reads back.
func (f From) String() string {
	if f.Bearer {
		return "authorization"
	}
	return "header:" + f.Header
}

// Token returns the token in header value v; present reports whether v
// holds a credential of f's kind at all (a "Basic ..." Authorization
// does not). tok is a substring of v: when v views a request buffer, so
// does tok.
func (f From) Token(v string) (tok string, present bool) {
	if !f.Bearer {
		v = trimOWS(v)
		if !isB64Token(v) {
			return "", v != ""
		}
		return v, true
	}
	return BearerToken(v)
}

// BearerToken takes the token out of an Authorization value: the scheme
// "Bearer", case-insensitive, then one or more spaces, then the token
// (RFC 6750 §2.1, RFC 9110 §11.4). present is false for another scheme
// or no value; a Bearer value with an empty or ill-formed token returns
// present with tok "".
func BearerToken(v string) (tok string, present bool) {
	v = trimOWS(v)
	const scheme = "bearer"
	if len(v) < len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return "", false
	}
	rest := v[len(scheme):]
	if rest != "" && rest[0] != ' ' {
		return "", false // "Bearerx": another scheme
	}
	rest = strings.TrimLeft(rest, " ")
	if !isB64Token(rest) {
		return "", true
	}
	return rest, true
}

// isB64Token reports whether s is RFC 6750's b64token: 1*( ALPHA / DIGIT /
// "-" / "." / "_" / "~" / "+" / "/" ) *"=", and no longer than
// maxTokenBytes.
func isB64Token(s string) bool {
	if s == "" || len(s) > maxTokenBytes {
		return false
	}
	end := strings.TrimRight(s, "=")
	if end == "" {
		return false
	}
	for i := 0; i < len(end); i++ {
		if !b64tokenChar[end[i]] {
			return false
		}
	}
	return true
}

var b64tokenChar = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-._~+/" {
		t[c] = true
	}
	return t
}()

// trimOWS trims spaces and tabs (RFC 9110 §5.6.3).
func trimOWS(s string) string { return strings.Trim(s, " \t") }
