package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/straitgw/strait/internal/testutil"
)

// TestAccessLogAndMetrics runs the real binary with
// `access_log: {path: FILE}` and an admin port: REST, gRPC and gRPC-Web
// requests with known outcomes each get one log line (request ids
// matched) and one count under their labels in a parsed /metrics
// scrape; a rename and SIGHUP (log rotation) start a new file; SIGTERM
// flushes the last lines and exits 0.
func TestAccessLogAndMetrics(t *testing.T) {
	t.Parallel()
	books, _ := startBookstore(t, "127.0.0.1:0", false)
	dir := t.TempDir()
	logPath := filepath.Join(dir, "access.log")
	listen, admin := testutil.FreeAddr(t), testutil.FreeAddr(t)
	conf := filepath.Join(dir, "strait.yaml")
	writeFile(t, conf, fmt.Sprintf("listen: %s\nadmin: %s\ndescriptors: [%s]\nupstreams:\n  - {name: books, endpoints: [%s]}\naccess_log: {path: access.log, format: json}\n",
		listen, admin, descriptorFile(t), books))
	cmd := runStrait(t, listen, "serve", "--config", conf)
	base := "http://" + listen

	want := map[string]float64{} // label set -> count
	ids := map[string]int{}      // request id -> HTTP status
	n := 0
	rest := func(path string, status int, code string) {
		t.Helper()
		n++
		id := fmt.Sprintf("e2e-%d", n)
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("X-Request-Id", id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != status {
			t.Fatalf("GET %s: %d; want %d", path, resp.StatusCode, status)
		}
		svc, m := "bookstore.v1.Bookstore", "GetShelf"
		if code == "UNIMPLEMENTED" {
			svc, m = "unknown", "unknown"
		}
		want[svc+"|"+m+"|rest|"+code]++
		ids[id] = status
	}
	for range 5 {
		rest("/v1/shelves/1", 200, "OK")
	}
	rest("/v1/shelves/999", 404, "NOT_FOUND")
	rest("/v1/nowhere", 404, "UNIMPLEMENTED")

	cc, err := grpc.NewClient(listen, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, shelf := range []int64{1, 999} { // GetShelfRequest{shelf} has Int64Value's wire
		id := fmt.Sprintf("grpc-%d", i)
		octx := metadata.AppendToOutgoingContext(ctx, "x-request-id", id)
		err := cc.Invoke(octx, "/bookstore.v1.Bookstore/GetShelf", wrapperspb.Int64(shelf), &emptypb.Empty{})
		code := map[bool]string{true: "OK", false: "NOT_FOUND"}[err == nil]
		want["bookstore.v1.Bookstore|GetShelf|grpc|"+code]++
		ids[id] = 200
	}
	web := connect.NewClient[wrapperspb.Int64Value, emptypb.Empty](http.DefaultClient, base+"/bookstore.v1.Bookstore/GetShelf", connect.WithGRPCWeb())
	req := connect.NewRequest(wrapperspb.Int64(1))
	req.Header().Set("X-Request-Id", "web-1")
	if _, err := web.CallUnary(ctx, req); err != nil {
		t.Fatal(err)
	}
	want["bookstore.v1.Bookstore|GetShelf|grpc-web|OK"]++
	ids["web-1"] = 200

	var got map[string]float64
	waitFor(t, "the requests counted", func() bool {
		got = requestCounts(t, admin)
		return fmt.Sprint(got) == fmt.Sprint(want)
	})

	// Rotation: rename, SIGHUP, and the next lines go to a new file.
	waitFor(t, "the lines written", func() bool { return len(readLines(t, logPath)) == len(ids) })
	if err := os.Rename(logPath, logPath+".1"); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the reload after SIGHUP", func() bool { return metric(t, admin, "strait_reloads_total") >= 1 })
	for range 3 {
		rest("/v1/shelves/1", 200, "OK")
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("strait after SIGTERM: %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("strait did not exit after SIGTERM")
	}

	old, cur := readLines(t, logPath+".1"), readLines(t, logPath)
	if len(old) != len(ids)-3 || len(cur) != 3 {
		t.Errorf("%d lines before the rotation, %d after; want %d and 3", len(old), len(cur), len(ids)-3)
	}
	for _, l := range append(old, cur...) {
		if status, ok := ids[l.RequestID]; !ok || status != l.Status {
			t.Errorf("line %+v: no request %q with status %d was sent", l, l.RequestID, l.Status)
		}
		delete(ids, l.RequestID)
	}
	if len(ids) != 0 {
		t.Errorf("requests without a line: %v", ids)
	}
}

// requestCounts reads strait_requests_total from a parsed scrape, by
// "service|method|protocol|code".
func requestCounts(t *testing.T, admin string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	out := map[string]float64{}
	for _, m := range mfs["strait_requests_total"].GetMetric() {
		l := map[string]string{}
		for _, lp := range m.GetLabel() {
			l[lp.GetName()] = lp.GetValue()
		}
		out[l["service"]+"|"+l["method"]+"|"+l["protocol"]+"|"+l["code"]] = m.GetCounter().GetValue()
	}
	if h := mfs["strait_request_duration_seconds"]; h == nil || h.GetType() != dto.MetricType_HISTOGRAM {
		t.Fatalf("no histogram strait_request_duration_seconds: %v", h)
	}
	return out
}

type accessLine struct {
	Status    int    `json:"status"`
	RequestID string `json:"request_id"`
	Method    string `json:"method"`
	Path      string `json:"path"`
}

func readLines(t *testing.T, path string) []accessLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []accessLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l accessLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s: %v in %q", path, err, sc.Text())
		}
		out = append(out, l)
	}
	return out
}
