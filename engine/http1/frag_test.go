package http1

import (
	"fmt"
	"strings"
	"testing"
)

// result is what reading every request of a byte stream gives: the
// requests, and how the stream ended (0: cleanly, at a request boundary).
type result struct {
	reqs   []summary
	status int
}

func (r result) String() string {
	return fmt.Sprintf("%d requests, end %d: %+v", len(r.reqs), r.status, r.reqs)
}

func (r result) equal(o result) bool {
	if r.status != o.status || len(r.reqs) != len(o.reqs) {
		return false
	}
	for i := range r.reqs {
		if r.reqs[i] != o.reqs[i] {
			return false
		}
	}
	return true
}

// readAll reads requests from r like the engine does: while bytes are
// buffered, one request at a time, until an error; when r runs dry
// between requests, the next arrival is the next OnRequest.
func readAll(r *sliceReader, lim Limits) result {
	return readEach(r, lim, func() bool { return r.wait(1) == nil })
}

// readEach is readAll over any Reader; arrive delivers more bytes when r
// is empty between requests, and reports false at the end.
func readEach(r Reader, lim Limits, arrive func() bool) result {
	var (
		out result
		req Request
	)
	for (r.Len() > 0 || arrive()) && len(out.reqs) < 64 {
		req.Reset()
		if err := ReadRequest(r, &req, lim); err != nil {
			out.status = status(err)
			return out
		}
		out.reqs = append(out.reqs, summarize(&req))
		_ = r.Release()
	}
	return out
}

// pipeline is several requests of every framing back to back.
var pipeline = crlf("GET /a?b=c HTTP/1.1\nHost: h\nAccept: */*\n\n") +
	crlf("POST /v1/x HTTP/1.1\nHost: h\nContent-Type: application/json\nContent-Length: 9\n\n") + `{"k":"v"}` +
	crlf("\nPOST /c HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n4\nwiki\n5;x=y\npedia\n0\nT: 1\n\n") +
	crlf("GET /last HTTP/1.0\nConnection: keep-alive\n\n")

func TestPipelined(t *testing.T) {
	r := newSliceReader([]byte(pipeline), 0)
	got := readAll(r, Limits{})
	want := []string{"GET /a", "POST /v1/x", "POST /c", "GET /last"}
	if got.status != 0 || len(got.reqs) != len(want) {
		t.Fatalf("got %v; want %d requests", got, len(want))
	}
	for i, w := range want {
		if s := got.reqs[i].Method + " " + got.reqs[i].Path; s != w {
			t.Errorf("request %d: got %q; want %q", i, s, w)
		}
	}
	if b := got.reqs[1].Body + got.reqs[2].Body; b != `{"k":"v"}wikipedia` {
		t.Errorf("bodies: got %q", b)
	}
	if r.waits != 0 {
		t.Errorf("waited %d times for bytes already buffered", r.waits)
	}
}

// TestFragmented feeds streams split at every point, and in pieces of 1
// to 7 bytes: the requests and the ending must not change.
func TestFragmented(t *testing.T) {
	streams := map[string]string{"pipeline": pipeline}
	for _, tc := range invalidCases {
		streams[tc.name] = caseInput(tc.name, tc.in)
	}
	for name, s := range streams {
		lim := Limits{}
		for _, tc := range invalidCases {
			if tc.name == name {
				lim = tc.lim
			}
		}
		data := []byte(s)
		want := readAll(newSliceReader(data, 0), lim)
		for split := 1; split < len(data); split++ {
			r := newSliceReader(data, len(data))
			r.avail = split
			if got := readAll(r, lim); !got.equal(want) {
				t.Fatalf("%s split at %d: got %v; want %v", name, split, got, want)
			}
		}
		for chunk := 1; chunk < 8; chunk++ {
			if got := readAll(newSliceReader(data, chunk), lim); !got.equal(want) {
				t.Fatalf("%s in %d-byte pieces: got %v; want %v", name, chunk, got, want)
			}
			r := newSliceReader(data, chunk*50)
			r.copying = true
			if got := readAll(r, lim); !got.equal(want) {
				t.Fatalf("%s copied, in %d-byte pieces: got %v; want %v", name, chunk*50, got, want)
			}
		}
	}
}

