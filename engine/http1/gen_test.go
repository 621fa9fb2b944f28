package http1

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// genRequest writes a random well-formed request: every construct in it
// is one both strait and net/http must accept.
func genRequest(rng *rand.Rand) string {
	var b strings.Builder
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "X-CUSTOM"}
	proto11 := rng.IntN(5) > 0
	fmt.Fprintf(&b, "%s %s HTTP/1.%d\r\n", methods[rng.IntN(len(methods))], genTarget(rng), map[bool]int{true: 1}[proto11])
	if proto11 || rng.IntN(2) == 0 {
		fmt.Fprintf(&b, "Host: %s\r\n", []string{"h", "api.example.com:8080", "[::1]:1", "10.0.0.1"}[rng.IntN(4)])
	}
	for range rng.IntN(8) {
		fmt.Fprintf(&b, "X-%s:%s%s%s\r\n", genWord(rng, "abcXYZ-_09", 1+rng.IntN(10)),
			[]string{"", " ", "\t", "  "}[rng.IntN(4)], genWord(rng, "ab ,;=\"/\t\x80\xff", rng.IntN(20)), []string{"", " ", "\t"}[rng.IntN(3)])
	}
	if rng.IntN(3) == 0 {
		fmt.Fprintf(&b, "Connection: %s\r\n", []string{"close", "keep-alive", "Keep-Alive, TE", "upgrade"}[rng.IntN(4)])
	}
	body := genWord(rng, "{}\":,ab\r\n01", rng.IntN(300))
	switch {
	case proto11 && rng.IntN(2) == 0:
		b.WriteString("Transfer-Encoding: chunked\r\n\r\n")
		for rest := body; len(rest) > 0; {
			n := 1 + rng.IntN(len(rest))
			ext := []string{"", ";a=b", ";x"}[rng.IntN(3)]
			fmt.Fprintf(&b, "%x%s\r\n%s\r\n", n, ext, rest[:n])
			rest = rest[n:]
		}
		b.WriteString("0\r\n")
		if rng.IntN(2) == 0 {
			b.WriteString("X-Trailer: 1\r\n")
		}
		b.WriteString("\r\n")
	case len(body) > 0 || rng.IntN(2) == 0:
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	default:
		b.WriteString("\r\n")
	}
	return b.String()
}

func genTarget(rng *rand.Rand) string {
	t := "/" + genWord(rng, "abz09-._~!$&'()*+,;=:@/", rng.IntN(30))
	if rng.IntN(3) == 0 {
		t += "%2F" + genWord(rng, "ab", 2)
	}
	if rng.IntN(2) == 0 {
		t += "?" + genWord(rng, "ab=&/?", rng.IntN(20)) + []string{"", "%41", "%7b%7D"}[rng.IntN(3)]
	}
	return t
}

func genWord(rng *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return strings.TrimRight(string(b), " \t")
}

// TestGeneratedRequests is the other half of the net/http comparison:
// random well-formed requests, pipelined and split at random points, must
// all be accepted, and read as net/http reads them.
func TestGeneratedRequests(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 2000 {
		var stream strings.Builder
		n := 1 + rng.IntN(4)
		for range n {
			stream.WriteString(genRequest(rng))
		}
		data := []byte(stream.String())
		r := newSliceReader(data, 1+rng.IntN(64))
		got := readAll(r, Limits{})
		if got.status != 0 {
			t.Fatalf("stream %d: refused (%d) after %d requests:\n%q", i, got.status, len(got.reqs), data)
		}
		// Requests behind one that closes the connection are not read by
		// a server; count only up to it.
		want := n
		for j, s := range got.reqs {
			if !s.KeepAlive {
				want = min(want, j+1)
			}
		}
		if len(got.reqs) < want {
			t.Fatalf("stream %d: read %d requests; want %d", i, len(got.reqs), want)
		}
		netHTTPAgrees(t, data, got)
	}
}
