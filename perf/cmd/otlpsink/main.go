// Command otlpsink is an OpenTelemetry collector that only counts: it
// serves OTLP/gRPC trace export on one loopback port and prints how many
// spans it got when it stops (SIGINT, SIGTERM). The tracing benchmark
// points strait's tracing: at it (perf/README.md, "Tracing cost").
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

type sink struct {
	coltracepb.UnimplementedTraceServiceServer
	spans, exports atomic.Int64
}

func (s *sink) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			s.spans.Add(int64(len(ss.Spans)))
		}
	}
	s.exports.Add(1)
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func main() {
	addr := flag.String("listen", "127.0.0.1:4317", "address to listen on")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	s := &sink{}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, s)
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
		<-sig
		srv.Stop()
	}()
	fmt.Printf("listening %s\n", ln.Addr())
	_ = srv.Serve(ln)
	fmt.Printf("spans %d exports %d\n", s.spans.Load(), s.exports.Load())
}
