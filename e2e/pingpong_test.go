package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/straitgw/strait/internal/echo"
	pb "github.com/straitgw/strait/internal/echopb"
)

// TestBidiPingPongLarge: bidi calls where each large request waits for
// its echo, many at once through one upstream connection: the relay's
// flow control must pass every message on while the other side waits.
func TestBidiPingPongLarge(t *testing.T) {
	g := startEchoGateway(t, 1, 1)
	cc, err := dialGRPC(g.Listen)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	web := newConnectSet(h2cClient(), "http://"+g.Listen, connect.WithGRPCWeb())
	for _, size := range []int{64 << 10, 300 << 10, 700 << 10, 1 << 20} {
		for _, via := range []string{"grpc", "web-h2", "grpc", "web-h2"} {
			t.Run(fmt.Sprintf("%s/%dKiB", via, size>>10), func(t *testing.T) {
				t.Parallel()
				c := &fcase{id: t.Name(), k: kindBidi, timeout: matrixCallTimeout}
				for i := range 4 {
					c.reqs = append(c.reqs, &pb.EchoRequest{Payload: echo.Payload(uint64(i), 0, size), Text: fmt.Sprint(i)})
				}
				ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
				defer cancel()
				start := time.Now()
				var o *outcome
				if via == "grpc" {
					o = grpcCall(ctx, cc, c)
				} else {
					o = connectCall(ctx, web.get(false, false), c)
				}
				k := checker{c: c}
				k.check(o, g.take(c.id, time.Second))
				if len(k.errs) > 0 {
					t.Errorf("after %v, %d of 4 echoes:\n  %s", time.Since(start).Round(time.Millisecond), len(o.msgs), strings.Join(k.errs, "\n  "))
				}
			})
		}
	}
}
