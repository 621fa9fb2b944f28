package main

import (
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"google.golang.org/grpc"

	"github.com/straitgw/strait/engine"
	"github.com/straitgw/strait/internal/demo"
)

// demoCmd runs the bookstore service on a loopback port and the gateway in
// front of it, until SIGINT or SIGTERM.
func demoCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "[--listen ADDR] [--admin ADDR]", stdout)
	listen := fs.String("listen", "127.0.0.1:8080", "gateway `address`")
	admin := fs.String("admin", "", "admin `address` (empty: none)")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo service: %w", err)
	}
	srv := demo.NewServer()
	go srv.Serve(ln)
	defer stopGRPC(srv)
	cfg := engine.Config{
		Listen:         *listen,
		Admin:          *admin,
		DescriptorSets: [][]byte{demo.Descriptors()},
		Upstreams:      []engine.UpstreamConfig{{Name: "bookstore", Endpoints: []string{ln.Addr().String()}}},
	}
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	e, err := engine.New(cfg)
	if err != nil {
		return err
	}
	if err := e.Start(); err != nil {
		e.Close()
		return err
	}
	fmt.Fprintf(stdout, "strait demo: gateway on %s%s, bookstore gRPC service on %s\n\n", e.Addr(), adminNote(e), ln.Addr())
	fmt.Fprint(stdout, demoCurls(e.Addr().String()))
	fmt.Fprintln(stdout, "\nCtrl-C stops.")
	waitForSignal()
	fmt.Fprintln(stderr, "strait: shutting down")
	return e.Close()
}

// stopGRPC stops the demo service, giving in-flight calls a moment.
func stopGRPC(s *grpc.Server) {
	done := make(chan struct{})
	go func() { s.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		s.Stop()
	}
}

// demoCurls lists commands that exercise every kind of route.
func demoCurls(addr string) string {
	const js = `-H 'Content-Type: application/json' `
	lines := []string{
		"# list shelves, get one (a path variable)",
		"curl -s ADDR/v1/shelves",
		"curl -s ADDR/v1/shelves/1",
		"# create a shelf (body \"shelf\") and a book on it (body \"book\")",
		"curl -s -X POST ADDR/v1/shelves " + js + `-d '{"theme":"Travel"}'`,
		"curl -s -X POST ADDR/v1/shelves/1/books " + js + `-d '{"title":"Kindred","author":"Octavia E. Butler","genre":"GENRE_FICTION","tags":["classic"]}'`,
		"# books with query parameters; one book; update with a field mask",
		"curl -s 'ADDR/v1/shelves/1/books?genre=GENRE_FICTION&pageSize=1'",
		"curl -s ADDR/v1/shelves/1/books/2",
		"curl -s -X PATCH 'ADDR/v1/shelves/1/books/1?updateMask=pages' " + js + `-d '{"pages":320}'`,
		"# a custom verb (body \"*\")",
		"curl -s -X POST ADDR/v1/shelves/1/books/1:publish " + js + `-d '{"publisher":"Ace Books"}'`,
		"# a server stream, one JSON object per line",
		"curl -sN ADDR/v1/shelves/1/books:watch",
		"# gRPC errors as HTTP statuses: 404, then 400",
		"curl -si ADDR/v1/shelves/999",
		"curl -si -X POST ADDR/v1/shelves " + js + `-d '{"theme":""}'`,
		"# any method by its gRPC name; HTTP/2 cleartext",
		"curl -s -X POST ADDR/bookstore.v1.Bookstore/GetShelf " + js + `-d '{"shelf":"1"}'`,
		"curl -s --http2-prior-knowledge ADDR/v1/shelves/1",
	}
	return strings.ReplaceAll(strings.Join(lines, "\n"), "ADDR", addr) + "\n"
}
