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
		if err := harness.Profile(ctx, o, env.StartGateway(harness.Strait), secs, tmp, results, filepath.Join(results, "profile.md")); err != nil {
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
		"the load tool (wrk for HTTP/1.1, %s for h2c and gRPC; one thread, one request in flight per connection) and the "+
		"grpc-go upstream share CPU %s. Each figure is the median of %d runs of %v (twice that at 1000 connections), interleaved across gateways (A B C A B C), "+
		"after one %v warm-up run each. CPU µs/req is the gateway's utime+stime (/proc/PID/stat) over the run divided by "+
		"successful requests; load tool µs/req is the tool's own utime+stime per request it completed. Peak RSS is VmHWM (/proc/PID/status), "+
		"reset before each run; every block starts its gateways afresh. QPS spread is ±half the max-min range "+
		"as a share of the median. A request succeeds only on HTTP 200 (and, under h2gen, grpc-status 0 for gRPC and gRPC-Web; "+
		"h2gen also compares every 100th response body of each connection with the expected message); a run with more than %.0f%% "+
		"failed requests does not count. Before and after the load, one request per workload and gateway is checked for the right answer "+
		"(grpc-go for gRPC). \"direct\" is a second upstream instance on "+
		"CPU %s called without a gateway: the limit.\n\n",
		harness.GatewayCPU, h2Tool(o), harness.LoadCPU, o.Repeats, o.Duration, o.Warmup, 100*harness.MaxErrorShare, harness.GatewayCPU)
	if o.Fixed {
		b.WriteString("Headers: **fixed** (`-headers fixed`): every request carries the same header bytes, as before varied headers; " +
			"HPACK then sends each header as a 1-byte indexed field, and a gateway that keeps views of reused buffers goes unnoticed.\n\n")
	} else {
		fmt.Fprintf(&b, "Headers: **varied** per request, as real clients send them: besides the fixed headers, a fresh `x-request-id` "+
			"(32 hex) and `authorization: Bearer <40-60 base64url characters>` on every request (wrk: a Lua `request()`; h2c: h2gen; seed %d). "+
			"The token ends with the id's first 8 characters, and the upstream fails (INVALID_ARGUMENT) any request whose pair arrived "+
			"mixed up, so a gateway that crosses headers between requests shows errors here. `-headers fixed` gives the old method.\n\n", o.Seed)
	}
	if len(o.Straits) > 0 {
		b.WriteString("strait binaries: ")
		for i, s := range o.Straits {
			if i > 0 {
				b.WriteString(", ")
			}
			what := "`" + s.Path + "`"
			if s.Rev != "" {
				what = "revision `" + s.Rev + "`"
			}
			fmt.Fprintf(&b, "%s = %s", s.Name, what)
		}
		b.WriteString(" (the others are built from this checkout).\n\n")
	}
	b.WriteString("## Summary\n\n")
	harness.WriteSummary(&b, res)
	var straits strings.Builder
	harness.WriteStraits(&straits, res)
	if straits.Len() > 0 {
		b.WriteString("\n## strait binaries side by side\n\nEach strait's figures and their ratios to strait's, from the same interleaved runs.\n\n")
		b.WriteString(straits.String())
	}
	b.WriteString("\n## Details\n")
	harness.WriteTable(&b, res)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	return os.WriteFile(out, []byte(b.String()), 0o644)
}

func h2Tool(o harness.Options) string {
	return o.Tool(&harness.Workload{Tool: harness.ToolH2c})
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
