package http1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// restPOST is a typical REST call: ten header fields and a JSON body of
// n bytes.
func restPOST(n int) []byte {
	body := `{"shelf":{"theme":"` + strings.Repeat("x", max(0, n-22)) + `"}}`
	return []byte(crlf("POST /v1/shelves/42/books?validate_only=true HTTP/1.1\n"+
		"Host: api.example.com\n"+
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64) strait-bench/1.0\n"+
		"Accept: application/json\n"+
		"Accept-Encoding: gzip, deflate\n"+
		"Content-Type: application/json\n"+
		"Content-Length: "+strconv.Itoa(len(body))+"\n"+
		"Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.sig\n"+
		"X-Request-Id: 7f1c2e9a-3b4d-4e5f-8a9b-0c1d2e3f4a5b\n"+
		"Cookie: session=abcdef0123456789\n"+
		"Connection: keep-alive\n\n") + body)
}

var restGET = []byte(crlf("GET /v1/shelves/42/books/7?view=full HTTP/1.1\n" +
	"Host: api.example.com\n" +
	"User-Agent: curl/8.5.0\n" +
	"Accept: application/json\n" +
	"X-Request-Id: 7f1c2e9a-3b4d-4e5f-8a9b-0c1d2e3f4a5b\n\n"))

var chunkedPOST = []byte(crlf("POST /v1/stream HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n") +
	strings.Repeat("100\r\n"+strings.Repeat("y", 256)+"\r\n", 4) + "0\r\n\r\n")

var benchCases = []struct {
	name string
	data []byte
}{
	{"GET", restGET},
	{"POST/0", restPOST(0)},
	{"POST/1KB", restPOST(1 << 10)},
	{"POST/16KB", restPOST(16 << 10)},
	{"chunked/1KB", chunkedPOST},
}

func BenchmarkReadRequest(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.data)))
			var (
				req Request
				r   sliceReader
			)
			for b.Loop() {
				r.reset(bc.data)
				req.Reset()
				if err := ReadRequest(&r, &req, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendResponseHead(b *testing.B) {
	b.ReportAllocs()
	extra := []Header{{Name: []byte("Grpc-Status"), Value: []byte("0")}, {Name: []byte("X-Request-Id"), Value: []byte("7f1c2e9a")}}
	buf := make([]byte, 0, 512)
	for b.Loop() {
		buf = AppendResponseHead(buf[:0], 200, "application/json", 1024, true, extra)
	}
}

// TestZeroAlloc pins the steady state: a reused Request parses every
// benchmark request, and a response head is written, without allocating.
func TestZeroAlloc(t *testing.T) {
	for _, bc := range benchCases {
		var (
			req Request
			r   sliceReader
		)
		n := testing.AllocsPerRun(100, func() {
			r.reset(bc.data)
			req.Reset()
			if err := ReadRequest(&r, &req, Limits{}); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("%s: %v allocs per request; want 0", bc.name, n)
		}
	}
	var (
		req Request
		r   sliceReader
	)
	post := restPOST(1 << 10)
	if n := testing.AllocsPerRun(100, func() {
		r = sliceReader{data: post, chunk: 64, avail: 64}
		req.Reset()
		if err := ReadRequest(&r, &req, Limits{}); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("POST in 64-byte pieces: %v allocs per request; want 0", n)
	}
	buf := make([]byte, 0, 512)
	extra := []Header{{Name: []byte("Grpc-Status"), Value: []byte("0")}}
	if n := testing.AllocsPerRun(100, func() {
		buf = AppendResponseHead(buf[:0], 200, "application/json", 10, true, extra)
		buf = AppendChunk(buf, []byte("abc"))
		buf = AppendLastChunk(buf, extra...)
	}); n != 0 {
		t.Errorf("response: %v allocs; want 0", n)
	}
}

func BenchmarkAppendChunk(b *testing.B) {
	for _, n := range []int{16, 1 << 10, 16 << 10} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			p := make([]byte, n)
			buf := make([]byte, 0, n+32)
			for b.Loop() {
				buf = AppendChunk(buf[:0], p)
			}
		})
	}
}

// BenchmarkNetHTTPReadRequest is the reference: net/http parsing the same
// requests (and reading the body) from a reused bufio.Reader.
func BenchmarkNetHTTPReadRequest(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.data)))
			rd := bytes.NewReader(bc.data)
			br := bufio.NewReader(rd)
			for b.Loop() {
				rd.Reset(bc.data)
				br.Reset(rd)
				req, err := http.ReadRequest(br)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, req.Body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
