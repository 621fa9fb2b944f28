// Command tlsbench measures what TLS costs on strait's listen port, next
// to strait on cleartext and grpc-gateway v2 behind Go's own TLS
// (net/http + crypto/tls) and on cleartext: gateway CPU µs per request
// (REST 1 KB over HTTP/1.1 and h2), full and resumed handshakes per
// gateway CPU second, and memory per idle connection. It writes
// results/tls.md. Run it from perf/: `go run ./cmd/tlsbench [-quick]`
// (make bench-tls).
//
// The setup is the bench's (cmd/bench): the gateway alone on CPU 1 with
// GOMAXPROCS=1, the load tool (wrk for HTTP/1.1, h2gen for h2, this
// command's handshake client) and the grpc-go upstream on CPU 0, runs
// interleaved across gateways, medians.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/straitgw/strait/perf/internal/harness"
)

func main() {
	quick := flag.Bool("quick", false, "short runs (2 repeats of 2s, 500 idle connections)")
	dur := flag.Duration("duration", 0, "one measured run (default 4s, quick 2s)")
	repeats := flag.Int("repeats", 0, "interleaved repeats (default 3, quick 2)")
	idle := flag.Int("idle", 0, "idle connections for the memory figure (default 2000, quick 500)")
	install := flag.Bool("install", true, "install missing tools and regenerate the proto code")
	out := flag.String("out", "results/tls.md", "markdown report to write")
	// The handshake client, run by tlsbench itself pinned to the load CPU.
	hsAddr := flag.String("handshake-client", "", "(internal) run the handshake client against this address")
	hsConns := flag.Int("c", 16, "(internal) handshake client: concurrent handshakes")
	hsResume := flag.Bool("resume", false, "(internal) handshake client: resume sessions")
	flag.Parse()
	if *hsAddr != "" {
		handshakeClient(*hsAddr, *hsConns, *dur, *hsResume)
		return
	}
	o := harness.Options{Quick: *quick, Duration: *dur, Repeats: *repeats, Install: *install, Warmup: time.Second, Seed: 1}
	if o.Duration == 0 {
		o.Duration = map[bool]time.Duration{false: 4 * time.Second, true: 2 * time.Second}[o.Quick]
	}
	if o.Repeats == 0 {
		o.Repeats = map[bool]int{false: 3, true: 2}[o.Quick]
	}
	if *idle == 0 {
		*idle = map[bool]int{false: 2000, true: 500}[o.Quick]
	}
	wd, err := os.Getwd()
	if err != nil {
		log.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(wd, "proto", "bench", "v1", "bench.proto")); err != nil {
		log.Fatal("run tlsbench from perf/ (cd perf && go run ./cmd/tlsbench)")
	}
	o.PerfDir = wd
	raiseNoFile()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	start := time.Now()
	rep, err := run(ctx, o, *idle)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, []byte(rep), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s in %v", *out, time.Since(start).Round(time.Second))
	fmt.Print(rep)
}

// raiseNoFile lifts RLIMIT_NOFILE for us and every child.
func raiseNoFile() {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return
	}
	want := syscall.Rlimit{Cur: 65536, Max: max(r.Max, 65536)}
	if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) != nil {
		r.Cur = r.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
	}
}
