package http1

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAppendResponseHead(t *testing.T) {
	extra := []Header{
		{Name: []byte("X-Ok"), Value: []byte("1")},
		{Name: []byte("X-Bad"), Value: []byte("a\r\nSet-Cookie: x")},
		{Name: []byte("Bad Name"), Value: []byte("v")},
	}
	tests := []struct {
		status, cl int
		ka         bool
		ctype      string
		want       string
	}{
		{200, 2, true, "application/json", "HTTP/1.1 200 OK\r\nDate: D\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: keep-alive\r\nX-Ok: 1\r\n\r\n"},
		{404, LengthChunked, false, "", "HTTP/1.1 404 Not Found\r\nDate: D\r\nTransfer-Encoding: chunked\r\nConnection: close\r\nX-Ok: 1\r\n\r\n"},
		{200, LengthClose, true, "text/plain", "HTTP/1.1 200 OK\r\nDate: D\r\nContent-Type: text/plain\r\nConnection: close\r\nX-Ok: 1\r\n\r\n"},
		{204, 0, true, "", "HTTP/1.1 204 No Content\r\nDate: D\r\nConnection: keep-alive\r\nX-Ok: 1\r\n\r\n"},
		{599, 0, true, "", "HTTP/1.1 599 \r\nDate: D\r\nContent-Length: 0\r\nConnection: keep-alive\r\nX-Ok: 1\r\n\r\n"},
		{42, 0, false, "", "HTTP/1.1 500 Internal Server Error\r\nDate: D\r\nContent-Length: 0\r\nConnection: close\r\nX-Ok: 1\r\n\r\n"},
	}
	for _, tc := range tests {
		got := string(AppendResponseHead(nil, tc.status, tc.ctype, tc.cl, tc.ka, extra))
		i := strings.Index(got, "Date: ") + 6
		d, err := time.Parse(TimeFormat, got[i:i+len(TimeFormat)])
		if err != nil || time.Since(d) > 2*time.Second {
			t.Errorf("Date %q: %v", got[i:i+len(TimeFormat)], err)
		}
		if got = got[:i] + "D" + got[i+len(TimeFormat):]; got != tc.want {
			t.Errorf("got %q; want %q", got, tc.want)
		}
	}
}

// TestResponseParsesWithNetHTTP reads a chunked response with trailers,
// written by the helpers, with net/http's client-side parser.
func TestResponseParsesWithNetHTTP(t *testing.T) {
	b := AppendResponseHead(nil, 200, "application/x-ndjson", -1, true, []Header{{Name: []byte("Trailer"), Value: []byte("Grpc-Status")}})
	b = AppendChunk(b, []byte(`{"a":1}`+"\n"))
	b = AppendChunk(b, nil)
	b = AppendChunk(b, []byte(strings.Repeat("x", 300)))
	b = AppendLastChunk(b, Header{Name: []byte("Grpc-Status"), Value: []byte("0")})
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(string(b))), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":1}` + "\n" + strings.Repeat("x", 300); string(body) != want {
		t.Errorf("body %q", body)
	}
	if g := resp.Trailer.Get("Grpc-Status"); g != "0" {
		t.Errorf("trailer grpc-status %q; want 0", g)
	}
	if resp.Close || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Errorf("close %v, content-type %q", resp.Close, resp.Header.Get("Content-Type"))
	}
}

func TestStatusText(t *testing.T) {
	// 413 and 414 take RFC 9110's names, not net/http's older ones.
	for _, code := range []int{100, 200, 204, 400, 404, 431, 500, 501, 502, 503, 504, 505} {
		if got, want := StatusText(code), http.StatusText(code); got != want {
			t.Errorf("%d: got %q; want %q", code, got, want)
		}
	}
	if StatusText(99) != "" || StatusText(600) != "" {
		t.Error("text for an invalid code")
	}
}

// TestCloseDelimitedResponse: an HTTP/1.0 client reads a LengthClose body
// to EOF and does not keep the connection.
func TestCloseDelimitedResponse(t *testing.T) {
	b := AppendResponseHead(nil, 200, "application/x-ndjson", LengthClose, true, nil)
	b = append(b, "{}\n{}\n"...)
	req, _ := http.NewRequest("GET", "http://h/", nil)
	req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/1.0", 1, 0
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(string(b))), req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil || string(body) != "{}\n{}\n" || !resp.Close {
		t.Fatalf("got %q, %v, close %v", body, err, resp.Close)
	}
}
