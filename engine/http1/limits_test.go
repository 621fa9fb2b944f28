package http1

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestLimitBoundaries puts each limit exactly at, then one past, the
// request's size.
func TestLimitBoundaries(t *testing.T) {
	head := crlf("POST / HTTP/1.1\nHost: h\nA: 1\nB: 2\nContent-Length: 10\n\n")
	body := "0123456789"
	chunkedHead := crlf("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n")
	chunked := chunkedHead + crlf("4\n0123\n6\n456789\n0\nT: 1\n\n")
	trailer := "T: " + strings.Repeat("t", len(chunkedHead)) + "\r\n"
	longTrailer := chunkedHead + "0\r\n" + trailer + "\r\n"
	tests := []struct {
		name, in string
		lim      Limits
		want     int
	}{
		{"head at limit", head + body, Limits{MaxHeaderBytes: len(head)}, 0},
		{"head over limit", head + body, Limits{MaxHeaderBytes: len(head) - 1}, 431},
		{"headers at limit", head + body, Limits{MaxHeaders: 4}, 0},
		{"headers over limit", head + body, Limits{MaxHeaders: 3}, 431},
		{"body at limit", head + body, Limits{MaxBodyBytes: 10}, 0},
		{"body over limit", head + body, Limits{MaxBodyBytes: 9}, 413},
		{"chunked at limit", chunked, Limits{MaxBodyBytes: 10}, 0},
		{"chunked over limit", chunked, Limits{MaxBodyBytes: 9}, 413},
		{"trailers at limit", longTrailer, Limits{MaxHeaderBytes: len(trailer) + 2}, 0},
		{"trailers over limit", longTrailer, Limits{MaxHeaderBytes: len(trailer) + 1}, 431},
		{"trailer count at limit", chunked, Limits{MaxHeaders: 2}, 0},
		{"trailer count over limit", chunked, Limits{MaxHeaders: 1}, 431},
	}
	for _, tc := range tests {
		var req Request
		err := ReadRequest(newSliceReader([]byte(tc.in), 0), &req, tc.lim)
		if got := status(err); got != tc.want {
			t.Errorf("%s: got %d (%v); want %d", tc.name, got, err, tc.want)
		}
	}
}

// TestLongChunkLine: a chunk line of maxChunkLine bytes is fine, longer
// is a 400 even before its end arrives.
func TestLongChunkLine(t *testing.T) {
	for _, n := range []int{maxChunkLine, maxChunkLine + 1} {
		ext := ";" + strings.Repeat("e", n-2)
		in := crlf("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n1" + ext + "\nx\n0\n\n")
		var req Request
		err := ReadRequest(newSliceReader([]byte(in), 0), &req, Limits{})
		want := 0
		if n > maxChunkLine {
			want = 400
		}
		if got := status(err); got != want {
			t.Errorf("line of %d: got %d (%v); want %d", n, got, err, want)
		}
	}
	in := crlf("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n1;" + strings.Repeat("e", 2*maxChunkLine))
	var req Request
	if err := ReadRequest(newSliceReader([]byte(in), 100), &req, Limits{}); status(err) != 400 {
		t.Errorf("endless chunk line: got %v; want 400", err)
	}
}

// TestEndlessHead: a head that never ends is refused once it passes the
// limit, while it is still arriving.
func TestEndlessHead(t *testing.T) {
	in := "GET /" + strings.Repeat("a", 1<<20)
	var req Request
	r := newSliceReader([]byte(in), 1000)
	if err := ReadRequest(r, &req, Limits{MaxHeaderBytes: 8 << 10}); status(err) != 414 {
		t.Fatalf("got %v; want 414", err)
	}
	if r.avail > 10<<10 {
		t.Errorf("read %d bytes of a head limited to 8 KiB", r.avail)
	}
	in = crlf("GET / HTTP/1.1\nHost: h\n") + strings.Repeat("X-A: "+strconv.Itoa(1)+"\r\n", 1<<16)
	r = newSliceReader([]byte(in), 1000)
	if err := ReadRequest(r, &req, Limits{MaxHeaderBytes: 8 << 10, MaxHeaders: 1 << 20}); status(err) != 431 {
		t.Fatalf("got %v; want 431", err)
	}
}

// TestChunkOverhead: one-byte chunks pass, one-byte chunks with long
// extensions are refused once framing outweighs the data, as net/http
// refuses them.
func TestChunkOverhead(t *testing.T) {
	head := crlf("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n")
	for _, tc := range []struct {
		chunk string
		want  int
	}{
		{"1\r\nx\r\n", 0},
		{"1;" + strings.Repeat("e", 100) + "\r\nx\r\n", 0},
		{"1;" + strings.Repeat("e", 1000) + "\r\nx\r\n", 400},
	} {
		in := head + strings.Repeat(tc.chunk, 100) + "0\r\n\r\n"
		var req Request
		err := ReadRequest(newSliceReader([]byte(in), 0), &req, Limits{})
		if got := status(err); got != tc.want {
			t.Errorf("%.20q x100: got %d (%v); want %d", tc.chunk, got, err, tc.want)
		}
		hreq, herr := http.ReadRequest(bufio.NewReader(strings.NewReader(in)))
		if herr == nil {
			_, herr = io.ReadAll(hreq.Body)
		}
		if (herr == nil) != (tc.want == 0) {
			t.Errorf("%.20q x100: net/http says %v", tc.chunk, herr)
		}
	}
}
