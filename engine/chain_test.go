package engine

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/internal/testutil"
	"github.com/straitgw/strait/rpc"
)

// tagged is an upstream that answers every call with a shelf and keeps
// the metadata of each call, by the request id.
type tagged struct {
	name string
	mu   sync.Mutex
	md   map[string]metadata.MD
}

func startTagged(t *testing.T, name string) (*tagged, string) {
	u := &tagged{name: name, md: map[string]metadata.MD{}}
	addr := testutil.StartRawUpstream(t, func(c *testutil.Call) ([]byte, error) {
		u.mu.Lock()
		u.md[c.MD.Get("x-request-id")[0]] = c.MD
		u.mu.Unlock()
		return []byte{0x08, 0x01, 0x12, 0x01, 'x'}, nil
	})
	return u, addr
}

func (u *tagged) got(id string) metadata.MD {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.md[id]
}

// finished records what finishers hear, by request id.
type finished struct {
	mu   sync.Mutex
	done map[string][]filter.Done
}

func (f *finished) OnRequest(filter.Request, func(filter.Result)) filter.Result {
	return filter.Continue
}

func (f *finished) OnDone(r filter.Request, d filter.Done) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.done[r.RequestID()] = append(f.done[r.RequestID()], d)
}

func (f *finished) of(id string) []filter.Done {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.done[id]
}

// testFilters: tag adds metadata on every route; deny rejects REST
// GetShelf requests (by its HTTP rule) that ask to be denied; wait
// suspends a request that asks and resumes it from another goroutine,
// letting it through or rejecting it; route sends a request to upstream
// b on demand.
func testFilters(fin *finished) []filter.Entry {
	tag := filter.Func(func(r filter.Request, _ func(filter.Result)) filter.Result {
		r.SetMetadata("x-filtered", r.Protocol().String()+" "+r.RPC())
		return filter.Continue
	})
	deny := filter.Func(func(r filter.Request, _ func(filter.Result)) filter.Result {
		if r.Header("x-deny") != "" {
			return filter.Reject(rpc.New(rpc.CodePermissionDenied, "denied by test"), filter.Field{Name: "X-Why", Value: "test"})
		}
		return filter.Continue
	})
	wait := filter.Func(func(r filter.Request, resume func(filter.Result)) filter.Result {
		how := r.Header("x-wait")
		if how == "" {
			return filter.Continue
		}
		how = strings.Clone(how) // kept past the call (filter.Request)
		go func() {
			time.Sleep(20 * time.Millisecond)
			if how == "reject" {
				resume(filter.Reject(rpc.New(rpc.CodeUnauthenticated, "checked later")))
				return
			}
			resume(filter.Continue)
		}()
		return filter.Suspend
	})
	route := filter.Func(func(r filter.Request, _ func(filter.Result)) filter.Result {
		if r.Header("x-to") == "b" {
			r.SetUpstream("b")
		}
		return filter.Continue
	})
	return []filter.Entry{{Filter: fin}, {Filter: tag}, {Filter: deny, Routes: []filter.Selector{"GET /v1/shelves/{shelf}"}},
		{Filter: wait}, {Filter: route, Routes: []filter.Selector{"bookstore.v1.Bookstore/GetShelf"}}}
}

