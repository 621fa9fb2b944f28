package engine

import (
	"io"
	"strings"
	"testing"
)

// TestHTTP1Smuggling sends the request-smuggling shapes of TESTING.md to a
// real gateway: each gets its error status with the JSON error body and a
// closed connection, and the next client is served.
func TestHTTP1Smuggling(t *testing.T) {
	e := startGateway(t, startDemoUpstream(t), nil)
	body := `{"theme":"x"}`
	for _, tt := range []struct {
		name, req string
		status    int
	}{
		{"CL+TE", "POST /v1/shelves HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n" + body, 400},
		{"two CLs", "POST /v1/shelves HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\nContent-Length: 14\r\n\r\n" + body, 400},
		{"bad CL", "POST /v1/shelves HTTP/1.1\r\nHost: x\r\nContent-Length: +13\r\n\r\n" + body, 400},
		{"obs-fold", "GET /v1/shelves HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400},
		{"space before colon", "GET /v1/shelves HTTP/1.1\r\nHost : x\r\n\r\n", 400},
		{"bare LF", "GET /v1/shelves HTTP/1.1\nHost: x\n\n", 400},
		{"chunk overflow", "POST /v1/shelves HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", 400},
		{"no Host", "GET /v1/shelves HTTP/1.1\r\n\r\n", 400},
		{"two Hosts", "GET /v1/shelves HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400},
		{"HTTP/2.0 line", "GET /v1/shelves HTTP/2.0\r\nHost: x\r\n\r\n", 505},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := dialH1(t, e.Addr().String())
			c.write(tt.req)
			st, _, got := c.read()
			if st != tt.status || !strings.Contains(got, `"code":`) {
				t.Fatalf("got %d %s; want %d with a JSON error", st, got, tt.status)
			}
			if n, _ := io.Copy(io.Discard, c.br); n != 0 {
				t.Fatalf("%d more bytes after the error; want the connection closed", n)
			}
		})
	}
	c := dialH1(t, e.Addr().String())
	if st, _, _ := c.do("GET", "/v1/shelves/1", "", ""); st != 200 {
		t.Fatalf("next client: %d", st)
	}
}
