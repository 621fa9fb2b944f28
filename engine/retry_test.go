package engine

import (
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/straitgw/strait/internal/testutil"
)

// refuser is an HTTP/2 server that processes nothing: it answers every
// request with RST_STREAM REFUSED_STREAM, or with a GOAWAY whose last
// stream id is 0, and counts the requests it saw.
func refuser(t *testing.T, goAway bool) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var seen atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveRefusals(c, goAway, &seen)
		}
	}()
	return ln.Addr().String(), &seen
}

func serveRefusals(c net.Conn, goAway bool, seen *atomic.Int64) {
	defer c.Close()
	if _, err := io.ReadFull(c, make([]byte, len(http2.ClientPreface))); err != nil {
		return
	}
	fr := http2.NewFramer(c, c)
	_ = fr.WriteSettings()
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = fr.WriteSettingsAck()
			}
		case *http2.HeadersFrame:
			seen.Add(1)
			if goAway {
				_ = fr.WriteGoAway(0, http2.ErrCodeNo, nil)
				time.Sleep(50 * time.Millisecond)
				return
			}
			_ = fr.WriteRSTStream(f.StreamID, http2.ErrCodeRefusedStream)
		}
	}
}

// TestRetryUnprocessed: with one endpoint that refuses every stream (or
// sends GOAWAY below it) and one that serves, no request fails: the ones
// the first endpoint provably never processed go to the second.
func TestRetryUnprocessed(t *testing.T) {
	for _, goAway := range []bool{false, true} {
		name := map[bool]string{false: "REFUSED_STREAM", true: "GOAWAY"}[goAway]
		t.Run(name, func(t *testing.T) {
			bad, seen := refuser(t, goAway)
			good := startDemoUpstream(t)
			e := startGateway(t, bad, func(c *Config) { c.Upstreams[0].Endpoints = []string{bad, good} })
			c := dialH1(t, e.Addr().String())
			for i := 0; i < 20; i++ {
				if st, _, body := c.do("GET", "/v1/shelves/1", "", ""); st != 200 {
					t.Fatalf("request %d: got %d %s; want 200", i, st, body)
				}
			}
			if seen.Load() == 0 || e.metrics.retries.Load() == 0 {
				t.Fatalf("the refusing endpoint saw %d requests, %d retries; want both > 0", seen.Load(), e.metrics.retries.Load())
			}
		})
	}
}

// TestRetryPolicy: a service whose policy retries UNAVAILABLE gets its
// answer on the third attempt; without a policy the first UNAVAILABLE is
// the answer.
func TestRetryPolicy(t *testing.T) {
	var calls atomic.Int64
	up := testutil.StartRawUpstream(t, func(c *testutil.Call) ([]byte, error) {
		if calls.Add(1)%3 != 0 {
			return nil, status.Error(codes.Unavailable, "try again")
		}
		return []byte{0x08, 0x01, 0x12, 0x01, 'x'}, nil
	})
	e := startGateway(t, up, func(c *Config) {
		c.Services = []ServiceConfig{{Name: "bookstore.v1.Bookstore", Upstream: "default", Retry: RetryPolicy{
			MaxAttempts: 3, InitialBackoff: time.Millisecond, RetryableStatusCodes: []string{"UNAVAILABLE"}}}}
	})
	c := dialH1(t, e.Addr().String())
	for i := 0; i < 5; i++ {
		if st, _, body := c.do("GET", "/v1/shelves/1", "", ""); st != 200 || !strings.Contains(body, `"theme":"x"`) {
			t.Fatalf("request %d: got %d %s; want 200 after retries", i, st, body)
		}
	}
	if n := e.metrics.retries.Load(); n != 10 {
		t.Fatalf("%d retries; want 10 (two per request)", n)
	}
	plain := startGateway(t, up, nil)
	calls.Store(0)
	if st, _, _ := dialH1(t, plain.Addr().String()).do("GET", "/v1/shelves/1", "", ""); st != 503 {
		t.Fatalf("without a policy: got %d; want the first UNAVAILABLE (503)", st)
	}
}
