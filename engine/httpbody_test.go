package engine

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/straitgw/strait/internal/testutil"
)

// TestHTTPBody: a google.api.HttpBody request carries the raw body and its
// content type upstream, and an HttpBody response comes back as raw bytes
// with its own content type.
func TestHTTPBody(t *testing.T) {
	desc, err := os.ReadFile("../transcode/testdata/routes/routes.pb")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	up := testutil.StartRawUpstream(t, func(c *testutil.Call) ([]byte, error) {
		got <- bytes.Clone(c.Req)
		return c.Req, nil // echo the HttpBody
	})
	e := startGateway(t, up, func(c *Config) { c.DescriptorSets = [][]byte{desc} })
	c := dialH1(t, e.Addr().String())
	st, hdr, body := c.do("POST", "/v1/upload", "text/csv", "a,b\n1,2\n")
	if st != 200 || body != "a,b\n1,2\n" || hdr.Get("Content-Type") != "text/csv" {
		t.Fatalf("got %d %q %q; want 200 text/csv with the body echoed", st, hdr.Get("Content-Type"), body)
	}
	req := <-got
	if !bytes.Contains(req, []byte("text/csv")) || !bytes.Contains(req, []byte("a,b\n1,2\n")) {
		t.Fatalf("upstream got %q; want an HttpBody with type and data", req)
	}
	// a JSON route refuses a non-JSON body with 415
	st, _, body = c.do("POST", "/routes.v1.Routes/Get", "text/plain", "x")
	if st != 415 || !strings.Contains(body, `"code":3`) {
		t.Fatalf("non-JSON body: got %d %s; want 415", st, body)
	}
}
