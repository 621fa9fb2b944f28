package h2_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/straitgw/strait/h2"
)

func h2cClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			return plainDial(ctx, network, addr)
		},
	}}
}

func TestServerXNetClient(t *testing.T) {
	srv := startServer(t, h2.Config{}, testAcceptor{})
	cl := h2cClient()
	resp, err := cl.Get("http://" + srv.addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || string(body) != notFound {
		t.Fatalf("got %d %q; want 404 %q", resp.StatusCode, body, notFound)
	}
	// Concurrent echoes on one connection, bodies above every window.
	sizes := []int{0, 1, 1000, 70_000, 3 << 20}
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		n := sizes[i%len(sizes)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := bytes.Repeat([]byte{byte('a' + n%26)}, n)
			resp, err := cl.Post("http://"+srv.addr+"/echo", "application/octet-stream", bytes.NewReader(want))
			if err != nil {
				t.Error(err)
				return
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("echo %d: got %d bytes, err %v", n, len(got), err)
				return
			}
			if tr := resp.Trailer.Get("x-echo"); tr != itoa(n) {
				t.Errorf("echo %d: trailer %q", n, tr)
			}
		}()
	}
	wg.Wait()
}

func TestServerRejectsBadPreface(t *testing.T) {
	srv := startServer(t, h2.Config{}, testAcceptor{})
	c, err := net.Dial("tcp", srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	fr := http2.NewFramer(nil, c)
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("no GOAWAY before %v", err)
		}
		if g, ok := f.(*http2.GoAwayFrame); ok {
			if g.ErrCode != http2.ErrCodeProtocol {
				t.Fatalf("GOAWAY %v; want PROTOCOL_ERROR", g.ErrCode)
			}
			break
		}
	}
	if _, err := fr.ReadFrame(); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Fatalf("after GOAWAY: %v; want the connection closed", err)
	}
}
