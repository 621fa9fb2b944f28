package jwtauth

import (
	"regexp"
	"strings"
	"testing"

	"github.com/straitgw/strait/filter"
)

func TestBearerToken(t *testing.T) {
	tests := []struct {
		v       string
		tok     string
		present bool
	}{
		{"Bearer abc.def.ghi", "abc.def.ghi", true},
		{"bearer abc", "abc", true},
		{"BEARER   abc==", "abc==", true},
		{" \tBearer abc\t ", "abc", true},
		{"Bearer", "", true},
		{"Bearer ", "", true},
		{"Bearer a b", "", true},
		{"Bearer ===", "", true},
		{"Bearer a=b", "", true},
		{"Bearer " + strings.Repeat("a", maxTokenBytes+1), "", true},
		{"Bearerabc", "", false},
		{"Bearer\tabc", "", false},
		{"Basic dTpw", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		tok, present := BearerToken(tt.v)
		if tok != tt.tok || present != tt.present {
			t.Errorf("BearerToken(%.40q): got %q, %v; want %q, %v", tt.v, tok, present, tt.tok, tt.present)
		}
	}
}

// bearerRef is RFC 6750 §2.1 as regular expressions, the reference
// BearerToken must agree with.
var (
	bearerScheme = regexp.MustCompile(`(?is)^bearer(?: +(.*))?$`)
	b64token     = regexp.MustCompile(`^[A-Za-z0-9\-._~+/]+=*$`)
)

func bearerRef(v string) (string, bool) {
	m := bearerScheme.FindStringSubmatch(strings.Trim(v, " \t"))
	if m == nil {
		return "", false
	}
	if !b64token.MatchString(m[1]) || len(m[1]) > maxTokenBytes {
		return "", true
	}
	return m[1], true
}

func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer  a.b.c", "Bearer", "Basic x", "Bearer a==", "Bearer =", "BEARER\t", " Bearer x "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		tok, present := BearerToken(v)
		wtok, wpresent := bearerRef(v)
		if tok != wtok || present != wpresent {
			t.Fatalf("BearerToken(%q): got %q, %v; want %q, %v", v, tok, present, wtok, wpresent)
		}
		if tok != "" && !strings.Contains(v, tok) {
			t.Fatalf("token %q is not a substring of %q", tok, v)
		}
	})
}

func TestParseFrom(t *testing.T) {
	tests := []struct {
		in, want string
		err      bool
	}{
		{"", "authorization", false},
		{"Authorization", "authorization", false},
		{"header:X-Token", "header:x-token", false},
		{" header: x-api-token ", "header:x-api-token", false},
		{"header:authorization", "", true},
		{"header:", "", true},
		{"header:a b", "", true},
		{"query:access_token", "", true},
		{"cookie", "", true},
	}
	for _, tt := range tests {
		f, err := ParseFrom(tt.in)
		if (err != nil) != tt.err || (err == nil && f.String() != tt.want) {
			t.Errorf("ParseFrom(%q): got %v, %v; want %q, error %v", tt.in, f, err, tt.want, tt.err)
		}
	}
}

func FuzzParseFrom(f *testing.F) {
	for _, s := range []string{"", "authorization", "header:x-token", "header:", "header:a:b", "query:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		from, err := ParseFrom(s)
		if err != nil {
			return
		}
		if from.Header != strings.ToLower(from.Header) || !filter.IsToken(from.Header) {
			t.Fatalf("ParseFrom(%q): header %q is not a lower-case token", s, from.Header)
		}
		again, err := ParseFrom(from.String())
		if err != nil || again != from {
			t.Fatalf("ParseFrom(%q) = %v does not read back from %q: %v, %v", s, from, from.String(), again, err)
		}
	})
}

func TestFromToken(t *testing.T) {
	h := From{Header: "x-token"}
	for _, tt := range []struct {
		v       string
		tok     string
		present bool
	}{{"abc.def", "abc.def", true}, {" abc ", "abc", true}, {"", "", false}, {"a b", "", true}} {
		tok, present := h.Token(tt.v)
		if tok != tt.tok || present != tt.present {
			t.Errorf("Token(%q): got %q, %v; want %q, %v", tt.v, tok, present, tt.tok, tt.present)
		}
	}
}