// TestFilterChain runs a Go program's filters (Config.Filters) on REST
// over h1 and h2 and on gRPC: metadata added, a rejection in each
// protocol, routes selected by HTTP rule and by method, a suspension
// resumed from another goroutine either way, an upstream picked by a
// filter, and finishers told once how each request ended.
func TestFilterChain(t *testing.T) {
	a, addrA := startTagged(t, "a")
	b, addrB := startTagged(t, "b")
	fin := &finished{done: map[string][]filter.Done{}}
	e := startGateway(t, addrA, func(c *Config) {
		c.Upstreams = append(c.Upstreams, UpstreamConfig{Name: "b", Endpoints: []string{addrB}})
		c.Filters = testFilters(fin)
	})
	base := "http://" + e.Addr().String()
	rest := func(c *http.Client, id string, hdr ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/v1/shelves/1", nil)
		req.Header.Set("X-Request-Id", id)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(body)
	}
	doneOnce := func(id string, want rpc.Code, upstream string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for len(fin.of(id)) == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond) // a second OnDone would show now
		ds := fin.of(id)
		if len(ds) != 1 || ds[0].Status.Code != want || ds[0].Upstream != upstream {
			t.Errorf("%s: finisher heard %+v; want once %v via %q", id, ds, want, upstream)
		}
	}

	for i, c := range []*http.Client{http.DefaultClient, testutil.H2CClient()} {
		id := []string{"plain-h1", "plain-h2"}[i]
		if resp, body := rest(c, id); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", id, resp.StatusCode, body)
		}
		if got := a.got(id).Get("x-filtered"); len(got) != 1 || got[0] != "rest /bookstore.v1.Bookstore/GetShelf" {
			t.Errorf("%s: upstream got x-filtered %q", id, got)
		}
		doneOnce(id, rpc.CodeOK, "default")

		id = []string{"deny-h1", "deny-h2"}[i]
		resp, body := rest(c, id, "X-Deny", "1")
		var js struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal([]byte(body), &js); err != nil || resp.StatusCode != 403 || js.Code != 7 ||
			js.Message != "denied by test" || resp.Header.Get("X-Why") != "test" || resp.Header.Get("X-Request-Id") != id {
			t.Errorf("%s: got %d %v %s", id, resp.StatusCode, resp.Header, body)
		}
		if a.got(id) != nil {
			t.Errorf("%s: a rejected request reached the upstream", id)
		}
		doneOnce(id, rpc.CodePermissionDenied, "") // the filters before deny let it through

		id = []string{"wait-h1", "wait-h2"}[i]
		if resp, body := rest(c, id, "X-Wait", "ok", "X-To", "b"); resp.StatusCode != 200 || b.got(id) == nil {
			t.Errorf("%s: got %d %s; want 200 from upstream b", id, resp.StatusCode, body)
		}
		id = []string{"waitno-h1", "waitno-h2"}[i]
		if resp, _ := rest(c, id, "X-Wait", "reject"); resp.StatusCode != 401 || a.got(id) != nil {
			t.Errorf("%s: got %d; want 401, nothing upstream", id, resp.StatusCode)
		}
	}

	cc := grpcDial(t, e.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	call := func(id string, kv ...string) error {
		req := demoMsg(t, "GetShelfRequest")
		req.Set(req.Descriptor().Fields().ByName("shelf"), protoreflect.ValueOfInt64(1))
		md := metadata.Pairs(append([]string{"x-request-id", id}, kv...)...)
		return cc.Invoke(metadata.NewOutgoingContext(ctx, md), "/bookstore.v1.Bookstore/GetShelf", req, demoMsg(t, "Shelf"))
	}
	if err := call("grpc-deny-ignored", "x-deny", "1"); err != nil {
		t.Errorf("gRPC with x-deny (the deny filter selects the REST rule only): %v", err)
	}
	if got := a.got("grpc-deny-ignored").Get("x-filtered"); len(got) != 1 || got[0] != "grpc /bookstore.v1.Bookstore/GetShelf" {
		t.Errorf("gRPC: upstream got x-filtered %q", got)
	}
	if err := call("grpc-wait-reject", "x-wait", "reject"); status.Code(err) != codes.Unauthenticated || status.Convert(err).Message() != "checked later" {
		t.Errorf("gRPC suspended then rejected: got %v", err)
	}
	doneOnce("grpc-wait-reject", rpc.CodeUnauthenticated, "")
	if err := call("grpc-to-b", "x-to", "b", "x-wait", "ok"); err != nil || b.got("grpc-to-b") == nil {
		t.Errorf("gRPC routed to b: %v", err)
	}
	doneOnce("grpc-to-b", rpc.CodeOK, "b")
}
