package load

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/straitgw/strait/perf/internal/reqhdr"
)

func TestLuaVariedShape(t *testing.T) {
	lua := LuaVaried("POST", "/v1/x?y=1", "127.0.0.1:1", []byte("{}"), 42, "Content-Type", "application/json")
	for _, want := range []string{"function request()", "math.randomseed(42)", "random(40, 60) - 8"} {
		if !strings.Contains(lua, want) {
			t.Errorf("script lacks %q:\n%s", want, lua)
		}
	}
	if minToken != reqhdr.MinToken || maxToken != reqhdr.MaxToken || pairLen != reqhdr.PairLen {
		t.Errorf("token shape %d-%d/%d differs from reqhdr's", minToken, maxToken, pairLen)
	}
}

// TestLuaVariedPairs runs the script in real wrk against a server that
// checks every request's headers with reqhdr.Check and its body.
func TestLuaVariedPairs(t *testing.T) {
	if _, err := exec.LookPath("wrk"); err != nil {
		t.Skip("wrk not installed (make bench installs it)")
	}
	body := `{"a":"b\u0000"}` + "\x00\xff"
	var mu sync.Mutex
	ids := map[string]bool{}
	var bad []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		id, auth := r.Header.Get(reqhdr.IDName), r.Header.Get(reqhdr.AuthName)
		mu.Lock()
		if err := reqhdr.Check(id, auth); err != nil || string(b) != body || r.Header.Get("Content-Type") != "application/json" || r.URL.RawQuery != "q=1" {
			bad = append(bad, id+" "+auth+" "+string(b))
		}
		ids[id] = true
		mu.Unlock()
	}))
	defer srv.Close()
	s := Spec{URL: srv.URL + "/v1/x?q=1", Method: "POST", Body: []byte(body), Headers: []string{"Content-Type", "application/json"},
		Conns: 4, Duration: time.Second, Dir: t.TempDir(), Vary: true, Seed: 7}
	r, err := Wrk(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if r.Requests < 100 || r.Errors != 0 || len(bad) > 0 {
		t.Fatalf("got %+v; %d bad requests, first %q", r, len(bad), bad[:min(1, len(bad))])
	}
	if len(ids) < int(r.Requests) {
		t.Errorf("%d distinct ids for %d requests", len(ids), r.Requests)
	}
	if r.ToolCPU <= 0 {
		t.Errorf("tool CPU %v", r.ToolCPU)
	}
}
