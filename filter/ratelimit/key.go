package ratelimit

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/straitgw/strait/filter"
)

// KeyKind is what a rule's buckets are keyed by.
type KeyKind uint8

const (
	KeyGlobal   KeyKind = iota // one bucket for every request
	KeyClientIP                // the client's address (the TCP peer)
	KeyIdentity                // the connection's verified mTLS identity
	KeyHeader                  // a request header's first value
	KeyClaim                   // a claim of the verified JWT (filter.ClaimsKey)
)

// Key is a parsed key spec: "global", "client_ip", "identity",
// "header:NAME" or "claim:NAME".
type Key struct {
	Kind KeyKind
	Name string // the header (lower case) or claim name
}

// ErrKey is wrapped by ParseKey's errors.
var ErrKey = errors.New("ratelimit: bad key")

// maxKeyName bounds a header or claim name.
const maxKeyName = 256

// ParseKey reads a key spec. Header names are case-insensitive (stored
// lower case); claim names are taken as written.
func ParseKey(s string) (Key, error) {
	switch s {
	case "global":
		return Key{Kind: KeyGlobal}, nil
	case "client_ip":
		return Key{Kind: KeyClientIP}, nil
	case "identity":
		return Key{Kind: KeyIdentity}, nil
	}
	kind, name, ok := strings.Cut(s, ":")
	switch {
	case !ok || kind != "header" && kind != "claim":
		return Key{}, fmt.Errorf("%w %q: want global, client_ip, identity, header:NAME or claim:NAME", ErrKey, s)
	case name == "" || len(name) > maxKeyName:
		return Key{}, fmt.Errorf("%w %q: the %s name must have 1 to %d bytes", ErrKey, s, kind, maxKeyName)
	case kind == "header" && !filter.IsToken(name):
		return Key{}, fmt.Errorf("%w %q: %q is not a header name (RFC 9110 token)", ErrKey, s, name)
	case kind == "header":
		return Key{Kind: KeyHeader, Name: strings.ToLower(name)}, nil
	case !printable(name):
		return Key{}, fmt.Errorf("%w %q: a claim name must be printable", ErrKey, s)
	}
	return Key{Kind: KeyClaim, Name: name}, nil
}

// String is the spec ParseKey reads back to k.
func (k Key) String() string {
	switch k.Kind {
	case KeyClientIP:
		return "client_ip"
	case KeyIdentity:
		return "identity"
	case KeyHeader:
		return "header:" + k.Name
	case KeyClaim:
		return "claim:" + k.Name
	}
	return "global"
}

// Of returns r's value for k, "" when r has none: requests without a
// value share one bucket, so leaving a header out buys no allowance. A
// header value is a view of the front end's buffer, valid only during
// the filter call that received r; a claim that is not a string is
// formatted (a new string), and one that is a list or an object counts
// as absent.
func (k Key) Of(r filter.Request) string {
	switch k.Kind {
	case KeyClientIP:
		return r.ClientIP()
	case KeyIdentity:
		return r.Identity()
	case KeyHeader:
		return r.Header(k.Name)
	case KeyClaim:
		return claimOf(r, k.Name)
	}
	return ""
}

func claimOf(r filter.Request, name string) string {
	claims, _ := r.Value(filter.ClaimsKey{}).(map[string]any)
	switch v := claims[name].(type) {
	case string:
		return v
	case json.Number:
		return string(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(v, 10)
	case int:
		return strconv.Itoa(v)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// printable reports text with no control bytes.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return false
		}
	}
	return true
}
