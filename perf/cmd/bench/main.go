// Command bench measures strait side by side with grpc-gateway v2, vanguard,
// a hand-written net/http proxy, nginx grpc_pass and the bare upstream, and
// writes results/latest.md. Run it from perf/: `go run ./cmd/bench [-quick]`,
// or `-profile` for pprof summaries of strait under the headline load.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/straitgw/strait/perf/internal/harness"
)

func main() {
	quick := flag.Bool("quick", false, "a ~2 minute subset: headline at 64 and 1000 connections, gRPC and gRPC-Web unary")
	profile := flag.Bool("profile", false, "profile strait under the headline load instead of benchmarking")
	dur := flag.Duration("duration", 0, "one measured run (default 4s, quick 2s)")
	repeats := flag.Int("repeats", 0, "interleaved repeats (default 3, quick 2)")
	only := flag.String("gateways", "", "comma-separated subset of "+strings.Join(harness.AllGateways, ","))
	workloads := flag.String("workloads", "", "comma-separated subset of "+strings.Join(harness.WorkloadNames(), ","))
	headers := flag.String("headers", "varied", "varied: a fresh x-request-id and authorization on every request (wrk script, h2gen); "+
		"fixed: the same bytes every time (static wrk script, h2load), as the figures before varied headers")
	h2tool := flag.String("h2tool", "", "tool for the h2c and gRPC workloads: h2gen or h2load (fixed headers only); default h2gen, or h2load with -headers fixed")
	seed := flag.Uint64("seed", 1, "seed of the varied header values (each run adds its number)")
	baseline := flag.String("baseline", "", "divide every ratio by this gateway (e.g. strait-before) where it runs")
	var bins, revs listFlag
	flag.Var(&bins, "strait-bin", "NAME=PATH: also run this strait binary as gateway NAME (strait-before, ...; strait=PATH replaces the build); repeatable")
	var confs listFlag
	flag.Var(&confs, "strait-config", "NAME=FILE: run strait gateway NAME with --config FILE (flags still set listen, upstream, descriptors, admin); repeatable")
	flag.Var(&revs, "strait-rev", "NAME=REV: also run strait built from git revision REV of the main module as gateway NAME; repeatable")
	pprofDir := flag.String("pprof", "", "directory for a CPU profile of strait during every measured run")
	install := flag.Bool("install", true, "install missing tools and regenerate the proto code")
	out := flag.String("out", "", "markdown table to write (default results/latest.md, quick results/quick.md)")
	secs := flag.Int("seconds", 10, "CPU profile length (-profile)")
	limit := flag.Duration("timeout", 0, "stop everything after this (default 25m, quick 8m)")
	flag.Parse()
	o := harness.Options{Quick: *quick, Duration: *dur, Repeats: *repeats, Install: *install, Warmup: time.Second,
		Seed: *seed, H2Tool: *h2tool, Baseline: *baseline}
	switch *headers {
	case "varied":
	case "fixed":
		o.Fixed = true
	default:
		log.Fatalf("-headers is varied or fixed, not %q", *headers)
	}
	for _, kv := range bins {
		name, path, err := harness.ParseStraitBin(kv)
		if err != nil {
			log.Fatal(err)
		}
		o.Straits = append(o.Straits, harness.StraitBin{Name: name, Path: path})
	}
	for _, kv := range revs {
		name, rev, err := harness.ParseStraitBin(kv)
		if err != nil {
			log.Fatal(err)
		}
		o.Straits = append(o.Straits, harness.StraitBin{Name: name, Rev: rev})
	}
	for _, kv := range confs {
		name, file, err := harness.ParseStraitBin(kv)
		if err != nil {
			log.Fatal(err)
		}
		if file, err = filepath.Abs(file); err != nil {
			log.Fatal(err)
		}
		if o.StraitConfigs == nil {
			o.StraitConfigs = map[string]string{}
		}
		o.StraitConfigs[name] = file
	}
	if err := o.Validate(); err != nil {
		log.Fatal(err)
	}
	if *only != "" {
		o.Gateways = strings.Split(*only, ",")
	}
	if *pprofDir != "" {
		if err := os.MkdirAll(*pprofDir, 0o755); err != nil {
			log.Fatal(err)
		}
		o.PprofDir = *pprofDir
	}
	if *workloads != "" {
		o.Workloads = strings.Split(*workloads, ",")
	}
	defaults(&o, limit)
	if *out == "" {
		*out = "results/latest.md"
		if o.Quick {
			*out = "results/quick.md"
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		log.Fatal(err)
	}
	o.PerfDir = wd
	if _, err := os.Stat(filepath.Join(wd, "proto", "bench", "v1", "bench.proto")); err != nil {
		log.Fatal("run bench from perf/ (cd perf && go run ./cmd/bench)")
	}
	raiseNoFile()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, *limit)
	code := run(ctx, o, *profile, *secs, *out)
	cancel()
	stop()
	os.Exit(code)
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func defaults(o *harness.Options, limit *time.Duration) {
	if o.Duration == 0 {
		o.Duration = 4 * time.Second
		if o.Quick {
			o.Duration = 2 * time.Second
		}
	}
	if o.Repeats == 0 {
		o.Repeats = 3
		if o.Quick {
			o.Repeats = 2
		}
	}
	if *limit == 0 {
		*limit = 25 * time.Minute
		if o.Quick {
			*limit = 8 * time.Minute
		}
	}
}

// raiseNoFile lifts RLIMIT_NOFILE for us and every child (1000-connection
// runs need a few thousand descriptors on each side).
func raiseNoFile() {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return
	}
	want := syscall.Rlimit{Cur: 65536, Max: 65536}
	if r.Max > want.Max {
		want.Max = r.Max
	}
	if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) != nil {
		r.Cur = r.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
	}
}
