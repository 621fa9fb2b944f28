// Package testutil holds the real peers strait's tests talk to: a grpc-go
// upstream that answers any method with bytes the test builds, and x/net's
// HTTP/2 client in h2c mode. It is imported by tests only.
package testutil

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/metadata"
)

// rawCodec passes message bytes through untouched, so a test upstream can
// serve any method without generated code.
type rawCodec struct{}

// RawMsg is a message as bytes.
type RawMsg []byte

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*RawMsg)), nil }
func (rawCodec) Unmarshal(b []byte, v any) error {
	*(v.(*RawMsg)) = append((*v.(*RawMsg))[:0], b...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

var _ encoding.Codec = rawCodec{}

// Call is what a raw upstream handler sees of one unary call.
type Call struct {
	Method string
	Req    []byte
	MD     metadata.MD
	Stream grpc.ServerStream // to set headers or trailers
}

// StartRawUpstream runs a grpc-go server on loopback whose every method
// calls fn and answers with the bytes it returns (or its status error); a
// handler that streams sends through c.Stream and returns nil, nil.
func StartRawUpstream(t testing.TB, fn func(c *Call) ([]byte, error)) string {
	t.Helper()
	addr, _ := StartRawServer(t, fn)
	return addr
}

// StartRawServer is StartRawUpstream that also hands back the server, for
// tests that kill it mid-call.
func StartRawServer(t testing.TB, fn func(c *Call) ([]byte, error)) (string, *grpc.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(func(_ any, ss grpc.ServerStream) error {
		method, _ := grpc.MethodFromServerStream(ss)
		var req RawMsg
		if err := ss.RecvMsg(&req); err != nil {
			return err
		}
		md, _ := metadata.FromIncomingContext(ss.Context())
		resp, err := fn(&Call{Method: method, Req: req, MD: md, Stream: ss})
		if err != nil || resp == nil {
			return err // nil, nil: fn sent its own messages
		}
		r := RawMsg(resp)
		return ss.SendMsg(&r)
	}))
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return ln.Addr().String(), srv
}

// H2CClient is x/net's HTTP/2 client speaking cleartext with prior knowledge.
func H2CClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}}
}

// FreeAddr returns a loopback address that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// WaitListen waits until something accepts on addr.
func WaitListen(t testing.TB, addr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s", addr)
}

// RawStream opens a streaming call of method on cc whose messages are
// RawMsg bytes.
func RawStream(ctx context.Context, cc *grpc.ClientConn, method string, desc *grpc.StreamDesc) (grpc.ClientStream, error) {
	return cc.NewStream(ctx, desc, method, grpc.ForceCodec(rawCodec{}))
}

// RawCall invokes method on cc with raw message bytes and returns the
// response bytes, as a grpc-go client without generated code.
func RawCall(ctx context.Context, cc *grpc.ClientConn, method string, req []byte, opts ...grpc.CallOption) ([]byte, error) {
	in, out := RawMsg(req), RawMsg(nil)
	err := cc.Invoke(ctx, method, &in, &out, append(opts, grpc.ForceCodec(rawCodec{}))...)
	return out, err
}
