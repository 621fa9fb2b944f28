package h2_test

import (
	"sync"
	"testing"
	"time"

	"github.com/straitgw/strait/h2"
)

// lockedHandler takes its own lock in every callback, as engine handlers
// do; the test holds the same lock across h2 calls that end the stream.
type lockedHandler struct {
	mu     sync.Mutex
	closed chan error
	ended  chan struct{} // the response's END_STREAM arrived
}

func (h *lockedHandler) OnHeaders(s *h2.Stream, f []h2.Field, end bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
}

func (h *lockedHandler) OnData(s *h2.Stream, p []byte, end bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s.Consume(len(p))
	if end {
		close(h.ended)
	}
}

func (h *lockedHandler) OnClose(s *h2.Stream, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed <- err
}

func (h *lockedHandler) OnDrain(s *h2.Stream, n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
}

// TestCallbacksAfterTheCall: a handler may hold its lock across Reset and
// WriteData; the OnClose they raise runs once the call has returned. The
// write case ends a stream whose response has already ended (a 404 sent
// before the request body), so the write is what closes it.
func TestCallbacksAfterTheCall(t *testing.T) {
	srv := startServer(t, h2.Config{}, testAcceptor{})
	c, _ := dialClient(t, srv.addr, h2.Config{})
	for _, end := range []string{"reset", "write"} {
		t.Run(end, func(t *testing.T) {
			h := &lockedHandler{closed: make(chan error, 1), ended: make(chan struct{})}
			s := openRetry(t, c, reqFields("POST", "/missing"), false, h)
			if end == "write" {
				<-h.ended
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				h.mu.Lock()
				defer h.mu.Unlock()
				if end == "reset" {
					s.Reset(h2.ErrCodeCancel)
				} else {
					_ = s.WriteData([]byte("x"), true)
				}
				// the callback may not have run inside the call: it
				// needs the lock we still hold
				select {
				case err := <-h.closed:
					t.Errorf("OnClose(%v) ran inside the call", err)
				default:
				}
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("deadlock: an h2 call ran a callback on its caller's stack")
			}
			select {
			case <-h.closed:
			case <-time.After(5 * time.Second):
				t.Fatal("OnClose never delivered")
			}
		})
	}
}
