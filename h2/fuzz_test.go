package h2

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"

	"golang.org/x/net/http2"
)

type rawFrame struct {
	h FrameHeader
	p []byte
}

// readAll reads frames from wire exposed chunk bytes at a time.
func readAll(wire []byte, chunk int) ([]rawFrame, error) {
	r := &memReader{chunk: chunk}
	r.reset(wire)
	var out []rawFrame
	for r.Len() > 0 || r.more() {
		h, p, err := ReadFrame(r, maxMaxFrameSize)
		if err != nil {
			return out, err
		}
		out = append(out, rawFrame{h, slices.Clone(p)})
	}
	return out, nil
}

func frameSeeds() [][]byte {
	f := newFrames().settings(Setting{SettingInitialWindowSize, 1}).
		headers(1, false, request("GET", "/")...).
		data(1, true, []byte("hello")).
		raw(FrameHeader{Type: FrameData, Flags: FlagPadded, StreamID: 3}, []byte{2, 'a', 0, 0}).
		raw(FrameHeader{Type: FrameHeaders, Flags: FlagPriority | FlagPadded | FlagEndHeaders, StreamID: 5},
			[]byte{1, 0x80, 0, 0, 3, 16, 0x82, 0}).
		raw(FrameHeader{Type: FramePriority, StreamID: 5}, []byte{0, 0, 0, 1, 9}).
		raw(FrameHeader{Type: FrameRSTStream, StreamID: 5}, []byte{0, 0, 0, 8}).
		raw(FrameHeader{Type: FramePing}, make([]byte, 8)).
		raw(FrameHeader{Type: FrameGoAway}, []byte{0, 0, 0, 5, 0, 0, 0, 0, 'b', 'y', 'e'}).
		raw(FrameHeader{Type: FrameWindowUpdate, StreamID: 1}, []byte{0, 0, 1, 0}).
		raw(FrameHeader{Type: 0x42, Flags: 0xff, StreamID: 7}, []byte("ext"))
	return [][]byte{f.b, AppendSettings(nil), AppendPing(nil, true, [8]byte{1}), {0, 0, 1, 0, 0}}
}

// FuzzReadFrame: the frame reader gives the same frames at any read
// fragmentation, and agrees with x/net's Framer on framing and payloads.
func FuzzReadFrame(f *testing.F) {
	for _, s := range frameSeeds() {
		f.Add(s, uint8(0))
		f.Add(s, uint8(6))
	}
	f.Fuzz(func(t *testing.T, wire []byte, chunk uint8) {
		want, werr := readAll(wire, len(wire)+1)
		got, err := readAll(wire, int(chunk)+1)
		if (err == nil) != (werr == nil) || !slices.EqualFunc(got, want, sameFrame) {
			t.Fatalf("chunk %d: got %v, %v; want %v, %v", chunk, got, err, want, werr)
		}
		checkXNet(t, wire, want)
	})
}

func sameFrame(a, b rawFrame) bool { return a.h == b.h && bytes.Equal(a.p, b.p) }

// checkXNet reads wire with x/net's Framer and compares each frame it
// accepts with our header and payload decoders.
func checkXNet(t *testing.T, wire []byte, ours []rawFrame) {
	fr := http2.NewFramer(io.Discard, bytes.NewReader(wire))
	// A larger limit than the input cannot matter and would make x/net
	// allocate up to 16 MiB per execution for a lying length.
	fr.SetMaxReadFrameSize(uint32(min(maxMaxFrameSize, max(minMaxFrameSize, len(wire)))))
	fr.AllowIllegalReads = true
	for i := 0; ; i++ {
		xf, err := fr.ReadFrame()
		if err != nil {
			var ce http2.ConnectionError
			var se http2.StreamError
			if i < len(ours) && (errors.As(err, &ce) || errors.As(err, &se)) {
				continue // a payload x/net rejects; framing goes on
			}
			if errors.Is(err, io.EOF) && i != len(ours) {
				t.Fatalf("x/net read %d frames; we read %d", i, len(ours))
			}
			return
		}
		if i >= len(ours) {
			t.Fatalf("x/net read frame %d that we did not", i)
		}
		o := ours[i]
		xh := xf.Header()
		if uint32(xh.Type) != uint32(o.h.Type) || uint8(xh.Flags) != uint8(o.h.Flags) ||
			xh.StreamID != o.h.StreamID || xh.Length != o.h.Length {
			t.Fatalf("frame %d: x/net %v; ours %+v", i, xh, o.h)
		}
		comparePayload(t, xf, o)
	}
}

