// Package upstream is the benchmark's gRPC server: it echoes unary requests
// and streams pre-built records, so the gateway in front is what is measured.
// It imports grpc-go and the generated bench code, never a gateway.
package upstream

import (
	"context"
	"log"
	"net"
	"sync/atomic"

	benchv1 "github.com/straitgw/strait/perf/gen/benchv1"
	"github.com/straitgw/strait/perf/internal/payload"
	"github.com/straitgw/strait/perf/internal/reqhdr"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
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
	gs := grpc.NewServer(grpc.MaxConcurrentStreams(1<<16),
		grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			if err := checkHeaders(ctx); err != nil {
				return nil, err
			}
			return h(ctx, req)
		}),
		grpc.StreamInterceptor(func(srv any, st grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			if err := checkHeaders(st.Context()); err != nil {
				return err
			}
			return h(srv, st)
		}))
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

// mixups counts requests whose varied headers arrived mixed up; the first
// few are logged.
var mixups atomic.Int64

// checkHeaders fails a call whose x-request-id and authorization both
// arrived but do not pair (reqhdr), or arrived more than once: the gateway
// in front mixed up one request's headers with another's. A gateway that
// forwards neither, or one of them, is not checked.
func checkHeaders(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	ids, auths := md.Get(reqhdr.IDName), md.Get(reqhdr.AuthName)
	if len(ids) == 0 || len(auths) == 0 {
		return nil
	}
	err := reqhdr.ErrPair
	if len(ids) == 1 && len(auths) == 1 {
		err = reqhdr.Check(ids[0], auths[0])
	}
	if err == nil {
		return nil
	}
	if n := mixups.Add(1); n <= 5 || n&(n-1) == 0 {
		log.Printf("upstream: %d requests with mixed-up headers; this one: %v: %q %q", n, err, ids, auths)
	}
	return status.Error(codes.InvalidArgument, err.Error())
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
