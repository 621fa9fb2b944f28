package engine

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/internal/demo"
	"github.com/straitgw/strait/internal/testutil"
	"github.com/straitgw/strait/rpc"
)

// observed collects copies of the observations a gateway reports.
type observed struct {
	mu  sync.Mutex
	got []observation
	ch  chan struct{}
}

func (o *observed) add(ob *observation) {
	o.mu.Lock()
	o.got = append(o.got, *ob)
	o.mu.Unlock()
	o.ch <- struct{}{}
}

// next waits for the next observation.
func (o *observed) next(t *testing.T) observation {
	t.Helper()
	select {
	case <-o.ch:
	case <-time.After(5 * time.Second):
		t.Fatal("no observation")
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.got[len(o.got)-1]
}

func startObserved(t *testing.T, upstream string) (*Engine, *observed) {
	t.Helper()
	e, err := New(Config{Listen: "127.0.0.1:0", Upstreams: []UpstreamConfig{{Name: "default", Endpoints: []string{upstream}}},
		DescriptorSets: [][]byte{demo.Descriptors()}})
	if err != nil {
		t.Fatal(err)
	}
	obs := &observed{ch: make(chan struct{}, 64)}
	e.observers = append(e.observers, obs.add)
	e.obsKeep.Store(true)
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e, obs
}

// TestObservation: every request is reported once when its response ends,
// whatever the protocol and however it ends (an answer, a local reply, an
// error status, the client leaving), with what the access log and the
// metrics need.
func TestObservation(t *testing.T) {
	up := startDemoUpstream(t)
	e, obs := startObserved(t, up)
	base := "http://" + e.Addr().String()
	check := func(what string, o observation, want observation) {
		t.Helper()
		if o.proto != want.proto || o.method != want.method || o.path != want.path || o.status != want.status ||
			o.hasCode != want.hasCode || o.code != want.code || o.service != want.service || o.rpcMethod != want.rpcMethod ||
			o.upstream != want.upstream {
			t.Errorf("%s: got %+v\nwant %+v", what, o, want)
		}
		if d := time.Since(o.start); d <= 0 || d > time.Minute {
			t.Errorf("%s: start %v", what, o.start)
		}
	}
	get := observation{proto: filter.ProtocolREST, method: "GET", path: "/v1/shelves/1", status: 200, hasCode: true,
		service: "bookstore.v1.Bookstore", rpcMethod: "GetShelf", upstream: up}

	for _, c := range []*http.Client{http.DefaultClient, testutil.H2CClient()} {
		resp, err := c.Get(base + "/v1/shelves/1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		o := obs.next(t)
		check("GET over "+resp.Proto, o, get)
		if o.out != int64(len(body)) || o.requestID == "" || o.requestID != resp.Header.Get("X-Request-Id") {
			t.Errorf("GET over %s: out %d (body %d), request id %q (header %q)", resp.Proto, o.out, len(body), o.requestID, resp.Header.Get("X-Request-Id"))
		}
	}

	post := `{"theme":"observed"}`
	resp, err := http.Post(base+"/v1/shelves", "application/json", strings.NewReader(post))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if o := obs.next(t); o.in != int64(len(post)) || o.method != "POST" || o.rpcMethod != "CreateShelf" {
		t.Errorf("POST: got %+v; want %d bytes in", o, len(post))
	}

	resp, err = http.Get(base + "/v1/nowhere")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	check("no route", obs.next(t), observation{proto: filter.ProtocolREST, method: "GET", path: "/v1/nowhere",
		status: 404, hasCode: true, code: rpc.CodeUnimplemented})

	cc := grpcDial(t, e.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := demoMsg(t, "GetShelfRequest")
	req.Set(req.Descriptor().Fields().ByName("shelf"), protoreflect.ValueOfInt64(999))
	if err := cc.Invoke(ctx, "/bookstore.v1.Bookstore/GetShelf", req, demoMsg(t, "Shelf")); status.Code(err) != codes.NotFound {
		t.Fatalf("gRPC: %v", err)
	}
	check("gRPC NOT_FOUND", obs.next(t), observation{proto: filter.ProtocolGRPC, method: "POST", path: "/bookstore.v1.Bookstore/GetShelf",
		status: 200, hasCode: true, code: rpc.CodeNotFound, service: "bookstore.v1.Bookstore", rpcMethod: "GetShelf", upstream: up})

	// A client that leaves mid-stream: the call is reported cancelled.
	w := demoMsg(t, "WatchBooksRequest")
	w.Set(w.Descriptor().Fields().ByName("shelf"), protoreflect.ValueOfInt64(1))
	iv := w.Mutable(w.Descriptor().Fields().ByName("interval")).Message()
	iv.Set(iv.Descriptor().Fields().ByName("seconds"), protoreflect.ValueOfInt64(1))
	sctx, scancel := context.WithCancel(ctx)
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
	if o := obs.next(t); o.code != rpc.CodeCanceled || !o.hasCode || o.rpcMethod != "WatchBooks" || o.out == 0 {
		t.Errorf("cancelled stream: got %+v; want CANCELLED after some bytes", o)
	}
	obs.mu.Lock()
	n := len(obs.got)
	obs.mu.Unlock()
	if n != 6 {
		t.Errorf("got %d observations; want 6 (one per request)", n)
	}
}
