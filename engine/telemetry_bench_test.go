package engine

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/demo"
)

// BenchmarkRESTObserved is one REST GET through a real gateway and the
// demo upstream, in process, on one keep-alive HTTP/1.1 connection: with
// no observer, with the metrics (the default), and with the metrics and
// an access log file. ns/op and allocs/op count the client and the
// upstream too (cpu-ns/op is the process's CPU time, all goroutines,
// the access log's writer included): compare the variants, not the
// absolute figures.
//
//	go test -run '^$' -bench RESTObserved -count 10 ./engine
func BenchmarkRESTObserved(b *testing.B) {
	for _, v := range []struct {
		name string
		mod  func(*Config)
		bare bool
	}{
		{"none", nil, true},
		{"metrics", nil, false},
		{"metrics+log", func(c *Config) { c.AccessLog.Path = filepath.Join(b.TempDir(), "access.log") }, false},
	} {
		b.Run(v.name, func(b *testing.B) {
			up := startBenchUpstream(b)
			cfg := Config{Listen: "127.0.0.1:0", Upstreams: []UpstreamConfig{{Name: "default", Endpoints: []string{up}}},
				DescriptorSets: [][]byte{demo.Descriptors()}}
			if v.mod != nil {
				v.mod(&cfg)
			}
			e, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			if v.bare {
				e.observers = nil
			}
			if err := e.Start(); err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			c, err := net.DialTimeout("tcp", e.Addr().String(), 2*time.Second)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReader(c)
			req := []byte("GET /v1/shelves/1 HTTP/1.1\r\nHost: bench\r\n\r\n")
			get := func() {
				if _, err := c.Write(req); err != nil {
					b.Fatal(err)
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
			for range 100 {
				get()
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := processCPU()
			for b.Loop() {
				get()
			}
			b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

func startBenchUpstream(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := demo.NewServer()
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(srv.Stop)
	return ln.Addr().String()
}

// processCPU is the process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
