package engine

import (
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/straitgw/strait/internal/testutil"
	"github.com/straitgw/strait/rpc"
)

// shelfX is bookstore.v1.Shelf{id: 1, theme: "x"} on the wire.
var shelfX = []byte{0x08, 0x01, 0x12, 0x01, 'x'}

// holdingUpstream answers every call once release is closed, and tells
// arrived of each call as it comes.
func holdingUpstream(t *testing.T) (addr string, arrived chan string, release func()) {
	t.Helper()
	hold := make(chan struct{})
	arrived = make(chan string, 256)
	addr = testutil.StartRawUpstream(t, func(c *testutil.Call) ([]byte, error) {
		arrived <- first(c.MD.Get("x-request-id"))
		select {
		case <-hold:
			return shelfX, nil
		case <-c.Stream.Context().Done():
			return nil, c.Stream.Context().Err()
		}
	})
	var once sync.Once
	release = func() { once.Do(func() { close(hold) }) }
	t.Cleanup(release)
	return addr, arrived, release
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// waitFor polls cond, for up to 10s: for counts that settle with no
// event to wait on (a stream's close reaching the gateway).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s", what)
		}
	}
}

// checkIdle checks that every breaker count of e is back to zero, and no
// upstream stream is open.
func checkIdle(t *testing.T, e *Engine) {
	t.Helper()
	s := e.snap.Load()
	waitFor(t, "idle breakers", func() bool {
		for _, b := range s.breakers {
			for o := range numOverloads {
				if b.busy[o].Load() != 0 {
					return false
				}
			}
		}
		return e.metrics.upstreamStreams.Load() == 0
	})
}

// checkOverloaded checks a call a circuit breaker turned away for what.
func checkOverloaded(t *testing.T, proto string, o outcome, what string) {
	t.Helper()
	want := `upstream "default" overloaded: circuit_breaker.max_` + what + ` reached`
	if o.code != rpc.CodeUnavailable || o.msg != want || o.header.Get("X-Strait-Overloaded") != what {
		t.Fatalf("%s: got %v %q, x-strait-overloaded %q; want UNAVAILABLE %q, %s", proto, o.code, o.msg, o.header.Get("X-Strait-Overloaded"), want, what)
	}
	body := `{"code":14,"message":"upstream \"default\" overloaded: circuit_breaker.max_` + what + ` reached","details":[]}`
	if strings.HasPrefix(proto, "rest") && (o.status != 503 || o.body != body) {
		t.Fatalf("%s: got %d %s; want 503 %s", proto, o.status, o.body, body)
	}
}

// TestCircuitBreakerRequests: with max_requests 4 and an upstream that
// holds every call, 10 calls at once in random protocols: exactly 4 reach
// the upstream, exactly 6 are turned away at once with 503 / UNAVAILABLE
// and x-strait-overloaded: requests; once released the 4 succeed and the
// counts are back to zero.
func TestCircuitBreakerRequests(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 7))
	up, arrived, release := holdingUpstream(t)
	e := startGateway(t, up, func(c *Config) { c.Upstreams[0].CircuitBreaker = CircuitBreaker{MaxRequests: 4} })
	ps := protocols(t, e.Addr().String())
	type result struct {
		proto string
		o     outcome
	}
	results := make(chan result, 10)
	for i := range 10 {
		p := ps[rng.IntN(len(ps))]
		go func() {
			results <- result{p.name, p.call(t, map[string]string{"x-request-id": "call-" + p.name + string(rune('a'+i))})}
		}()
	}
	for range 6 {
		r := <-results
		checkOverloaded(t, r.proto, r.o, "requests")
	}
	for range 4 {
		<-arrived
	}
	select {
	case id := <-arrived:
		t.Fatalf("a fifth call (%s) reached the upstream", id)
	case r := <-results:
		t.Fatalf("a seventh call ended before the release: %s %v %q", r.proto, r.o.code, r.o.msg)
	default:
	}
	release()
	for range 4 {
		if r := <-results; r.o.code != rpc.CodeOK {
			t.Fatalf("%s: a call under the bound got %v %q", r.proto, r.o.code, r.o.msg)
		}
	}
	if n := e.snap.Load().breakerNamed("default").opens[overRequests].Load(); n != 6 {
		t.Fatalf("strait_circuit_open_total{reason=requests}: %d; want 6", n)
	}
	checkIdle(t, e)
}

// blackhole accepts connections and never answers: an upstream whose
// HTTP/2 handshake never completes.
func blackhole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	return ln.Addr().String()
}

