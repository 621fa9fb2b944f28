// Package load drives the load tools (wrk for HTTP/1.1; for h2c and gRPC
// our own h2gen, or h2load when headers stay fixed) and parses what they
// print into a Result. It imports only the standard library; the generator
// itself is load/h2gen, run as the bin/h2gen command.
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
	Requests int64         // successful requests, the divisor of CPU per request
	Errors   int64         // non-2xx, failed, errored, timed out, socket errors, wrong grpc-status
	QPS      float64       // successful requests per second of the main duration
	P50, P99 time.Duration // latency percentiles
	ToolCPU  time.Duration // the load tool's own user+sys time (its whole process)
	Why      string        // what the errors were, when the tool says (h2gen)
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
