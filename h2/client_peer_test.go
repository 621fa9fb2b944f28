package h2_test

import (
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/straitgw/strait/h2"
)

// rawPeer is a scripted HTTP/2 server for client-side tests.
type rawPeer struct {
	t      testing.TB
	addr   string
	conn   chan net.Conn
	c      net.Conn
	fr     *http2.Framer
	mu     sync.Mutex
	frames chan http2.Frame
	enc    *hpack.Encoder
	hbuf   writerBuf
}

type writerBuf struct{ b []byte }

func (w *writerBuf) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

func newRawPeer(t testing.TB) *rawPeer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &rawPeer{t: t, addr: ln.Addr().String(), conn: make(chan net.Conn, 4), frames: make(chan http2.Frame, 1024)}
	p.enc = hpack.NewEncoder(&p.hbuf)
	go func() { // every connection: a dial that failed may have been tried again (dialClient)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.conn <- c
		}
	}()
	return p
}

// more waits up to a second for another connection.
func (p *rawPeer) more() bool {
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if len(p.conn) > 0 {
			return true
		}
	}
	return false
}

// accept completes the handshake with our settings and starts reading.
func (p *rawPeer) accept(settings ...http2.Setting) {
	p.t.Helper()
	buf := make([]byte, len(http2.ClientPreface))
	for {
		select {
		case p.c = <-p.conn:
		case <-time.After(5 * time.Second):
			p.t.Fatal("client did not connect")
		}
		p.t.Cleanup(func() { p.c.Close() })
		_, err := io.ReadFull(p.c, buf)
		if err == nil && string(buf) == http2.ClientPreface {
			break
		}
		if err == nil || len(p.conn) == 0 && !p.more() {
			p.t.Fatalf("preface %q %v", buf, err)
		}
		p.t.Logf("a connection closed before its preface (%v): the next one", err)
	}
	p.fr = http2.NewFramer(p.c, p.c)
	p.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	p.fr.WriteSettings(settings...)
	go func() {
		defer close(p.frames)
		for {
			f, err := p.fr.ReadFrame()
			if err != nil {
				return
			}
			if s, ok := f.(*http2.SettingsFrame); ok && !s.IsAck() {
				p.do(func(fr *http2.Framer) error { return fr.WriteSettingsAck() })
				continue
			}
			if d, ok := f.(*http2.DataFrame); ok { // Data is only valid until the next read
				f = &dataCopy{id: d.StreamID, p: append([]byte(nil), d.Data()...), end: d.StreamEnded()}
			}
			p.frames <- f
		}
	}()
}

type dataCopy struct {
	http2.FrameHeader
	id  uint32
	p   []byte
	end bool
}

func (p *rawPeer) do(fn func(fr *http2.Framer) error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn(p.fr)
}

// next returns the next frame the client sent that satisfies keep.
func (p *rawPeer) next(keep func(http2.Frame) bool) http2.Frame {
	p.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case f, ok := <-p.frames:
			if !ok {
				return nil
			}
			if keep(f) {
				return f
			}
		case <-timeout:
			p.t.Fatal("no matching frame from the client")
		}
	}
}

func (p *rawPeer) respond(id uint32, end bool, fields ...hpack.HeaderField) {
	p.do(func(fr *http2.Framer) error {
		p.hbuf.b = p.hbuf.b[:0]
		for _, f := range fields {
			p.enc.WriteField(f)
		}
		return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: p.hbuf.b, EndHeaders: true, EndStream: end})
	})
}

func isHeaders(f http2.Frame) bool { _, ok := f.(*http2.MetaHeadersFrame); return ok }

