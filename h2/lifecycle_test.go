package h2_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/straitgw/strait/h2"
)

// bigAcceptor answers every request with a body larger than the stream
// buffer and records what WriteData said.
type bigAcceptor struct {
	errs chan error
}

func (b *bigAcceptor) Accept(s *h2.Stream, f []h2.Field, end bool) h2.StreamHandler {
	if get(f, ":path") != "/big" {
		return testAcceptor{}.Accept(s, f, end)
	}
	s.WriteHeaders([]h2.Field{{Name: ":status", Value: "200"}}, false)
	chunk := make([]byte, 64<<10)
	var err error
	for i := 0; i < 64 && err == nil; i++ {
		err = s.WriteData(chunk, false)
	}
	if s.Buffered() > 256<<10 {
		err = errors.New("buffered beyond MaxStreamBuffer")
	}
	b.errs <- err
	return nil
}

// TestZeroWindowStall: a peer that never opens its window gets the stream
// reset after StallTimeout; queued output is bounded meanwhile.
func TestZeroWindowStall(t *testing.T) {
	acc := &bigAcceptor{errs: make(chan error, 1)}
	srv := startServer(t, h2.Config{StallTimeout: 200 * time.Millisecond, MaxStreamBuffer: 256 << 10}, acc)
	good := startGoodClient(srv.addr)
	a := newAttacker(t, srv.addr, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0}).read()
	a.write(func(fr *http2.Framer) error {
		return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: a.request("/big"), EndStream: true, EndHeaders: true})
	})
	if err := <-acc.errs; !errors.Is(err, h2.ErrBufferFull) {
		t.Fatalf("WriteData past the buffer: %v; want ErrBufferFull", err)
	}
	start := time.Now()
	waitFor(a, func() bool { return len(a.rsts) > 0 })
	if a.rsts[0] != http2.ErrCodeCancel || time.Since(start) > 2*time.Second {
		t.Fatalf("stalled stream: RST %v after %v; want CANCEL after ~200ms", a.rsts[0], time.Since(start))
	}
	good.check(t)
}

// TestDataDribble: one-byte window increments get one-byte DATA frames,
// never more than the window, and the stream is not reset as stalled.
func TestDataDribble(t *testing.T) {
	acc := &bigAcceptor{errs: make(chan error, 1)}
	srv := startServer(t, h2.Config{StallTimeout: time.Second, MaxStreamBuffer: 256 << 10}, acc)
	a := newAttacker(t, srv.addr, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
	a.write(func(fr *http2.Framer) error {
		return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: a.request("/big"), EndStream: true, EndHeaders: true})
	})
	<-acc.errs
	got := 0
	for i := 0; i < 40; i++ {
		a.write(func(fr *http2.Framer) error { return fr.WriteWindowUpdate(1, 1) })
		for {
			_ = a.c.SetReadDeadline(time.Now().Add(2 * time.Second))
			f, err := a.fr.ReadFrame()
			if err != nil {
				t.Fatal(err)
			}
			if d, ok := f.(*http2.DataFrame); ok {
				if len(d.Data()) != 1 {
					t.Fatalf("DATA of %d bytes with a 1-byte window", len(d.Data()))
				}
				got++
				break
			}
			if r, ok := f.(*http2.RSTStreamFrame); ok {
				t.Fatalf("dribbling stream reset: %v", r.ErrCode)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got != 40 {
		t.Fatalf("got %d DATA frames; want 40", got)
	}
}

// TestIdleConnClosed: a connection without streams is closed after
// IdleTimeout with GOAWAY NO_ERROR, even while it sends PINGs.
func TestIdleConnClosed(t *testing.T) {
	srv := startServer(t, h2.Config{IdleTimeout: 200 * time.Millisecond}, testAcceptor{})
	a := newAttacker(t, srv.addr).read()
	for i := 0; i < 100 && !a.closed(); i++ {
		a.write(func(fr *http2.Framer) error { return fr.WritePing(false, [8]byte{}) })
		time.Sleep(20 * time.Millisecond)
	}
	a.expectGoAway(http2.ErrCodeNo)
	waitConns(t, srv, 0)
}

// TestSettingsTimeout: a peer that never acknowledges our SETTINGS gets
// GOAWAY SETTINGS_TIMEOUT.
func TestSettingsTimeout(t *testing.T) {
	srv := startServer(t, h2.Config{SettingsTimeout: 200 * time.Millisecond}, testAcceptor{})
	a := newAttacker(t, srv.addr)
	a.noAck = true
	a.read().expectGoAway(http2.ErrCodeSettingsTimeout)
}

// TestServerShutdown: Shutdown sends GOAWAY(2^31-1) and a PING; a stream
// opened before the PING's ACK is still served; the final GOAWAY names
// it; in-flight streams finish, then the connection closes.
func TestServerShutdown(t *testing.T) {
	srv := startServer(t, h2.Config{}, testAcceptor{})
	a := newAttacker(t, srv.addr).read()
	a.write(func(fr *http2.Framer) error {
		return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: a.request("/echo"), EndHeaders: true})
	})
	waitFor(a, func() bool { return a.heads[1] != nil })
	srv.mu.Lock()
	for c := range srv.conns {
		c.Shutdown()
	}
	srv.mu.Unlock()
	waitFor(a, func() bool { return len(a.lasts) == 1 })
	if a.goAway.ErrCode != http2.ErrCodeNo || a.lasts[0] != 1<<31-1 {
		t.Fatalf("first GOAWAY %v last %d; want NO_ERROR last 2^31-1", a.goAway.ErrCode, a.lasts[0])
	}
	a.mu.Lock()
	a.goAway = nil // let write go on
	a.mu.Unlock()
	a.write(func(fr *http2.Framer) error { // raced with the GOAWAY: still served
		return fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: a.request("/"), EndHeaders: true, EndStream: true})
	})
	a.write(func(fr *http2.Framer) error {
		return fr.WritePing(true, [8]byte{'s', 'h', 'u', 't', 'd', 'o', 'w', 'n'})
	})
	waitFor(a, func() bool { return len(a.lasts) == 2 && a.heads[3] != nil })
	if a.lasts[1] != 3 {
		t.Fatalf("final GOAWAY last %d; want 3", a.lasts[1])
	}
	if a.closed() {
		t.Fatal("closed with a stream in flight")
	}
	a.mu.Lock()
	a.goAway = nil
	a.mu.Unlock()
	a.write(func(fr *http2.Framer) error { return fr.WriteData(1, true, bytes.Repeat([]byte{'z'}, 10)) })
	select {
	case <-a.done:
	case <-time.After(5 * time.Second):
		t.Fatal("connection not closed after the last stream ended")
	}
	waitConns(t, srv, 0)
}

