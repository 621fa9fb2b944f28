package tlsconn

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudwego/netpoll"

	"github.com/straitgw/strait/internal/testcert"
)

// testServer accepts TLS connections and serves each with on.
type testServer struct {
	addr  string
	srv   *Server
	ca    *testcert.CA
	conns chan *Conn
}

func startServer(t *testing.T, files func(dir string, ca *testcert.CA) ServerFiles, o Options, on netpoll.OnRequest) *testServer {
	t.Helper()
	ca := testcert.NewCA(t, "test CA")
	dir := t.TempDir()
	var f ServerFiles
	if files != nil {
		f = files(dir, ca)
	} else {
		cf, kf := ca.Server(t, "server").Write(t, dir, "server")
		f = ServerFiles{Default: Pair{CertFile: cf, KeyFile: kf}}
	}
	cs, err := LoadServer(f)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{addr: ln.Addr().String(), srv: NewServer(cs), ca: ca, conns: make(chan *Conn, 100)}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			raw, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				c, err := ts.srv.Handshake(raw, 5*time.Second, o)
				if err != nil {
					return
				}
				select {
				case ts.conns <- c:
				default:
				}
				c.Serve(context.Background(), on)
			})
		}
	})
	return ts
}

func (ts *testServer) dial(t *testing.T, cfg *tls.Config) *tls.Conn {
	t.Helper()
	if cfg == nil {
		cfg = testcert.ClientConfig(ts.ca, "localhost", []string{"h2"})
	}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ts.addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	return c
}

// echo answers every buffered byte with itself, in one Flush per batch.
func echo(_ context.Context, nc netpoll.Connection) error {
	r, w := nc.Reader(), nc.Writer()
	b, err := r.Next(r.Len())
	if err != nil {
		return nc.Close()
	}
	if _, err := w.WriteBinary(b); err != nil {
		return err
	}
	err = w.Flush()
	_ = r.Release()
	return err
}

// TestEcho: bytes of every size come back whole and in order, large ones
// through the background write (the client reads only after writing).
func TestEcho(t *testing.T) {
	ts := startServer(t, nil, Options{ReadTimeout: 5 * time.Second}, echo)
	c := ts.dial(t, nil)
	if p := c.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Errorf("ALPN: got %q; want h2", p)
	}
	for _, n := range []int{1, 100, 1500, 16 << 10, 100 << 10, 3 << 20} {
		msg := make([]byte, n)
		rand.Read(msg)
		errc := make(chan error, 1)
		go func() { _, err := c.Write(msg); errc <- err }()
		got := make([]byte, n)
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatalf("%d bytes: read: %v", n, err)
		}
		if err := <-errc; err != nil {
			t.Fatalf("%d bytes: write: %v", n, err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("%d bytes: echo differs", n)
		}
	}
}

