// Package h2gen is a load generator for prior-knowledge h2c: REST/JSON,
// gRPC and gRPC-Web over HTTP/2. Like `h2load -m1` it keeps N connections
// with one request in flight on each, for a duration or a count; unlike
// h2load it can send fresh header values with every request (reqhdr's
// x-request-id and authorization), which is what real clients do and what
// exercises a gateway's HPACK tables. A request counts as successful only on
// :status 200 and, for gRPC and gRPC-Web, grpc-status 0; a sample of the
// response bodies is checked against the expected message.
//
// It runs a goroutine per connection on raw TCP with x/net's Framer and
// hpack, and nothing else per request: two small header strings, one write
// and usually one read syscall. It imports x/net and protobuf, never a
// gateway or the harness.
package h2gen

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/http2/hpack"
)

// Mode says what a successful response is.
type Mode uint8

const (
	ModeREST    Mode = iota // :status 200
	ModeGRPC                // :status 200 and grpc-status 0 (trailers or trailers-only)
	ModeGRPCWeb             // :status 200 and grpc-status 0 in the body's trailer frame (or headers)
)

// ParseMode reads "rest", "grpc" or "grpc-web".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "rest":
		return ModeREST, nil
	case "grpc":
		return ModeGRPC, nil
	case "grpc-web":
		return ModeGRPCWeb, nil
	}
	return 0, errors.New("h2gen: mode is rest, grpc or grpc-web")
}

// Config is one load run.
type Config struct {
	Addr      string // host:port to dial
	Authority string // :authority; Addr when empty
	Method    string
	Path      string
	Header    []hpack.HeaderField // sent with every request, after the pseudo-headers
	Body      []byte
	Mode      Mode
	Vary      bool   // add a fresh x-request-id and authorization to every request
	Seed      uint64 // of the varied values; connection i uses stream i
	Conns     int
	Duration  time.Duration // no request starts after this (and one in flight then is dropped)
	Count     int64         // no more than this many requests start (0: no limit)
	Timeout   time.Duration // per request; then the connection is replaced
	Sample    int           // verify every Sample-th response of each connection (0: none)
	Verify    func(body []byte) error
	// TLS dials with TLS and ALPN h2 (the certificate is not verified:
	// loopback benchmarks), each connection a full handshake.
	TLS bool
}

// Report is what a run saw.
type Report struct {
	Conns      int
	Elapsed    time.Duration
	OK, Failed int64            // responses (and requests that broke) by outcome
	Errors     map[string]int64 // Failed by kind: "status 503", "grpc-status 3", "timeout", ...
	Samples    map[string]string
	P50, P90   time.Duration
	P99, Max   time.Duration
	CPU        time.Duration // this process's user+sys time over the run
	Verified   int64         // sampled responses checked
	BadBodies  int64         // of which wrong (also counted in Failed)
	Reconnects int64
}

// CPUPerRequest is the generator's own CPU time per request it completed.
func (r *Report) CPUPerRequest() time.Duration {
	if n := r.OK + r.Failed; n > 0 {
		return r.CPU / time.Duration(n)
	}
	return 0
}

// Run drives the load until the duration or count is spent or ctx ends.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Conns <= 0 || cfg.Duration <= 0 || cfg.Addr == "" || cfg.Path == "" {
		return nil, errors.New("h2gen: need Addr, Path, Conns > 0 and Duration > 0")
	}
	if cfg.Authority == "" {
		cfg.Authority = cfg.Addr
	}
	if cfg.Method == "" {
		cfg.Method = "POST"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	cpu0 := cpuTime()
	start := time.Now()
	end := start.Add(cfg.Duration)
	if dl, ok := ctx.Deadline(); ok && dl.Before(end) {
		end = dl
	}
	var started atomic.Int64
	ws := make([]*worker, cfg.Conns)
	var wg sync.WaitGroup
	for i := range ws {
		w := newWorker(&cfg, i, end, &started)
		ws[i] = w
		wg.Go(func() { w.run(ctx) })
	}
	wg.Wait()
	r := &Report{Conns: cfg.Conns, Elapsed: time.Since(start), CPU: cpuTime() - cpu0,
		Errors: map[string]int64{}, Samples: map[string]string{}}
	if r.Elapsed > cfg.Duration && cfg.Count == 0 {
		r.Elapsed = cfg.Duration // QPS over the measured window, as h2load -D
	}
	var lat []uint32
	for _, w := range ws {
		r.OK += w.ok
		r.Failed += w.failed
		r.Verified += w.verified
		r.BadBodies += w.badBodies
		r.Reconnects += w.reconnects
		for k, n := range w.errs {
			r.Errors[k] += n
			if _, ok := r.Samples[k]; !ok && w.samples[k] != "" {
				r.Samples[k] = w.samples[k]
			}
		}
		lat = append(lat, w.lat...)
	}
	slices.Sort(lat)
	r.P50, r.P90, r.P99 = pct(lat, 50), pct(lat, 90), pct(lat, 99)
	if len(lat) > 0 {
		r.Max = time.Duration(lat[len(lat)-1]) * time.Microsecond
	}
	return r, nil
}

// pct is the nearest-rank percentile of sorted microseconds.
func pct(sorted []uint32, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := max((len(sorted)*p+99)/100, 1)
	return time.Duration(sorted[i-1]) * time.Microsecond
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
