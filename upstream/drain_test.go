package upstream

import (
	"errors"
	"testing"
	"time"

	"github.com/straitgw/strait/h2"
)

// TestGoAwayDrain: after the server's GOAWAY, streams above its last id
// fail with h2.GoAwayError (provably unprocessed), the streams below
// finish, the connection takes no new stream, a new one is dialed for
// the next, and the drained connection's close is no failure.
func TestGoAwayDrain(t *testing.T) {
	peer := startPeer(t, true)
	p := newPool(t, []string{peer.addr}, Config{})
	e := byAddr(p, peer.addr)
	c1, c3 := newCall(), newCall()
	r1, r3 := echoRequest(c1), echoRequest(c3)
	r1.End, r3.End = true, true // no body: the response ends the stream
	s1, _, err := open(t, p, r1)
	if err != nil {
		t.Fatal(err)
	}
	first := peer.next(t)
	s3, _, err := p.Open(nil, r3)
	if err != nil {
		t.Fatal(err)
	}
	if got := [2]uint32{first.stream(t), first.stream(t)}; got != [2]uint32{s1.ID(), s3.ID()} {
		t.Fatalf("streams at the peer: got %v; want %v", got, [2]uint32{s1.ID(), s3.ID()})
	}
	first.goAway(s1.ID())
	_, err = c3.result(t)
	var ge h2.GoAwayError
	if !errors.As(err, &ge) || ge.LastStreamID != s1.ID() {
		t.Fatalf("stream above the last id: %v; want GoAwayError last %d", err, s1.ID())
	}
	s5, _, err := open(t, p, echoRequest(newCall()))
	if err != nil {
		t.Fatal(err)
	}
	if s5.Conn() == s1.Conn() {
		t.Fatal("a stream opened on the drained connection")
	}
	second := peer.next(t)
	if got := second.stream(t); got != s5.ID() {
		t.Fatalf("new connection's stream: got %d; want %d", got, s5.ID())
	}
	first.respond(s1.ID())
	if st, err := c1.result(t); st != "0" || err != nil {
		t.Fatalf("stream below the last id: %q, %v; want 0, nil", st, err)
	}
	waitFor(t, 5*time.Second, "drained connection closed", func() bool { return e.stats().Conns == 1 })
	if got := [2]int{int(peer.accepted.Load()), int(e.failures.Load())}; got != [2]int{2, 0} {
		t.Fatalf("connections, failures: got %v; want [2 0]", got)
	}
}

// TestKeepAliveDropsConn: a connection whose PING goes unanswered is
// closed, its streams fail with h2.ErrPingTimeout, the pool forgets it
// and counts a failure of the endpoint.
func TestKeepAliveDropsConn(t *testing.T) {
	peer := startPeer(t, false)
	p := newPool(t, []string{peer.addr}, Config{H2: h2.Config{KeepAlive: 50 * time.Millisecond, PingTimeout: 100 * time.Millisecond}})
	e := byAddr(p, peer.addr)
	c := newCall()
	if _, _, err := open(t, p, echoRequest(c)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.result(t); !errors.Is(err, h2.ErrPingTimeout) {
		t.Fatalf("stream on a hung connection: %v; want ErrPingTimeout", err)
	}
	waitFor(t, 5*time.Second, "connection dropped", func() bool { return e.stats().Conns == 0 })
	waitFor(t, time.Second, "failure counted", func() bool { return e.failures.Load() == 1 })
}

// TestClose: Close refuses new streams and wakes parked requests, while
// a stream in flight finishes.
func TestClose(t *testing.T) {
	up, release := holding(t)
	hung := blackhole(t)
	p := NewPool([]string{up}, Config{})
	c := newCall()
	startEcho(t, p, echoRequest(c))
	q := NewPool([]string{hung}, Config{})
	woken := make(chan struct{})
	r := echoRequest(newCall())
	r.Wake = func() { close(woken) }
	if _, _, err := q.Open(nil, r); !errors.Is(err, ErrPending) {
		t.Fatalf("Open on a hung endpoint: %v; want ErrPending", err)
	}
	p.Close()
	q.Close()
	select {
	case <-woken:
	case <-time.After(time.Second):
		t.Fatal("a parked request was not woken by Close")
	}
	for _, pool := range []*Pool{p, q} {
		if _, _, err := pool.Open(nil, echoRequest(newCall())); !errors.Is(err, ErrClosed) {
			t.Fatalf("Open after Close: %v; want ErrClosed", err)
		}
	}
	release()
	if st, err := c.result(t); st != "0" || err != nil {
		t.Fatalf("stream in flight across Close: %q, %v; want 0, nil", st, err)
	}
}
