package ratelimit

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

var sinkDecision Decision

// BenchmarkTake: one request's decision on the real clock, for the
// keyless (global) bucket and for kept keys among 1, 1k and 100k, on one
// goroutine and on all; "new" makes every request a new key (the copy
// and the map insert), "cap" a new key past MaxKeys (the overflow bucket).
//
//	go test -run '^$' -bench Take -count 10 ./filter/ratelimit
func BenchmarkTake(b *testing.B) {
	// Slow enough that no bucket is ever full (and forgotten) mid-run.
	slow := Rate{Rate: 1, Per: time.Hour, Burst: 1 << 10}
	for _, n := range []int{0, 1, 1 << 10, 100_000} {
		keys := names("tenant-", max(n, 1))
		name := "keys=" + strconv.Itoa(n)
		if n == 0 {
			keys[0], name = "", "global"
		}
		b.Run(name, func(b *testing.B) {
			l := warmLocal(b, slow, keys)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				sinkDecision, _ = l.Take(keys[i%len(keys)])
				i++
			}
		})
		b.Run(name+"/parallel", func(b *testing.B) {
			l := warmLocal(b, slow, keys)
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(next.Add(7919))
				for pb.Next() {
					d, _ := l.Take(keys[i%len(keys)])
					_ = d
					i++
				}
			})
		})
	}
	fresh := names("k", 1<<20)
	b.Run("new", func(b *testing.B) {
		var l *Local
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if i%len(fresh) == 0 {
				b.StopTimer()
				l, _ = NewLocal(Rate{Rate: 1, Per: time.Hour}, Options{MaxKeys: len(fresh)})
				b.StartTimer()
			}
			sinkDecision, _ = l.Take(fresh[i%len(fresh)])
			i++
		}
	})
	b.Run("cap", func(b *testing.B) {
		l := warmLocal(b, Rate{Rate: 1, Per: time.Hour}, names("kept-", 1000))
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			sinkDecision, _ = l.Take(fresh[i%len(fresh)])
			i++
		}
	})
}

func names(prefix string, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = prefix + strconv.Itoa(i)
	}
	return keys
}

// warmLocal is a Local keeping exactly keys.
func warmLocal(b *testing.B, r Rate, keys []string) *Local {
	l, err := NewLocal(r, Options{MaxKeys: len(keys)})
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range keys {
		l.Take(k)
	}
	return l
}
