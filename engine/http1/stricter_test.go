package http1

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestStricterThanNetHTTP lists the deliberate differences with net/http:
// requests net/http's ReadRequest accepts (and reads a body from) that
// strait refuses, because an intermediary reading them another way is how
// requests get smuggled.
func TestStricterThanNetHTTP(t *testing.T) {
	cases := []struct{ name, in string }{
		{"CL and TE", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
		{"same CL twice", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n 2\r\n\r\n"},
		{"bare LF lines", "GET / HTTP/1.1\nHost: h\n\n"},
		{"TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
		{"fragment in target", "GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n"},
		{"non-ASCII target", "GET /\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n"},
		{"whitespace after chunk size", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1 \r\nx\r\n0\r\n\r\n"},
		{"unknown expectation", "GET / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n"},
	}
	for _, tc := range cases {
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(tc.in)))
		if err == nil {
			_, err = io.ReadAll(req.Body)
		}
		if err != nil {
			t.Errorf("%s: net/http refuses it too (%v); not a difference", tc.name, err)
		}
		var sr Request
		if err := ReadRequest(newSliceReader([]byte(tc.in), 0), &sr, Limits{}); status(err) < 400 {
			t.Errorf("%s: strait accepts it (%v)", tc.name, err)
		}
	}
}
