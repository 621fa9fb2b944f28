// Command upstream serves the benchmark gRPC service on one loopback port.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"

	"github.com/straitgw/strait/perf/internal/upstream"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening %s\n", ln.Addr())
	log.Fatal(upstream.New().Serve(ln))
}
