package engine

import (
	"go/build"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportRules keeps the layering of ARCHITECTURE.md: leaves stay
// leaves, and nothing reaches into perf/.
func TestImportRules(t *testing.T) {
	const mod = "github.com/straitgw/strait/"
	forbidden := map[string][]string{
		"h2":               {"engine", "upstream", "transcode", "perf"},
		"transcode":        {"engine", "upstream", "h2", "perf"},
		"upstream":         {"engine", "transcode", "perf"},
		"descriptors":      {"engine", "upstream", "h2", "perf"},
		"tlsconn":          {"engine", "upstream", "transcode", "h2", "descriptors", "perf", "cmd"},
		"engine/http1":     {"engine", "upstream", "transcode", "h2", "perf"},
		"internal/demo":    {"engine", "upstream", "transcode", "h2", "perf"},
		"engine":           {"perf", "cmd", "hertzgw"},
		"filter":           {"engine", "upstream", "transcode", "h2", "tlsconn", "perf"},
		"filter/ratelimit": {"engine", "upstream", "transcode", "h2", "tlsconn", "perf"},
		"filter/jwtauth":   {"engine", "upstream", "transcode", "h2", "tlsconn", "perf"},
		"filter/canary":    {"engine", "upstream", "transcode", "h2", "tlsconn", "perf"},
		"accesslog":        {"engine", "upstream", "transcode", "h2", "filter", "metric", "perf", "cmd"},
		"metric":           {"engine", "transcode", "h2", "accesslog", "perf", "cmd"},
		"tracing":          {"engine", "upstream", "transcode", "h2", "descriptors", "tlsconn", "filter", "perf", "cmd"},
	}
	for pkg, bad := range forbidden {
		p, err := build.ImportDir(filepath.Join("..", pkg), 0)
		if err != nil {
			t.Fatalf("%s: %v", pkg, err)
		}
		for _, imp := range p.Imports {
			for _, b := range bad {
				if imp == mod+b || strings.HasPrefix(imp, mod+b+"/") {
					t.Errorf("%s imports %s; the layering forbids it", pkg, imp)
				}
			}
		}
	}
}

// TestCodecDeps keeps grpc-go and net/http out of the codec, directly or
// not: only descriptors (startup) may pull them in.
func TestCodecDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../transcode/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "net/http" || dep == "google.golang.org/grpc" || strings.HasPrefix(dep, "google.golang.org/grpc/") {
			t.Errorf("transcode depends on %s; keep it in descriptors", dep)
		}
	}
}
