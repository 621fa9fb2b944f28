// Package load drives the real load tools (wrk for HTTP/1.1, h2load for h2c
// and gRPC) and parses what they print into a Result. It imports only the
// standard library.
package load

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// ErrNoSummary is returned when a tool's output lacks its summary lines
// (it crashed, or could not connect at all).
var ErrNoSummary = errors.New("load: no summary in tool output")

// Result is one load run as the tool saw it.
type Result struct {
	Requests int64         // completed requests, the divisor of CPU per request
	Errors   int64         // non-2xx, failed, errored, timed out, socket errors
	QPS      float64       // completed requests per second of the main duration
	P50, P99 time.Duration // latency percentiles
}

// parseDuration reads wrk's and h2load's "319.00us", "1.20ms", "2.5s", "1m".
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		d      time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, err
			}
			return time.Duration(f * float64(u.d)), nil
		}
	}
	return 0, strconv.ErrSyntax
}

// fieldAfter returns the whitespace-separated word following key in line.
func fieldAfter(line, key string) (string, bool) {
	_, rest, ok := strings.Cut(line, key)
	if !ok {
		return "", false
	}
	f := strings.Fields(rest)
	if len(f) == 0 {
		return "", false
	}
	return strings.TrimSuffix(f[0], ","), true
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSuffix(s, ","), 10, 64)
	return n
}
