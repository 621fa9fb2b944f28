package upstream

import (
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/straitgw/strait/h2"
)

// bytesCodec passes messages through, so a test server needs no protos.
type bytesCodec struct{}

func (bytesCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (bytesCodec) Unmarshal(b []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), b...)
	return nil
}
func (bytesCodec) Name() string { return "proto" }

// seen records the call ids some backend received.
type seen struct{ m sync.Map }

// grpcOn serves echo on ln with grpc-go, recording every id it receives.
func grpcOn(t *testing.T, ln net.Listener, ids *seen) *grpc.Server {
	srv := grpc.NewServer(grpc.ForceServerCodec(bytesCodec{}), grpc.UnknownServiceHandler(func(_ any, ss grpc.ServerStream) error {
		var req []byte
		if err := ss.RecvMsg(&req); err != nil {
			return err
		}
		ids.m.Store(string(req), true)
		return ss.SendMsg(&req)
	}))
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return srv
}

// provablyUnsent reports whether a stream's failure shows that no backend
// processed it, so an engine may retry it elsewhere (RFC 9113 §8.7). An
// error from Open itself always means nothing was sent.
func provablyUnsent(err error) bool {
	var ge h2.GoAwayError
	var se h2.StreamError
	return errors.Is(err, ErrDial) || errors.Is(err, ErrNoEndpoint) || errors.Is(err, ErrFull) ||
		errors.As(err, &ge) || (errors.As(err, &se) && se.Code == h2.ErrCodeRefusedStream)
}

// TestWorstDay: under the defaults, with three endpoints, one that hangs
// (accepts TCP, never speaks), one that restarts (GOAWAY, refused while
// down, back on the same port) and one that dies (closed without GOAWAY,
// between bursts), no call fails that no backend saw, with the retry an
// engine makes for provably unprocessed calls (Exclude the endpoint).
// Calls go on under load throughout but for the death's instant.
func TestWorstDay(t *testing.T) {
	var ids seen
	hung := blackhole(t)
	lnA, lnB := listen(t), listen(t)
	srvA, srvB := grpcOn(t, lnA, &ids), grpcOn(t, lnB, &ids)
	p := newPool(t, []string{hung, lnA.Addr().String(), lnB.Addr().String()}, Config{})
	p.Warm()
	var gate sync.RWMutex // held by a worker per call, by the test to pause
	var stop atomic.Bool
	var next, done atomic.Int64
	var mu sync.Mutex
	var lost []error
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				gate.RLock()
				id := make([]byte, 8)
				binary.BigEndian.PutUint64(id, uint64(next.Add(1)))
				if err := callRetrying(t, p, id); err != nil {
					if _, ok := ids.m.Load(string(id)); !ok {
						mu.Lock()
						lost = append(lost, err)
						mu.Unlock()
					}
				}
				done.Add(1)
				gate.RUnlock()
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	srvB.GracefulStop() // restart: GOAWAY, then refused for a while
	time.Sleep(500 * time.Millisecond)
	grpcOn(t, listenOn(t, lnB.Addr().String()), &ids)
	eb := byAddr(p, lnB.Addr().String())
	waitFor(t, 10*time.Second, "the restarted endpoint back", eb.ready) // one death at a time
	gate.Lock()
	srvA.Stop() // death: connections closed, no GOAWAY
	// A stream written in the moment between the peer's FIN and netpoll
	// reporting it is lost unseen, like one in flight at the death: no
	// HTTP/2 signal proves it unprocessed. Resume once the pool knows.
	ea := byAddr(p, lnA.Addr().String())
	waitFor(t, 5*time.Second, "the death noticed", func() bool { return ea.stats().Conns == 0 })
	gate.Unlock()
	time.Sleep(time.Second)
	stop.Store(true)
	wg.Wait()
	if len(lost) > 0 {
		t.Fatalf("%d of %d calls failed that no backend saw; first: %v", len(lost), done.Load(), lost[0])
	}
	if done.Load() < 100 {
		t.Fatalf("only %d calls in 2.5s", done.Load())
	}
	t.Logf("%d calls; %+v", done.Load(), p.Stats())
}

// callRetrying runs one echo call of id, retrying a provably unprocessed
// failure on another endpoint up to 3 times; it returns the last error.
func callRetrying(t *testing.T, p *Pool, id []byte) error {
	var exclude *Endpoint
	var err error
	for range 4 {
		c := newCall()
		r := echoRequest(c)
		r.Exclude = exclude
		var s *h2.Stream
		var e *Endpoint
		if s, e, err = open(t, p, r); err != nil {
			continue // no stream was started: nothing was sent
		}
		msg := append([]byte{0, 0, 0, 0, byte(len(id))}, id...)
		if err = s.WriteData(msg, true); err == nil {
			var st string
			if st, err = c.result(t); err == nil && st == "0" {
				return nil
			}
			if err == nil {
				err = errors.New("grpc-status " + st)
			}
		}
		if !provablyUnsent(err) {
			return err
		}
		exclude = e
	}
	return err
}
