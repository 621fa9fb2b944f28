package engine

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/straitgw/strait/internal/demo"
	"github.com/straitgw/strait/internal/testutil"
)

func demoMsg(t *testing.T, name string) *dynamicpb.Message {
	t.Helper()
	d, err := demo.Files().FindDescriptorByName(protoreflect.FullName("bookstore.v1." + name))
	if err != nil {
		t.Fatal(err)
	}
	return dynamicpb.NewMessage(d.(protoreflect.MessageDescriptor))
}

// TestGRPCPassthrough calls the demo through the gateway with grpc-go.
func TestGRPCPassthrough(t *testing.T) {
	e := startGateway(t, startDemoUpstream(t), nil)
	cc := grpcDial(t, e.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	req := demoMsg(t, "GetShelfRequest")
	req.Set(req.Descriptor().Fields().ByName("shelf"), protoreflect.ValueOfInt64(1))
	resp := demoMsg(t, "Shelf")
	if err := cc.Invoke(ctx, "/bookstore.v1.Bookstore/GetShelf", req, resp); err != nil {
		t.Fatalf("GetShelf: %v", err)
	}
	if id := resp.Get(resp.Descriptor().Fields().ByName("id")).Int(); id != 1 {
		t.Fatalf("got shelf %d; want 1", id)
	}

	req.Set(req.Descriptor().Fields().ByName("shelf"), protoreflect.ValueOfInt64(999))
	err := cc.Invoke(ctx, "/bookstore.v1.Bookstore/GetShelf", req, resp)
	if status.Code(err) != codes.NotFound {
		t.Fatalf("missing shelf: got %v; want NotFound", err)
	}

	// Server streaming passes through message by message.
	w := demoMsg(t, "WatchBooksRequest")
	w.Set(w.Descriptor().Fields().ByName("shelf"), protoreflect.ValueOfInt64(1))
	st, err := cc.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, "/bookstore.v1.Bookstore/WatchBooks")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SendMsg(w); err != nil {
		t.Fatal(err)
	}
	_ = st.CloseSend()
	n := 0
	for {
		b := demoMsg(t, "Book")
		if err := st.RecvMsg(b); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("stream: %v", err)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no streamed books")
	}
}

// TestGRPCUpstreamDown gives a trailers-only UNAVAILABLE, never a hang.
func TestGRPCUpstreamDown(t *testing.T) {
	e := startGateway(t, testutil.FreeAddr(t), nil)
	cc := grpcDial(t, e.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := cc.Invoke(ctx, "/bookstore.v1.Bookstore/GetShelf", demoMsg(t, "GetShelfRequest"), demoMsg(t, "Shelf"))
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("got %v; want Unavailable", err)
	}
	c := dialH1(t, e.Addr().String())
	if st, _, body := c.do("GET", "/v1/shelves/1", "", ""); st != 503 || !strings.Contains(body, `"code":14`) {
		t.Fatalf("REST with upstream down: got %d %s; want 503 with code 14", st, body)
	}
}

// TestDeadline: a hung upstream gives DEADLINE_EXCEEDED at the deadline.
func TestDeadline(t *testing.T) {
	up := testutil.StartRawUpstream(t, func(c *testutil.Call) ([]byte, error) {
		select {
		case <-c.Stream.Context().Done():
		case <-time.After(10 * time.Second):
		}
		return nil, status.Error(codes.Internal, "too late")
	})
	e := startGateway(t, up, nil)
	c := dialH1(t, e.Addr().String())
	c.write("GET /v1/shelves/1 HTTP/1.1\r\nHost: x\r\nGrpc-Timeout: 200m\r\n\r\n")
	start := time.Now()
	st, _, body := c.read()
	if st != 504 || !strings.Contains(body, `"code":4`) || time.Since(start) > 5*time.Second {
		t.Fatalf("got %d %s after %v; want 504 code 4 near 200ms", st, body, time.Since(start))
	}
	cc := grpcDial(t, e.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := cc.Invoke(ctx, "/bookstore.v1.Bookstore/GetShelf", demoMsg(t, "GetShelfRequest"), demoMsg(t, "Shelf"))
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("grpc: got %v; want DeadlineExceeded", err)
	}
}