// TestClientHonorsPeerSettings: the peer's stream limit caps Available and
// OpenStream, and its window caps what DATA is sent.
func TestClientHonorsPeerSettings(t *testing.T) {
	p := newRawPeer(t)
	c, _ := dialClient(t, p.addr, h2.Config{})
	p.accept(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 2},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: 10},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: 1000})
	deadline := time.Now().Add(5 * time.Second)
	for c.Available() != 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := c.Available(); got != 2 {
		t.Fatalf("Available() = %d; want 2", got)
	}
	big := append(reqFields("GET", "/"), h2.Field{Name: "x-big", Value: strings.Repeat("b", 1000)})
	if _, err := c.OpenStream(big, true, nil); !errors.Is(err, h2.ErrHeaderListTooLong) {
		t.Fatalf("header list over the peer's limit: %v; want ErrHeaderListTooLong", err)
	}
	r1, r2 := newResult(), newResult()
	s1 := openRetry(t, c, reqFields("POST", "/a"), false, r1)
	openRetry(t, c, reqFields("POST", "/b"), false, r2)
	if _, err := c.OpenStream(reqFields("GET", "/c"), true, newResult()); !errors.Is(err, h2.ErrNoStreamSlot) {
		t.Fatalf("third stream: %v; want ErrNoStreamSlot", err)
	}
	if err := s1.WriteData(make([]byte, 100), true); err != nil {
		t.Fatal(err)
	}
	d := p.next(func(f http2.Frame) bool { _, ok := f.(*dataCopy); return ok }).(*dataCopy)
	if len(d.p) != 10 || s1.Buffered() != 90 {
		t.Fatalf("sent %d bytes, %d buffered; want 10 and 90", len(d.p), s1.Buffered())
	}
	p.do(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(s1.ID(), 90) })
	p.do(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(0, 1000) })
	d = p.next(func(f http2.Frame) bool { _, ok := f.(*dataCopy); return ok }).(*dataCopy)
	if len(d.p) != 90 || !d.end {
		t.Fatalf("after WINDOW_UPDATE: %d bytes end=%v; want 90 with END_STREAM", len(d.p), d.end)
	}
}

// TestClientGoAway: streams above the peer's last id fail with a
// GoAwayError at once, the rest finish, no new stream opens, and the
// connection closes when the last one ends.
func TestClientGoAway(t *testing.T) {
	p := newRawPeer(t)
	c, nc := dialClient(t, p.addr, h2.Config{})
	p.accept()
	r1, r3 := newResult(), newResult()
	openRetry(t, c, reqFields("GET", "/1"), true, r1)
	openRetry(t, c, reqFields("GET", "/3"), true, r3)
	p.next(isHeaders)
	p.next(isHeaders)
	p.do(func(fr *http2.Framer) error { return fr.WriteGoAway(1, http2.ErrCodeNo, nil) })
	r3.wait(t)
	var ge h2.GoAwayError
	if !errors.As(r3.err, &ge) || ge.LastStreamID != 1 {
		t.Fatalf("stream 3: %v; want GoAwayError last 1", r3.err)
	}
	if n := c.Available(); n != 0 {
		t.Fatalf("Available() = %d after GOAWAY; want 0", n)
	}
	if _, err := c.OpenStream(reqFields("GET", "/5"), true, nil); !errors.Is(err, h2.ErrConnClosing) {
		t.Fatalf("OpenStream after GOAWAY: %v; want ErrConnClosing", err)
	}
	p.respond(1, true, hpack.HeaderField{Name: ":status", Value: "204"})
	r1.wait(t)
	if r1.err != nil || r1.status != "204" {
		t.Fatalf("stream 1: %v %q; want clean 204", r1.err, r1.status)
	}
	for deadline := time.Now().Add(5 * time.Second); nc.IsActive(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("drained connection not closed")
		}
	}
}

