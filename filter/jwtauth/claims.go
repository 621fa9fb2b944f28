package jwtauth

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/straitgw/strait/filter"
)

// maxClaimValue bounds a forwarded claim's text; a longer one is not
// forwarded (it stays in the claims other filters read).
const maxClaimValue = 4 << 10

// forward sends one claim upstream as a header.
type forward struct{ claim, header string }

// fields are the claims forwarded as metadata, in the rule's order
// (sorted by claim name). A claim absent or null is not forwarded, nor
// one whose text is not a valid header value.
func (ru *rule) fields(claims map[string]any) []filter.Field {
	var out []filter.Field
	for _, fw := range ru.forward {
		v, ok := claimText(claims[fw.claim])
		if ok {
			out = append(out, filter.Field{Name: fw.header, Value: v})
		}
	}
	return out
}

// claimText is a claim's value as header text: a string as it is, a
// number as written in the token, a boolean as true or false, a list of
// those joined by commas, anything else as compact JSON. ok is false
// for null and for text a header cannot carry (control characters, more
// than maxClaimValue bytes).
func claimText(v any) (string, bool) {
	var s string
	switch v := v.(type) {
	case nil:
		return "", false
	case string:
		s = v
	case json.Number:
		s = v.String()
	case bool:
		s = strconv.FormatBool(v)
	case []any:
		s = joinList(v)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return "", false
		}
		s = string(b)
	}
	return s, validValue(s)
}

// joinList joins a list of scalars with commas, or marshals it whole
// when it holds anything else.
func joinList(vs []any) string {
	parts := make([]string, 0, len(vs))
	for _, e := range vs {
		switch e := e.(type) {
		case string:
			parts = append(parts, e)
		case json.Number:
			parts = append(parts, e.String())
		case bool:
			parts = append(parts, strconv.FormatBool(e))
		default:
			b, _ := json.Marshal(vs)
			return string(b)
		}
	}
	return strings.Join(parts, ",")
}

// validValue reports whether s can travel as a header value: no control
// characters (RFC 9110 §5.5), no surrounding whitespace, bounded.
func validValue(s string) bool {
	if len(s) > maxClaimValue || s != trimOWS(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c == 0x7f {
			return false
		}
	}
	return true
}
