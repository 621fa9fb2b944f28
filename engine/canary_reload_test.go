package engine

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/straitgw/strait/internal/testutil"
)

// TestCanaryReloadUnderLoad: the canary's percentage changes by reload
// while clients over HTTP/1.1, h2 and gRPC keep sending; no request
// fails, and each weight shows in who answers.
func TestCanaryReloadUnderLoad(t *testing.T) {
	a, b := startWho(t, "A"), startWho(t, "B")
	e := canaryGateway(t, a, b, CanaryConfig{Upstream: "canary", Percent: 0.01})
	addr := e.Addr().String()
	base := "http://" + addr
	var phase atomic.Int64 // the weight in force, as the clients see it
	var mu sync.Mutex
	toB := map[int64][2]int{} // phase -> answers from A, B
	var failed, sent atomic.Int64
	record := func(p int64, who string, err error) {
		sent.Add(1)
		if err != nil {
			failed.Add(1)
			t.Errorf("request failed during phase %d: %v", p, err)
			return
		}
		mu.Lock()
		c := toB[p]
		c[map[string]int{"A": 0, "B": 1}[who]]++
		toB[p] = c
		mu.Unlock()
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	loop := func(call func() (string, error)) {
		defer wg.Done()
		for i := 0; i < 20000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			p := phase.Load()
			who, err := call()
			if phase.Load() == p { // a request across a swap counts for neither
				record(p, who, err)
			} else if err != nil {
				record(p, who, err)
			}
		}
	}
	for _, hc := range []*http.Client{h1HTTPClient(), h1HTTPClient(), testutil.H2CClient()} {
		wg.Add(1)
		go loop(func() (string, error) { return restWho(hc, base) })
	}
	cc := grpcDial(t, addr)
	wg.Add(1)
	go loop(func() (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var hdr metadata.MD
		_, err := testutil.RawCall(ctx, cc, "/bookstore.v1.Bookstore/GetShelf", []byte{0x08, 0x01}, grpc.Header(&hdr))
		if err != nil {
			return "", err
		}
		return hdr.Get("x-upstream")[0], nil
	})
	for _, p := range []int64{0, 100, 50, 0, 100, 0} {
		time.Sleep(300 * time.Millisecond)
		mustReload(t, e, func(c *Config) {
			c.Canary = []CanaryConfig{{Upstream: "canary", Percent: max(float64(p), 0.01)}} // 0.01: the least an entry may send
		})
		phase.Store(p)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("%d requests, %d failed; answers by weight (A, B): %v", sent.Load(), failed.Load(), toB)
	if failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed", failed.Load(), sent.Load())
	}
	if c := toB[100]; c[0] != 0 || c[1] == 0 {
		t.Errorf("at 100%%: %d to A, %d to B; want all to B", c[0], c[1])
	}
	if c := toB[0]; c[1] > c[0]/100+3 || c[0] == 0 {
		t.Errorf("at 0.01%%: %d to A, %d to B; want nearly all to A", c[0], c[1])
	}
	if c := toB[50]; c[0] == 0 || c[1] == 0 {
		t.Errorf("at 50%%: %d to A, %d to B; want both", c[0], c[1])
	}
}

// restWho GETs a shelf and returns who answered, or why it failed.
func restWho(c *http.Client, base string) (string, error) {
	resp, err := c.Get(base + "/v1/shelves/1")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		return "", fmt.Errorf("status %d: %s (%v)", resp.StatusCode, body, err)
	}
	return resp.Header.Get("X-Upstream"), nil
}