// TestNextWaits: a Reader call for more bytes than are buffered reads
// them (the client sends a frame in pieces), and gives up at the read
// timeout.
func TestNextWaits(t *testing.T) {
	const frame = 10000
	got := make(chan []byte, 1)
	errs := make(chan error, 1)
	ts := startServer(t, nil, Options{ReadTimeout: 300 * time.Millisecond}, func(_ context.Context, nc netpoll.Connection) error {
		b, err := nc.Reader().Next(frame)
		if err != nil {
			errs <- err
			return nc.Close()
		}
		got <- bytes.Clone(b)
		return nc.Reader().Release()
	})
	c := ts.dial(t, nil)
	msg := make([]byte, frame)
	rand.Read(msg)
	for i := 0; i < frame; i += 1000 {
		if _, err := c.Write(msg[i : i+1000]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if b := <-got; !bytes.Equal(b, msg) {
		t.Fatal("frame differs")
	}
	if _, err := c.Write(msg[:10]); err != nil { // then nothing more
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		if !errors.Is(err, netpoll.ErrReadTimeout) {
			t.Errorf("got %v; want a read timeout", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not time out")
	}
}

// TestCloseCallbacks: a Close from OnRequest runs the callbacks after it
// returns, once; a Close from elsewhere runs them on the spot, once; and
// what was flushed before Close still reaches the client.
func TestCloseCallbacks(t *testing.T) {
	var inside, ran atomic.Int32
	var onReq atomic.Bool
	ts := startServer(t, nil, Options{}, func(_ context.Context, nc netpoll.Connection) error {
		_ = nc.AddCloseCallback(func(netpoll.Connection) error {
			if onReq.Load() {
				inside.Add(1)
			}
			ran.Add(1)
			return nil
		})
		onReq.Store(true)
		defer onReq.Store(false)
		r := nc.Reader()
		_ = r.Skip(r.Len())
		_ = r.Release()
		w := nc.Writer()
		big := bytes.Repeat([]byte("x"), 1<<20)
		_, _ = w.WriteBinary(big)
		_ = w.Flush()
		_ = nc.Close()
		_ = nc.Close()
		time.Sleep(50 * time.Millisecond) // a callback run now would count as inside
		return nil
	})
	c := ts.dial(t, nil)
	time.Sleep(100 * time.Millisecond) // the client reads late: the MiB waits in the queue
	if _, err := c.Write([]byte("go")); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil || len(b) != 1<<20 {
		t.Fatalf("read %d bytes, %v; want 1 MiB then close_notify", len(b), err)
	}
	for deadline := time.Now().Add(5 * time.Second); ran.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if inside.Load() != 0 || ran.Load() != 1 {
		t.Errorf("callbacks: %d ran, %d inside OnRequest; want 1, 0", ran.Load(), inside.Load())
	}
}

// TestCloseIdle: a Close from another goroutine while the connection
// idles runs the callbacks before it returns, once, and the client sees
// close_notify.
func TestCloseIdle(t *testing.T) {
	var ran atomic.Int32
	ts := startServer(t, nil, Options{}, func(_ context.Context, nc netpoll.Connection) error {
		_ = nc.AddCloseCallback(func(netpoll.Connection) error { ran.Add(1); return nil })
		r := nc.Reader()
		_ = r.Skip(r.Len())
		return r.Release()
	})
	c := ts.dial(t, nil)
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	sc := <-ts.conns
	time.Sleep(50 * time.Millisecond) // OnRequest has returned
	_ = sc.Close()
	_ = sc.Close()
	if ran.Load() != 1 || sc.IsActive() {
		t.Errorf("after Close: %d callbacks ran, active %v; want 1, false", ran.Load(), sc.IsActive())
	}
	if b, err := io.ReadAll(c); err != nil || len(b) != 0 {
		t.Errorf("client read %q, %v; want a clean end", b, err)
	}
	if err := sc.AddCloseCallback(func(netpoll.Connection) error { return nil }); err == nil {
		t.Error("AddCloseCallback after close: want an error")
	}
}

// TestLaggingClient: a client that stops reading makes Fits say no once
// MaxQueued bytes wait, Flush never waits below it, and the bytes all
// arrive once the client reads.
func TestLaggingClient(t *testing.T) {
	const max = 64 << 10
	ready := make(chan *Conn, 1)
	ts := startServer(t, nil, Options{MaxQueued: max, WriteTimeout: 10 * time.Second}, func(_ context.Context, nc netpoll.Connection) error {
		r := nc.Reader()
		_ = r.Skip(r.Len())
		_ = r.Release()
		ready <- nc.(*Conn)
		return nil
	})
	c := ts.dial(t, nil)
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	sc := <-ready
	chunk := bytes.Repeat([]byte("y"), 16<<10)
	sent := 0
	for deadline := time.Now().Add(10 * time.Second); sc.Fits(len(chunk)); sent += len(chunk) {
		if time.Now().After(deadline) {
			t.Fatal("Fits never said no to a client that reads nothing")
		}
		w := sc.Writer()
		_, _ = w.WriteBinary(chunk)
		start := time.Now()
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Fatalf("Flush waited %v with room in the queue", d)
		}
	}
	if q := sc.Queued(); q+len(chunk) <= max {
		t.Errorf("Queued %d: Fits should have said yes", q)
	}
	got, err := io.ReadFull(c, make([]byte, sent))
	if err != nil || got != sent {
		t.Fatalf("read %d of %d: %v", got, sent, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for sc.Queued() > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if sc.Queued() != 0 {
		t.Errorf("Queued %d after the client read everything", sc.Queued())
	}
}

// TestPanicGuard: a panic OnRequest does not recover itself is reported,
// closes the connection (its callbacks run) and leaves the process up.
func TestPanicGuard(t *testing.T) {
	reported := make(chan any, 1)
	var ran atomic.Int32
	ts := startServer(t, nil, Options{OnPanic: func(v any, stack []byte) { reported <- v }}, func(_ context.Context, nc netpoll.Connection) error {
		_ = nc.AddCloseCallback(func(netpoll.Connection) error { ran.Add(1); return nil })
		panic("boom")
	})
	c := ts.dial(t, nil)
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-reported:
		if v != "boom" {
			t.Errorf("reported %v", v)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("panic not reported")
	}
	if _, err := io.ReadAll(c); err != nil {
		t.Errorf("client: %v; want a clean close", err)
	}
	// A Close from inside OnRequest closes the socket at once and runs
	// the callbacks when OnRequest returns: the client may see EOF first.
	deadline := time.Now().Add(5 * time.Second)
	for ran.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond) // a second run would show here
	if ran.Load() != 1 {
		t.Errorf("close callbacks ran %d times; want 1", ran.Load())
	}
}