// TestCircuitBreakerPending: with max_pending 2 and an upstream that
// never completes its handshake, two calls wait for the connection; the
// next ones are turned away at once with x-strait-overloaded: pending. A
// waiting client that leaves, and one whose wait times out, both give
// their place back.
func TestCircuitBreakerPending(t *testing.T) {
	e := startGateway(t, blackhole(t), func(c *Config) {
		c.Timeouts.Connect = 4 * time.Second
		c.Upstreams[0].CircuitBreaker = CircuitBreaker{MaxPending: 2}
	})
	b := e.snap.Load().breakerNamed("default")
	leaver := dialH1(t, e.Addr().String())
	leaver.write("GET /v1/shelves/1 HTTP/1.1\r\nHost: x\r\n\r\n")
	waitFor(t, "the first call to wait", func() bool { return b.busy[overPending].Load() == 1 })
	waiter := make(chan outcome, 1)
	call := restH1Caller(e.Addr().String())
	go func() { waiter <- call(t, nil) }()
	waitFor(t, "the second call to wait", func() bool { return b.busy[overPending].Load() == 2 })
	for _, p := range protocols(t, e.Addr().String()) {
		start := time.Now()
		checkOverloaded(t, p.name, p.call(t, nil), "pending")
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("%s: turned away after %v; want at once, not after the 4s wait", p.name, d)
		}
	}
	leaver.c.Close()
	waitFor(t, "the client that left to give its place back", func() bool { return b.busy[overPending].Load() == 1 })
	if o := <-waiter; o.status != 503 || o.code != rpc.CodeUnavailable || o.header.Get("X-Strait-Overloaded") != "" {
		t.Fatalf("the call that waited: got %d %v %q; want 503 UNAVAILABLE, not overloaded", o.status, o.code, o.msg)
	}
	if n := b.opens[overPending].Load(); n != 4 {
		t.Fatalf("strait_circuit_open_total{reason=pending}: %d; want 4", n)
	}
	checkIdle(t, e)
}

// TestCircuitBreakerRetries: with max_retries 2 and a policy retrying
// UNAVAILABLE, two calls whose first attempt fails are retried (and
// held); a third call's retry is not made: its client gets the
// upstream's UNAVAILABLE as it was, and the upstream sees it once.
func TestCircuitBreakerRetries(t *testing.T) {
	var mu sync.Mutex
	attempts := map[string]int{}
	hold := make(chan struct{})
	retried := make(chan string, 16)
	up := testutil.StartRawUpstream(t, func(c *testutil.Call) ([]byte, error) {
		id := first(c.MD.Get("x-request-id"))
		mu.Lock()
		attempts[id]++
		n := attempts[id]
		mu.Unlock()
		if n == 1 {
			return nil, status.Error(codes.Unavailable, "try again")
		}
		retried <- id
		select {
		case <-hold:
			return shelfX, nil
		case <-c.Stream.Context().Done():
			return nil, c.Stream.Context().Err()
		}
	})
	defer close(hold)
	e := startGateway(t, up, func(c *Config) {
		c.Upstreams[0].CircuitBreaker = CircuitBreaker{MaxRetries: 2}
		c.Services = []ServiceConfig{{Name: "bookstore.v1.Bookstore", Upstream: "default", Retry: RetryPolicy{
			MaxAttempts: 2, InitialBackoff: time.Millisecond, RetryableStatusCodes: []string{"UNAVAILABLE"}}}}
	})
	ps := protocols(t, e.Addr().String())
	held := make(chan outcome, 2)
	for i, id := range []string{"a", "b"} {
		go func() { held <- ps[i].call(t, map[string]string{"x-request-id": id}) }()
	}
	<-retried
	<-retried
	for _, p := range ps {
		id := "c-" + p.name
		o := p.call(t, map[string]string{"x-request-id": id})
		if o.code != rpc.CodeUnavailable || o.msg != "try again" || o.header.Get("X-Strait-Overloaded") != "" {
			t.Fatalf("%s: got %v %q, x-strait-overloaded %q; want the upstream's UNAVAILABLE \"try again\"", p.name, o.code, o.msg, o.header.Get("X-Strait-Overloaded"))
		}
		mu.Lock()
		n := attempts[id]
		mu.Unlock()
		if n != 1 {
			t.Fatalf("%s: the upstream saw %d attempts; want 1 (no retry)", p.name, n)
		}
	}
	if n := e.snap.Load().breakerNamed("default").opens[overRetries].Load(); n != 4 {
		t.Fatalf("strait_circuit_open_total{reason=retries}: %d; want 4", n)
	}
	hold <- struct{}{}
	hold <- struct{}{}
	for range 2 {
		if o := <-held; o.code != rpc.CodeOK {
			t.Fatalf("a retried call: got %v %q; want OK", o.code, o.msg)
		}
	}
	checkIdle(t, e)
}

