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

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// TestMain removes the binaries straitBin and echoServerBin built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" && os.Getenv("STRAIT_BIN") == "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	if echoBinPath != "" {
		_ = os.RemoveAll(filepath.Dir(echoBinPath))
	}
	os.Exit(code)
}

// straitBin builds cmd/strait once per test binary (with the build tags of
// tags_*_test.go), or returns $STRAIT_BIN when set: a binary built
// elsewhere, such as an older commit to show a test fails there.
func straitBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if p := os.Getenv("STRAIT_BIN"); p != "" {
			binPath, buildErr = filepath.Abs(p)
			return
		}
		dir, err := os.MkdirTemp("", "strait-e2e")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "strait")
		args := []string{"build", "-race", "-o", binPath}
		if buildTags != "" {
			args = append(args, "-tags", buildTags)
		}
		out, err := exec.Command("go", append(args, "../cmd/strait")...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
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

// runStrait starts `strait args...` and waits until addr accepts.
func runStrait(t *testing.T, addr string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(straitBin(t), args...)
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
