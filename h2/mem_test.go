package h2

import (
	"bytes"
	"errors"

	"golang.org/x/net/http2/hpack"
)

var errShort = errors.New("memReader: no more input")

// memReader is an in-memory Reader; chunk > 0 makes Next expose input
// chunk bytes at a time, like a socket delivering fragments.
type memReader struct {
	buf   []byte
	off   int
	avail int // bytes visible to Len
	chunk int
}

func (r *memReader) reset(b []byte) {
	r.buf, r.off, r.avail = b, 0, len(b)
	if r.chunk > 0 {
		r.avail = min(r.chunk, len(b))
	}
}

// more exposes the next chunk, as a socket read would; false at the end.
func (r *memReader) more() bool {
	if r.avail == len(r.buf) {
		return false
	}
	r.avail = min(len(r.buf), r.avail+max(r.chunk, 1))
	return true
}

func (r *memReader) Len() int { return r.avail - r.off }

func (r *memReader) wait(n int) error {
	for r.avail-r.off < n {
		if r.avail == len(r.buf) {
			return errShort
		}
		r.avail = min(len(r.buf), r.avail+max(r.chunk, 1))
	}
	return nil
}

func (r *memReader) Peek(n int) ([]byte, error) {
	if err := r.wait(n); err != nil {
		return nil, err
	}
	return r.buf[r.off : r.off+n], nil
}

func (r *memReader) Next(n int) ([]byte, error) {
	p, err := r.Peek(n)
	r.off += len(p)
	return p, err
}

func (r *memReader) Skip(n int) error { _, err := r.Next(n); return err }
func (r *memReader) Release() error   { return nil }

// memWriter collects output; Flush keeps it for inspection until reset.
type memWriter struct {
	buf     []byte
	flushes int
}

func (w *memWriter) Malloc(n int) ([]byte, error) {
	l := len(w.buf)
	w.buf = append(w.buf, make([]byte, n)...)
	return w.buf[l : l+n], nil
}

func (w *memWriter) WriteBinary(b []byte) (int, error) {
	w.buf = append(w.buf, b...)
	return len(b), nil
}

func (w *memWriter) Flush() error { w.flushes++; return nil }

// frames builds wire input for tests.
type frames struct {
	b   []byte
	enc *hpack.Encoder
	hb  bytes.Buffer
}

func newFrames() *frames {
	f := &frames{}
	f.enc = hpack.NewEncoder(&f.hb)
	return f
}

func (f *frames) preface() *frames {
	f.b = append(f.b, Preface...)
	return f
}

func (f *frames) settings(s ...Setting) *frames {
	f.b = AppendSettings(f.b, s...)
	return f
}

func (f *frames) raw(h FrameHeader, p []byte) *frames {
	h.Length = uint32(len(p))
	f.b = append(AppendFrameHeader(f.b, h), p...)
	return f
}

func (f *frames) block(fields ...Field) []byte {
	f.hb.Reset()
	for _, x := range fields {
		f.enc.WriteField(x)
	}
	return append([]byte(nil), f.hb.Bytes()...)
}

func (f *frames) headers(id uint32, end bool, fields ...Field) *frames {
	fl := FlagEndHeaders
	if end {
		fl |= FlagEndStream
	}
	return f.raw(FrameHeader{Type: FrameHeaders, Flags: fl, StreamID: id}, f.block(fields...))
}

func (f *frames) data(id uint32, end bool, p []byte) *frames {
	f.b = AppendData(f.b, id, end, p)
	return f
}

func request(method, path string) []Field {
	return []Field{{Name: ":method", Value: method}, {Name: ":scheme", Value: "http"},
		{Name: ":authority", Value: "x"}, {Name: ":path", Value: path}}
}

// sink is a handler that consumes everything.
type sink struct{ closed int }

func (*sink) OnHeaders(*Stream, []Field, bool)   {}
func (*sink) OnData(s *Stream, p []byte, _ bool) { s.Consume(len(p)) }
func (k *sink) OnClose(*Stream, error)           { k.closed++ }

type acceptFunc func(s *Stream, fields []Field, end bool) StreamHandler

func (f acceptFunc) Accept(s *Stream, fields []Field, end bool) StreamHandler {
	return f(s, fields, end)
}