// TestMetadata: request headers travel as metadata and response metadata
// comes back as headers.
func TestMetadata(t *testing.T) {
	got := make(chan metadata.MD, 1)
	up := testutil.StartRawUpstream(t, func(c *testutil.Call) ([]byte, error) {
		got <- c.MD
		_ = c.Stream.SetHeader(metadata.Pairs("x-served-by", "raw"))
		c.Stream.SetTrailer(metadata.Pairs("x-trailer", "t1"))
		return []byte{0x08, 0x07}, nil
	})
	e := startGateway(t, up, nil)
	c := dialH1(t, e.Addr().String())
	c.write("GET /v1/shelves/7 HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc\r\nAuthorization: Bearer t\r\n\r\n")
	st, hdr, body := c.read()
	if st != 200 || !strings.Contains(body, `"id":"7"`) {
		t.Fatalf("got %d %s", st, body)
	}
	md := <-got
	if md.Get("x-request-id")[0] != "abc" || md.Get("authorization")[0] != "Bearer t" {
		t.Fatalf("upstream metadata %v lacks the request headers", md)
	}
	if hdr.Get("X-Served-By") != "raw" || hdr.Get("X-Trailer") != "t1" || hdr.Get("Grpc-Status") != "0" {
		t.Fatalf("response headers %v lack the upstream metadata", hdr)
	}
}

// TestGRPCWebUnary speaks gRPC-Web over HTTP/1.1 to the demo.
func TestGRPCWebUnary(t *testing.T) {
	e := startGateway(t, startDemoUpstream(t), nil)
	msg := []byte{0x08, 0x01} // GetShelfRequest{shelf: 1}
	frame := append([]byte{0, 0, 0, 0, byte(len(msg))}, msg...)
	req, _ := http.NewRequest("POST", "http://"+e.Addr().String()+"/bookstore.v1.Bookstore/GetShelf", strings.NewReader(string(frame)))
	req.Header.Set("Content-Type", "application/grpc-web+proto")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(b) < 10 {
		t.Fatalf("got %d %q", resp.StatusCode, b)
	}
	n := binary.BigEndian.Uint32(b[1:5])
	if b[0] != 0 || int(5+n) > len(b) {
		t.Fatalf("bad first frame %q", b)
	}
	tr := b[5+n:]
	if tr[0] != 0x80 || !strings.Contains(string(tr[5:]), "grpc-status: 0") {
		t.Fatalf("bad trailer frame %q", tr)
	}
}

// TestRESTStreaming reads NDJSON from the server-streaming route.
func TestRESTStreaming(t *testing.T) {
	e := startGateway(t, startDemoUpstream(t), nil)
	c := dialH1(t, e.Addr().String())
	st, hdr, body := c.do("GET", "/v1/shelves/1/books:watch", "", "")
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if st != 200 || hdr.Get("Content-Type") != "application/x-ndjson" || len(lines) == 0 || !strings.HasPrefix(lines[0], "{") {
		t.Fatalf("got %d %v %q", st, hdr, body)
	}
	// the connection stays usable after a chunked response
	if st, _, _ := c.do("GET", "/v1/shelves/1", "", ""); st != 200 {
		t.Fatalf("keep-alive after stream: %d", st)
	}
}

