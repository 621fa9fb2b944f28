// Package upstream is the benchmark's gRPC server: it echoes unary requests
// and streams pre-built records, so the gateway in front is what is measured.
// It imports grpc-go and the generated bench code, never a gateway.
package upstream

import (
	"context"
	"net"

	benchv1 "github.com/straitgw/strait/perf/gen/benchv1"
	"github.com/straitgw/strait/perf/internal/payload"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// MaxStream bounds ListRecords so a bad request cannot run away.
const MaxStream = 1000

type server struct {
	benchv1.UnimplementedBenchServer
	records []*benchv1.Record
}

// New returns a grpc.Server with the Bench service registered.
func New() *grpc.Server {
	s := &server{}
	for i := range MaxStream {
		s.records = append(s.records, payload.Record(i))
	}
	gs := grpc.NewServer(grpc.MaxConcurrentStreams(1 << 16))
	benchv1.RegisterBenchServer(gs, s)
	return gs
}

// Serve listens on addr ("127.0.0.1:0" picks a port) and serves in a
// goroutine; it returns the bound address.
func Serve(addr string) (*grpc.Server, net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	gs := New()
	go gs.Serve(ln)
	return gs, ln.Addr(), nil
}

func (s *server) Ping(_ context.Context, r *benchv1.PingRequest) (*benchv1.PingResponse, error) {
	return &benchv1.PingResponse{Id: r.Id, Name: r.Name, Status: r.Status, SentUnixNanos: r.SentUnixNanos}, nil
}

func (s *server) PutRecord(_ context.Context, r *benchv1.PutRecordRequest) (*benchv1.Record, error) {
	if r.Record == nil || r.Tenant != r.Record.Tenant {
		return nil, status.Errorf(codes.InvalidArgument, "tenant %q does not match the record's", r.Tenant)
	}
	return r.Record, nil
}

func (s *server) PutBatch(_ context.Context, b *benchv1.Batch) (*benchv1.Batch, error) {
	return b, nil
}

func (s *server) ListRecords(r *benchv1.ListRecordsRequest, st grpc.ServerStreamingServer[benchv1.Record]) error {
	if r.Count < 0 || r.Count > MaxStream {
		return status.Errorf(codes.InvalidArgument, "count %d out of [0, %d]", r.Count, MaxStream)
	}
	for _, rec := range s.records[:r.Count] {
		if err := st.Send(rec); err != nil {
			return err
		}
	}
	return nil
}
