package upstream

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/internal/testutil"
)

// blackhole accepts TCP connections and never says a word, like a backend
// whose process hangs.
func blackhole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
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
	return ln.Addr().String()
}

// serving is an upstream whose health service says SERVING.
func serving(t *testing.T) string {
	return testutil.StartRawUpstream(t, func(c *testutil.Call) ([]byte, error) {
		return []byte{0x08, 0x01}, nil
	})
}

// TestHealthProbeHungEndpoint: a probe against an endpoint that never
// answers marks it not serving within the probe's timeout (the probe's
// timeout resets the stream while holding the probe's lock: h2 must not
// call OnClose inside that Reset), and then it gets no streams.
func TestHealthProbeHungEndpoint(t *testing.T) {
	hung, well := blackhole(t), serving(t)
	p := NewPool([]string{hung, well}, Config{DialTimeout: time.Second})
	t.Cleanup(p.Close)
	const interval, timeout = 20 * time.Millisecond, 200 * time.Millisecond
	p.StartHealthChecks(interval, timeout)
	ep := p.endpoints[0]
	deadline := time.Now().Add(interval + 2*timeout + time.Second)
	for !ep.unhealthy.Load() {
		if time.Now().After(deadline) {
			t.Fatalf("the hung endpoint is still healthy after %v", interval+2*timeout+time.Second)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for i := 0; i < 20; i++ {
		s, err := p.Open(nil, healthFields(well), true, nil)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if got := endpointOf(s); got != well {
			t.Fatalf("open %d went to %s; want the serving endpoint %s", i, got, well)
		}
		s.Reset(h2.ErrCodeCancel)
	}
	// Probing goes on: a second round also completes (no probe is stuck).
	rounds := probes(p)
	time.Sleep(interval + 2*timeout + 100*time.Millisecond)
	if probes(p) <= rounds {
		t.Fatalf("health probes stopped after %d rounds", rounds)
	}
}

func healthFields(authority string) []h2.Field {
	return []h2.Field{
		{Name: ":method", Value: "POST"}, {Name: ":scheme", Value: "http"},
		{Name: ":path", Value: healthPath}, {Name: ":authority", Value: authority},
		{Name: "content-type", Value: "application/grpc"}, {Name: "te", Value: "trailers"},
	}
}

func endpointOf(s *h2.Stream) string {
	if v, ok := byConn.Load(s.Conn()); ok {
		return v.(*clientConn).ep.addr
	}
	return ""
}

func probes(p *Pool) int64 {
	var n int64
	for _, e := range p.endpoints {
		n += e.probes.Load()
	}
	return n
}
