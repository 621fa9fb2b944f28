package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := e.Start(); err != nil {
		e.Close()
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("%w (pick another port with --listen)", err)
		}
		return err
	}
	fmt.Fprintf(stdout, "strait demo: gateway on %s%s, bookstore gRPC service on %s\n\n", e.Addr(), adminNote(e), ln.Addr())
	fmt.Fprint(stdout, demoCurls(e.Addr().String()))
	fmt.Fprintln(stdout, "\nCtrl-C stops.")
	<-ctx.Done()
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

// demoCall is one request the demo suggests; TestDemoCalls runs each
// against a real `strait demo` and expects status.
type demoCall struct {
	note   string // a comment line printed before the command, if any
	method string
	target string // path and query
	body   string // JSON; sent with Content-Type: application/json
	status int
	flags  string // extra curl flags
}

var demoCalls = []demoCall{
	{note: "list shelves, get one (a path variable)", method: "GET", target: "/v1/shelves", status: 200},
	{method: "GET", target: "/v1/shelves/1", status: 200},
	{note: `create a shelf (body "shelf") and a book on it (body "book")`, method: "POST", target: "/v1/shelves", body: `{"theme":"Travel"}`, status: 200},
	{method: "POST", target: "/v1/shelves/1/books", body: `{"title":"Kindred","author":"Octavia E. Butler","genre":"GENRE_FICTION","tags":["classic"]}`, status: 200},
	{note: "books with query parameters; one book; update with a field mask", method: "GET", target: "/v1/shelves/1/books?genre=GENRE_FICTION&pageSize=1", status: 200},
	{method: "GET", target: "/v1/shelves/1/books/2", status: 200},
	{method: "PATCH", target: "/v1/shelves/1/books/1?updateMask=pages", body: `{"pages":320}`, status: 200},
	{note: `a custom verb (body "*")`, method: "POST", target: "/v1/shelves/1/books/1:publish", body: `{"publisher":"Ace Books"}`, status: 200},
	{note: "a server stream, one JSON object per line", method: "GET", target: "/v1/shelves/1/books:watch?interval=0.5s", flags: "-N", status: 200},
	{note: "gRPC errors as HTTP statuses: 404, then 400", method: "GET", target: "/v1/shelves/999", flags: "-i", status: 404},
	{method: "POST", target: "/v1/shelves", body: `{"theme":""}`, flags: "-i", status: 400},
	{note: "any method by its gRPC name; HTTP/2 cleartext", method: "POST", target: "/bookstore.v1.Bookstore/GetShelf", body: `{"shelf":"1"}`, status: 200},
	{method: "GET", target: "/v1/shelves/1", flags: "--http2-prior-knowledge", status: 200},
}

// demoCurls renders demoCalls as curl commands against addr.
func demoCurls(addr string) string {
	var b strings.Builder
	for _, c := range demoCalls {
		if c.note != "" {
			b.WriteString("# " + c.note + "\n")
		}
		b.WriteString("curl -s")
		if c.flags != "" {
			b.WriteString(" " + c.flags)
		}
		if c.method != "GET" {
			b.WriteString(" -X " + c.method)
		}
		url := addr + c.target
		if strings.ContainsAny(url, "?&") {
			url = "'" + url + "'"
		}
		b.WriteString(" " + url)
		if c.body != "" {
			b.WriteString(" -H 'Content-Type: application/json' -d '" + c.body + "'")
		}
		b.WriteString("\n")
	}
	return b.String()
}
