package e2e

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	pb "github.com/straitgw/strait/internal/echopb"
)

// protocol is one way a client reaches the gateway.
type protocol uint8

const (
	protoRESTH1  protocol = iota // REST/JSON, net/http over HTTP/1.1 keep-alive
	protoRESTRaw                 // REST/JSON, hand-written HTTP/1.1 on a raw socket
	protoRESTH2                  // REST/JSON, x/net http2 over h2c
	protoGRPC                    // native gRPC, grpc-go
	protoWebH1                   // gRPC-Web binary, connect-go over HTTP/1.1
	protoWebH2                   // gRPC-Web binary, connect-go over h2c
	protoTextH1                  // gRPC-Web text (base64), own client over HTTP/1.1
	protoTextH2                  // gRPC-Web text, own client over h2c
	numProtocols
)

var protocolNames = [numProtocols]string{"rest-h1", "rest-raw", "rest-h2", "grpc", "web-h1", "web-h2", "text-h1", "text-h2"}

func (p protocol) String() string { return protocolNames[p] }
func (p protocol) rest() bool     { return p <= protoRESTH2 }
func (p protocol) h1() bool {
	return p == protoRESTH1 || p == protoRESTRaw || p == protoWebH1 || p == protoTextH1
}

// kind is the RPC's streaming shape.
type kind uint8

const (
	kindUnary kind = iota
	kindServer
	kindClient
	kindBidi
	numKinds
)

var kindNames = [numKinds]string{"unary", "server", "client", "bidi"}

func (k kind) String() string { return kindNames[k] }

func (k kind) method() string {
	return [numKinds]string{"Unary", "ServerStream", "ClientStream", "Bidi"}[k]
}

// kinds lists what each protocol can carry. REST has no client streams;
// connect-go refuses bidi over HTTP/1.1 ("bidi streams require at least
// HTTP/2"); the text client sends its whole body first (half duplex), so
// every kind works over both HTTP versions.
func (p protocol) kinds() []kind {
	switch {
	case p.rest():
		return []kind{kindUnary, kindServer}
	case p == protoWebH1:
		return []kind{kindUnary, kindServer, kindClient}
	}
	return []kind{kindUnary, kindServer, kindClient, kindBidi}
}

// field is one request header as sent: name in the case sent on the wire
// (HTTP/1.1 only mixes case, each occurrence its own), value as bytes for
// "-bin" names (sent base64).
type field struct {
	name, value string
	padded      bool // -bin: padded base64 (else unpadded)
}

func (f field) key() string { return strings.ToLower(f.name) }

// wire is the value as it travels in HTTP.
func (f field) wire() string {
	if !strings.HasSuffix(f.key(), "-bin") {
		return f.value
	}
	if f.padded {
		return base64.StdEncoding.EncodeToString([]byte(f.value))
	}
	return base64.RawStdEncoding.EncodeToString([]byte(f.value))
}

// fcase is one randomized call.
type fcase struct {
	id      string
	p       protocol
	k       kind
	md      []field
	reqs    []*pb.EchoRequest
	json    bool // +json codec (gRPC and gRPC-Web)
	gzip    bool // compressed request messages (gRPC and gRPC-Web)
	get     bool // REST unary as GET /v1/echo/{id}
	timeout time.Duration
	frames  [][]byte // gRPC-Web frames of reqs, once made (webFrames)
}

// header is the metadata as an http.Header for net/http and x/net: one
// key per name, in the case of its first occurrence (http.Header keys of
// one name in two cases would be written apart, out of order).
func (c *fcase) header() http.Header {
	h := http.Header{}
	first := map[string]string{}
	for _, f := range c.md {
		k, ok := first[f.key()]
		if !ok {
			k = f.name
			first[f.key()] = k
		}
		h[k] = append(h[k], f.wire())
	}
	return h
}

func (c *fcase) String() string {
	return fmt.Sprintf("%s %s/%s json=%v gzip=%v get=%v reqs=%d md=%d", c.id, c.p, c.k, c.json, c.gzip, c.get, len(c.reqs), len(c.md))
}

// gen makes random cases from one seed.
type gen struct{ r *rand.Rand }

const (
	maxHeaderBudget = 40 << 10 // request header bytes, well under the 64 KiB limit
	maxMessageBytes = 1 << 20
	// maxTrailerBudget bounds the metadata of REST server streams to Go's
	// HTTP/1.1 client, whose echo comes back as an HTTP/1.1 trailer
	// section: net/http refuses one larger than its 4 KiB read buffer
	// ("suspiciously long trailer after chunked body").
	maxTrailerBudget = 3 << 10
)