func TestKeepAlive(t *testing.T) {
	tests := []struct {
		version, conn string
		want          bool
	}{
		{"HTTP/1.1", "", true},
		{"HTTP/1.1", "close", false},
		{"HTTP/1.1", "CLOSE", false},
		{"HTTP/1.1", "keep-alive", true},
		{"HTTP/1.1", "foo, close", false},
		{"HTTP/1.1", "keep-alive, close", false},
		{"HTTP/1.1", "closed", true},
		{"HTTP/1.0", "", false},
		{"HTTP/1.0", "keep-alive", true},
		{"HTTP/1.0", "Keep-Alive", true},
		{"HTTP/1.0", "te, keep-alive", true},
		{"HTTP/1.0", "keep-alive, close", false},
		{"HTTP/1.0", "keep-alives", false},
	}
	for _, tc := range tests {
		var b strings.Builder
		b.WriteString("GET / " + tc.version + "\r\nHost: h\r\n")
		if tc.conn != "" {
			b.WriteString("Connection: " + tc.conn + "\r\n")
		}
		b.WriteString("\r\n")
		var req Request
		if err := ReadRequest(newSliceReader([]byte(b.String()), 0), &req, Limits{}); err != nil {
			t.Fatalf("%s %q: %v", tc.version, tc.conn, err)
		}
		if req.KeepAlive != tc.want {
			t.Errorf("%s Connection %q: got keep-alive %v; want %v", tc.version, tc.conn, req.KeepAlive, tc.want)
		}
	}
}

// TestExpectContinue reads the head alone, as the engine does before it
// writes 100 Continue, then the body.
func TestExpectContinue(t *testing.T) {
	head := crlf("POST /u HTTP/1.1\nHost: h\nExpect: 100-continue\nContent-Length: 5\n\n")
	r := newSliceReader([]byte(head+"hello"), len(head))
	r.avail = len(head)
	var req Request
	if err := ReadHead(r, &req, Limits{}); err != nil {
		t.Fatal(err)
	}
	if !req.ExpectContinue || r.Len() != 0 {
		t.Fatalf("got ExpectContinue %v with %d bytes buffered; want true with 0", req.ExpectContinue, r.Len())
	}
	if got := string(AppendContinue(nil)); got != "HTTP/1.1 100 Continue\r\n\r\n" {
		t.Errorf("got %q", got)
	}
	if err := ReadBody(r, &req, Limits{}); err != nil || string(req.Body) != "hello" {
		t.Fatalf("got body %q, %v; want hello", req.Body, err)
	}
}

// TestResetKeepsBuffers checks that a reused Request forgets the previous
// request but keeps its capacity.
func TestResetKeepsBuffers(t *testing.T) {
	var req Request
	in := crlf("POST /c HTTP/1.1\nHost: h\nX-A: 1\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n")
	if err := ReadRequest(newSliceReader([]byte(in), 0), &req, Limits{}); err != nil {
		t.Fatal(err)
	}
	hc, bc := cap(req.Headers), cap(req.body)
	req.Reset()
	if len(req.Headers) != 0 || req.Body != nil || req.Method != nil || req.Chunked {
		t.Fatalf("Reset left %+v", summarize(&req))
	}
	if cap(req.Headers) != hc || cap(req.body) != bc {
		t.Errorf("Reset dropped buffers: caps %d,%d; want %d,%d", cap(req.Headers), cap(req.body), hc, bc)
	}
}

// TestResetDropsLargeBody: a connection that once received a large chunked
// body does not keep its buffer while idle.
func TestResetDropsLargeBody(t *testing.T) {
	big := strings.Repeat("z", maxKeptBody+1)
	in := crlf("POST /c HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n") + fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(big), big)
	var req Request
	if err := ReadRequest(newSliceReader([]byte(in), 0), &req, Limits{}); err != nil || string(req.Body) != big {
		t.Fatalf("got %d bytes, %v", len(req.Body), err)
	}
	req.Reset()
	if cap(req.body) != 0 {
		t.Errorf("Reset kept a %d-byte body buffer", cap(req.body))
	}
	if e := (&Error{Status: 400, Msg: "x"}); e.Error() != "http1: x" {
		t.Errorf("Error() = %q", e.Error())
	}
}