// stormUpstream does what each call's x-do header says: ok, slow (a few
// ms), fail (UNAVAILABLE, which the policy retries), error (INTERNAL),
// or hang (until the call's deadline).
func stormUpstream(t *testing.T) string {
	return testutil.StartRawUpstream(t, func(c *testutil.Call) ([]byte, error) {
		ctx := c.Stream.Context()
		switch first(c.MD.Get("x-do")) {
		case "slow":
			select {
			case <-time.After(time.Duration(len(c.MD.Get("x-request-id")[0])) * time.Millisecond):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		case "fail":
			return nil, status.Error(codes.Unavailable, "try again")
		case "error":
			return nil, status.Error(codes.Internal, "broken")
		case "hang":
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return shelfX, nil
	})
}

// TestCircuitBreakerStorm: calls of every protocol and fate (answered,
// failed, retried, refused by an endpoint that refuses every stream,
// timed out, abandoned by their client, turned away by the breaker), with
// a reload changing the bounds halfway: every count the breaker keeps is
// back to zero at the end, and no stream is left open.
func TestCircuitBreakerStorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 3))
	refusing, _ := refuser(t, false)
	var cfg Config
	e := startGateway(t, stormUpstream(t), func(c *Config) {
		c.Upstreams[0].Endpoints = append(c.Upstreams[0].Endpoints, refusing)
		c.Upstreams[0].CircuitBreaker = CircuitBreaker{MaxRequests: 6, MaxRetries: 2, MaxPending: 3}
		c.Services = []ServiceConfig{{Name: "bookstore.v1.Bookstore", Upstream: "default", Retry: RetryPolicy{
			MaxAttempts: 3, InitialBackoff: time.Millisecond, RetryableStatusCodes: []string{"UNAVAILABLE"}}}}
		cfg = *c
	})
	ps := protocols(t, e.Addr().String())
	fates := []string{"ok", "slow", "fail", "error", "hang", "leave"}
	const workers, calls = 12, 30
	plans := make([][]int, workers) // [call] = fate<<8 | protocol, drawn here: rng is not shared
	for w := range plans {
		for range calls {
			plans[w] = append(plans[w], rng.IntN(len(fates))<<8|rng.IntN(len(ps)))
		}
	}
	var wg sync.WaitGroup
	var done sync.WaitGroup
	done.Add(workers * calls / 2)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, plan := range plans[w] {
				fate, p := fates[plan>>8], ps[plan&0xff]
				hdr := map[string]string{"x-do": fate, "x-request-id": strings.Repeat("r", 1+i%9)}
				if fate == "hang" || fate == "slow" {
					hdr["grpc-timeout"] = "300m"
				}
				if fate == "leave" {
					leave(t, e.Addr().String())
				} else {
					checkStormOutcome(t, p.name, fate, p.call(t, hdr))
				}
				if w%2 == 0 {
					done.Done()
				}
			}
		}()
	}
	done.Wait() // half the calls made: reload with other bounds
	cfg.Upstreams[0].CircuitBreaker = CircuitBreaker{MaxRequests: 3, MaxRetries: 1, MaxPending: 1}
	reload(t, e, cfg)
	wg.Wait()
	checkIdle(t, e)
	b := e.snap.Load().breakerNamed("default")
	t.Logf("turned away: %d pending, %d requests, %d retries not made", b.opens[overPending].Load(), b.opens[overRequests].Load(), b.opens[overRetries].Load())
}

// leave sends a call that hangs upstream and closes its connection
// before the answer.
func leave(t *testing.T, addr string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Errorf("dial: %v", err)
		return
	}
	_, _ = c.Write([]byte("GET /v1/shelves/1 HTTP/1.1\r\nHost: x\r\nX-Do: hang\r\nGrpc-Timeout: 300m\r\n\r\n"))
	time.Sleep(time.Millisecond) // long enough, sometimes, to reach the upstream
	c.Close()
}

// checkStormOutcome checks a storm call ended as its fate allows.
func checkStormOutcome(t *testing.T, proto, fate string, o outcome) {
	if o.code == rpc.CodeUnavailable && (o.header.Get("X-Strait-Overloaded") != "" || strings.Contains(o.msg, "REFUSED_STREAM")) {
		return // turned away, or refused with no retry left: any fate
	}
	want := map[string][]rpc.Code{
		"ok": {rpc.CodeOK}, "slow": {rpc.CodeOK, rpc.CodeDeadlineExceeded},
		"fail": {rpc.CodeUnavailable}, "error": {rpc.CodeInternal}, "hang": {rpc.CodeDeadlineExceeded},
	}[fate]
	for _, c := range want {
		if o.code == c {
			return
		}
	}
	t.Errorf("%s %s: got %v %q; want one of %v", proto, fate, o.code, o.msg, want)
}
