package h2_test

import (
	"net"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/straitgw/strait/h2"
)

// TestClientGRPCServer drives a grpc-go server with many concurrent
// unary calls on one h2.Conn.
func TestClientGRPCServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("strait", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(gs, hs)
	go gs.Serve(ln)
	t.Cleanup(gs.Stop)

	c, _ := dialClient(t, ln.Addr().String(), h2.Config{MaxConcurrentStreams: 64})
	// HealthCheckRequest{service: "strait"} behind the 5-byte gRPC prefix.
	msg := []byte{0, 0, 0, 0, 8, 0x0a, 6, 's', 't', 'r', 'a', 'i', 't'}
	fields := append(reqFields("POST", "/grpc.health.v1.Health/Check"),
		h2.Field{Name: "content-type", Value: "application/grpc"}, h2.Field{Name: "te", Value: "trailers"})
	var wg sync.WaitGroup
	for i := range 500 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := newResult()
			s := openRetry(t, c, fields, false, r)
			if err := s.WriteData(msg, true); err != nil {
				t.Error(err)
				return
			}
			r.wait(t)
			// HealthCheckResponse{status: SERVING} = 08 01.
			want := []byte{0, 0, 0, 0, 2, 8, 1}
			if r.err != nil || r.status != "200" || r.body.String() != string(want) ||
				get(r.trailer, "grpc-status") != "0" {
				t.Errorf("call %d: err %v status %q body %x trailer %v", i, r.err, r.status, r.body.Bytes(), r.trailer)
			}
		}()
	}
	wg.Wait()
	if got := c.Available(); got != 64 {
		t.Fatalf("Available() = %d; want 64", got)
	}
}
