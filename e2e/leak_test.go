package e2e

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/straitgw/strait/internal/echo"
	pb "github.com/straitgw/strait/internal/echopb"
)

// TestHeaderLeak replays the "fidelity" issue as it was reported: 32
// HTTP/1.1 keep-alive clients, each with "x-client: client-NN" and a fresh
// random 20-40 character x-token per request, call the default route
// POST /strait.test.v1.Echo/Unary through one upstream connection. Each
// response and what the upstream received must carry the request's own
// values. The gateway once kept request header bytes in its HPACK table
// after their buffer was reused: it panicked, lost requests and sent one
// client's x-token on another client's request.
func TestHeaderLeak(t *testing.T) {
	const clients, perClient = 32, 100
	seed := fidelitySeed(t)
	g := startEchoGateway(t, 1, 1)
	url := "http://" + g.Listen + "/strait.test.v1.Echo/Unary"
	var bad, failed atomic.Int32
	var mu sync.Mutex
	var examples []string
	report := func(counter *atomic.Int32, format string, args ...any) {
		if counter.Add(1) <= 10 {
			mu.Lock()
			examples = append(examples, fmt.Sprintf(format, args...))
			mu.Unlock()
		}
	}
	stop := time.Now().Add(90 * time.Second)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(i)))
			hc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer hc.CloseIdleConnections()
			client := fmt.Sprintf("client-%02d", i)
			for n := 0; n < perClient && time.Now().Before(stop); n++ {
				id := fmt.Sprintf("%s-%d", client, n)
				token := randToken(r, 20+r.IntN(21))
				resp, err := leakCall(hc, url, id, client, token)
				if err != nil {
					report(&failed, "%s: %v", id, err)
					continue
				}
				rec := g.take(id, 3*time.Second)
				if msg := leakCheck(resp, rec, id, client, token); msg != "" {
					report(&bad, "%s: %s", id, msg)
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d clients x %d requests: %d mismatched, %d failed", clients, perClient, bad.Load(), failed.Load())
	if bad.Load() > 0 || failed.Load() > 0 {
		t.Errorf("seed %d: %d requests mismatched, %d failed; want 0 and 0; first ones:\n%s",
			seed, bad.Load(), failed.Load(), joinLines(examples))
	}
}

// leakResp is what a leak-test client got back.
type leakResp struct {
	status int
	hdr    http.Header
	msg    pb.EchoResponse
}

func leakCall(hc *http.Client, url, id, client, token string) (*leakResp, error) {
	body, _ := protojson.Marshal(&pb.EchoRequest{Text: id})
	req, err := http.NewRequest("POST", url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Client", client)
	req.Header.Set("X-Token", token)
	req.Header.Set(echo.RequestIDKey, id)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	out := &leakResp{status: resp.StatusCode, hdr: resp.Header}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, short(string(data)))
	}
	if err := protojson.Unmarshal(data, &out.msg); err != nil {
		return nil, fmt.Errorf("body %s: %v", short(string(data)), err)
	}
	return out, nil
}

// leakCheck compares the response and the upstream's view with what the
// client sent; "" when all agree.
func leakCheck(resp *leakResp, rec *echo.Record, id, client, token string) string {
	want := map[string]string{"x-client": client, "x-token": token, echo.RequestIDKey: id}
	if resp.msg.Text != id {
		return fmt.Sprintf("response body text %q; want %q", resp.msg.Text, id)
	}
	for k, v := range want {
		for _, name := range []string{k, echo.TrailerPrefix + k} {
			if got := resp.hdr.Values(name); len(got) != 1 || got[0] != v {
				return fmt.Sprintf("response %s: got %q; want %q", name, got, v)
			}
		}
	}
	if rec == nil {
		return "the upstream never saw the request"
	}
	for k, v := range want {
		if got := rec.MD.Get(k); len(got) != 1 || got[0] != v {
			return fmt.Sprintf("upstream %s: got %q; want %q", k, got, v)
		}
	}
	if len(rec.Msgs) != 1 || rec.Msgs[0].Text != id {
		return fmt.Sprintf("upstream message %v; want text %q", rec.Msgs, id)
	}
	return ""
}

func randToken(r *rand.Rand, n int) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[r.IntN(len(chars))]
	}
	return string(b)
}

func joinLines(s []string) string {
	var b bytes.Buffer
	for _, l := range s {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}
