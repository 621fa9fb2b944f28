package engine

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestExpectContinue: the gateway answers 100 Continue before the body
// is sent, then the request as usual.
func TestExpectContinue(t *testing.T) {
	e := startGateway(t, startDemoUpstream(t), nil)
	c := dialH1(t, e.Addr().String())
	body := `{"theme":"Waiting"}`
	c.write("POST /v1/shelves HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 19\r\n\r\n")
	line, err := c.br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 ") {
		t.Fatalf("got %q, %v; want 100 Continue before the body", line, err)
	}
	if l, _ := c.br.ReadString('\n'); l != "\r\n" {
		t.Fatalf("100 Continue not followed by an empty line: %q", l)
	}
	c.write(body)
	if st, _, got := c.read(); st != 200 || !strings.Contains(got, `"theme":"Waiting"`) {
		t.Fatalf("got %d %s", st, got)
	}
}

// TestHTTP10Stream: an HTTP/1.0 client gets a server stream delimited by
// the connection's close, since it cannot read chunked.
func TestHTTP10Stream(t *testing.T) {
	e := startGateway(t, startDemoUpstream(t), nil)
	c := dialH1(t, e.Addr().String())
	c.write("GET /v1/shelves/1/books:watch HTTP/1.0\r\nHost: x\r\n\r\n")
	all, err := io.ReadAll(c.br)
	if err != nil {
		t.Fatal(err)
	}
	head, body, _ := strings.Cut(string(all), "\r\n\r\n")
	if !strings.HasPrefix(head, "HTTP/1.1 200") || strings.Contains(head, "chunked") || !strings.HasPrefix(body, "{") {
		t.Fatalf("got %q", all)
	}
}

// TestSlowHead: a client that drips its head one byte at a time is closed
// at the header timeout, even though each byte comes within it.
func TestSlowHead(t *testing.T) {
	e := startGateway(t, startDemoUpstream(t), func(c *Config) { c.Timeouts.Header = 500 * time.Millisecond })
	nc, err := net.Dial("tcp", e.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	start := time.Now()
	req := "GET /v1/shelves/1 HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 200)
	for i := 0; i < len(req); i++ {
		if _, err := nc.Write([]byte{req[i]}); err != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
		if time.Since(start) > 8*time.Second {
			t.Fatal("slow head still accepted after 8s")
		}
	}
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := bufio.NewReader(nc).ReadByte(); err == nil {
		t.Fatal("got an answer; want the connection closed")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("closed after %v; want near the 500ms header timeout", d)
	}
}
