package engine

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/straitgw/strait/internal/testutil"
)

// zeroWindowClient opens streams asking large server streams on one h2
// connection whose window is 0: it reads frames but grants nothing.
func zeroWindowClient(t *testing.T, addr string, streams int) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	frame := []byte{0, 0, 0, 0, 0}
	_, _ = c.Write([]byte(http2.ClientPreface))
	fr := http2.NewFramer(c, c)
	_ = fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for i := 0; i < streams; i++ {
		hb.Reset()
		for _, f := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":path", "/bookstore.v1.Bookstore/WatchBooks"},
			{":authority", "x"}, {"content-type", "application/grpc"}, {"te", "trailers"}} {
			_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
		}
		id := uint32(2*i + 1)
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hb.Bytes(), EndHeaders: true})
		_ = fr.WriteData(id, true, frame)
	}
	go func() { _, _ = io.Copy(io.Discard, c) }()
	return c
}

// TestOverloadBudget: clients that ask for large responses and never
// read cannot make the gateway hold more than its budget for long; their
// stalled streams are reset, and a well-behaved client is served within a
// second throughout.
func TestOverloadBudget(t *testing.T) {
	// The upstream answers WatchBooks with 1 MiB (16 messages of 64 KiB,
	// built once: the test measures the gateway, not payload making) and
	// anything else with a small shelf.
	big := make(testutil.RawMsg, 64<<10)
	up := testutil.StartRawUpstream(t, func(c *testutil.Call) ([]byte, error) {
		if !strings.HasSuffix(c.Method, "/WatchBooks") {
			return []byte{0x08, 0x01, 0x12, 0x01, 'x'}, nil
		}
		for i := 0; i < 16; i++ {
			if err := c.Stream.SendMsg(&big); err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
	const budget = 2 << 20
	e := startGateway(t, up, func(c *Config) { c.Limits.MaxBufferedBytes = budget })
	addr := e.Addr().String()
	for i := 0; i < 4; i++ {
		zeroWindowClient(t, addr, 50)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	var worst time.Duration
	peak := int64(0)
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		t0 := time.Now()
		resp, err := client.Get("http://" + addr + "/v1/shelves/1")
		if err != nil {
			t.Fatalf("a well-behaved request failed: %v", err)
		}
		resp.Body.Close()
		if d := time.Since(t0); d > 200*time.Millisecond {
			t.Logf("at %v: %v", time.Until(end), d)
		}
		worst = max(worst, time.Since(t0))
		peak = max(peak, e.metrics.held.Load())
	}
	held, shed := e.metrics.held.Load(), e.metrics.shed.Load()
	t.Logf("held now %d KiB (peak %d KiB, budget %d KiB); %d streams shed; slowest well-behaved request %v",
		held>>10, peak>>10, budget>>10, shed, worst)
	if held > budget || shed == 0 {
		t.Errorf("held %d bytes after 3s with %d streams shed; want at most %d, and shedding", held, shed, budget)
	}
	// A request held behind the stalled streams would wait out the
	// client's 5s timeout; 3s leaves room for a loaded 2-core machine
	// running a race-built gateway and its upstream in one process.
	if worst > 3*time.Second {
		t.Errorf("a well-behaved request took %v; want under 3s", worst)
	}
}