func comparePayload(t *testing.T, xf http2.Frame, o rawFrame) {
	switch x := xf.(type) {
	case *http2.DataFrame:
		body, ok := ConsumePadding(o.h, o.p)
		if !ok || !bytes.Equal(body, x.Data()) {
			t.Fatalf("DATA: ours %q %v; x/net %q", body, ok, x.Data())
		}
	case *http2.HeadersFrame:
		frag, pr, ok := ConsumeHeadersPayload(o.h, o.p)
		xp := x.Priority
		if !ok || !bytes.Equal(frag, x.HeaderBlockFragment()) ||
			(x.HasPriority() && (pr.StreamDep != xp.StreamDep || pr.Exclusive != xp.Exclusive || pr.Weight != xp.Weight)) {
			t.Fatalf("HEADERS: ours %q %+v %v; x/net %q %+v", frag, pr, ok, x.HeaderBlockFragment(), xp)
		}
	case *http2.PriorityFrame:
		pr, ok := ConsumePriorityPayload(o.p)
		if !ok || pr.StreamDep != x.StreamDep || pr.Weight != x.Weight || pr.Exclusive != x.Exclusive {
			t.Fatalf("PRIORITY: ours %+v; x/net %+v", pr, x.PriorityParam)
		}
	case *http2.RSTStreamFrame:
		v, ok := ConsumeUint32(o.p)
		if !ok || ErrCode(v) != ErrCode(x.ErrCode) {
			t.Fatalf("RST_STREAM: ours %v; x/net %v", v, x.ErrCode)
		}
	case *http2.SettingsFrame:
		var ours []Setting
		ConsumeSettings(o.p, func(s Setting) error { ours = append(ours, s); return nil })
		if x.IsAck() {
			return
		}
		if x.NumSettings() != len(ours) {
			t.Fatalf("SETTINGS: ours %v; x/net %d", ours, x.NumSettings())
		}
		for i, s := range ours {
			if xs := x.Setting(i); uint16(xs.ID) != uint16(s.ID) || xs.Val != s.Val {
				t.Fatalf("SETTINGS %d: ours %v; x/net %v", i, s, xs)
			}
		}
	case *http2.GoAwayFrame:
		last, code, debug, ok := ConsumeGoAway(o.p)
		if !ok || last != x.LastStreamID || uint32(code) != uint32(x.ErrCode) || !bytes.Equal(debug, x.DebugData()) {
			t.Fatalf("GOAWAY: ours %d %v %q; x/net %v", last, code, debug, x)
		}
	case *http2.WindowUpdateFrame:
		v, ok := ConsumeUint32(o.p)
		if !ok || v&maxWindow != x.Increment {
			t.Fatalf("WINDOW_UPDATE: ours %d; x/net %d", v&maxWindow, x.Increment)
		}
	}
}

// FuzzServe feeds arbitrary frames, header blocks included, to a server
// connection after a valid preface: no panic, and the same output and
// outcome at any read fragmentation.
func FuzzServe(f *testing.F) {
	for _, s := range frameSeeds() {
		f.Add(s, uint8(0))
		f.Add(s, uint8(12))
	}
	f.Add(newFrames().headers(1, true, Field{Name: "", Value: "x"}).b, uint8(3))
	f.Add(newFrames().raw(FrameHeader{Type: FrameHeaders, StreamID: 1}, []byte{0x82}).
		raw(FrameHeader{Type: FrameContinuation, Flags: FlagEndHeaders, StreamID: 1}, []byte{0x84, 0x86, 0x41, 1, 'x'}).b, uint8(1))
	f.Add([]byte{0, 0, 3, 1, 5, 0, 0, 0, 1, 0x3f, 0xe1, 0x1f}, uint8(2)) // table size update
	f.Fuzz(func(t *testing.T, wire []byte, chunk uint8) {
		prefix := newFrames().preface().settings().b
		in := append(prefix, wire...)
		wantOut, wantErr := serveAll(in, len(in)+1)
		gotOut, gotErr := serveAll(in, int(chunk)+1)
		if !bytes.Equal(gotOut, wantOut) || (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("chunk %d: output %x err %v; want %x err %v", chunk, gotOut, gotErr, wantOut, wantErr)
		}
	})
}

