package engine

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/straitgw/strait/internal/testutil"
)

// TestStreamingBackpressure: a REST client on h2 that stops reading a
// server stream makes the upstream stop sending; the gateway does not
// buffer the stream without limit.
func TestStreamingBackpressure(t *testing.T) {
	const msgSize, total = 64 << 10, 1024 // 64 MiB offered
	var sent atomic.Int64
	book := protowire.AppendTag(nil, 3, protowire.BytesType)
	book = protowire.AppendString(book, strings.Repeat("x", msgSize))
	up := testutil.StartRawUpstream(t, func(c *testutil.Call) ([]byte, error) {
		for i := 0; i < total; i++ {
			m := testutil.RawMsg(book)
			if err := c.Stream.SendMsg(&m); err != nil {
				return nil, err
			}
			sent.Add(1)
		}
		return nil, nil
	})
	e := startGateway(t, up, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+e.Addr().String()+"/v1/shelves/1/books:watch", nil)
	resp, err := testutil.H2CClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// Read nothing; wait until the upstream stalls.
	var last int64 = -1
	for i := 0; i < 40; i++ {
		time.Sleep(100 * time.Millisecond)
		n := sent.Load()
		if n == last && n > 0 {
			break
		}
		last = n
	}
	n := sent.Load()
	t.Logf("upstream sent %d of %d messages (%d MiB) to a client that reads nothing", n, total, n*msgSize>>20)
	if n*msgSize > 24<<20 {
		t.Fatalf("upstream sent %d MiB to a stalled client; want the stream held to its windows", n*msgSize>>20)
	}
	// Reading resumes the stream.
	buf := make([]byte, 1<<20)
	for read := 0; read < 8<<20; {
		k, err := resp.Body.Read(buf)
		if err != nil {
			t.Fatalf("after %d bytes: %v", read, err)
		}
		read += k
	}
	if sent.Load() <= n {
		t.Fatalf("upstream did not resume after the client read")
	}
}

// TestSlowHTTP1Reader: an HTTP/1.1 client that stops reading a large
// stream must not hold up other clients whose calls share its upstream
// connection, and the upstream must stop sending for it.
func TestSlowHTTP1Reader(t *testing.T) {
	const msgSize, total = 64 << 10, 1024
	var sent atomic.Int64
	book := protowire.AppendTag(nil, 3, protowire.BytesType)
	book = protowire.AppendString(book, strings.Repeat("x", msgSize))
	up := testutil.StartRawUpstream(t, func(c *testutil.Call) ([]byte, error) {
		if !strings.HasSuffix(c.Method, "/WatchBooks") {
			return []byte{0x08, 0x01}, nil
		}
		for i := 0; i < total; i++ {
			m := testutil.RawMsg(book)
			if err := c.Stream.SendMsg(&m); err != nil {
				return nil, err
			}
			sent.Add(1)
		}
		return nil, nil
	})
	e := startGateway(t, up, func(c *Config) { c.Timeouts.Write = time.Minute })
	slow := dialH1(t, e.Addr().String())
	slow.write("GET /v1/shelves/1/books:watch HTTP/1.1\r\nHost: x\r\n\r\n")
	var last int64 = -1
	for i := 0; i < 50; i++ {
		time.Sleep(100 * time.Millisecond)
		if n := sent.Load(); n == last && n > 0 {
			break
		} else {
			last = n
		}
	}
	t.Logf("upstream sent %d MiB to an HTTP/1.1 client that reads nothing", sent.Load()*msgSize>>20)
	if sent.Load() >= total {
		t.Fatalf("the whole stream went out to a client that reads nothing")
	}
	fast := dialH1(t, e.Addr().String())
	for i := 0; i < 20; i++ {
		if st, _, body := fast.do("GET", "/v1/shelves/1", "", ""); st != 200 || !strings.Contains(body, `"id":"1"`) {
			t.Fatalf("fast client: got %d %s", st, body)
		}
	}
}
