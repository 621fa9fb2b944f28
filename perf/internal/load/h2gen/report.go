package h2gen

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// WriteText writes r as `key value` lines, then one `error` line per kind
// (tab-separated: count, kind, a sample message), for load.ParseH2gen.
func (r *Report) WriteText(w io.Writer) {
	us := func(d time.Duration) int64 { return d.Microseconds() }
	qps := 0.0
	if r.Elapsed > 0 {
		qps = float64(r.OK) / r.Elapsed.Seconds()
	}
	fmt.Fprintf(w, "h2gen 1\nconns %d\nelapsed_s %.3f\nok %d\nfailed %d\nqps %.1f\n", r.Conns, r.Elapsed.Seconds(), r.OK, r.Failed, qps)
	fmt.Fprintf(w, "p50_us %d\np90_us %d\np99_us %d\nmax_us %d\n", us(r.P50), us(r.P90), us(r.P99), us(r.Max))
	fmt.Fprintf(w, "cpu_us %d\ncpu_per_req_ns %d\nverified %d\nbad_bodies %d\nreconnects %d\n",
		us(r.CPU), r.CPUPerRequest().Nanoseconds(), r.Verified, r.BadBodies, r.Reconnects)
	for _, k := range slices.Sorted(maps.Keys(r.Errors)) {
		fmt.Fprintf(w, "error\t%d\t%s\t%s\n", r.Errors[k], clean(k), clean(r.Samples[k]))
	}
}

// clean keeps a field on its line and out of the next field.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
