package upstream

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/internal/testutil"
)

// listen opens a loopback listener closed with the test.
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// listenOn listens on addr (a port that was free a moment ago).
func listenOn(t *testing.T, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// atomicBytes is a value a test server reads while the test changes it.
type atomicBytes struct {
	mu sync.Mutex
	b  []byte
}

func (a *atomicBytes) set(b []byte) { a.mu.Lock(); a.b = b; a.mu.Unlock() }
func (a *atomicBytes) get() []byte  { a.mu.Lock(); defer a.mu.Unlock(); return a.b }

// acceptLoop runs fn on every connection ln accepts and counts them; the
// connections are closed with the test.
func acceptLoop(t *testing.T, ln net.Listener, fn func(net.Conn)) *atomic.Int32 {
	var n atomic.Int32
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go fn(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return &n
}

// blackhole accepts TCP connections and never says a word, like a backend
// whose process hangs.
func blackhole(t *testing.T) string {
	ln := listen(t)
	acceptLoop(t, ln, func(net.Conn) {})
	return ln.Addr().String()
}

// closer accepts and closes at once, like a backend shedding connections.
func closer(t *testing.T) string {
	ln := listen(t)
	acceptLoop(t, ln, func(c net.Conn) { c.Close() })
	return ln.Addr().String()
}

// refusing is an address nothing listens on: connect is refused.
func refusing(t *testing.T) string {
	return testutil.FreeAddr(t)
}

// serving is a grpc-go upstream whose health service says SERVING and
// whose other methods echo.
func serving(t *testing.T) string {
	return testutil.StartRawUpstream(t, func(c *testutil.Call) ([]byte, error) {
		if c.Method == healthPath {
			return []byte{0x08, 0x01}, nil
		}
		return c.Req, nil
	})
}

// holding is a grpc-go upstream whose calls wait until release is closed,
// so their streams stay active.
func holding(t *testing.T) (addr string, release func()) {
	ch := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(ch) }) }
	t.Cleanup(release)
	addr = testutil.StartRawUpstream(t, func(c *testutil.Call) ([]byte, error) {
		select {
		case <-ch:
		case <-c.Stream.Context().Done():
			return nil, status.Error(codes.Canceled, "gone")
		}
		return c.Req, nil
	})
	return addr, release
}

// delayed forwards to target after holding each connection for d before
// a byte moves, like a backend slow to accept; it counts connections.
func delayed(t *testing.T, target string, d time.Duration) (string, *atomic.Int32) {
	ln := listen(t)
	return ln.Addr().String(), proxy(t, ln, target, d)
}

// proxy forwards what ln accepts to target, after d.
func proxy(t *testing.T, ln net.Listener, target string, d time.Duration) *atomic.Int32 {
	return acceptLoop(t, ln, func(c net.Conn) {
		time.Sleep(d)
		up, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			return
		}
		go func() { io.Copy(up, c); up.Close() }()
		io.Copy(c, up)
		c.Close()
	})
}

func newPool(t *testing.T, addrs []string, cfg Config) *Pool {
	t.Helper()
	p := NewPool(addrs, cfg)
	t.Cleanup(p.Close)
	return p
}

// waitFor polls cond every few milliseconds for at most d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, d)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitConns waits until every endpoint has a ready connection.
func waitConns(t *testing.T, p *Pool, n int) {
	t.Helper()
	waitFor(t, 5*time.Second, "every endpoint ready", func() bool {
		eps := p.endpoints()
		for _, e := range eps {
			if !e.ready() {
				return false
			}
		}
		return len(eps) == n
	})
}

// open calls Open until it answers something other than ErrPending,
// waiting for each Wake (bounded in count and time).
func open(t *testing.T, p *Pool, r *Request) (*h2.Stream, *Endpoint, error) {
	t.Helper()
	for range 20 {
		woken := make(chan struct{})
		r.Wake = func() { close(woken) }
		s, e, err := p.Open(nil, r)
		if !errors.Is(err, ErrPending) {
			return s, e, err
		}
		select {
		case <-woken:
		case <-time.After(10 * time.Second):
			t.Fatal("Wake not called within 10s of ErrPending")
		}
	}
	t.Fatal("still ErrPending after 20 wakes")
	return nil, nil, nil
}

// call is a unary gRPC call's handler: it records the response.
type call struct {
	mu     sync.Mutex
	status string
	data   []byte
	err    error
	done   chan struct{}
}

func newCall() *call { return &call{done: make(chan struct{})} }

func (c *call) OnHeaders(_ *h2.Stream, fields []h2.Field, end bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range fields {
		if f.Name == "grpc-status" {
			c.status = f.Value
		}
	}
}

func (c *call) OnData(s *h2.Stream, p []byte, _ bool) {
	c.mu.Lock()
	c.data = append(c.data, p...)
	c.mu.Unlock()
	s.Consume(len(p))
}

func (c *call) OnClose(_ *h2.Stream, err error) {
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
	close(c.done)
}

// result waits for the call's end.
func (c *call) result(t *testing.T) (string, error) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatal("call did not end within 10s")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status, c.err
}

// echoRequest is a unary call to a test method; send its body with
// startEcho.
func echoRequest(h h2.StreamHandler) *Request {
	return &Request{Handler: h, Fields: []h2.Field{
		{Name: ":method", Value: "POST"}, {Name: ":scheme", Value: "http"},
		{Name: ":path", Value: "/test.Echo/Echo"}, {Name: ":authority", Value: "test"},
		{Name: "content-type", Value: "application/grpc"}, {Name: "te", Value: "trailers"},
	}}
}

// startEcho opens an echo call and sends its one message.
func startEcho(t *testing.T, p *Pool, r *Request) (*h2.Stream, *Endpoint) {
	t.Helper()
	s, e, err := open(t, p, r)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if err := s.WriteData([]byte{0, 0, 0, 0, 2, 0x08, 0x01}, true); err != nil {
		t.Fatalf("write: %v", err)
	}
	return s, e
}

// echo runs one unary call to completion and returns where it went.
func echo(t *testing.T, p *Pool) *Endpoint {
	t.Helper()
	c := newCall()
	_, e := startEcho(t, p, echoRequest(c))
	if st, err := c.result(t); st != "0" || err != nil {
		t.Fatalf("echo on %s: grpc-status %q, %v; want 0, nil", e.Addr(), st, err)
	}
	return e
}

// byAddr finds an endpoint.
func byAddr(p *Pool, addr string) *Endpoint {
	for _, e := range p.endpoints() {
		if e.addr == addr {
			return e
		}
	}
	return nil
}
