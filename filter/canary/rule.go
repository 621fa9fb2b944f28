package canary

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/straitgw/strait/filter"
)

// Errors of ParseHeader and ParseKey.
var (
	ErrHeader = errors.New(`canary: header is "name: value" or "name"`)
	ErrKey    = errors.New(`canary: key is "header:NAME", "client_ip" or "claim:NAME"`)
)

// Header is a header rule: a request whose header Name has Value (any
// value when Value is "") goes to the canary.
type Header struct {
	Name  string // lower case
	Value string // "": present with any value
}

// ParseHeader parses "name: value" (the value trimmed, compared exactly)
// or "name" alone (the header present).
func ParseHeader(s string) (Header, error) {
	name, value, _ := strings.Cut(s, ":")
	name = strings.ToLower(strings.TrimSpace(name))
	value = strings.Trim(value, " \t")
	if !filter.IsToken(name) || !validValue(value) {
		return Header{}, ErrHeader
	}
	return Header{Name: name, Value: value}, nil
}

// String is the spec ParseHeader reads back.
func (h Header) String() string {
	if h.Value == "" {
		return h.Name
	}
	return h.Name + ": " + h.Value
}

// matches reports whether r carries h. The header's value is a view of
// the request: compared here, never kept.
func (h Header) matches(r filter.Request) bool {
	v := r.Header(h.Name)
	if h.Value == "" {
		return v != ""
	}
	return v == h.Value
}

// KeyKind is where a request's key comes from.
type KeyKind uint8

const (
	KeyNone     KeyKind = iota // no key: each request is drawn at random
	KeyHeader                  // a request header
	KeyClientIP                // the client's address
	KeyClaim                   // a verified JWT claim (filter.ClaimsKey)
)

// Key names what identifies a client for sticky assignment.
type Key struct {
	Kind KeyKind
	Name string // the header (lower case) or claim name
}

// ParseKey parses "header:NAME", "client_ip" or "claim:NAME"; "" is
// KeyNone.
func ParseKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Key{}, nil
	}
	if s == "client_ip" {
		return Key{Kind: KeyClientIP}, nil
	}
	kind, name, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	switch {
	case ok && kind == "header" && filter.IsToken(name):
		return Key{Kind: KeyHeader, Name: strings.ToLower(name)}, nil
	case ok && kind == "claim" && name != "" && validValue(name):
		return Key{Kind: KeyClaim, Name: name}, nil
	}
	return Key{}, ErrKey
}

// String is the spec ParseKey reads back.
func (k Key) String() string {
	switch k.Kind {
	case KeyHeader:
		return "header:" + k.Name
	case KeyClientIP:
		return "client_ip"
	case KeyClaim:
		return "claim:" + k.Name
	}
	return ""
}

// value is r's key, ok false when r has none. A header's value is a view
// of the request: hashed or compared by the caller, never kept.
func (k Key) value(r filter.Request) (string, bool) {
	var v string
	switch k.Kind {
	case KeyHeader:
		v = r.Header(k.Name)
	case KeyClientIP:
		v = r.ClientIP()
	case KeyClaim:
		claims, _ := r.Value(filter.ClaimsKey{}).(map[string]any)
		v = claimText(claims[k.Name])
	}
	return v, v != ""
}

// claimText is a scalar claim as text ("" for anything else).
func claimText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// validValue reports whether s can be a header value: no control bytes.
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
