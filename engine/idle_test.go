package engine

import (
	"io"
	"net"
	"testing"
	"time"
)

// TestIdleConnections: a client that sends nothing, and a kept-alive one
// that stops sending, are both closed by the gateway.
func TestIdleConnections(t *testing.T) {
	e := startGateway(t, startDemoUpstream(t), func(c *Config) {
		c.Timeouts.Header = 300 * time.Millisecond
		c.Timeouts.Idle = 300 * time.Millisecond
	})
	silent, err := net.Dial("tcp", e.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	c := dialH1(t, e.Addr().String())
	if st, _, _ := c.do("GET", "/v1/shelves/1", "", ""); st != 200 {
		t.Fatalf("status %d", st)
	}
	for name, conn := range map[string]net.Conn{"silent": silent, "kept-alive": c.c} {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		start := time.Now()
		n, err := io.Copy(io.Discard, conn)
		if err != nil || n != 0 {
			t.Fatalf("%s: got %d bytes, %v; want a clean close", name, n, err)
		}
		t.Logf("%s connection closed after %v", name, time.Since(start))
	}
}
