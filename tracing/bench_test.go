package tracing

import (
	"syscall"
	"testing"
	"time"

	"github.com/straitgw/strait/internal/testutil"
)

// cpuTime is the process's user and system CPU time so far: with it a
// benchmark counts the work of the goroutines it started too.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSample: the decision for a request, from its traceparent.
func BenchmarkSample(b *testing.B) {
	s := NewSampler(0.01)
	for _, c := range []struct{ name, tp string }{{"none", ""}, {"unsampled", "00-" + tid + "-f7ad6b7169203331-00"}, {"sampled", validTP}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, ok := ParseTraceparent(c.tp)
				s.Sample(p, ok)
			}
		})
	}
}

// BenchmarkTracer: a sampled request with one attempt, from Begin to its
// two spans exported: to an exporter that drops them (the SDK's work and
// ours), and over OTLP/gRPC to a collector in this process that counts
// them (the exporter's too; the collector's CPU is in cpu-ns/op). The
// requests are paced so the queues never drop.
func BenchmarkTracer(b *testing.B) {
	col := testutil.StartCollector(b)
	col.Discard = true
	for _, c := range []struct {
		name string
		cfg  Config
	}{{"sdk", Config{exporter: discard{}}}, {"otlp", Config{Endpoint: col.Addr}}} {
		b.Run(c.name, func(b *testing.B) {
			tr, err := New(c.cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer flushShut(b, tr)
			parent, _ := ParseTraceparent(validTP)
			b.ReportAllocs()
			cpu0 := cpuTime()
			for i := 0; b.Loop(); i++ {
				r := sampleRequest(tr, parent, time.Now())
				r.Finish(time.Now())
				if i%512 == 511 {
					flushB(b, tr)
				}
			}
			flushB(b, tr)
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			if n := tr.c.Dropped.Load(); n > 0 {
				b.Fatalf("%d spans dropped", n)
			}
		})
	}
}
