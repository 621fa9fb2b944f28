package transcode

import (
	"flag"
	"os"
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
