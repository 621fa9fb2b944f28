package h2

import (
	"bytes"
	"strconv"
	"testing"
)

// openServer returns a server conn with stream 1 open for a body, large
// peer windows, and its reader and writer.
func openServer(t testing.TB) (*Conn, *Stream, *memReader, *memWriter) {
	var st *Stream
	acc := acceptFunc(func(s *Stream, _ []Field, _ bool) StreamHandler {
		st = s
		return &sink{}
	})
	w := &memWriter{}
	c := NewServerConn(w, func() {}, acc, Config{})
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	in := newFrames().preface().settings(Setting{SettingInitialWindowSize, maxWindow}).
		raw(FrameHeader{Type: FrameSettings, Flags: FlagAck}, nil). // no SETTINGS_TIMEOUT mid-benchmark
		raw(FrameHeader{Type: FrameWindowUpdate}, []byte{0x7f, 0xff, 0, 0}).
		headers(1, false, request("POST", "/upload")...)
	r := &memReader{}
	r.reset(in.b)
	if err := c.Serve(r); err != nil || st == nil {
		t.Fatalf("open: %v %v", err, st)
	}
	return c, st, r, w
}

// TestDataZeroAlloc pins the steady state: receiving a DATA frame and
// sending one allocate nothing.
func TestDataZeroAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	c, s, r, w := openServer(t)
	frame := AppendData(nil, 1, false, bytes.Repeat([]byte{'x'}, 1024))
	got := testing.AllocsPerRun(1000, func() {
		r.reset(frame)
		if err := c.Serve(r); err != nil {
			t.Fatal(err)
		}
		w.buf = w.buf[:0]
	})
	if got != 0 {
		t.Errorf("read DATA: %v allocs/op; want 0", got)
	}
	p := make([]byte, 1024)
	got = testing.AllocsPerRun(1000, func() {
		if err := s.WriteData(p, false); err != nil {
			t.Fatal(err)
		}
		w.buf = w.buf[:0]
	})
	if got != 0 {
		t.Errorf("write DATA: %v allocs/op; want 0", got)
	}
}

// raceEnabled is set by race_test.go.
var raceEnabled bool

var sizes = []int{0, 1 << 10, 16 << 10}

func BenchmarkReadData(b *testing.B) {
	for _, n := range sizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			c, _, r, w := openServer(b)
			frame := AppendData(nil, 1, false, bytes.Repeat([]byte{'x'}, n))
			if n == 0 {
				frame = AppendData(nil, 1, false, []byte{'x'})
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				r.reset(frame)
				if err := c.Serve(r); err != nil {
					b.Fatal(err)
				}
				w.buf = w.buf[:0]
			}
		})
	}
}

func BenchmarkWriteData(b *testing.B) {
	for _, n := range sizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			_, s, _, w := openServer(b)
			p := make([]byte, n)
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				if err := s.WriteData(p, false); err != nil {
					b.Fatal(err)
				}
				w.buf = w.buf[:0]
				if s.sendWin < 1<<20 { // refill as the peer's WINDOW_UPDATEs would
					s.c.mu.Lock()
					s.sendWin, s.c.sendWin = maxWindow, maxWindow
					s.c.mu.Unlock()
				}
			}
		})
	}
}

// grpcRequest is a typical gRPC request header list.
func grpcRequest() []Field {
	return append(request("POST", "/bookstore.v1.Bookstore/GetShelf"),
		Field{Name: "content-type", Value: "application/grpc"}, Field{Name: "te", Value: "trailers"},
		Field{Name: "grpc-timeout", Value: "1S"}, Field{Name: "user-agent", Value: "grpc-go/1.85.0"})
}

// BenchmarkReadHeaders measures a new request stream: HEADERS decode,
// validation, Accept, and a response HEADERS with END_STREAM.
func BenchmarkReadHeaders(b *testing.B) {
	resp := []Field{{Name: ":status", Value: "200"}, {Name: "grpc-status", Value: "0"}}
	acc := acceptFunc(func(s *Stream, _ []Field, _ bool) StreamHandler {
		s.WriteHeaders(resp, true)
		return nil
	})
	w := &memWriter{}
	c := NewServerConn(w, func() {}, acc, Config{})
	c.Start()
	f := newFrames().preface().settings().raw(FrameHeader{Type: FrameSettings, Flags: FlagAck}, nil)
	r := &memReader{}
	r.reset(f.b)
	c.Serve(r)
	// Warm the HPACK tables, then replay the indexed block.
	f = newFrames()
	f.headers(1, true, grpcRequest()...)
	r.reset(f.b)
	c.Serve(r)
	block := f.block(grpcRequest()...)
	frame := AppendFrameHeader(nil, FrameHeader{Length: uint32(len(block)), Type: FrameHeaders,
		Flags: FlagEndHeaders | FlagEndStream})
	frame = append(frame, block...)
	b.ReportAllocs()
	id := uint32(3)
	for b.Loop() {
		putFrameHeader(frame, FrameHeader{Length: uint32(len(block)), Type: FrameHeaders,
			Flags: FlagEndHeaders | FlagEndStream, StreamID: id})
		id += 2
		r.reset(frame)
		if err := c.Serve(r); err != nil {
			b.Fatal(err)
		}
		w.buf = w.buf[:0]
	}
}

// BenchmarkWriteHeaders measures HPACK encoding and framing of a response
// header list on an open stream.
func BenchmarkWriteHeaders(b *testing.B) {
	c, s, _, w := openServer(b)
	fields := []Field{{Name: ":status", Value: "200"}, {Name: "content-type", Value: "application/grpc"}}
	b.ReportAllocs()
	for b.Loop() {
		c.mu.Lock()
		c.writeHeaders(s.id, fields, false)
		c.mu.Unlock()
		w.buf = w.buf[:0]
	}
}

// TestCork: writes to a corked connection are flushed once, at Uncork.
func TestCork(t *testing.T) {
	c, s, _, w := openServer(t)
	before := w.flushes
	c.Cork()
	s.WriteHeaders([]Field{{Name: ":status", Value: "200"}}, false)
	s.WriteData([]byte("body"), false)
	s.WriteHeaders([]Field{{Name: "grpc-status", Value: "0"}}, true)
	if w.flushes != before {
		t.Fatalf("%d flushes while corked; want 0", w.flushes-before)
	}
	if err := c.Uncork(); err != nil || w.flushes != before+1 {
		t.Fatalf("Uncork: %v, %d flushes; want 1", err, w.flushes-before)
	}
}