// stubborn never consumes what it receives.
type stubborn struct{}

func (stubborn) Accept(s *h2.Stream, f []h2.Field, end bool) h2.StreamHandler { return stubborn{} }
func (stubborn) OnHeaders(*h2.Stream, []h2.Field, bool)                       {}
func (stubborn) OnData(*h2.Stream, []byte, bool)                              {}
func (stubborn) OnClose(*h2.Stream, error)                                    {}

// TestPeerIgnoresWindow: a handler that stops consuming bounds what the
// peer may send on its stream (past the stream window: RST_STREAM
// FLOW_CONTROL_ERROR), but not on the others: the connection window comes
// back as frames arrive, so streams whose handlers hold their bytes never
// stall the connection (their windows bound what it holds).
func TestPeerIgnoresWindow(t *testing.T) {
	srv := startServer(t, h2.Config{InitialWindowSize: 32 << 10, ConnWindowSize: 100 << 10}, stubborn{})
	a := newAttacker(t, srv.addr).read()
	chunk := make([]byte, 16<<10)
	a.write(func(fr *http2.Framer) error {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: a.request("/"), EndHeaders: true})
		for i := 0; i < 3; i++ { // 48 KiB into a 32 KiB window
			fr.WriteData(1, false, chunk)
		}
		return nil
	})
	waitFor(a, func() bool { return len(a.rsts) > 0 })
	if a.rsts[0] != http2.ErrCodeFlowControl {
		t.Fatalf("RST %v; want FLOW_CONTROL_ERROR", a.rsts[0])
	}
	// 20 streams x 16 KiB: 320 KiB held by handlers, 3x the connection
	// window, each stream within its own.
	for id := uint32(3); id < 43; id += 2 {
		a.write(func(fr *http2.Framer) error {
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: a.request("/"), EndHeaders: true})
			return fr.WriteData(id, false, chunk)
		})
	}
	a.write(func(fr *http2.Framer) error { return fr.WritePing(false, [8]byte{1}) })
	waitFor(a, func() bool { return a.pings > 0 || a.goAway != nil })
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.goAway != nil || len(a.rsts) != 1 {
		t.Fatalf("GOAWAY %v, %d resets; want the connection open and only the first stream reset", a.goAway, len(a.rsts))
	}
}
