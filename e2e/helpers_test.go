package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/straitgw/strait/internal/demo"
	"github.com/straitgw/strait/internal/testutil"
)

// build is one build of cmd/strait, made once per test binary.
type build struct {
	race bool
	once sync.Once
	path string
	err  error
}

var (
	raceBuild  = &build{race: true}
	plainBuild = &build{}
)

// TestMain removes the binaries the builds and echoServerBin made.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, b := range []*build{raceBuild, plainBuild} {
		if b.path != "" && os.Getenv("STRAIT_BIN") == "" {
			_ = os.RemoveAll(filepath.Dir(b.path))
		}
	}
	if echoBinPath != "" {
		_ = os.RemoveAll(filepath.Dir(echoBinPath))
	}
	os.Exit(code)
}

// straitBin builds cmd/strait with the race detector once per test
// binary (with the build tags of tags_*_test.go), or returns $STRAIT_BIN
// when set: a binary built elsewhere, such as an older commit to show a
// test fails there.
func straitBin(t *testing.T) string { return raceBuild.get(t) }

// straitPlainBin is cmd/strait as shipped, without the race detector,
// for the tests that measure the gateway's memory and latency: the race
// detector multiplies both several times over (Go's race detector
// documentation: memory 5-10x, time 2-20x), so under it they measure
// the detector.
func straitPlainBin(t *testing.T) string { return plainBuild.get(t) }

func (b *build) get(t *testing.T) string {
	t.Helper()
	b.once.Do(func() {
		if p := os.Getenv("STRAIT_BIN"); p != "" {
			b.path, b.err = filepath.Abs(p)
			return
		}
		dir, err := os.MkdirTemp("", "strait-e2e")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, "strait")
		args := []string{"build", "-o", b.path}
		if b.race {
			args = append(args, "-race")
		}
		if buildTags != "" {
			args = append(args, "-tags", buildTags)
		}
		out, err := exec.Command("go", append(args, "../cmd/strait")...).CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// descriptorFile writes the demo's descriptor set where strait can read it.
func descriptorFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bookstore.pb")
	if err := os.WriteFile(p, demo.Descriptors(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// runStrait starts `strait args...` (race-built) and waits until addr
// accepts.
func runStrait(t *testing.T, addr string, args ...string) *exec.Cmd {
	t.Helper()
	return runStraitBin(t, straitBin(t), addr, args...)
}

// runStraitBin starts `bin args...` and waits until addr accepts.
func runStraitBin(t *testing.T, bin, addr string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait() // also waits for the output copier
		if t.Failed() {
			t.Logf("strait output:\n%s", out.String())
		}
	})
	testutil.WaitListen(t, addr)
	return cmd
}

// metric reads one value from strait's /metrics.
func metric(t *testing.T, admin, name string) int {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	t.Fatalf("metric %s not found", name)
	return 0
}

func splitPort(t *testing.T, addr string) (string, string) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}
