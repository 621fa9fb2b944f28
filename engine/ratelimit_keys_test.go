package engine

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/filter/ratelimit"
	"github.com/straitgw/strait/internal/testcert"
	"github.com/straitgw/strait/internal/testutil"
)

// TestRateLimitIdentity: keyed by the mTLS identity, each client
// certificate's name has its own bucket: its first URI SAN, else its
// subject; a renewed certificate with the same URI shares the bucket.
func TestRateLimitIdentity(t *testing.T) {
	ca := testcert.NewCA(t, "test CA")
	dir := t.TempDir()
	cf, kf := ca.Server(t, "gateway").Write(t, dir, "gw")
	e := startGateway(t, startDemoUpstream(t), func(c *Config) {
		c.TLS = TLSConfig{CertFile: cf, KeyFile: kf, ClientCAFile: ca.Write(t, dir, "ca")}
		c.RateLimits = []RateLimitConfig{{Key: "identity", Rate: 1, Per: time.Hour}}
	})
	url := "https://" + e.Addr().String() + "/v1/shelves/1"
	a := ca.Issue(t, testcert.Spec{CN: "a", URIs: []string{"spiffe://example.org/a"}, Client: true})
	aRenewed := ca.Issue(t, testcert.Spec{CN: "a2", URIs: []string{"spiffe://example.org/a"}, Client: true})
	b := ca.Issue(t, testcert.Spec{CN: "b", URIs: []string{"spiffe://example.org/b"}, Client: true})
	c := ca.Issue(t, testcert.Spec{CN: "c", Client: true})
	for i, step := range []struct {
		leaf *testcert.Leaf
		h2   bool
		want int
	}{{a, false, 200}, {a, true, 429}, {b, true, 200}, {c, false, 200}, {c, false, 429}, {aRenewed, false, 429}, {b, false, 429}} {
		resp, err := httpsClient(ca, step.h2, step.leaf).Get(url)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != step.want {
			t.Fatalf("step %d (%s): got %d; want %d", i, step.leaf.Cert.Subject, resp.StatusCode, step.want)
		}
	}
}

// TestRateLimitClaim: keyed by a claim, a filter that verified a token
// before it (here a stand-in storing claims under filter.ClaimsKey)
// gives each subject its own bucket; requests without claims share one.
func TestRateLimitClaim(t *testing.T) {
	lim, err := ratelimit.NewLocal(ratelimit.Rate{Rate: 1, Per: time.Hour}, ratelimit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	auth := filter.Func(func(r filter.Request, _ func(filter.Result)) filter.Result {
		if sub := r.Header("x-test-sub"); sub != "" {
			r.SetValue(filter.ClaimsKey{}, map[string]any{"sub": sub, "n": 1.0})
		}
		return filter.Continue
	})
	e := startGateway(t, startDemoUpstream(t), func(c *Config) {
		c.Filters = []filter.Entry{{Filter: auth}, {Filter: ratelimit.New(ratelimit.Key{Kind: ratelimit.KeyClaim, Name: "sub"}, lim)}}
	})
	for i, step := range []struct {
		sub  string
		want int
	}{{"alice", 200}, {"bob", 200}, {"alice", 429}, {"", 200}, {"", 429}, {"bob", 429}, {"carol", 200}} {
		c := dialH1(t, e.Addr().String())
		hdr := ""
		if step.sub != "" {
			hdr = "X-Test-Sub: " + step.sub + "\r\n"
		}
		c.write("GET /v1/shelves/1 HTTP/1.1\r\nHost: x\r\n" + hdr + "\r\n")
		if st, _, body := c.read(); st != step.want {
			t.Fatalf("step %d (sub %q): got %d %s; want %d", i, step.sub, st, body, step.want)
		}
	}
}

// asker is a Limiter that must always ask, as a limiter shared across a
// fleet would: the test answers each Ask.
type asker struct {
	asked   chan string
	answers chan ratelimit.Decision
}

func (a *asker) Take(string) (ratelimit.Decision, bool) { return ratelimit.Decision{}, false }
func (a *asker) Ask(key string, done func(ratelimit.Decision)) {
	a.asked <- key
	go func() { done(<-a.answers) }()
}

// rawServerCodec passes gRPC messages through as bytes.
type rawServerCodec struct{}

func (rawServerCodec) Marshal(v any) ([]byte, error) { return *v.(*[]byte), nil }
func (rawServerCodec) Unmarshal(b []byte, v any) error {
	*v.(*[]byte) = append([]byte(nil), b...)
	return nil
}
func (rawServerCodec) Name() string { return "proto" }

var _ encoding.Codec = rawServerCodec{}

// TestRateLimitAsk: the seam for a shared limiter. A gRPC call is
// suspended while the limiter is asked; allowed, it goes on, and a
// message the client sends only once the upstream has the call still
// reaches it; denied, it ends RESOURCE_EXHAUSTED.
func TestRateLimitAsk(t *testing.T) {
	entered := make(chan struct{}, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.ForceServerCodec(rawServerCodec{}), grpc.UnknownServiceHandler(func(_ any, ss grpc.ServerStream) error {
		entered <- struct{}{}
		var msg []byte
		if err := ss.RecvMsg(&msg); err != nil {
			return err
		}
		return ss.SendMsg(&shelfX)
	}))
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	a := &asker{asked: make(chan string, 1), answers: make(chan ratelimit.Decision, 1)}
	e := startGateway(t, ln.Addr().String(), func(c *Config) {
		c.Filters = []filter.Entry{{Filter: ratelimit.New(ratelimit.Key{Kind: ratelimit.KeyHeader, Name: "x-tenant"}, a)}}
	})
	cc := grpcDial(t, e.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	desc := &grpc.StreamDesc{ClientStreams: true}
	st, err := cc.NewStream(metadata.AppendToOutgoingContext(ctx, "x-tenant", "acme"), desc, "/bookstore.v1.Bookstore/GetShelf", grpc.ForceCodec(rawServerCodec{}))
	if err != nil {
		t.Fatal(err)
	}
	if k := <-a.asked; k != "acme" {
		t.Fatalf("asked for %q; want acme", k)
	}
	a.answers <- ratelimit.Decision{Allowed: true, Limit: 5, Remaining: 4}
	<-entered // the upstream has the call: only now does the message go
	if err := st.SendMsg(&getShelf1); err != nil {
		t.Fatal(err)
	}
	_ = st.CloseSend()
	var out []byte
	if err := st.RecvMsg(&out); err != nil || string(out) != string(shelfX) {
		t.Fatalf("allowed call: got %x, %v; want the shelf", out, err)
	}

	a.answers <- ratelimit.Decision{Limit: 5, RetryAfter: time.Second, Reset: time.Second}
	_, err = testutil.RawCall(metadata.AppendToOutgoingContext(ctx, "x-tenant", "acme"), cc, "/bookstore.v1.Bookstore/GetShelf", getShelf1)
	<-a.asked
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("denied call: got %v; want RESOURCE_EXHAUSTED", err)
	}
}
