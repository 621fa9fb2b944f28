// Package h2 is strait's HTTP/2 (RFC 9113) implementation for both the
// server side (clients of the gateway) and the client side (upstreams):
// frames, HPACK through golang.org/x/net/http2/hpack (RFC 7541), streams,
// flow control, SETTINGS, PING and GOAWAY. It knows nothing of gRPC and
// must not import strait's engine or upstream packages.
package h2
