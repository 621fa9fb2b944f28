package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// nodeCases is how many calls e2e/node/client.mjs makes: unary and server
// streaming over HTTP/1.1, all four kinds over HTTP/2, each succeeding and
// failing.
const nodeCases = 2*2 + 4*2

// TestNodeConnectClient runs a Node.js gRPC-Web client from another code
// base (connect-node's createGrpcWebTransport, HTTP/1.1 and HTTP/2)
// through the gateway to the echo upstream. It needs node and `npm ci` in
// e2e/node, which .ci/run does; without them it fails rather than skips.
func TestNodeConnectClient(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node not found: install Node.js 20+ and run `npm ci` in e2e/node (.ci/run does)")
	}
	dir, err := filepath.Abs("node")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@connectrpc", "connect-node")); err != nil {
		t.Fatal("e2e/node/node_modules missing: run `npm ci` in e2e/node (.ci/run does)")
	}
	g := startEchoGateway(t, 1, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "client.mjs", "http://"+g.Listen, echoDescriptors(t))
	cmd.Dir = dir
	var stderr []byte
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = ee.Stderr
	}
	var res struct {
		Results []struct {
			Name, Error string
			OK          bool
		}
	}
	if jerr := json.Unmarshal(out, &res); jerr != nil {
		t.Fatalf("node: %v; output %q: %v\n%s", err, out, jerr, stderr)
	}
	failed := 0
	for _, r := range res.Results {
		if !r.OK {
			failed++
			t.Errorf("%s: %s", r.Name, r.Error)
		}
	}
	if len(res.Results) != nodeCases {
		t.Errorf("node ran %d cases; want %d", len(res.Results), nodeCases)
	}
	if (err == nil) != (failed == 0) {
		t.Errorf("node exit %v with %d failed cases; want exit 0 exactly when none failed\n%s", err, failed, stderr)
	}
}
