package e2e

import (
	"net/http"
	"testing"

	"github.com/straitgw/strait/internal/testutil"
)

// TestStartWithoutUpstream: strait starts and listens with its only
// upstream down; requests get 503 with UNAVAILABLE and /readyz 503 until
// the upstream comes up, then everything works without a restart.
func TestStartWithoutUpstream(t *testing.T) {
	up := testutil.FreeAddr(t) // nothing listens there yet
	listen, admin := testutil.FreeAddr(t), testutil.FreeAddr(t)
	runStrait(t, listen, "serve", "--listen", listen, "--upstream", up,
		"--descriptors", descriptorFile(t), "--admin", admin)
	if code := readyz(admin); code != 503 {
		t.Errorf("/readyz with the upstream down: got %d; want 503", code)
	}
	resp, err := http.Get("http://" + listen + "/v1/shelves/1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Grpc-Status") != "14" {
		t.Errorf("request with the upstream down: got %d grpc-status %q; want 503 and 14", resp.StatusCode, resp.Header.Get("Grpc-Status"))
	}
	startBookstore(t, up, false)
	waitFor(t, "requests to succeed once the upstream is up", func() bool {
		return getBody(http.DefaultClient, "http://"+listen+"/v1/shelves/1", `"theme"`) == nil
	})
	waitFor(t, "/readyz to say 200", func() bool { return readyz(admin) == 200 })
	if err := getBody(http.DefaultClient, "http://"+listen+"/v1/shelves", "shelves"); err != nil {
		t.Errorf("after the upstream came up: %v", err)
	}
}
