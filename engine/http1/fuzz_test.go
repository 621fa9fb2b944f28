package http1

import (
	"bufio"
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"
)

// fuzzLimits keeps fuzzed bodies small.
var fuzzLimits = Limits{MaxHeaderBytes: 4 << 10, MaxBodyBytes: 64 << 10, MaxHeaders: 32}

// FuzzReadRequest checks that a byte stream parses the same at any read
// fragmentation, never panics or spins, and that every request strait
// accepts, net/http (with its server's Host checks) accepts too, with the
// same method, target, host, body and keep-alive. strait is stricter; the
// deliberate differences in the other direction are listed in
// netHTTPAgrees.
func FuzzReadRequest(f *testing.F) {
	for _, tc := range validCases {
		f.Add([]byte(tc.in), uint8(0))
	}
	for _, tc := range invalidCases {
		f.Add([]byte(caseInput(tc.name, tc.in)), uint8(3))
	}
	f.Add([]byte(pipeline), uint8(1))
	for _, bc := range benchCases {
		f.Add(bc.data, uint8(16))
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 20 {
		f.Add([]byte(genRequest(rng)+genRequest(rng)), uint8(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		want := readAll(newSliceReader(data, 0), fuzzLimits)
		if got := readAll(newSliceReader(data, int(chunk)+1), fuzzLimits); !got.equal(want) {
			t.Fatalf("in %d-byte pieces: got %v; want %v", int(chunk)+1, got, want)
		}
		split := newSliceReader(data, len(data))
		split.avail = min(int(chunk), len(data))
		if got := readAll(split, fuzzLimits); !got.equal(want) {
			t.Fatalf("split at %d: got %v; want %v", chunk, got, want)
		}
		copied := newSliceReader(data, int(chunk)*8)
		copied.copying = true
		if got := readAll(copied, fuzzLimits); !got.equal(want) {
			t.Fatalf("copied in %d-byte pieces: got %v; want %v", int(chunk)*8, got, want)
		}
		if got := readEach(linkBuffer(data, int(chunk)+1), fuzzLimits, func() bool { return false }); !got.equal(want) {
			t.Fatalf("netpoll LinkBuffer of %d-byte nodes: got %v; want %v", int(chunk)+1, got, want)
		}
		netHTTPAgrees(t, data, want)
	})
}

// netHTTPAgrees reads data with net/http and compares every request strait
// accepted. Differences that are deliberate, where net/http is the
// stricter one, are skipped:
//   - empty lines before a request line: strait skips them (RFC 9112 §2.2);
//     the oracle skips them for net/http too;
//   - a Trailer field naming Content-Length, Transfer-Encoding or Trailer:
//     net/http refuses the request, strait drops trailers unread.
func netHTTPAgrees(t *testing.T, data []byte, got result) {
	br := bufio.NewReader(bytes.NewReader(data))
	for i, s := range got.reqs {
		for {
			if p, _ := br.Peek(2); string(p) != "\r\n" {
				break
			}
			_, _ = br.Discard(2)
		}
		req, err := http.ReadRequest(br)
		if err == nil {
			err = serverChecks(req)
		}
		if err != nil {
			if badTrailerDecl(data) {
				return
			}
			t.Fatalf("request %d: strait accepts %+v; net/http: %v", i, s, err)
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			if badTrailerDecl(data) {
				return
			}
			t.Fatalf("request %d: strait reads body %q; net/http: %v", i, s.Body, err)
		}
		want := summary{Method: req.Method, Target: req.RequestURI, Host: req.Host, Body: string(body), KeepAlive: !req.Close}
		have := summary{Method: s.Method, Target: s.Target, Host: s.Host, Body: s.Body, KeepAlive: s.KeepAlive}
		if have != want {
			t.Fatalf("request %d: strait %+v; net/http %+v", i, have, want)
		}
		if h, w := headerMap(s.Fields), plainHeader(req.Header); !reflect.DeepEqual(h, w) {
			t.Fatalf("request %d: strait fields %q; net/http %q", i, h, w)
		}
	}
}

// serverChecks are the checks net/http's server adds to ReadRequest that
// can be made on its result (it keeps no trace of a missing Host field;
// strait requires one on HTTP/1.1).
func serverChecks(req *http.Request) error {
	if req.ProtoMajor != 1 || !httpguts.ValidHostHeader(req.Host) {
		return io.ErrUnexpectedEOF
	}
	return nil
}

func badTrailerDecl(data []byte) bool {
	return bytes.Contains(bytes.ToLower(data), []byte("trailer"))
}

// TestFuzzSeedsAgree runs the oracle on the hand-written cases, so that a
// plain go test exercises it.
func TestFuzzSeedsAgree(t *testing.T) {
	for _, tc := range validCases {
		got := readAll(newSliceReader([]byte(tc.in), 0), fuzzLimits)
		if got.status != 0 || len(got.reqs) != 1 {
			t.Fatalf("%s: %v", tc.name, got)
		}
		netHTTPAgrees(t, []byte(tc.in), got)
	}
	if strings.Count(pipeline, "HTTP/1.") != 4 {
		t.Fatal("pipeline changed")
	}
	netHTTPAgrees(t, []byte(pipeline), readAll(newSliceReader([]byte(pipeline), 0), fuzzLimits))
}

// framingKeys are the fields net/http removes from Header or rewrites.
var framingKeys = map[string]bool{"Host": true, "Transfer-Encoding": true, "Content-Length": true, "Trailer": true}

// headerMap turns summary.Fields into net/http's form, without framingKeys.
func headerMap(fields string) map[string][]string {
	m := map[string][]string{}
	parts := strings.Split(fields, "\x00")
	for i := 0; i+1 < len(parts); i += 2 {
		if k := http.CanonicalHeaderKey(parts[i]); !framingKeys[k] {
			m[k] = append(m[k], parts[i+1])
		}
	}
	return m
}

func plainHeader(h http.Header) map[string][]string {
	m := map[string][]string{}
	for k, v := range h {
		if !framingKeys[k] {
			m[k] = v
		}
	}
	return m
}
