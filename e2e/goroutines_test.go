package e2e

import (
	"github.com/straitgw/strait/internal/testutil"

	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestNoGoroutinePerRequest holds 500 requests in flight against a slow
// upstream and reads the gateway's goroutine count from its /metrics: it
// must stay far below one per request.
func TestNoGoroutinePerRequest(t *testing.T) {
	const inFlight = 500
	var waiting atomic.Int32
	release := make(chan struct{})
	shelf := []byte{0x08, 0x01, 0x12, 0x04, 's', 'l', 'o', 'w'} // id: 1, theme: "slow"
	up := testutil.StartRawUpstream(t, func(*testutil.Call) ([]byte, error) {
		waiting.Add(1)
		select {
		case <-release:
		case <-time.After(20 * time.Second):
		}
		return shelf, nil
	})
	listen, admin := testutil.FreeAddr(t), testutil.FreeAddr(t)
	runStrait(t, listen, "serve", "--listen", listen, "--upstream", up,
		"--descriptors", descriptorFile(t), "--admin", admin)

	hc := testutil.H2CClient()
	var wg sync.WaitGroup
	var ok atomic.Int32
	for i := 0; i < inFlight; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := hc.Get("http://" + listen + "/v1/shelves/1")
			if err != nil {
				t.Error(err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.Contains(string(b), `"theme":"slow"`) {
				ok.Add(1)
			}
		}()
	}
	deadline := time.Now().Add(20 * time.Second)
	for waiting.Load() < inFlight && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := waiting.Load(); n < inFlight {
		close(release)
		wg.Wait()
		t.Fatalf("only %d of %d requests reached the upstream", n, inFlight)
	}
	g := metric(t, admin, "strait_goroutines")
	close(release)
	wg.Wait()
	t.Logf("%d requests in flight, gateway goroutines %d", inFlight, g)
	if g > 100 {
		t.Fatalf("gateway has %d goroutines with %d requests in flight; want far fewer than one per request", g, inFlight)
	}
	if ok.Load() != inFlight {
		t.Fatalf("%d of %d requests answered correctly", ok.Load(), inFlight)
	}
}
