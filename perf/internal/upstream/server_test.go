package upstream

import (
	"context"
	"testing"

	benchv1 "github.com/straitgw/strait/perf/gen/benchv1"
	"github.com/straitgw/strait/perf/internal/payload"
	"github.com/straitgw/strait/perf/internal/reqhdr"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// TestHeaderPairs: a paired id and token pass, a crossed pair or a
// repeated header fails with INVALID_ARGUMENT, one alone is not checked.
func TestHeaderPairs(t *testing.T) {
	gs, addr, err := Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer gs.Stop()
	conn, err := grpc.NewClient(addr.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := benchv1.NewBenchClient(conn)
	g := reqhdr.NewGen(1, 1)
	id1, auth1 := g.Next()
	id2, auth2 := g.Next()
	tests := []struct {
		md   []string
		want codes.Code
	}{
		{nil, codes.OK},
		{[]string{reqhdr.IDName, id1, reqhdr.AuthName, auth1}, codes.OK},
		{[]string{reqhdr.AuthName, auth1}, codes.OK},
		{[]string{reqhdr.IDName, id1, reqhdr.AuthName, auth2}, codes.InvalidArgument},
		{[]string{reqhdr.IDName, id1, reqhdr.AuthName, auth1, reqhdr.IDName, id2}, codes.InvalidArgument},
	}
	for _, tt := range tests {
		ctx := metadata.AppendToOutgoingContext(context.Background(), tt.md...)
		_, err := c.PutRecord(ctx, payload.PutRecord())
		if got := status.Code(err); got != tt.want {
			t.Errorf("%q: got %v (%v); want %v", tt.md, got, err, tt.want)
		}
		st, err := c.ListRecords(ctx, payload.ListRecords())
		if err == nil {
			_, err = st.Recv()
		}
		if got := status.Code(err); got != tt.want {
			t.Errorf("stream %q: got %v (%v); want %v", tt.md, got, err, tt.want)
		}
	}
}