func (g gen) newCase(id string, p protocol) *fcase {
	r := g.r
	ks := p.kinds()
	// Deadlines are long: they catch a call the gateway loses, not a slow
	// one (a race-built run of 24 workers on 2 cores takes seconds to gzip
	// a 1 MB message on either side).
	c := &fcase{id: id, p: p, k: ks[r.IntN(len(ks))], timeout: time.Duration(30+r.IntN(16)) * time.Second}
	if !p.rest() {
		c.json = r.IntN(4) == 0
		c.gzip = r.IntN(5) == 0
	}
	c.get = p.rest() && c.k == kindUnary && r.IntN(5) == 0
	budget := maxHeaderBudget
	if p == protoRESTH1 && c.k == kindServer {
		budget = maxTrailerBudget
	}
	c.md = g.headers(p.h1(), budget)
	n := 1
	if c.k == kindClient || c.k == kindBidi {
		n = r.IntN(5)
	}
	budget = maxMessageBytes
	for i := 0; i < n; i++ {
		m := g.message(c, budget)
		budget -= len(m.Payload) + int(m.Count)*int(m.Size)
		c.reqs = append(c.reqs, m)
	}
	if len(c.reqs) > 0 && r.IntN(5) == 0 {
		g.failure(c.reqs[0])
	}
	return c
}

// headers makes 0-12 distinct x-f- names, some repeated, some -bin.
func (g gen) headers(mixedCase bool, budget int) []field {
	r := g.r
	var fs []field
	for n := r.IntN(13); n > 0; n-- {
		name := "x-f-" + g.token(1+r.IntN(12))
		if r.IntN(4) == 0 {
			name += "-bin"
		}
		for rep := 1 + r.IntN(3)/2 + r.IntN(8)/7; rep > 0; rep-- {
			f := field{name: name, padded: r.IntN(2) == 0}
			if mixedCase {
				f.name = g.mixCase(name)
			}
			size := g.size(min(8<<10, budget))
			if strings.HasSuffix(name, "-bin") {
				size = size * 3 / 4
				f.value = string(g.bytes(size))
			} else {
				f.value = g.printable(size)
			}
			cost := len(f.name) + len(f.wire()) + 32
			if cost > budget {
				return fs
			}
			budget -= cost
			fs = append(fs, f)
		}
	}
	return fs
}

func (g gen) message(c *fcase, budget int) *pb.EchoRequest {
	r := g.r
	limit := min(budget, maxMessageBytes)
	if c.get {
		limit = min(limit, 512)
	}
	m := &pb.EchoRequest{Payload: g.bytes(g.size(max(limit, 0))), Text: g.text(r.IntN(48)), Seed: r.Uint64()}
	if c.get || r.IntN(3) == 0 {
		m.Id = g.token(1 + r.IntN(16))
	}
	if c.k == kindServer {
		m.Count = int32(r.IntN(6))
		if r.IntN(10) == 0 {
			m.Count = int32(r.IntN(40))
		}
		if m.Count > 0 {
			m.Size = int32(g.size(max(limit-len(m.Payload), 0) / int(m.Count)))
		}
	}
	return m
}

var failTexts = []string{"", "plain failure", "ünïcødé ✓ 日本語 — ошибка", "percent %41 %zz 100%", "line\nbreak\ttab", "emoji 🦀🔥", "\"quoted\" <html> & 'single'"}

func (g gen) failure(m *pb.EchoRequest) {
	r := g.r
	m.FailCode = int32(1 + r.IntN(16))
	m.FailMessage = failTexts[r.IntN(len(failTexts))]
	if r.IntN(3) == 0 {
		m.FailMessage += " " + g.text(r.IntN(30))
	}
	// A space at either end must survive too: a gateway writing the
	// message into an HTTP/1.1 header or a gRPC-Web trailer frame escapes
	// it (%20), or header parsing trims it.
	m.FailDetails = r.IntN(2) == 0
}

// size is mostly small, sometimes large: 0 to max bytes.
func (g gen) size(limit int) int {
	r := g.r
	var n int
	switch x := r.IntN(100); {
	case x < 60:
		n = r.IntN(257)
	case x < 92:
		n = r.IntN(16 << 10)
	default:
		n = r.IntN(limit + 1)
	}
	return min(n, limit)
}

func (g gen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return b
}

const tokenChars = "abcdefghijklmnopqrstuvwxyz0123456789-_."

func (g gen) token(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = tokenChars[g.r.IntN(len(tokenChars))]
	}
	if b[n-1] == '-' || b[n-1] == '.' || b[n-1] == '_' {
		b[n-1] = 'z' // keep names from ending oddly before a "-bin"
	}
	return string(b)
}

func (g gen) mixCase(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' && g.r.IntN(2) == 0 {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// printable is visible ASCII with inner spaces: no leading or trailing
// whitespace, which HTTP would strip.
func (g gen) printable(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(0x20 + g.r.IntN(0x7f-0x20))
	}
	if n > 0 {
		b[0], b[n-1] = 'a'+byte(g.r.IntN(26)), '~'
	}
	return string(b)
}

var textRunes = []rune("abcXYZ 0123 ,;:'\"\\/%+&=?#ü日本語✓🦀\t")

func (g gen) text(n int) string {
	rs := make([]rune, n)
	for i := range rs {
		rs[i] = textRunes[g.r.IntN(len(textRunes))]
	}
	return string(rs)
}
