package peers_test

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"github.com/straitgw/strait/perf/internal/check"
	"github.com/straitgw/strait/perf/internal/payload"
	"github.com/straitgw/strait/perf/internal/peers"
	"github.com/straitgw/strait/perf/internal/upstream"
)

// TestPeersAnswerREST runs every peer in front of a real upstream on
// loopback and checks real REST answers over HTTP/1.1 and h2c.
func TestPeersAnswerREST(t *testing.T) {
	gs, up, err := upstream.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer gs.Stop()
	desc, err := os.ReadFile("../../proto/bench.pb")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, kind := range peers.Kinds {
		t.Run(kind, func(t *testing.T) {
			base := startPeer(t, ctx, kind, up.String(), desc)
			for _, h2c := range []bool{false, true} {
				c := check.Client(h2c)
				put := payload.PutRecord()
				if err := check.RESTUnary(ctx, c, base+"/v1/tenants/"+payload.Tenant+"/records", payload.JSON(put.Record), put.Record); err != nil {
					t.Errorf("h2c=%v: %v", h2c, err)
				}
				if err := check.RESTUnary(ctx, c, base+"/v1/batches", payload.JSON(payload.Batch()), payload.Batch()); err != nil {
					t.Errorf("h2c=%v: %v", h2c, err)
				}
			}
			if kind != "vanguard" { // vanguard streams REST only for google.api.HttpBody
				if err := check.RESTStream(ctx, check.Client(false), base+"/v1/tenants/"+payload.Tenant+"/records?count=10"); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestVanguardGRPC checks the gRPC and gRPC-Web paths through vanguard.
func TestVanguardGRPC(t *testing.T) {
	gs, up, err := upstream.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer gs.Stop()
	desc, err := os.ReadFile("../../proto/bench.pb")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	base := startPeer(t, ctx, "vanguard", up.String(), desc)
	addr := base[len("http://"):]
	if err := check.GRPCUnary(ctx, addr); err != nil {
		t.Error(err)
	}
	if err := check.GRPCStream(ctx, addr); err != nil {
		t.Error(err)
	}
	if err := check.GRPCWeb(ctx, check.Client(false), base); err != nil {
		t.Error(err)
	}
}

func startPeer(t *testing.T, ctx context.Context, kind, up string, desc []byte) string {
	t.Helper()
	h, err := peers.New(ctx, kind, up, desc)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go peers.Serve(ln, h)
	return "http://" + ln.Addr().String()
}
