package h2_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/straitgw/strait/h2"
)

var h2specTotal = regexp.MustCompile(`(\d+) tests, (\d+) passed, (\d+) skipped, (\d+) failed`)

// TestH2Spec runs h2spec (RFC 9113 / RFC 7541 conformance) against a
// netpoll server built on h2.Conn. The bar is every case passing.
func TestH2Spec(t *testing.T) {
	bin, _ := filepath.Abs("../bin/h2spec")
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("h2spec missing at %s (the CI script installs it)", bin)
		}
		t.Skipf("h2spec not installed at %s", bin)
	}
	srv := startServer(t, h2.Config{}, testAcceptor{})
	host, port, _ := strings.Cut(srv.addr, ":")
	var out bytes.Buffer
	cmd := exec.Command(bin, "-h", host, "-p", port, "-o", "5", "-S") // -o: seconds per case; CI machines are loaded
	cmd.Stdout, cmd.Stderr = &out, &out
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("h2spec timed out")
	}
	log := strings.ReplaceAll(out.String(), "\r", "\n")
	m := h2specTotal.FindStringSubmatch(log)
	if m == nil {
		t.Fatalf("no summary in h2spec output:\n%s", log)
	}
	t.Logf("h2spec: %s", m[0])
	if m[1] != m[2] {
		t.Fatalf("h2spec: %s\n%s", m[0], failures(log))
	}
}

// failures keeps the failing cases of an h2spec log.
func failures(log string) string {
	var b strings.Builder
	lines := strings.Split(log, "\n")
	for i, l := range lines {
		if strings.Contains(l, "×") {
			for j := i; j < min(i+6, len(lines)); j++ {
				b.WriteString(lines[j] + "\n")
			}
		}
	}
	if i := strings.Index(log, "Failures:"); i >= 0 {
		return log[i:]
	}
	return b.String()
}
