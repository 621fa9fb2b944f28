package harness

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/straitgw/strait/perf/internal/load"
)

// Profile runs the headline load against strait for secs+4 seconds while it
// fetches a CPU profile of secs seconds and then a heap profile from strait's
// admin /debug/pprof, and writes `go tool pprof -top` of both to outMD.
func Profile(ctx context.Context, o Options, g *Gateway, secs int, tmp, resultsDir, outMD string) error {
	if g.Err != nil {
		return fmt.Errorf("strait: %w", g.Err)
	}
	w := Workloads()[0]
	spec := Spec(o, Cell{w, 64}, g.Addr, time.Duration(secs+4)*time.Second, tmp)
	type done struct {
		r   load.Result
		err error
	}
	loadDone := make(chan done, 1)
	go func() { r, err := load.Wrk(ctx, spec); loadDone <- done{r, err} }()
	time.Sleep(2 * time.Second)
	cpuFile := filepath.Join(resultsDir, "strait.cpu.pprof")
	heapFile := filepath.Join(resultsDir, "strait.heap.pprof")
	base := "http://" + g.Admin + "/debug/pprof/"
	if err := fetch(ctx, base+fmt.Sprintf("profile?seconds=%d", secs), cpuFile, time.Duration(secs+30)*time.Second); err != nil {
		return err
	}
	if err := fetch(ctx, base+"heap", heapFile, 30*time.Second); err != nil {
		return err
	}
	ld := <-loadDone
	if ld.err != nil {
		return ld.err
	}
	bin := filepath.Join(filepath.Dir(resultsDir), "bin", "strait")
	var b strings.Builder
	hdrs := "varied headers (a fresh x-request-id and authorization per request)"
	if o.Fixed {
		hdrs = "fixed headers"
	}
	fmt.Fprintf(&b, "# strait profile under the headline load\n\n%s, 64 connections, wrk, %s; strait pinned to CPU %s with GOMAXPROCS=1.\n",
		w.Title, hdrs, GatewayCPU)
	fmt.Fprintf(&b, "Load over %v: %d requests, %.0f req/s, P50 %v, P99 %v, %d errors.\n",
		spec.Duration, ld.r.Requests, ld.r.QPS, ld.r.P50, ld.r.P99, ld.r.Errors)
	if share := float64(ld.r.Errors) / float64(max(ld.r.Requests+ld.r.Errors, 1)); share > MaxErrorShare {
		fmt.Fprintf(&b, "\n**%.0f%% of the requests failed (%s): this profiles a gateway answering errors, not the headline load.**\n\n", 100*share, ld.r.Why)
	}
	fmt.Fprintf(&b, "Profiles: results/strait.cpu.pprof (%d s), results/strait.heap.pprof. Regenerate with `make profile`.\n", secs)
	for _, p := range []struct{ title, file, extra string }{
		{"CPU (flat)", cpuFile, ""}, {"CPU (cumulative)", cpuFile, "-cum"},
		{"heap (alloc_space)", heapFile, "-sample_index=alloc_space"}, {"heap (inuse_space)", heapFile, "-sample_index=inuse_space"}} {
		top, err := pprofTop(ctx, bin, p.file, p.extra)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "\n## %s\n\n```\n%s```\n", p.title, top)
	}
	return os.WriteFile(outMD, []byte(b.String()), 0o644)
}

func fetch(ctx context.Context, url, file string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("harness: GET %s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return err
	}
	return os.WriteFile(file, b, 0o644)
}

func pprofTop(ctx context.Context, bin, file, extra string) (string, error) {
	args := []string{"tool", "pprof", "-top", "-nodecount=35"}
	if extra != "" {
		args = append(args, extra)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", append(args, bin, file)...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("harness: pprof %s: %w: %s", file, err, out)
	}
	return string(out), nil
}
