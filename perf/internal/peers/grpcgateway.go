package peers

import (
	"context"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	benchv1 "github.com/straitgw/strait/perf/gen/benchv1"
)

// GRPCGateway is grpc-gateway v2 with its generated handlers and defaults.
func GRPCGateway(ctx context.Context, upstream string) (http.Handler, error) {
	conn, err := Dial(upstream)
	if err != nil {
		return nil, err
	}
	mux := runtime.NewServeMux()
	if err := benchv1.RegisterBenchHandler(ctx, mux, conn); err != nil {
		return nil, err
	}
	return mux, nil
}
