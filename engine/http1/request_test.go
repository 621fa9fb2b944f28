package http1

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// summary is the comparable gist of a parsed request.
type summary struct {
	Method, Target, Path, Query, Host, CType, Accept string
	CL                                               int64
	Chunked, KeepAlive, Continue, Proto11            bool
	Body                                             string
	NHeaders                                         int
	Fields                                           string // "name\x00value\x00" for each field
}

func summarize(req *Request) summary {
	return summary{
		Method: string(req.Method), Target: string(req.Target), Path: string(req.Path),
		Query: string(req.RawQuery), Host: string(req.Host), CType: string(req.ContentType),
		Accept: string(req.Accept), CL: req.ContentLength, Chunked: req.Chunked,
		KeepAlive: req.KeepAlive, Continue: req.ExpectContinue, Proto11: req.Proto11,
		Body: string(req.Body), NHeaders: len(req.Headers), Fields: fieldsString(req.Headers),
	}
}

func fieldsString(hs []Header) string {
	var b strings.Builder
	for _, h := range hs {
		b.Write(h.Name)
		b.WriteByte(0)
		b.Write(h.Value)
		b.WriteByte(0)
	}
	return b.String()
}

// status is the answer a client gets for err: 0 for none (success), -1 for
// a reader failure.
func status(err error) int {
	var e *Error
	switch {
	case err == nil:
		return 0
	case errors.As(err, &e):
		return e.Status
	}
	return -1
}

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

var validCases = []struct {
	name, in string
	want     summary
}{
	{"get", crlf("GET /v1/shelves?x=1&y=2 HTTP/1.1\nHost: a.example\nAccept: application/json\n\n"),
		summary{Method: "GET", Target: "/v1/shelves?x=1&y=2", Path: "/v1/shelves", Query: "x=1&y=2", Host: "a.example",
			Accept: "application/json", KeepAlive: true, Proto11: true, NHeaders: 2}},
	{"post", crlf("POST /v1/books HTTP/1.1\nHost: h\nContent-Type: application/json\nContent-Length: 7\n\n") + `{"a":1}`,
		summary{Method: "POST", Target: "/v1/books", Path: "/v1/books", Host: "h", CType: "application/json",
			CL: 7, KeepAlive: true, Proto11: true, Body: `{"a":1}`, NHeaders: 3}},
	{"chunked", crlf("POST /c HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n3\nabc\n0A;ext=1\n0123456789\n0\nX-Sum: 1\n\n"),
		summary{Method: "POST", Target: "/c", Path: "/c", Host: "h", CL: -1, Chunked: true, KeepAlive: true,
			Proto11: true, Body: "abc0123456789", NHeaders: 2}},
	{"chunked case", crlf("POST /c HTTP/1.1\nHost: h\ntransfer-encoding:  Chunked \n\n1\nx\n0\n\n"),
		summary{Method: "POST", Target: "/c", Path: "/c", Host: "h", CL: -1, Chunked: true, KeepAlive: true,
			Proto11: true, Body: "x", NHeaders: 2}},
	{"close", crlf("GET / HTTP/1.1\nHost: h\nConnection: Upgrade, close\n\n"),
		summary{Method: "GET", Target: "/", Path: "/", Host: "h", Proto11: true, NHeaders: 2}},
	{"http10", crlf("GET / HTTP/1.0\n\n"),
		summary{Method: "GET", Target: "/", Path: "/"}},
	{"http10 keep-alive", crlf("GET / HTTP/1.0\nConnection: Keep-Alive\n\n"),
		summary{Method: "GET", Target: "/", Path: "/", KeepAlive: true, NHeaders: 1}},
	{"http10 continue ignored", crlf("POST / HTTP/1.0\nExpect: 100-continue\nContent-Length: 1\n\nz"),
		summary{Method: "POST", Target: "/", Path: "/", CL: 1, Body: "z", NHeaders: 2}},
	{"expect", crlf("PUT /x HTTP/1.1\nHost: h\nExpect: 100-Continue\nContent-Length: 2\n\nok"),
		summary{Method: "PUT", Target: "/x", Path: "/x", Host: "h", CL: 2, KeepAlive: true, Continue: true,
			Proto11: true, Body: "ok", NHeaders: 3}},
	{"leading CRLF", crlf("\n\nGET / HTTP/1.1\nHost: h\n\n"),
		summary{Method: "GET", Target: "/", Path: "/", Host: "h", KeepAlive: true, Proto11: true, NHeaders: 1}},
	{"absolute form", crlf("GET http://b.example:8080/p?q HTTP/1.1\nHost: ignored\n\n"),
		summary{Method: "GET", Target: "http://b.example:8080/p?q", Path: "/p", Query: "q", Host: "b.example:8080",
			KeepAlive: true, Proto11: true, NHeaders: 1}},
	{"absolute no path", crlf("GET HTTPS://b HTTP/1.1\nHost: b\n\n"),
		summary{Method: "GET", Target: "HTTPS://b", Path: "/", Host: "b", KeepAlive: true, Proto11: true, NHeaders: 1}},
	{"absolute IPv6", crlf("GET http://[::1]:8080/p HTTP/1.1\nHost: x\n\n"),
		summary{Method: "GET", Target: "http://[::1]:8080/p", Path: "/p", Host: "[::1]:8080", KeepAlive: true, Proto11: true, NHeaders: 1}},
	{"options star", crlf("OPTIONS * HTTP/1.1\nHost: h\n\n"),
		summary{Method: "OPTIONS", Target: "*", Path: "*", Host: "h", KeepAlive: true, Proto11: true, NHeaders: 1}},
	{"empty host", crlf("GET / HTTP/1.1\nHost:\n\n"),
		summary{Method: "GET", Target: "/", Path: "/", KeepAlive: true, Proto11: true, NHeaders: 1}},
	{"ows and obs-text", "GET /%41 HTTP/1.1\r\nHost: h\r\nX-A:\t v \xff\t \r\n\r\n",
		summary{Method: "GET", Target: "/%41", Path: "/%41", Host: "h", KeepAlive: true, Proto11: true, NHeaders: 2}},
	{"empty query", crlf("GET /p? HTTP/1.1\nHost: h\n\n"),
		summary{Method: "GET", Target: "/p?", Path: "/p", Host: "h", KeepAlive: true, Proto11: true, NHeaders: 1}},
	{"zero CL", crlf("POST / HTTP/1.1\nHost: h\nContent-Length: 0000\n\n"),
		summary{Method: "POST", Target: "/", Path: "/", Host: "h", KeepAlive: true, Proto11: true, NHeaders: 2}},
}

