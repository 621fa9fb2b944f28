package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/straitgw/strait/internal/echo"
	pb "github.com/straitgw/strait/internal/echopb"
	"github.com/straitgw/strait/internal/testutil"
)

// matrixCallTimeout bounds every call of the matrix tests.
const matrixCallTimeout = 10 * time.Second

// combo is one cell of the connect-go matrix.
type combo struct {
	h2, json, gzip, fail bool
	k                    kind
}

func (m combo) String() string {
	return fmt.Sprintf("%s/%s/%s/%s/%s", pick(m.h2, "h2", "h1"), pick(m.json, "json", "proto"),
		pick(m.gzip, "gzip", "identity"), m.k, pick(m.fail, "error", "ok"))
}

func pick(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// combos lists the matrix; HTTP/1.1 has no bidi (connect-go refuses it:
// "bidi streams require at least HTTP/2"), client streaming it has.
func combos(withH1 bool) []combo {
	var out []combo
	for _, h2 := range []bool{false, true} {
		if !h2 && !withH1 {
			continue
		}
		for _, json := range []bool{false, true} {
			for _, gz := range []bool{false, true} {
				for k := range numKinds {
					if !h2 && k == kindBidi {
						continue
					}
					for _, fail := range []bool{false, true} {
						out = append(out, combo{h2, json, gz, fail, k})
					}
				}
			}
		}
	}
	return out
}

// matrixCase is the call a combination makes: custom header, trailer and
// binary metadata, a few messages, and on error a status with details.
func matrixCase(m combo, id string) *fcase {
	c := &fcase{id: id, k: m.k, json: m.json, gzip: m.gzip, timeout: matrixCallTimeout, md: []field{
		{name: "x-custom-header", value: "header value " + id},
		{name: "x-custom-trailer", value: "trailer value " + id},
		{name: "x-custom-bin", value: "\x00\xff\x7f binary " + id},
	}}
	n := 1
	if m.k == kindClient || m.k == kindBidi {
		n = 3
	}
	for i := range n {
		r := &pb.EchoRequest{Payload: echo.Payload(uint64(i), 0, 1000+i), Text: fmt.Sprintf("matrix ✓ %d", i), Id: id, Seed: uint64(i) + 7}
		if m.k == kindServer {
			r.Count, r.Size = 3, 100
		}
		c.reqs = append(c.reqs, r)
	}
	if m.fail {
		c.reqs[0].FailCode, c.reqs[0].FailMessage, c.reqs[0].FailDetails = 9, "matrix failure ✗ 100%", true
	}
	return c
}

// h1Client is net/http over HTTP/1.1 only.
func h1Client() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8, DisableCompression: true}}
}

func h2cClient() *http.Client {
	hc := testutil.H2CClient()
	hc.Timeout = 0 // calls carry their own deadline
	return hc
}

// runMatrix runs every combination in parallel through one gateway.
func runMatrix(t *testing.T, g *echoGateway, protoOpt connect.ClientOption, withH1 bool) {
	base := "http://" + g.Listen
	sets := map[bool]*connectSet{true: newConnectSet(h2cClient(), base, protoOpt)}
	if withH1 {
		sets[false] = newConnectSet(h1Client(), base, protoOpt)
	}
	for _, m := range combos(withH1) {
		t.Run(m.String(), func(t *testing.T) {
			t.Parallel()
			c := matrixCase(m, t.Name())
			ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
			defer cancel()
			o := connectCall(ctx, sets[m.h2].get(m.json, m.gzip), c)
			k := checker{c: c}
			k.check(o, g.take(c.id, time.Second))
			if len(k.errs) > 0 {
				t.Errorf("%d mismatches:\n  %s", len(k.errs), strings.Join(k.errs, "\n  "))
			}
		})
	}
}

// TestGRPCWebMatrix calls the echo service with connect-go's gRPC-Web
// client over HTTP/1.1 and h2c, both codecs, with and without gzip, every
// streaming kind, succeeding and failing with details, and checks headers,
// trailers, messages and status both ways.
func TestGRPCWebMatrix(t *testing.T) {
	g := startEchoGateway(t, 1, 1)
	runMatrix(t, g, connect.WithGRPCWeb(), true)
}

// TestGRPCMatrix is the same matrix in native gRPC (connect.WithGRPC())
// over h2c.
func TestGRPCMatrix(t *testing.T) {
	g := startEchoGateway(t, 1, 1)
	runMatrix(t, g, connect.WithGRPC(), false)
}
