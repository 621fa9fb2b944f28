package load

import (
	"bufio"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseH2gen reads h2gen's summary: `key value` lines after "h2gen 1",
// and `error<TAB>count<TAB>kind<TAB>sample` lines. Errors are every
// request that failed; Why lists them by kind, most frequent first.
func ParseH2gen(out string) (Result, error) {
	var r Result
	kv := map[string]string{}
	type kind struct {
		n            int64
		name, sample string
	}
	var kinds []kind
	header := false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if f := strings.Split(line, "\t"); f[0] == "error" {
			if len(f) != 4 {
				return r, fmt.Errorf("load: h2gen error line %q", line)
			}
			n, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil || n < 0 {
				return r, fmt.Errorf("load: h2gen error line %q", line)
			}
			kinds = append(kinds, kind{n, f[2], f[3]})
			continue
		}
		k, v, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if k == "h2gen" {
			header = v == "1"
			continue
		}
		kv[k] = v
	}
	count := func(k string) (int64, bool) { // microseconds too: < 2^40 keeps a Duration
		n, err := strconv.ParseInt(kv[k], 10, 64)
		return n, err == nil && n >= 0 && n < 1<<40
	}
	ok, ok1 := count("ok")
	failed, ok2 := count("failed")
	p50, ok4 := count("p50_us")
	p99, ok5 := count("p99_us")
	qps, err := strconv.ParseFloat(kv["qps"], 64)
	ok3 := err == nil && qps >= 0 && !math.IsInf(qps, 0)
	if !header || !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return r, fmt.Errorf("%w (h2gen): %.300q", ErrNoSummary, out)
	}
	r.Requests, r.Errors, r.QPS = ok, failed, qps
	r.P50, r.P99 = time.Duration(p50)*time.Microsecond, time.Duration(p99)*time.Microsecond
	for i := 1; i < len(kinds); i++ { // most frequent first; few kinds
		for j := i; j > 0 && kinds[j].n > kinds[j-1].n; j-- {
			kinds[j], kinds[j-1] = kinds[j-1], kinds[j]
		}
	}
	var why []string
	for _, k := range kinds {
		s := fmt.Sprintf("%s ×%d", k.name, k.n)
		if k.sample != "" {
			s += fmt.Sprintf(" (%.120s)", k.sample)
		}
		why = append(why, s)
	}
	r.Why = strings.Join(why, "; ")
	return r, nil
}
