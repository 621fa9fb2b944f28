package descriptors

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/reflection"
	rpbalpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/protobuf/proto"

	"github.com/straitgw/strait/transcode"
)

// reflectionServer starts a grpc-go server on loopback with the interop
// TestService and reflection (v1 and v1alpha, or v1alpha only).
func reflectionServer(t *testing.T, alphaOnly bool) *grpc.ClientConn {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	testgrpc.RegisterTestServiceServer(srv, testgrpc.UnimplementedTestServiceServer{})
	if alphaOnly {
		rpbalpha.RegisterServerReflectionServer(srv, reflection.NewServer(reflection.ServerOptions{Services: srv}))
	} else {
		reflection.Register(srv)
	}
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

func TestReflect(t *testing.T) {
	for _, alpha := range []bool{false, true} {
		cc := reflectionServer(t, alpha)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, services := range [][]string{nil, {"grpc.testing.TestService"}} {
			set, err := Reflect(ctx, cc, services...)
			if err != nil {
				t.Fatalf("alpha %v: %v", alpha, err)
			}
			raw, _ := proto.Marshal(set)
			files, err := transcode.LoadDescriptorSets(raw)
			if err != nil {
				t.Fatalf("alpha %v: %v", alpha, err)
			}
			if _, err := files.FindDescriptorByName("grpc.testing.TestService"); err != nil {
				t.Fatalf("alpha %v: %v", alpha, err)
			}
			if _, err := files.FindDescriptorByName("grpc.reflection.v1.ServerReflection"); err == nil {
				t.Errorf("alpha %v: reflection service loaded; want it skipped", alpha)
			}
			s, err := transcode.NewSchema(files, transcode.Options{})
			if err != nil {
				t.Fatal(err)
			}
			p := s.Plan("grpc.testing.SimpleRequest")
			wire, err := p.AppendWire(nil, []byte(`{"responseType":"COMPRESSABLE","responseSize":3,"payload":{"body":"AAE="}}`))
			if err != nil || len(wire) == 0 {
				t.Fatalf("alpha %v: AppendWire: %x %v", alpha, wire, err)
			}
			js, err := p.AppendJSON(nil, wire)
			if err != nil || string(js) != `{"responseSize":3,"payload":{"body":"AAE="}}` {
				t.Fatalf("alpha %v: AppendJSON: %s %v", alpha, js, err)
			}
		}
	}
}

func TestReflectErrors(t *testing.T) {
	cc := reflectionServer(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := Reflect(ctx, cc, "no.such.Service"); !errors.Is(err, ErrReflection) {
		t.Fatalf("unknown service: got %v; want ErrReflection", err)
	}
	// A server without reflection at all.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	go srv.Serve(lis)
	defer srv.Stop()
	bare, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Close()
	if _, err := Reflect(ctx, bare); !errors.Is(err, ErrReflection) {
		t.Fatalf("no reflection: got %v; want ErrReflection", err)
	}
}
