package upstream

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"google.golang.org/grpc"

	"github.com/straitgw/strait/h2"
)

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	n atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// TestSilentCallGRPCDefaultPolicy: a grpc-go server with its default
// keepalive enforcement (grpc.NewServer without keepalive options)
// answers a call after 3s of silence, and the call succeeds on the
// connection it started on. Before, the pool's connection pinged every
// 500ms of silence with a stream open; grpc-go struck each PING and at
// the third strike (~2s) sent GOAWAY ENHANCE_YOUR_CALM "too_many_pings",
// closed the connection and the call failed.
func TestSilentCallGRPCDefaultPolicy(t *testing.T) {
	ln := &countingListener{Listener: listen(t)}
	srv := grpc.NewServer(grpc.ForceServerCodec(bytesCodec{}), grpc.UnknownServiceHandler(func(_ any, ss grpc.ServerStream) error {
		var req []byte
		if err := ss.RecvMsg(&req); err != nil {
			return err
		}
		time.Sleep(3 * time.Second)
		return ss.SendMsg(&req)
	}))
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	// The engine's keepalive defaults but PingTimeout, which keeps the
	// watchdog's tick short, so the old schedule reached the third strike
	// well within the call.
	p := newPool(t, []string{ln.Addr().String()}, Config{H2: h2.Config{KeepAlive: 10 * time.Second, PingTimeout: time.Second}})
	start := time.Now()
	c := newCall()
	startEcho(t, p, echoRequest(c))
	if st, err := c.result(t); st != "0" || err != nil {
		t.Fatalf("call answered after 3s of silence: grpc-status %q, %v after %v; want 0, nil", st, err, time.Since(start))
	}
	got := [2]any{int(ln.n.Load()), time.Duration(p.pingMin.Load())}
	if want := [2]any{1, h2.DefaultPingMinInterval}; got != want {
		t.Fatalf("connections accepted, PING interval: got %v; want %v", got, want)
	}
}

// TestTooManyPingsSlowsPings: a backend that ends a connection with
// GOAWAY ENHANCE_YOUR_CALM "too_many_pings" doubles the pool's PING
// interval for the connections dialed after it, once for the
// connections told so together.
func TestTooManyPingsSlowsPings(t *testing.T) {
	peer := startPeer(t, true)
	p := newPool(t, []string{peer.addr}, Config{ConnsPerEndpoint: 1})
	e := byAddr(p, peer.addr)
	for _, want := range []time.Duration{10 * time.Minute, 20 * time.Minute} {
		r := echoRequest(newCall())
		r.End = true
		s, _, err := open(t, p, r)
		if err != nil {
			t.Fatal(err)
		}
		pc := peer.next(t)
		pc.write(func(fr *http2.Framer) error {
			return fr.WriteGoAway(s.ID(), http2.ErrCodeEnhanceYourCalm, []byte("too_many_pings"))
		})
		pc.c.Close()
		waitFor(t, 5*time.Second, "connection closed", func() bool { return e.stats().Conns == 0 })
		p.pingLess(want / 2) // a second connection made with the same interval
		if got := time.Duration(p.pingMin.Load()); got != want {
			t.Fatalf("PING interval after too_many_pings: got %v; want %v", got, want)
		}
	}
	s, _, err := open(t, p, echoRequest(newCall()))
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := byConn.Load(s.Conn()); c.(*clientConn).pingMin != 20*time.Minute {
		t.Fatalf("new connection's PingMinInterval: got %v; want 20m", c.(*clientConn).pingMin)
	}
}
