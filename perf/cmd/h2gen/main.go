// Command h2gen drives prior-knowledge h2c load (REST/JSON, gRPC, gRPC-Web)
// with fresh x-request-id and authorization values on every request, and
// prints a `key value` summary (see h2gen.Report.WriteText). The harness
// runs it where h2load cannot vary headers:
//
//	h2gen -url http://127.0.0.1:8080/bench.v1.Bench/PutRecord -mode grpc \
//	  -H 'content-type: application/grpc' -H 'te: trailers' -body req.grpc \
//	  -expect resp.grpc -type bench.v1.Record -c 64 -d 4s
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	_ "github.com/straitgw/strait/perf/gen/benchv1" // registers the message types -type names
	"github.com/straitgw/strait/perf/internal/load/h2gen"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

type headers []hpack.HeaderField

func (h *headers) String() string { return fmt.Sprint(*h) }
func (h *headers) Set(s string) error {
	k, v, ok := strings.Cut(s, ":")
	if !ok {
		return fmt.Errorf("header %q: want 'name: value'", s)
	}
	*h = append(*h, hpack.HeaderField{Name: strings.ToLower(strings.TrimSpace(k)), Value: strings.TrimSpace(v)})
	return nil
}

func main() {
	var hdr headers
	flag.Var(&hdr, "H", "header 'name: value' sent with every request (repeatable)")
	rawURL := flag.String("url", "", "http://host:port/path (prior-knowledge h2c), or https:// (h2 by ALPN; the certificate is not verified)")
	method := flag.String("method", "POST", "request method")
	bodyFile := flag.String("body", "", "file with the request body")
	mode := flag.String("mode", "rest", "rest (:status 200), grpc or grpc-web (and grpc-status 0)")
	vary := flag.Bool("vary", true, "fresh x-request-id and authorization on every request")
	seed := flag.Uint64("seed", 1, "seed of the varied values")
	conns := flag.Int("c", 64, "connections, one request in flight on each")
	dur := flag.Duration("d", 4*time.Second, "duration (with -n: the most it may take)")
	count := flag.Int64("n", 0, "stop after this many requests (0: run for -d)")
	timeout := flag.Duration("timeout", 10*time.Second, "per request")
	expect := flag.String("expect", "", "file with the expected response messages, each with a 5-byte gRPC prefix")
	typ := flag.String("type", "", "full name of the expected messages' type (bench.v1.Record)")
	sample := flag.Int("sample", 100, "verify every Nth response of each connection against -expect")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the generator itself here")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}

	u, err := url.Parse(*rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		log.Fatalf("h2gen: -url http://host:port/path (https: over TLS), got %q", *rawURL)
	}
	m, err := h2gen.ParseMode(*mode)
	if err != nil {
		log.Fatal(err)
	}
	cfg := h2gen.Config{Addr: u.Host, Method: *method, Path: u.RequestURI(), Header: hdr, Mode: m, Vary: *vary,
		Seed: *seed, Conns: *conns, Duration: *dur, Count: *count, Timeout: *timeout, Sample: *sample, TLS: u.Scheme == "https"}
	if *bodyFile != "" {
		if cfg.Body, err = os.ReadFile(*bodyFile); err != nil {
			log.Fatal(err)
		}
	}
	if *expect != "" {
		if cfg.Verify, err = verifier(m, *expect, *typ); err != nil {
			log.Fatal(err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := h2gen.Run(ctx, cfg)
	if err != nil {
		log.Print(err)
		return
	}
	r.WriteText(os.Stdout)
}

func verifier(m h2gen.Mode, file, typ string) (func([]byte) error, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(typ))
	if err != nil {
		return nil, fmt.Errorf("h2gen: -type %q: %w", typ, err)
	}
	_, want, err := h2gen.SplitFrames(b)
	if err != nil {
		return nil, fmt.Errorf("h2gen: -expect %s: %w", file, err)
	}
	return h2gen.Verifier(m, mt, want)
}
