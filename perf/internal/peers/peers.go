// Package peers builds the Go gateways strait is measured against: grpc-gateway
// v2 (generated code), connectrpc vanguard (dynamic descriptors) and a
// hand-written net/http + protojson + grpc.ClientConn proxy. Each is an
// http.Handler served over HTTP/1.1 and h2c by Serve. Nothing imports strait.
package peers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Kinds lists the peers this package builds, by the name New takes.
var Kinds = []string{"grpcgateway", "vanguard", "nethttp"}

// ErrUnknownKind is returned by New for a name not in Kinds.
var ErrUnknownKind = errors.New("peers: unknown kind")

// New returns the handler of peer kind in front of the gRPC upstream at
// upstream; descriptors is a serialized FileDescriptorSet (vanguard reads it).
func New(ctx context.Context, kind, upstream string, descriptors []byte) (http.Handler, error) {
	switch kind {
	case "grpcgateway":
		return GRPCGateway(ctx, upstream)
	case "vanguard":
		return Vanguard(upstream, descriptors)
	case "nethttp":
		return NetHTTP(upstream)
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownKind, kind)
}

// Dial opens the one multiplexed client connection a peer uses.
func Dial(upstream string) (*grpc.ClientConn, error) {
	return grpc.NewClient(upstream,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
}

// Serve serves h on ln with HTTP/1.1 and prior-knowledge h2c until ln closes.
func Serve(ln net.Listener, h http.Handler) error {
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: h, Protocols: &p, ReadHeaderTimeout: 10 * time.Second,
		HTTP2: &http.HTTP2Config{MaxConcurrentStreams: 1000}}
	return srv.Serve(ln)
}

// ServeTLS serves h on ln over TLS (Go's crypto/tls, HTTP/1.1 and h2 by
// ALPN) with the PEM certificate and key files, as a grpc-gateway
// deployment behind Go's own TLS would.
func ServeTLS(ln net.Listener, h http.Handler, certFile, keyFile string) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		HTTP2: &http.HTTP2Config{MaxConcurrentStreams: 1000}}
	return srv.ServeTLS(ln, certFile, keyFile)
}
