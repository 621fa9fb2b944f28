// Command peer runs one of the Go gateways strait is compared with
// (grpcgateway, vanguard, nethttp) on one loopback port.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"

	"github.com/straitgw/strait/perf/internal/peers"
)

func main() {
	kind := flag.String("kind", "nethttp", "peer: grpcgateway, vanguard or nethttp")
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	up := flag.String("upstream", "", "gRPC upstream address")
	desc := flag.String("descriptors", "", "FileDescriptorSet (vanguard)")
	cert := flag.String("tls-cert", "", "PEM certificate: serve TLS (HTTP/1.1 and h2 by ALPN, Go's crypto/tls) instead of cleartext")
	key := flag.String("tls-key", "", "PEM key of -tls-cert")
	flag.Parse()
	var set []byte
	if *desc != "" {
		b, err := os.ReadFile(*desc)
		if err != nil {
			log.Fatal(err)
		}
		set = b
	}
	h, err := peers.New(context.Background(), *kind, *up, set)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening %s\n", ln.Addr())
	if *cert != "" {
		log.Fatal(peers.ServeTLS(ln, h, *cert, *key))
	}
	log.Fatal(peers.Serve(ln, h))
}
