package engine

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/testutil"
)

// TestClientsLeaveMidCall: clients that hang up while their responses are
// being written (HTTP/1.1 and h2) must not crash or wedge the gateway;
// netpoll frees a closed connection's buffers, so no write may follow.
func TestClientsLeaveMidCall(t *testing.T) {
	up := testutil.StartRawUpstream(t, func(c *testutil.Call) ([]byte, error) {
		time.Sleep(time.Duration(len(c.Req)%3) * time.Millisecond)
		return []byte{0x08, 0x01}, nil
	})
	e := startGateway(t, up, nil)
	addr := e.Addr().String()
	h1 := "GET /v1/shelves/1 HTTP/1.1\r\nHost: x\r\n\r\n"
	h2req := "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
	var wg sync.WaitGroup
	for i := 0; i < 300; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			if i%2 == 0 {
				_, _ = c.Write([]byte(h1 + h1 + h1))
			} else {
				_, _ = c.Write([]byte(h2req))
			}
			time.Sleep(time.Duration(i%4) * time.Millisecond)
			c.Close()
		}(i)
	}
	wg.Wait()
	// Every one of those connections must be let go: a handler that leaves
	// bytes unread makes netpoll call it again forever.
	deadline := time.Now().Add(10 * time.Second)
	for e.metrics.connsOpen.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := e.metrics.connsOpen.Load(); n > 0 {
		t.Fatalf("%d connections still open after their clients left", n)
	}
	hc := testutil.H2CClient()
	for i := 0; i < 20; i++ {
		resp, err := hc.Get("http://" + addr + "/v1/shelves/1")
		if err != nil {
			t.Fatalf("gateway after clients left: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("gateway after clients left: %d", resp.StatusCode)
		}
	}
}
