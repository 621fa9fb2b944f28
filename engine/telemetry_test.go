package engine

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/straitgw/strait/internal/testutil"
)

// sent is one request of sendTraffic and what the gateway should report
// of it.
type sent struct {
	what      string
	protocol  string // rest, grpc, grpc-web
	method    string // HTTP method
	path      string // as logged (no query)
	service   string // "" when no method matched
	rpc       string
	status    int
	code      string // the metric's code label
	grpcCode  int    // the log's grpc_status, -1 for null
	requestID string // sent, or generated (read from the response)
	upstream  bool   // the upstream was called
	in, out   int64  // REST body bytes, -1 when not checked
}

const bookstore = "bookstore.v1.Bookstore"

// sendTraffic sends varied requests through e, one at a time: REST over
// HTTP/1.1 and h2 (answers, upstream errors, a local 400 and 404, a path
// and a request id that need escaping in JSON, a CORS preflight),
// native gRPC with grpc-go (answers, errors, an unknown method, a stream
// the client cancels) and gRPC-Web with connect-go over HTTP/1.1 and h2.
func sendTraffic(t *testing.T, e *Engine) []sent {
	t.Helper()
	base := "http://" + e.Addr().String()
	var out []sent
	n := 0
	nextID := func() string { n++; return fmt.Sprintf("rid-%d", n) }

	rest := func(c *http.Client, method, path, body, id string, s sent) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if id != "" {
			req.Header.Set("X-Request-Id", id)
		}
		if s.method == "OPTIONS" {
			req.Header.Set("Origin", "https://app.example.com")
			req.Header.Set("Access-Control-Request-Method", "GET")
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != s.status {
			t.Fatalf("%s: status %d %s; want %d", s.what, resp.StatusCode, b, s.status)
		}
		s.requestID = resp.Header.Get("X-Request-Id")
		if s.method == "OPTIONS" { // a preflight's answer carries no id
			s.requestID = id
		}
		if id != "" && s.requestID != id {
			t.Fatalf("%s: request id %q came back as %q", s.what, id, s.requestID)
		}
		s.protocol, s.in, s.out = "rest", int64(len(body)), int64(len(b))
		out = append(out, s)
	}
	get := sent{method: "GET", service: bookstore, rpc: "GetShelf", status: 200, code: "OK", upstream: true}
	h2c := testutil.H2CClient()
	for _, c := range []struct {
		client *http.Client
		proto  string
	}{{http.DefaultClient, "h1"}, {h2c, "h2"}} {
		s := get
		s.what, s.path = "REST GET over "+c.proto, "/v1/shelves/1"
		rest(c.client, "GET", "/v1/shelves/1", "", nextID(), s)
		s.what, s.path, s.status, s.code, s.grpcCode = "REST NOT_FOUND over "+c.proto, "/v1/shelves/999", 404, "NOT_FOUND", 5
		rest(c.client, "GET", "/v1/shelves/999", "", "", s) // a generated request id
	}
	rest(http.DefaultClient, "POST", "/v1/shelves", `{"theme":"Travel"}`, nextID(),
		sent{what: "REST POST", method: "POST", path: "/v1/shelves", service: bookstore, rpc: "CreateShelf", status: 200, code: "OK", upstream: true})
	rest(h2c, "POST", "/v1/shelves", `{"theme":`, nextID(),
		sent{what: "REST malformed JSON", method: "POST", path: "/v1/shelves", service: bookstore, rpc: "CreateShelf", status: 400, code: "INVALID_ARGUMENT", grpcCode: 3})
	rest(http.DefaultClient, "DELETE", "/v1/nowhere", "", nextID(),
		sent{what: "REST no route", method: "DELETE", path: "/v1/nowhere", status: 404, code: "UNIMPLEMENTED", grpcCode: 12})
	rest(http.DefaultClient, "OPTIONS", "/v1/shelves/1", "", nextID(),
		sent{what: "CORS preflight", method: "OPTIONS", path: "/v1/shelves/1", status: 204, code: "2xx", grpcCode: -1})

	// A path and a request id with bytes JSON must escape, sent raw: an
	// HTTP/1.1 target is visible ASCII, a header value may hold tabs and
	// bytes past 0x7f (not always UTF-8).
	odd, oddID := `/v1/no"where\/{x}<'y'>`, "id\"with\\quote\tand\xff\xfe-ü-end"
	c := dialH1(t, e.Addr().String())
	c.write("GET " + odd + "?q=\"1\" HTTP/1.1\r\nHost: test\r\nX-Request-Id: " + oddID + "\r\n\r\n")
	if st, hdr, body := c.read(); st != 404 || hdr.Get("X-Request-Id") != oddID {
		t.Fatalf("odd path: %d %q %s", st, hdr.Get("X-Request-Id"), body)
	}
	out = append(out, sent{what: "REST odd path", protocol: "rest", method: "GET", path: odd, status: 404, code: "UNIMPLEMENTED",
		grpcCode: 12, requestID: oddID, in: 0, out: -1})

	cc := grpcDial(t, e.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, c := range []struct {
		path  string
		shelf int64
		code  codes.Code
		s     sent
	}{
		{"/bookstore.v1.Bookstore/GetShelf", 1, codes.OK, sent{service: bookstore, rpc: "GetShelf", code: "OK", upstream: true}},
		{"/bookstore.v1.Bookstore/GetShelf", 999, codes.NotFound, sent{service: bookstore, rpc: "GetShelf", code: "NOT_FOUND", grpcCode: 5, upstream: true}},
		// An unknown method goes to the default upstream, which answers.
		{"/bookstore.v1.Bookstore/Nope", 1, codes.Unimplemented, sent{code: "UNIMPLEMENTED", grpcCode: 12, upstream: true}},
	} {
		id := nextID()
		req := demoMsg(t, "GetShelfRequest")
		req.Set(req.Descriptor().Fields().ByName("shelf"), protoreflect.ValueOfInt64(c.shelf))
		octx := metadata.AppendToOutgoingContext(ctx, "x-request-id", id)
		if err := cc.Invoke(octx, c.path, req, demoMsg(t, "Shelf")); status.Code(err) != c.code {
			t.Fatalf("gRPC %s %d: %v; want %v", c.path, c.shelf, err, c.code)
		}
		s := c.s
		s.what, s.protocol, s.method, s.path, s.status, s.requestID, s.in, s.out = "gRPC "+c.path, "grpc", "POST", c.path, 200, id, -1, -1
		out = append(out, s)
	}

	for _, c := range []struct {
		client *http.Client
		proto  string
	}{{http.DefaultClient, "h1"}, {h2c, "h2"}} {
		web := connect.NewClient[wrapperspb.Int64Value, emptypb.Empty](c.client, base+"/bookstore.v1.Bookstore/GetShelf", connect.WithGRPCWeb())
		for _, shelf := range []int64{1, 999} {
			id := nextID()
			req := connect.NewRequest(wrapperspb.Int64(shelf)) // the wire of GetShelfRequest{shelf}
			req.Header().Set("X-Request-Id", id)
			_, err := web.CallUnary(ctx, req)
			s := sent{what: fmt.Sprintf("gRPC-Web over %s shelf %d", c.proto, shelf), protocol: "grpc-web", method: "POST",
				path: "/bookstore.v1.Bookstore/GetShelf", service: bookstore, rpc: "GetShelf", status: 200, code: "OK",
				requestID: id, upstream: true, in: -1, out: -1}
			if shelf == 999 {
				s.code, s.grpcCode = "NOT_FOUND", 5
			}
			if got := connect.CodeOf(err); err != nil && got.String() != strings.ToLower(s.code) {
				t.Fatalf("%s: %v", s.what, err)
			}
			out = append(out, s)
		}
	}

	// A server stream the client cancels after the first message.
	id := nextID()
	w := demoMsg(t, "WatchBooksRequest")
	w.Set(w.Descriptor().Fields().ByName("shelf"), protoreflect.ValueOfInt64(1))
	iv := w.Mutable(w.Descriptor().Fields().ByName("interval")).Message()
	iv.Set(iv.Descriptor().Fields().ByName("seconds"), protoreflect.ValueOfInt64(1))
	sctx, scancel := context.WithCancel(metadata.AppendToOutgoingContext(ctx, "x-request-id", id))
	st, err := cc.NewStream(sctx, &grpc.StreamDesc{ServerStreams: true}, "/bookstore.v1.Bookstore/WatchBooks")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SendMsg(w); err != nil {
		t.Fatal(err)
	}
	_ = st.CloseSend()
	if err := st.RecvMsg(demoMsg(t, "Book")); err != nil {
		t.Fatal(err)
	}
	scancel()
	out = append(out, sent{what: "cancelled gRPC stream", protocol: "grpc", method: "POST", path: "/bookstore.v1.Bookstore/WatchBooks",
		service: bookstore, rpc: "WatchBooks", status: 200, code: "CANCELLED", grpcCode: 1, requestID: id, upstream: true, in: -1, out: -1})
	return out
}

// startTelemetryGateway runs a gateway with an admin port, CORS and
// mod's changes, in front of the demo upstream.
func startTelemetryGateway(t *testing.T, mod func(*Config)) (*Engine, string) {
	t.Helper()
	up := startDemoUpstream(t)
	e := startGateway(t, up, func(c *Config) {
		c.Admin = "127.0.0.1:0"
		c.CORS.AllowOrigins = []string{"https://app.example.com"}
		if mod != nil {
			mod(c)
		}
	})
	return e, up
}

// waitUntil polls cond for up to 10s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// reloadWith reloads e with its configuration changed by mod (which
// must assign fields, not change what they share with the running one).
func reloadWith(t *testing.T, e *Engine, mod func(*Config)) error {
	t.Helper()
	cfg := e.snap.Load().cfg
	cfg.Listen = e.Addr().String() // ":0" twice would be the same address
	if a := e.AdminAddr(); a != nil {
		cfg.Admin = a.String()
	}
	if mod != nil {
		mod(&cfg)
	}
	files, err := cfg.LoadDescriptors()
	if err != nil {
		t.Fatal(err)
	}
	return e.Reload(cfg, files)
}
