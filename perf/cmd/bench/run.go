package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/straitgw/strait/perf/internal/harness"
)

func run(ctx context.Context, o harness.Options, profile bool, secs int, out string) int {
	start, load0 := time.Now(), loadAvg()
	tmp, err := harness.TmpDir(o.PerfDir)
	if err != nil {
		log.Print(err)
		return 1
	}
	procs := &harness.Procs{Dir: tmp}
	defer procs.KillAll()
	cells := harness.Plan(o.Quick, o.Workloads)
	env, err := harness.Setup(ctx, o, procs)
	if err != nil {
		log.Print(err)
		return 1
	}
	results := filepath.Join(o.PerfDir, "results")
	if profile {
		if err := harness.Profile(ctx, env.StartGateway(harness.Strait), secs, tmp, results, filepath.Join(results, "profile.md")); err != nil {
			log.Print(err)
			return 1
		}
		log.Printf("wrote results/profile.md in %v", time.Since(start).Round(time.Second))
		return 0
	}
	res := harness.Measure(ctx, o, env, cells)
	procs.KillAll()
	if err := writeReport(o, res, out, time.Since(start), load0); err != nil {
		log.Print(err)
		return 1
	}
	log.Printf("wrote %s in %v", out, time.Since(start).Round(time.Second))
	if ctx.Err() != nil {
		log.Printf("stopped early: %v", ctx.Err())
		return 1
	}
	return 0
}

func writeReport(o harness.Options, res []*harness.CellResult, out string, took time.Duration, load0 string) error {
	var b strings.Builder
	mode := "full"
	if o.Quick {
		mode = "quick"
	}
	fmt.Fprintf(&b, "# strait side-by-side benchmark (%s)\n\n", mode)
	fmt.Fprintf(&b, "Run %s, took %v. `make bench%s` (`cd perf && go run ./cmd/bench%s`).\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), took.Round(time.Second), map[bool]string{true: " QUICK=1"}[o.Quick], map[bool]string{true: " -quick"}[o.Quick])
	fmt.Fprintf(&b, "Machine: %s, %d CPUs, Linux %s, %s; %s; %s.\n\n", cpuModel(), runtime.NumCPU(), kernel(), runtime.Version(), toolVersion("h2load", "--version"), toolVersion("nginx", "-v"))
	fmt.Fprintf(&b, "Load average (1, 5, 15 min) before: %s; after: %s. Anything else running on the machine shows up as noise here.\n\n", load0, loadAvg())
	fmt.Fprintf(&b, "Method: the gateway under test runs alone on CPU %s (Go gateways with GOMAXPROCS=1, nginx with one worker); "+
		"the load tool (wrk for HTTP/1.1, h2load for h2c and gRPC; one thread, one request in flight per connection) and the "+
		"grpc-go upstream share CPU %s. Each figure is the median of %d runs of %v (twice that at 1000 connections), interleaved across gateways (A B C A B C), "+
		"after one %v warm-up run each. CPU µs/req is the gateway's utime+stime (/proc/PID/stat) over the run divided by "+
		"requests completed; peak RSS is VmHWM (/proc/PID/status), reset before each run; every block starts its gateways afresh. QPS spread is ±half the max-min range "+
		"as a share of the median. Before any load, one request per workload and gateway is checked for the right answer "+
		"(grpc-go for gRPC, so grpc-status is verified, which h2load does not do). \"direct\" is a second upstream instance on "+
		"CPU %s called without a gateway: the limit.\n\n",
		harness.GatewayCPU, harness.LoadCPU, o.Repeats, o.Duration, o.Warmup, harness.GatewayCPU)
	b.WriteString("## Summary\n\n")
	harness.WriteSummary(&b, res)
	b.WriteString("\n## Details\n")
	harness.WriteTable(&b, res)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	return os.WriteFile(out, []byte(b.String()), 0o644)
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func kernel() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(b))
}

func toolVersion(name, flag string) string {
	out, _ := exec.Command(name, flag).CombinedOutput()
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}
