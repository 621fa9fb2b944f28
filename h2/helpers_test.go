package h2_test

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudwego/netpoll"

	"github.com/straitgw/strait/h2"
)

type ctxKey struct{}

// server is a netpoll HTTP/2 server on loopback built on h2.Conn.
type server struct {
	addr  string
	loop  netpoll.EventLoop
	mu    sync.Mutex
	conns map[*h2.Conn]struct{}
	errs  chan error // Serve errors, non-blocking
	open  atomic.Int64
}

func startServer(t testing.TB, cfg h2.Config, acc h2.Acceptor) *server {
	t.Helper()
	ln, err := netpoll.CreateListener("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &server{addr: ln.Addr().String(), conns: map[*h2.Conn]struct{}{}, errs: make(chan error, 1024)}
	onConnect := func(ctx context.Context, nc netpoll.Connection) context.Context {
		_ = nc.SetReadTimeout(5 * time.Second)
		_ = nc.SetWriteTimeout(5 * time.Second)
		c := h2.NewServerConn(nc.Writer(), func() { nc.Close() }, acc, cfg)
		srv.mu.Lock()
		srv.conns[c] = struct{}{}
		srv.mu.Unlock()
		srv.open.Add(1)
		_ = nc.AddCloseCallback(func(netpoll.Connection) error {
			c.Closed(nil)
			srv.mu.Lock()
			delete(srv.conns, c)
			srv.mu.Unlock()
			srv.open.Add(-1)
			return nil
		})
		if err := c.Start(); err != nil {
			nc.Close()
		}
		return context.WithValue(ctx, ctxKey{}, c)
	}
	onRequest := func(ctx context.Context, nc netpoll.Connection) error {
		c := ctx.Value(ctxKey{}).(*h2.Conn)
		if err := c.Serve(nc.Reader()); err != nil {
			select {
			case srv.errs <- err:
			default:
			}
			nc.Close()
		}
		return nil
	}
	loop, err := netpoll.NewEventLoop(onRequest, netpoll.WithOnConnect(onConnect))
	if err != nil {
		t.Fatal(err)
	}
	srv.loop = loop
	go loop.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = loop.Shutdown(ctx)
	})
	return srv
}

// dialClient connects an h2.Conn client over netpoll.
func dialClient(t testing.TB, addr string, cfg h2.Config) (*h2.Conn, netpoll.Connection) {
	t.Helper()
	// netpoll's dial has been seen to fail at once with "connection has
	// been closed by peer" on a loaded machine, against a listener that
	// is up: a dial is not what these tests test, so it gets three tries.
	var nc netpoll.Connection
	var err error
	for try := 0; try < 3; try++ {
		if nc, err = netpoll.DialConnection("tcp", addr, time.Second); err == nil {
			break
		}
		t.Logf("dial %s: %v", addr, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	_ = nc.SetReadTimeout(5 * time.Second)
	_ = nc.SetWriteTimeout(5 * time.Second)
	c := h2.NewClientConn(nc.Writer(), func() { nc.Close() }, cfg)
	_ = nc.SetOnRequest(func(_ context.Context, nc netpoll.Connection) error {
		if err := c.Serve(nc.Reader()); err != nil {
			nc.Close()
		}
		return nil
	})
	_ = nc.AddCloseCallback(func(netpoll.Connection) error {
		c.Closed(nil)
		return nil
	})
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return c, nc
}

func get(fields []h2.Field, name string) string {
	for _, f := range fields {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// testAcceptor answers GET / (and anything unknown) with a JSON 404 and
// echoes /echo bodies back with a trailer.
type testAcceptor struct{}

const notFound = `{"code":5,"message":"not found"}`

func (testAcceptor) Accept(s *h2.Stream, fields []h2.Field, end bool) h2.StreamHandler {
	if get(fields, ":path") == "/echo" {
		_ = s.WriteHeaders([]h2.Field{{Name: ":status", Value: "200"}}, false)
		if end {
			_ = s.WriteHeaders([]h2.Field{{Name: "x-echo", Value: "0"}}, true)
		}
		return &echoHandler{}
	}
	_ = s.WriteHeaders([]h2.Field{{Name: ":status", Value: "404"},
		{Name: "content-type", Value: "application/json"}}, false)
	_ = s.WriteData([]byte(notFound), true)
	return nil
}

type echoHandler struct{ n int }

func (*echoHandler) OnHeaders(s *h2.Stream, f []h2.Field, end bool) {}
func (e *echoHandler) OnData(s *h2.Stream, p []byte, end bool) {
	e.n += len(p)
	if err := s.WriteData(p, false); err != nil {
		s.Reset(h2.ErrCodeInternal)
		return
	}
	s.Consume(len(p))
	if end {
		_ = s.WriteHeaders([]h2.Field{{Name: "x-echo", Value: itoa(e.n)}}, true)
	}
}
func (*echoHandler) OnClose(s *h2.Stream, err error) {}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}

func plainDial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}
