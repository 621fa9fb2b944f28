package transcode

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var updateRoutes = flag.Bool("update-routes", false, "rewrite testdata/routes/*.golden")

// TestRoutesGolden pins the `strait routes` listing of the test protos.
func TestRoutesGolden(t *testing.T) {
	r := loadTestRouter(t, RouterOptions{})
	var b strings.Builder
	for _, ri := range r.Routes() {
		b.WriteString(ri.String())
		b.WriteByte('\n')
	}
	const golden = "testdata/routes/routes.golden"
	if *updateRoutes {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestRouteDescriptorsFresh checks the committed descriptor sets against
// their .proto sources, when protoc is installed.
func TestRouteDescriptorsFresh(t *testing.T) {
	protoc, err := exec.LookPath("protoc")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("protoc not installed; .ci/run installs it")
		}
		t.Skip("protoc not installed")
	}
	for _, name := range []string{"routes", "conflict"} {
		out := filepath.Join(t.TempDir(), name+".pb")
		cmd := exec.Command(protoc, "-I", "testdata/routes/proto", "-I", "../proto", "-I", "/usr/include", "--include_imports",
			"--descriptor_set_out="+out, "routes/v1/"+name+".proto")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("protoc: %v: %s", err, b)
		}
		got, _ := os.ReadFile(out)
		want, err := os.ReadFile("testdata/routes/" + name + ".pb")
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("testdata/routes/%s.pb is stale (%v): run go generate", name, err)
		}
	}
}
