package h2_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/straitgw/strait/h2"
)

// startXNet serves h on an x/net h2c (prior knowledge) server.
func startXNet(t testing.TB, s *http2.Server, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.ServeConn(c, &http2.ServeConnOpts{Handler: h})
		}
	}()
	return ln.Addr().String()
}

func echoHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Trailer", "X-Len")
	b, _ := io.ReadAll(r.Body)
	w.WriteHeader(200)
	w.Write(b)
	w.Header().Set("X-Len", fmt.Sprint(len(b)))
}

// result collects one client stream's response.
type result struct {
	mu      sync.Mutex
	status  string
	body    bytes.Buffer
	trailer []h2.Field
	err     error
	done    chan struct{}
}

func newResult() *result { return &result{done: make(chan struct{})} }

func (r *result) OnHeaders(s *h2.Stream, f []h2.Field, end bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.status == "" {
		r.status = get(f, ":status")
	} else {
		r.trailer = f
	}
}
func (r *result) OnData(s *h2.Stream, p []byte, end bool) {
	r.mu.Lock()
	r.body.Write(p)
	r.mu.Unlock()
	s.Consume(len(p))
}
func (r *result) OnClose(s *h2.Stream, err error) {
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
	close(r.done)
}

func (r *result) wait(t testing.TB) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		t.Fatal("stream did not close")
	}
}

func reqFields(method, path string) []h2.Field {
	return []h2.Field{{Name: ":method", Value: method}, {Name: ":scheme", Value: "http"},
		{Name: ":authority", Value: "test"}, {Name: ":path", Value: path}}
}

// openRetry opens a stream, waiting for a slot if the connection is full.
func openRetry(t testing.TB, c *h2.Conn, f []h2.Field, end bool, h h2.StreamHandler) *h2.Stream {
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := c.OpenStream(f, end, h)
		if err == nil {
			return s
		}
		if !errors.Is(err, h2.ErrNoStreamSlot) || time.Now().After(deadline) {
			t.Fatalf("open: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestClientXNetServer(t *testing.T) {
	addr := startXNet(t, &http2.Server{MaxConcurrentStreams: 50}, http.HandlerFunc(echoHTTP))
	c, _ := dialClient(t, addr, h2.Config{})
	// One round trip first: the peer's SETTINGS (limit 50) precede its
	// response, and before them the client assumes 100 like x/net does.
	warm := newResult()
	openRetry(t, c, reqFields("GET", "/"), true, warm)
	warm.wait(t)
	const n = 300
	results := make([]*result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			size := (i * 7919) % (100 << 10)
			r := newResult()
			results[i] = r
			s := openRetry(t, c, reqFields("POST", "/echo"), false, r)
			if err := s.WriteData(bytes.Repeat([]byte{'x'}, size), true); err != nil {
				t.Error(err)
				return
			}
			r.wait(t)
			if r.err != nil || r.status != "200" || r.body.Len() != size || get(r.trailer, "x-len") != fmt.Sprint(size) {
				t.Errorf("stream %d: err %v status %q body %d trailer %v", i, r.err, r.status, r.body.Len(), r.trailer)
			}
		}()
	}
	wg.Wait()
	if got := c.Available(); got != 50 {
		t.Fatalf("Available() = %d; want 50 (peer limit)", got)
	}
}