// TestClientKeepAlive: an idle connection is PINGed after KeepAlive;
// when the PINGs of a stream in flight stop being answered the
// connection is closed and its streams fail (TestClientIdlePing and
// TestClientPingSchedule have when PINGs go out).
func TestClientKeepAlive(t *testing.T) {
	p := newRawPeer(t)
	c, nc := dialClient(t, p.addr, h2.Config{KeepAlive: 50 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
	p.accept()
	f := p.next(func(f http2.Frame) bool { _, ok := f.(*http2.PingFrame); return ok }).(*http2.PingFrame)
	p.do(func(fr *http2.Framer) error { return fr.WritePing(true, f.Data) })
	if !nc.IsActive() || c.Available() == 0 {
		t.Fatal("answered keepalive closed the connection")
	}
	r := newResult()
	openRetry(t, c, reqFields("GET", "/hang"), true, r)
	r.wait(t) // PINGs now go unanswered
	if r.err == nil {
		t.Fatal("stream on a dead connection ended cleanly")
	}
	for deadline := time.Now().Add(5 * time.Second); nc.IsActive(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("connection still open after PingTimeout")
		}
	}
}

// TestClientReady: OnReady runs once, only after the peer's first
// SETTINGS; Active counts our open streams; Draining turns on with the
// peer's GOAWAY (a full connection is not draining); Err stays nil
// through a graceful drain and names a keepalive timeout.
func TestClientReady(t *testing.T) {
	p := newRawPeer(t)
	var ready sync.WaitGroup
	ready.Add(1)
	var calls atomic.Int32
	c, _ := dialClient(t, p.addr, h2.Config{OnReady: func() { calls.Add(1); ready.Done() },
		KeepAlive: 50 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
	time.Sleep(20 * time.Millisecond)
	if got := int(calls.Load()); got != 0 {
		t.Fatalf("OnReady ran %d times before the peer's SETTINGS; want 0", got)
	}
	p.accept(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 1})
	ready.Wait()
	r := newResult()
	openRetry(t, c, reqFields("GET", "/1"), true, r)
	p.next(isHeaders)
	p.do(func(fr *http2.Framer) error { return fr.WriteSettings() }) // a second SETTINGS: no second OnReady
	p.next(func(f http2.Frame) bool { _, ok := f.(*http2.PingFrame); return ok })
	if got, want := [3]any{int(calls.Load()), c.Active(), c.Draining()}, [3]any{1, 1, false}; got != want {
		t.Fatalf("OnReady calls, Active, Draining = %v; want %v", got, want)
	}
	p.do(func(fr *http2.Framer) error { return fr.WriteGoAway(1, http2.ErrCodeNo, nil) })
	for deadline := time.Now().Add(5 * time.Second); !c.Draining(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("GOAWAY did not make the connection draining")
		}
	}
	if err := c.Err(); err != nil {
		t.Fatalf("Err() after GOAWAY = %v; want nil", err)
	}
	r.wait(t) // the PINGs go unanswered
	if got := c.Err(); !errors.Is(got, h2.ErrPingTimeout) {
		t.Fatalf("Err() after an unanswered PING = %v; want ErrPingTimeout", got)
	}
	if got, want := [2]any{int(calls.Load()), c.Active()}, [2]any{1, 0}; got != want {
		t.Fatalf("OnReady calls, Active = %v; want %v", got, want)
	}
}

// TestClientKeepAliveBusyReading: a connection whose input keeps Serve
// busy for longer than PingTimeout (a burst its handlers take a while
// over, as an upstream connection's worker does under load) is not
// silent: it is neither pinged as if it were nor closed because the
// ACK of a PING waits behind that input. Before, the watchdog knew of
// reads only when Serve returned, and closed a live connection with
// every stream on it ("keepalive ping not answered in time").
func TestClientKeepAliveBusyReading(t *testing.T) {
	const frames, pause = 40, 60 * time.Millisecond // 2.4s of Serve
	p := newRawPeer(t)
	c, nc := dialClient(t, p.addr, h2.Config{KeepAlive: time.Minute, PingTimeout: time.Second})
	p.accept()
	go func() { // answer every PING at once, as a live backend does
		for f := range p.frames {
			if f, ok := f.(*http2.PingFrame); ok && !f.IsAck() {
				p.do(func(fr *http2.Framer) error { return fr.WritePing(true, f.Data) })
			}
		}
	}()
	r := &slowResult{result: newResult(), pause: pause}
	s := openRetry(t, c, reqFields("GET", "/burst"), true, r)
	p.respond(s.ID(), false, hpack.HeaderField{Name: ":status", Value: "200"})
	chunk := make([]byte, 16<<10)
	p.do(func(fr *http2.Framer) error {
		for i := 0; i < frames; i++ {
			if err := fr.WriteData(s.ID(), i == frames-1, chunk); err != nil {
				return err
			}
		}
		return nil
	})
	r.wait(t)
	r.mu.Lock() // a failed connection's OnClose may come while OnData sleeps
	err, n := r.err, r.body.Len()
	r.mu.Unlock()
	if err != nil || n != frames*len(chunk) {
		t.Fatalf("stream ended with %v after %d of %d bytes; want nil after all", err, n, frames*len(chunk))
	}
	if !nc.IsActive() || c.Err() != nil {
		t.Fatalf("connection closed (%v) while its input was being handled", c.Err())
	}
}

// slowResult is a result whose OnData takes pause per frame.
type slowResult struct {
	*result
	pause time.Duration
}

func (r *slowResult) OnData(s *h2.Stream, p []byte, end bool) {
	time.Sleep(r.pause)
	r.result.OnData(s, p, end)
}
