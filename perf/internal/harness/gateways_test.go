package harness

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/straitgw/strait/perf/internal/check"
)

// TestNginxAndDirect starts the real upstream, nginx with the generated
// grpc_pass configuration and a direct upstream, checks gRPC answers through
// each, and that KillAll leaves no process behind.
func TestNginxAndDirect(t *testing.T) {
	if _, err := exec.LookPath("nginx"); err != nil {
		t.Skip("nginx not installed (make bench installs nginx-light)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "bin", "upstream"), "../../cmd/upstream").CombinedOutput(); err != nil {
		t.Fatalf("build upstream: %v\n%s", err, out)
	}
	procs := &Procs{Dir: dir}
	defer procs.KillAll()
	env, err := startUpstream(Options{PerfDir: dir}, procs)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var started []*Gateway
	for _, name := range []string{Nginx, Direct} {
		g := env.StartGateway(name)
		if g.Err != nil {
			log, _ := os.ReadFile(filepath.Join(dir, "nginx-error.log"))
			t.Fatalf("%s: %v\n%s", name, g.Err, log)
		}
		started = append(started, g)
		if err := check.GRPCUnary(ctx, g.Addr); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if err := check.GRPCStream(ctx, g.Addr); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	procs.KillAll()
	for _, g := range started {
		if g.Proc.Alive() {
			t.Errorf("%s still running after KillAll", g.Name)
		}
	}
}
