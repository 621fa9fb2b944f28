package transcode

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

var matchBenchPaths = []struct{ name, method, path string }{
	{"literal", "GET", "/v1/things/special"},
	{"var", "GET", "/v1/things/abc"},
	{"nested", "GET", "/v1/things/abc/inner/42"},
	{"pattern", "GET", "/v1/shelves/1/books/2"},
	{"deep", "GET", "/v1/files/a/b/c/d/e/f/g.txt"},
	{"verb", "GET", "/v1/things/abc:watch"},
	{"default", "POST", "/routes.v1.Routes/NoRule"},
}

func BenchmarkMatch(b *testing.B) {
	r := loadTestRouter(b, RouterOptions{})
	for _, p := range matchBenchPaths {
		b.Run(p.name, func(b *testing.B) {
			path := []byte(p.path)
			var m Match
			b.ReportAllocs()
			for b.Loop() {
				if err := r.Match(p.method, path, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMatchRoutes matches against n generated resources, five rules
// each, to show the cost does not grow with the table.
func BenchmarkMatchRoutes(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		r := &Router{byPath: map[string]*Route{}}
		for i := 0; i < n; i++ {
			for j, tmpl := range []string{"/v1/r%d", "/v1/r%d/{id}", "/v1/r%d/{id}/sub/{sub}",
				"/v1/r%d/{id}:do", "/v1/{name=r%d/*/x/**}"} {
				src := fmt.Sprintf(tmpl, i)
				tp, err := parseTemplate(src)
				if err != nil {
					b.Fatal(err)
				}
				if err := r.add(&Route{HTTPMethod: "GET", Template: src, GRPCPath: fmt.Sprint(i, j), tmpl: tp}); err != nil {
					b.Fatal(err)
				}
			}
		}
		path := []byte(fmt.Sprintf("/v1/r%d/123/sub/456", n/2))
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var m Match
			b.ReportAllocs()
			for b.Loop() {
				if err := r.Match("GET", path, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendRequest(b *testing.B) {
	r := loadTestRouter(b, RouterOptions{})
	for _, c := range []struct{ name, method, path, query, body string }{
		{"path", "GET", "/v1/things/abc/inner/42", "", ""},
		{"query", "GET", "/v1/things/abc", "id=5&color=COLOR_RED&inner.child.name=x&nums=1&nums=2", ""},
		{"body", "PATCH", "/v1/things/n/inner/7", "", `{"id":"99","name":"x","color":"COLOR_BLUE"}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			var m Match
			if err := r.Match(c.method, []byte(c.path), &m); err != nil {
				b.Fatal(err)
			}
			q, body := []byte(c.query), []byte(c.body)
			buf := make([]byte, 0, 512)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = m.AppendRequest(buf[:0], q, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestMatchZeroAlloc pins the match path (and path/query binding) of paths
// without '%' at zero allocations.
func TestMatchZeroAlloc(t *testing.T) {
	r := loadTestRouter(t, RouterOptions{})
	var m Match
	for _, p := range matchBenchPaths {
		path := []byte(p.path)
		if n := testing.AllocsPerRun(100, func() {
			if err := r.Match(p.method, path, &m); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("Match %s: %v allocs; want 0", p.path, n)
		}
	}
	escaped := []byte("/v1/things/a%2Fb%20c/inner/42")
	if n := testing.AllocsPerRun(100, func() {
		if err := r.Match("GET", escaped, &m); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Match %s: %v allocs; want 0", escaped, n)
	}
	miss := []byte("/nothing/here")
	if n := testing.AllocsPerRun(100, func() { _ = r.Match("GET", miss, &m) }); n != 0 {
		t.Errorf("Match 404: %v allocs; want 0", n)
	}
	if err := r.Match("GET", []byte("/v1/things/abc/inner/42"), &m); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 256)
	q := []byte("id=5&color=COLOR_RED&inner.child.name=x&nums=1&nums=2")
	m.scratch = make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() {
		if _, err := m.AppendRequest(buf[:0], q, nil); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("AppendRequest: %v allocs; want 0", n)
	}
}

// FuzzMatch matches arbitrary paths: never a panic, only HTTPErrors, and a
// match's variables decode within the path's bounds.
func FuzzMatch(f *testing.F) {
	r := loadTestRouter(f, RouterOptions{})
	for _, p := range matchBenchPaths {
		f.Add(p.method, p.path, "id=1&inner.name=x")
	}
	f.Add("GET", "/v1/files/a%2Fb/%41", "x=%zz")
	f.Add("GET", "/v1/things/a:b:watch", "nums=1&nums=2")
	f.Add("DELETE", "/v1/things/%", "")
	f.Fuzz(func(t *testing.T, method, path, query string) {
		var m Match
		err := r.Match(method, []byte(path), &m)
		if err != nil {
			var he *HTTPError
			if !errors.As(err, &he) || (he.Status != 404 && he.Status != 405 && he.Status != 400) {
				t.Fatalf("%s %q: %v", method, path, err)
			}
			if he.Status == 400 && validPct([]byte(path)) {
				t.Fatalf("%s %q: 400 on a well-escaped path", method, path)
			}
			return
		}
		for i := range m.Route.vars {
			v := &m.Route.vars[i].v
			raw := m.varSpan(v)
			if !bytes.Contains([]byte(path), raw) {
				t.Fatalf("%q: var %s = %q not in path", path, v.field, raw)
			}
			dec, _ := m.AppendVar(nil, v.field)
			if n, ok := pctDecodedLen(raw, v.multi); !ok || n != len(dec) {
				t.Fatalf("%q: decoded %q, length %d %v", path, dec, n, ok)
			}
			if !v.multi && !strings.Contains(string(raw), "%") && string(dec) != string(raw) {
				t.Fatalf("%q: %q decoded to %q", path, raw, dec)
			}
		}
		if _, err := m.AppendRequest(nil, []byte(query), nil); err != nil {
			var he *HTTPError
			if !errors.As(err, &he) || he.Status != 400 {
				t.Fatalf("%s %q ? %q: %v", method, path, query, err)
			}
		}
	})
}

// FuzzPctDecode checks the decoder against the validator and a simple
// reference: a valid input decodes, and re-encoding each decoded byte
// gives back a string equal up to hex case.
func FuzzPctDecode(f *testing.F) {
	for _, s := range []string{"a%2Fb", "%41%42", "%", "%4", "%zz", "a+b", "%2f%2F", ""} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, keep bool) {
		b := []byte(s)
		n, ok := pctDecodedLen(b, keep)
		if ok != validPct(b) {
			t.Fatalf("%q: pctDecodedLen ok=%v, validPct=%v", s, ok, !ok)
		}
		if !ok {
			return
		}
		dec := appendPctDecoded(nil, b, keep, false)
		if len(dec) != n {
			t.Fatalf("%q: decoded %d bytes; pctDecodedLen said %d", s, len(dec), n)
		}
		if !keep && (n != len(s)-2*strings.Count(s, "%")) {
			t.Fatalf("%q: decoded length %d", s, n)
		}
		if keep && strings.Contains(strings.ToLower(s), "%2f") != bytes.Contains(bytes.ToLower(dec), []byte("%2f")) &&
			!strings.Contains(strings.ToLower(s), "%252f") {
			t.Fatalf("%q keep: %q lost a %%2F", s, dec)
		}
	})
}

// pctDecodedLen is a reference for appendPctDecoded: the decoded length,
// counted a different way; ok is false on a malformed escape.
func pctDecodedLen(b []byte, keepSlash bool) (n int, ok bool) {
	for i := 0; i < len(b); i++ {
		if b[i] == '%' {
			if i+2 >= len(b) || pctUnhex(b[i+1]) < 0 || pctUnhex(b[i+2]) < 0 {
				return 0, false
			}
			if keepSlash && isSlashEscape(b, i) {
				n += 2
			}
			i += 2
		}
		n++
	}
	return n, true
}
