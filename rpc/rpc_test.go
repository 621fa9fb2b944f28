package rpc

import (
	"testing"
)

func TestHTTPStatus(t *testing.T) {
	want := map[Code]int{0: 200, 1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429,
		9: 400, 10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401, 17: 500, 1 << 31: 500}
	for code, w := range want {
		if got := code.HTTPStatus(); got != w {
			t.Errorf("%v.HTTPStatus(): got %d; want %d", code, got, w)
		}
	}
}

func TestCodeNames(t *testing.T) {
	for c := Code(0); c < NumCodes+1; c++ {
		if got := ParseCode(c.Value()); got != c {
			t.Errorf("ParseCode(%q): got %d; want %d", c.Value(), got, c)
		}
	}
	tests := []struct {
		c    Code
		want string
	}{{CodeOK, "OK"}, {CodeCanceled, "CANCELLED"}, {CodeUnauthenticated, "UNAUTHENTICATED"}, {40, "CODE(40)"}}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("%d.String(): got %q; want %q", tt.c, got, tt.want)
		}
	}
	for in, want := range map[string]Code{"": CodeUnknown, "x": CodeUnknown, "-1": CodeUnknown, "007": 7, "99": 99} {
		if got := ParseCode(in); got != want {
			t.Errorf("ParseCode(%q): got %d; want %d", in, got, want)
		}
	}
}

func TestMessage(t *testing.T) {
	tests := []struct{ plain, wire string }{
		{"", ""},
		{"plain text", "plain text"},
		{"100%", "100%25"},
		{"é\n", "%C3%A9%0A"},
		{"\x7f~", "%7F~"},
		{" a b ", "%20a b%20"},
		{" ", "%20"},
	}
	for _, tt := range tests {
		if got := EncodeMessage(tt.plain); got != tt.wire {
			t.Errorf("Encode(%q): got %q; want %q", tt.plain, got, tt.wire)
		}
		if got := DecodeMessage(tt.wire); got != tt.plain {
			t.Errorf("Decode(%q): got %q; want %q", tt.wire, got, tt.plain)
		}
	}
	for in, want := range map[string]string{"%": "%", "%4": "%4", "%zz%41": "%zzA", "a%2fb": "a/b"} {
		if got := DecodeMessage(in); got != want {
			t.Errorf("Decode(%q): got %q; want %q", in, got, want)
		}
	}
}

func FuzzMessage(f *testing.F) {
	for _, s := range []string{"", "100%", "%C3%A9", "%", "%zz", "é\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got := DecodeMessage(EncodeMessage(s)); got != s {
			t.Fatalf("round trip %q: got %q", s, got)
		}
		enc := EncodeMessage(s)
		for i := 0; i < len(enc); i++ {
			if enc[i] < 0x20 || enc[i] > 0x7e {
				t.Fatalf("%q: encoded %q has byte %#x", s, enc, enc[i])
			}
		}
		if enc != "" && (enc[0] == ' ' || enc[len(enc)-1] == ' ') {
			t.Fatalf("%q: encoded %q has a space at an end", s, enc)
		}
		if got := DecodeMessage(Reencode(enc)); got != s {
			t.Fatalf("%q: reencoded %q decodes to %q", s, Reencode(enc), got)
		}
		_ = DecodeMessage(s)
	})
}

func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"0", "16", "", "x", "4294967295", "4294967296"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := ParseCode(s)
		if c != CodeUnknown && ParseCode(c.Value()) != c {
			t.Fatalf("%q: %d does not round-trip", s, c)
		}
	})
}

func TestCodeByName(t *testing.T) {
	for in, want := range map[string]Code{"UNAVAILABLE": 14, "unavailable": 14, "Cancelled": 1, "14": 14, "0": 0} {
		if got, ok := CodeByName(in); !ok || got != want {
			t.Errorf("CodeByName(%q): got %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "CANCELED", "17", "-1", "nope"} {
		if _, ok := CodeByName(in); ok {
			t.Errorf("CodeByName(%q) accepted", in)
		}
	}
}
