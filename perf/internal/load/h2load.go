package load

import (
	"bufio"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ParseH2load reads h2load's summary. Latency percentiles come from its
// --log-file (see ParseH2loadLog); h2load itself prints only mean and sd.
func ParseH2load(out string) (Result, error) {
	var r Result
	var seen int
	var done int64
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "finished in"):
			// finished in 1.22s, 10488.00 req/s, 696.72KB/s
			f := strings.Fields(line)
			if len(f) >= 5 {
				r.QPS, _ = strconv.ParseFloat(f[3], 64)
				seen++
			}
		case strings.HasPrefix(line, "requests:"):
			// "done" counts non-2xx answers too: only "succeeded" is success.
			done = h2loadCount(line, "done")
			r.Requests = h2loadCount(line, "succeeded")
			r.Errors = h2loadCount(line, "failed") + h2loadCount(line, "errored") + h2loadCount(line, "timeout")
			seen++
		}
	}
	if seen < 2 {
		return r, fmt.Errorf("%w (h2load): %.300q", ErrNoSummary, out)
	}
	if done > 0 && r.Requests < done {
		r.QPS *= float64(max(r.Requests, 0)) / float64(done)
	}
	return r, nil
}

// h2loadCount finds "N word" in "requests: 10 total, 10 started, 9 done, ...".
func h2loadCount(line, word string) int64 {
	f := strings.Fields(strings.ReplaceAll(line, ",", " "))
	for i := 1; i < len(f); i++ {
		if f[i] == word {
			return atoi(f[i-1])
		}
	}
	return 0
}

// ParseH2loadLog reads h2load's --log-file (start µs, status, duration µs
// per line) and returns the P50 and P99 durations and the count of
// non-2xx lines.
func ParseH2loadLog(log string) (p50, p99 time.Duration, non2xx int64, err error) {
	var ds []int64
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 3 {
			continue
		}
		st, err1 := strconv.Atoi(f[1])
		d, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			return 0, 0, 0, fmt.Errorf("load: h2load log line %q", sc.Text())
		}
		if st < 200 || st > 299 {
			non2xx++
		}
		ds = append(ds, d)
	}
	if len(ds) == 0 {
		return 0, 0, 0, fmt.Errorf("%w (h2load log empty)", ErrNoSummary)
	}
	slices.Sort(ds)
	return pct(ds, 50), pct(ds, 99), non2xx, nil
}

// pct is the nearest-rank percentile of sorted microsecond durations.
func pct(sorted []int64, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	if i < 1 {
		i = 1
	}
	return time.Duration(sorted[i-1]) * time.Microsecond
}