// serveAll runs a server connection over in and returns what it wrote.
func serveAll(in []byte, chunk int) ([]byte, error) {
	acc := acceptFunc(func(s *Stream, fields []Field, end bool) StreamHandler {
		s.WriteHeaders([]Field{{Name: ":status", Value: "404"}}, false)
		s.WriteData([]byte("not found"), true)
		return &sink{}
	})
	w := &memWriter{}
	c := NewServerConn(w, func() {}, acc, Config{})
	c.Start()
	r := &memReader{chunk: chunk}
	r.reset(in)
	var err error
	for err == nil && (r.Len() > 0 || r.more()) {
		err = c.Serve(r)
	}
	if errors.Is(err, errShort) {
		err = nil // input ended inside a frame
	}
	c.Closed(nil)
	return w.buf, err
}

// FuzzClient feeds arbitrary server frames to a client connection with
// two open streams: no panic, same output and events at any fragmentation.
func FuzzClient(f *testing.F) {
	resp := newFrames()
	resp.headers(1, false, Field{Name: ":status", Value: "200"}).data(1, false, []byte("body")).
		headers(1, true, Field{Name: "grpc-status", Value: "0"}).
		headers(3, false, Field{Name: ":status", Value: "103"}).
		raw(FrameHeader{Type: FrameGoAway}, []byte{0, 0, 0, 1, 0, 0, 0, 0})
	f.Add(resp.b, uint8(0))
	f.Add(resp.b, uint8(5))
	for _, s := range frameSeeds() {
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, wire []byte, chunk uint8) {
		in := append(AppendSettings(nil), wire...)
		wantOut, wantLog, wantErr := clientAll(in, len(in)+1)
		gotOut, gotLog, gotErr := clientAll(in, int(chunk)+1)
		if !bytes.Equal(gotOut, wantOut) || gotLog != wantLog || (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("chunk %d: output %x log %q err %v; want %x %q %v", chunk, gotOut, gotLog, gotErr, wantOut, wantLog, wantErr)
		}
	})
}

// logHandler records a client stream's events.
type logHandler struct{ log *bytes.Buffer }

func (l logHandler) OnHeaders(s *Stream, f []Field, end bool) {
	l.log.WriteString("H" + string(rune('0'+s.id)) + fieldsString(f))
}
func (l logHandler) OnData(s *Stream, p []byte, end bool) {
	l.log.WriteString("D" + string(p))
	s.Consume(len(p))
}
func (l logHandler) OnClose(s *Stream, err error) { l.log.WriteString("C") }

func fieldsString(f []Field) string {
	var b bytes.Buffer
	for _, x := range f {
		b.WriteString(x.Name + "=" + x.Value + ";")
	}
	return b.String()
}

func clientAll(in []byte, chunk int) ([]byte, string, error) {
	w := &memWriter{}
	c := NewClientConn(w, func() {}, Config{})
	c.Start()
	var log bytes.Buffer
	for range 2 {
		s, err := c.OpenStream(request("POST", "/x"), false, logHandler{&log})
		if err == nil {
			s.WriteData([]byte("hello"), true)
		}
	}
	r := &memReader{chunk: chunk}
	r.reset(in)
	var err error
	for err == nil && (r.Len() > 0 || r.more()) {
		err = c.Serve(r)
	}
	if errors.Is(err, errShort) {
		err = nil
	}
	c.Closed(nil)
	return w.buf, log.String(), err
}
