// Package h2 is strait's HTTP/2 (RFC 9113) implementation for both the
// server side (clients of the gateway) and the client side (upstreams):
// frames, HPACK through golang.org/x/net/http2/hpack (RFC 7541), streams,
// flow control, SETTINGS, PING and GOAWAY. It knows nothing of gRPC.
//
// A Conn is driven by its transport: Serve is called with the input
// whenever bytes arrive (netpoll's OnRequest) and writes go to a Writer
// under the connection's mutex. No goroutine is started per stream or per
// connection; one timer per connection covers SETTINGS ACK, keepalive,
// idle and stalled-stream deadlines.
//
// Abuse is bounded per connection: token buckets for control frames,
// resets (Rapid Reset, CVE-2023-44487) and empty frames, a raw byte budget
// per header block (CONTINUATION flood), a decoded header list limit that
// answers 431 and ends the connection on an HPACK bomb, bounded send
// queues, and a stall timeout for streams the peer gives no window.
//
// h2 must not import strait's engine, upstream or transcode packages, nor
// netpoll: it declares the small Reader and Writer it needs (deps_test.go).
package h2
