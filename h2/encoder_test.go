package h2

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// TestEncoderOwnsKeptStrings opens streams with header fields that are
// views into one buffer, rewritten before every call as a reader buffer is
// reused between requests. What the peer decodes must be exactly what each
// call was given: the encoder's table may not keep a view.
func TestEncoderOwnsKeptStrings(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	w := &memWriter{}
	c := NewClientConn(w, nil, Config{})
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	var want [][]Field
	scratch := make([]byte, 4096)
	for i := 0; i < 300; i++ {
		fields, owned := viewFields(rng, scratch, i)
		want = append(want, owned)
		s, err := c.OpenStream(fields, true, nil)
		if err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
		c.mu.Lock() // frees the slot: the test opens more than 100 streams
		c.finish(s, nil)
		c.mu.Unlock()
		for j := range scratch { // the buffer is reused
			scratch[j] = byte(rng.IntN(256))
		}
	}
	got := decodeHeaders(t, w.buf[len(Preface):])
	if len(got) != len(want) {
		t.Fatalf("decoded %d header blocks; want %d", len(got), len(want))
	}
	for i := range want {
		if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
			t.Fatalf("stream %d: got %v; want %v", i, got[i], want[i])
		}
	}
}

// viewFields writes random header fields into buf and returns them as
// views of it, with an owned copy of what they say now.
func viewFields(rng *rand.Rand, buf []byte, i int) (views, owned []Field) {
	off := 0
	put := func(s string) string {
		n := copy(buf[off:], s)
		v := unsafe.String(&buf[off], n)
		off += n
		return v
	}
	add := func(name, value string) {
		views = append(views, Field{Name: put(name), Value: put(value)})
		owned = append(owned, Field{Name: name, Value: value})
	}
	add(":method", "POST")
	add(":path", "/pkg.Service/Method")
	add("x-client", fmt.Sprintf("client-%02d", i%32))
	token := make([]byte, 20+rng.IntN(21))
	for j := range token {
		token[j] = byte('a' + rng.IntN(26))
	}
	add("x-token", string(token))
	if rng.IntN(2) == 0 {
		add("authorization", "Bearer "+string(token))
	}
	return views, owned
}

func decodeHeaders(t *testing.T, wire []byte) [][]Field {
	fr := http2.NewFramer(nil, bytes.NewReader(wire))
	var out [][]Field
	var cur []Field
	dec := hpack.NewDecoder(4096, func(f hpack.HeaderField) {
		f.Sensitive = false
		cur = append(cur, f)
	})
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return out
		}
		var frag []byte
		switch f := f.(type) {
		case *http2.HeadersFrame:
			frag = f.HeaderBlockFragment()
		case *http2.ContinuationFrame:
			frag = f.HeaderBlockFragment()
		default:
			continue
		}
		if _, err := dec.Write(frag); err != nil {
			t.Fatalf("hpack: %v", err)
		}
		if f.Header().Flags.Has(http2.FlagHeadersEndHeaders) {
			out = append(out, cur)
			cur = nil
		}
	}
}

// BenchmarkEncodeRequest measures one REST request's upstream HEADERS
// given as views of a reused buffer, as the HTTP/1.1 front end hands them
// over: pseudo fields, a fixed user agent and tenant, and (varied) a
// request id and bearer token that are new on every request, as real
// clients send them.
//   - own: this package's encoder (copies what the table keeps, caches
//     repeated values, never indexes credentials);
//   - clone: every name and value copied before x/net's Encoder (the
//     naive fix).
func BenchmarkEncodeRequest(b *testing.B) {
	for _, varied := range []bool{false, true} {
		name := map[bool]string{false: "fixed", true: "varied"}[varied]
		b.Run(name+"/own", func(b *testing.B) {
			e := newEncoder()
			r := newRequestViews(varied)
			b.ReportAllocs()
			for b.Loop() {
				_, _ = e.encode(r.next())
			}
		})
		b.Run(name+"/clone", func(b *testing.B) {
			var buf bytes.Buffer
			enc := hpack.NewEncoder(&buf)
			r := newRequestViews(varied)
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				for _, f := range r.next() {
					_ = enc.WriteField(Field{Name: strings.Clone(f.Name), Value: strings.Clone(f.Value)})
				}
			}
		})
	}
}

// requestViews rewrites one buffer with each request's header fields and
// returns views of it, like a reader buffer reused between requests.
type requestViews struct {
	varied bool
	n      uint64
	buf    []byte
	fields []Field
}

func newRequestViews(varied bool) *requestViews {
	return &requestViews{varied: varied, buf: make([]byte, 0, 1024)}
}

func (r *requestViews) next() []Field {
	r.n++
	id, tok := uint64(7), uint64(11)
	if r.varied {
		id, tok = r.n*0x9e3779b97f4a7c15, r.n*0xbf58476d1ce4e5b9
	}
	r.buf, r.fields = r.buf[:0], r.fields[:0]
	r.add(":method", "POST")
	r.add(":scheme", "http")
	r.add(":path", "/bench.v1.Bench/PutRecord")
	r.add(":authority", "api.example.com")
	r.add("content-type", "application/grpc")
	r.add("te", "trailers")
	r.add("user-agent", "bench-client/1.0")
	r.add("x-tenant", "acme")
	r.addHex("x-request-id", "", id, id^tok)
	r.addHex("authorization", "Bearer ", tok, ^tok, id)
	r.add("grpc-timeout", "10S")
	return r.fields
}

func (r *requestViews) add(name, value string) {
	start := len(r.buf)
	r.buf = append(r.buf, name...)
	mid := len(r.buf)
	r.buf = append(r.buf, value...)
	r.view(start, mid)
}

func (r *requestViews) addHex(name, prefix string, words ...uint64) {
	start := len(r.buf)
	r.buf = append(r.buf, name...)
	mid := len(r.buf)
	r.buf = append(r.buf, prefix...)
	for _, w := range words {
		for i := 60; i >= 0; i -= 4 {
			r.buf = append(r.buf, "0123456789abcdef"[w>>i&15])
		}
	}
	r.view(start, mid)
}

func (r *requestViews) view(start, mid int) {
	r.fields = append(r.fields, Field{
		Name:  unsafe.String(&r.buf[start], mid-start),
		Value: unsafe.String(&r.buf[mid], len(r.buf)-mid),
	})
}
