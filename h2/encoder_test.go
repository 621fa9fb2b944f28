package h2

import (
	"bytes"
	"fmt"
	"math/rand/v2"
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
