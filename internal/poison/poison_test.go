package poison

import (
	"bytes"
	"testing"
)

// memReader is a minimal Reader over one slice.
type memReader struct {
	b   []byte
	off int
}

func (r *memReader) Len() int { return len(r.b) - r.off }
func (r *memReader) Peek(n int) ([]byte, error) {
	return r.b[r.off : r.off+n], nil
}
func (r *memReader) Next(n int) ([]byte, error) {
	p := r.b[r.off : r.off+n]
	r.off += n
	return p, nil
}
func (r *memReader) Skip(n int) error { r.off += n; return nil }
func (r *memReader) Release() error   { return nil }

func TestWrap(t *testing.T) {
	src := []byte("GET / HTTP/1.1\r\nHost: a\r\n\r\nNEXT")
	r := Wrap(&memReader{b: src})
	line, _ := r.Next(16)
	_ = r.Skip(11)
	rest, _ := r.Peek(4)
	_ = r.Release()
	poisoned := bytes.Repeat([]byte{Byte}, 4)
	if got := bytes.Equal(line[:4], poisoned); got != Enabled {
		t.Fatalf("consumed next poisoned: got %v; want %v", got, Enabled)
	}
	if string(rest) != "NEXT" {
		t.Fatalf("unread input: got %q; want %q", rest, "NEXT")
	}
}