// TestOversizedHeader answers 431 and keeps serving others.
func TestOversizedHeader(t *testing.T) {
	e := startGateway(t, startDemoUpstream(t), nil)
	c := dialH1(t, e.Addr().String())
	c.write("GET /v1/shelves/1 HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 128<<10) + "\r\n\r\n")
	if st, _, body := c.read(); st != 431 || !strings.Contains(body, `"code"`) {
		t.Fatalf("got %d %s; want 431", st, body)
	}
	c2 := dialH1(t, e.Addr().String())
	if st, _, _ := c2.do("GET", "/v1/shelves/1", "", ""); st != 200 {
		t.Fatalf("other client: %d", st)
	}
}

// TestReflectionDescriptors routes REST calls with descriptors fetched from
// the upstream's server reflection, with no descriptor file at all.
func TestReflectionDescriptors(t *testing.T) {
	up := startDemoUpstream(t)
	e := startGateway(t, up, func(c *Config) {
		c.DescriptorSets = nil
		c.Upstreams[0].Reflection = true
	})
	c := dialH1(t, e.Addr().String())
	if st, _, body := c.do("GET", "/v1/shelves/1", "", ""); st != 200 || !strings.Contains(body, `"id":"1"`) {
		t.Fatalf("got %d %s", st, body)
	}
}

// TestUpstreamKilledMidStream: an upstream that dies mid-stream gives the
// gRPC client UNAVAILABLE in trailers at once, and the REST client an
// error line, never a hang.
func TestUpstreamKilledMidStream(t *testing.T) {
	started := make(chan struct{}, 2)
	addr, srv := testutil.StartRawServer(t, func(c *testutil.Call) ([]byte, error) {
		m := testutil.RawMsg([]byte{0x08, 0x01})
		_ = c.Stream.SendMsg(&m)
		started <- struct{}{}
		<-c.Stream.Context().Done()
		return nil, c.Stream.Context().Err()
	})
	e := startGateway(t, addr, nil)
	cc := grpcDial(t, e.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := cc.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, "/bookstore.v1.Bookstore/WatchBooks")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SendMsg(demoMsg(t, "WatchBooksRequest")); err != nil {
		t.Fatal(err)
	}
	_ = st.CloseSend()
	if err := st.RecvMsg(demoMsg(t, "Book")); err != nil {
		t.Fatalf("first message: %v", err)
	}
	<-started
	srv.Stop() // kills the upstream connections
	err = st.RecvMsg(demoMsg(t, "Book"))
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("after the upstream died: got %v; want Unavailable", err)
	}
}

// TestGRPCWebText speaks grpc-web-text (base64 both ways) over h2c.
func TestGRPCWebText(t *testing.T) {
	e := startGateway(t, startDemoUpstream(t), nil)
	frame := []byte{0, 0, 0, 0, 2, 0x08, 0x02} // GetShelfRequest{shelf: 2}
	body := base64.StdEncoding.EncodeToString(frame)
	req, _ := http.NewRequest("POST", "http://"+e.Addr().String()+"/bookstore.v1.Bookstore/GetShelf", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/grpc-web-text")
	resp, err := testutil.H2CClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var d textDecoder
	raw, err := d.decode(nil, b, true)
	if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/grpc-web-text") {
		t.Fatalf("got %d %q (%v)", resp.StatusCode, b, err)
	}
	if !strings.Contains(string(raw), "Science") || !strings.Contains(string(raw), "grpc-status: 0") {
		t.Fatalf("decoded response %q lacks the shelf or the trailers", raw)
	}
}

// TestHealthChecks: an endpoint whose health service says NOT_SERVING gets
// no requests while another endpoint is SERVING.
func TestHealthChecks(t *testing.T) {
	endpoint := func(serving bool, theme string) string {
		return testutil.StartRawUpstream(t, func(c *testutil.Call) ([]byte, error) {
			if c.Method == "/grpc.health.v1.Health/Check" {
				if serving {
					return []byte{0x08, 0x01}, nil
				}
				return []byte{0x08, 0x02}, nil
			}
			return append([]byte{0x08, 0x01, 0x12, byte(len(theme))}, theme...), nil
		})
	}
	sick, well := endpoint(false, "sick"), endpoint(true, "well")
	e := startGateway(t, sick, func(c *Config) {
		c.Upstreams[0].Endpoints = []string{sick, well}
		c.Upstreams[0].HealthCheck = 50 * time.Millisecond
	})
	time.Sleep(300 * time.Millisecond) // a few probe rounds
	c := dialH1(t, e.Addr().String())
	for i := 0; i < 10; i++ {
		if st, _, body := c.do("GET", "/v1/shelves/1", "", ""); st != 200 || !strings.Contains(body, `"theme":"well"`) {
			t.Fatalf("request %d: got %d %s; want the SERVING endpoint", i, st, body)
		}
	}
}