func TestReadRequestValid(t *testing.T) {
	for _, tc := range validCases {
		t.Run(tc.name, func(t *testing.T) {
			var req Request
			r := newSliceReader([]byte(tc.in), 0)
			if err := ReadRequest(r, &req, Limits{}); err != nil {
				t.Fatalf("got %v; want nil", err)
			}
			got := summarize(&req)
			got.Fields = ""
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if r.Len() != 0 {
				t.Errorf("%d bytes left unread", r.Len())
			}
		})
	}
}

// invalidCases holds one request per smuggling or strictness case with
// the status the client gets; lim is the zero Limits unless set.
var invalidCases = []struct {
	name, in string
	status   int
	lim      Limits
}{
	{"CL and TE", "POST / HTTP/1.1\nHost: h\nContent-Length: 3\nTransfer-Encoding: chunked\n\n0\n\n", 400, Limits{}},
	{"TE and CL", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\nContent-Length: 3\n\n0\n\n", 400, Limits{}},
	{"two CL differing", "POST / HTTP/1.1\nHost: h\nContent-Length: 3\nContent-Length: 4\n\nabcd", 400, Limits{}},
	{"two CL same", "POST / HTTP/1.1\nHost: h\nContent-Length: 3\nContent-Length: 3\n\nabc", 400, Limits{}},
	{"CL list", "POST / HTTP/1.1\nHost: h\nContent-Length: 3, 3\n\nabc", 400, Limits{}},
	{"CL sign", "POST / HTTP/1.1\nHost: h\nContent-Length: +3\n\nabc", 400, Limits{}},
	{"CL negative", "POST / HTTP/1.1\nHost: h\nContent-Length: -1\n\n", 400, Limits{}},
	{"CL hex", "POST / HTTP/1.1\nHost: h\nContent-Length: 0x3\n\nabc", 400, Limits{}},
	{"CL empty", "POST / HTTP/1.1\nHost: h\nContent-Length:\n\n", 400, Limits{}},
	{"CL inner space", "POST / HTTP/1.1\nHost: h\nContent-Length: 1 2\n\n", 400, Limits{}},
	{"CL overflow", "POST / HTTP/1.1\nHost: h\nContent-Length: 99999999999999999999\n\n", 400, Limits{}},
	{"obs-fold", "GET / HTTP/1.1\nHost: h\nX-A: 1\n 2\n\n", 400, Limits{}},
	{"obs-fold tab", "GET / HTTP/1.1\nHost: h\nX-A: 1\n\t2\n\n", 400, Limits{}},
	{"space after request line", "GET / HTTP/1.1\n Host: h\n\n", 400, Limits{}},
	{"space before colon", "GET / HTTP/1.1\nHost : h\n\n", 400, Limits{}},
	{"tab before colon", "POST / HTTP/1.1\nHost: h\nContent-Length\t: 1\n\nx", 400, Limits{}},
	{"bad name char", "GET / HTTP/1.1\nHost: h\nX(A): 1\n\n", 400, Limits{}},
	{"empty name", "GET / HTTP/1.1\nHost: h\n: 1\n\n", 400, Limits{}},
	{"no colon", "GET / HTTP/1.1\nHost: h\nX-A 1\n\n", 400, Limits{}},
	{"NUL in value", "GET / HTTP/1.1\nHost: h\nX-A: a\x00b\n\n", 400, Limits{}},
	{"bare CR in value", "GET / HTTP/1.1\nHost: h\nX-A: a\rb\n\n", 400, Limits{}},
	{"chunk size overflow", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n10000000000000001\nx\n0\n\n", 400, Limits{}},
	{"chunk size 17 digits", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n00000000000000001\nx\n0\n\n", 400, Limits{}},
	{"chunk size not hex", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\nzz\n\n0\n\n", 400, Limits{}},
	{"chunk size empty", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n\nx\n0\n\n", 400, Limits{}},
	{"chunk size sign", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n-1\nx\n0\n\n", 400, Limits{}},
	{"chunk size space", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n1 \nx\n0\n\n", 400, Limits{}},
	{"chunk 0x", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n0x1\nx\n0\n\n", 400, Limits{}},
	{"chunk data too long", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n1\nxy\n0\n\n", 400, Limits{}},
	{"chunk data then LF", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\n0\r\n\r\n", 400, Limits{}},
	{"trailer bare LF", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\n\r\n", 400, Limits{}},
	{"leading bare LF", "\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400, Limits{}},
	{"chunk line bare LF", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\r\n0\r\n\r\n", 400, Limits{}},
	{"chunk ext ctl", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n1;a\x01\nx\n0\n\n", 400, Limits{}},
	{"trailer obs-fold", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n0\nA: 1\n 2\n\n", 400, Limits{}},
	{"bare LF request line", "GET / HTTP/1.1\nHost: h\r\n\r\n", 400, Limits{}},
	{"bare LF header", "GET / HTTP/1.1\r\nHost: h\n\r\n", 400, Limits{}},
	{"bare LF end", "GET / HTTP/1.1\r\nHost: h\r\n\n", 400, Limits{}},
	{"all bare LF", "GET / HTTP/1.1\nHost: h\n\n", 400, Limits{}},
	{"missing host", "GET / HTTP/1.1\n\n", 400, Limits{}},
	{"two hosts", "GET / HTTP/1.1\nHost: a\nHost: a\n\n", 400, Limits{}},
	{"bad host", "GET / HTTP/1.1\nHost: a/b\n\n", 400, Limits{}},
	{"host userinfo", "GET / HTTP/1.1\nHost: u@a\n\n", 400, Limits{}},
	{"TE gzip", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: gzip\n\n", 400, Limits{}},
	{"TE gzip chunked", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: gzip, chunked\n\n0\n\n", 501, Limits{}},
	{"TE chunked gzip", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked, gzip\n\n0\n\n", 400, Limits{}},
	{"TE chunked twice", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked, chunked\n\n0\n\n", 400, Limits{}},
	{"TE two fields", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\nTransfer-Encoding: chunked\n\n0\n\n", 400, Limits{}},
	{"TE empty", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding:\n\n", 400, Limits{}},
	{"TE empty element", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: ,chunked\n\n0\n\n", 400, Limits{}},
	{"TE identity", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: identity\n\n", 400, Limits{}},
	{"TE chunkedx", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: xchunked\n\n0\n\n", 400, Limits{}},
	{"TE HTTP/1.0", "POST / HTTP/1.0\nTransfer-Encoding: chunked\n\n0\n\n", 400, Limits{}},
	{"method bad char", "G(T / HTTP/1.1\nHost: h\n\n", 400, Limits{}},
	{"method empty", " / HTTP/1.1\nHost: h\n\n", 400, Limits{}},
	{"double space", "GET  / HTTP/1.1\nHost: h\n\n", 400, Limits{}},
	{"tab separator", "GET\t/ HTTP/1.1\nHost: h\n\n", 400, Limits{}},
	{"trailing space", "GET / HTTP/1.1 \nHost: h\n\n", 400, Limits{}},
	{"no version", "GET /\nHost: h\n\n", 400, Limits{}},
	{"target ctl", "GET /a\x01 HTTP/1.1\nHost: h\n\n", 400, Limits{}},
	{"target utf8", "GET /\xc3\xa9 HTTP/1.1\nHost: h\n\n", 400, Limits{}},
	{"target fragment", "GET /a#b HTTP/1.1\nHost: h\n\n", 400, Limits{}},
	{"target bad escape", "GET /a%zz HTTP/1.1\nHost: h\n\n", 400, Limits{}},
	{"target short escape", "GET /a%4 HTTP/1.1\nHost: h\n\n", 400, Limits{}},
	{"target relative", "GET a/b HTTP/1.1\nHost: h\n\n", 400, Limits{}},
	{"target star GET", "GET * HTTP/1.1\nHost: h\n\n", 400, Limits{}},
	{"target ftp", "GET ftp://h/ HTTP/1.1\nHost: h\n\n", 400, Limits{}},
	{"target userinfo", "GET http://u@h/ HTTP/1.1\nHost: h\n\n", 400, Limits{}},
	{"target bad port", "GET http://h:8x/ HTTP/1.1\nHost: h\n\n", 400, Limits{}},
	{"target bad IPv6", "GET http://[::g]/ HTTP/1.1\nHost: h\n\n", 400, Limits{}},
	{"target IPv4 literal", "GET http://[1.2.3.4]/ HTTP/1.1\nHost: h\n\n", 400, Limits{}},
	{"target short IPv6", "GET http://[0]/ HTTP/1.1\nHost: h\n\n", 400, Limits{}},
	{"target open IPv6", "GET http://[::1/ HTTP/1.1\nHost: h\n\n", 400, Limits{}},
	{"target escaped host", "GET http://%41/ HTTP/1.1\nHost: h\n\n", 400, Limits{}},
	{"target empty host", "GET http:///p HTTP/1.1\nHost: h\n\n", 400, Limits{}},
	{"connect", "CONNECT h:443 HTTP/1.1\nHost: h:443\n\n", 501, Limits{}},
	{"HTTP/2.0", "GET / HTTP/2.0\nHost: h\n\n", 505, Limits{}},
	{"HTTP/1.2", "GET / HTTP/1.2\nHost: h\n\n", 505, Limits{}},
	{"HTTP/0.9", "GET / HTTP/0.9\nHost: h\n\n", 505, Limits{}},
	{"http lower", "GET / http/1.1\nHost: h\n\n", 400, Limits{}},
	{"HTTP/1.10", "GET / HTTP/1.10\nHost: h\n\n", 400, Limits{}},
	{"expect other", "GET / HTTP/1.1\nHost: h\nExpect: 200-ok\n\n", 417, Limits{}},
	{"head too large", "GET / HTTP/1.1\nHost: h\nX-A: " + strings.Repeat("a", 100) + "\n\n", 431, Limits{MaxHeaderBytes: 64}},
	{"request line too long", "GET /" + strings.Repeat("a", 100) + " HTTP/1.1\nHost: h\n\n", 414, Limits{MaxHeaderBytes: 64}},
	{"too many headers", "GET / HTTP/1.1\nHost: h\nA: 1\nB: 2\nC: 3\n\n", 431, Limits{MaxHeaders: 3}},
	{"CL over limit", "POST / HTTP/1.1\nHost: h\nContent-Length: 11\n\n", 413, Limits{MaxBodyBytes: 10}},
	{"chunked over limit", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n6\nabcdef\n5\nabcde\n0\n\n", 413, Limits{MaxBodyBytes: 10}},
	{"trailers too large", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n0\nA: " + strings.Repeat("a", 100) + "\n\n", 431, Limits{MaxHeaderBytes: 64}},
	{"too many trailers", "POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n0\nA: 1\nB: 2\nC: 3\nD: 4\n\n", 431, Limits{MaxHeaders: 3}},
}

// caseInput turns the "\n" of a case into CRLF unless the case is about
// line endings ("bare" in its name, or CRs written out).
func caseInput(name, in string) string {
	if strings.Contains(name, "bare") || strings.Contains(in, "\r") {
		return in
	}
	return crlf(in)
}

func TestReadRequestInvalid(t *testing.T) {
	for _, tc := range invalidCases {
		t.Run(tc.name, func(t *testing.T) {
			var req Request
			r := newSliceReader([]byte(caseInput(tc.name, tc.in)), 0)
			err := ReadRequest(r, &req, tc.lim)
			if got := status(err); got != tc.status {
				t.Fatalf("got status %d (%v); want %d", got, err, tc.status)
			}
			if r.Len() != 0 {
				t.Errorf("%d bytes left buffered after the error", r.Len())
			}
			if (err == errBareLF) != strings.Contains(tc.name, "bare") {
				t.Errorf("failed for another reason: %v", err)
			}
		})
	}
}

func TestReadRequestIncomplete(t *testing.T) {
	full := crlf("POST /p HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n3\nabc\n0\nA: 1\n\n")
	for i := 0; i < len(full); i++ {
		var req Request
		r := newSliceReader([]byte(full[:i]), 1)
		err := ReadRequest(r, &req, Limits{})
		if !errors.Is(err, io.EOF) {
			t.Fatalf("prefix %d: got %v; want io.EOF", i, err)
		}
		if r.Len() != 0 {
			t.Fatalf("prefix %d: %d bytes left buffered after the error", i, r.Len())
		}
	}
}
