package load

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// Spec is one load run. Body and Headers are sent with every request.
type Spec struct {
	URL      string
	Method   string
	Body     []byte
	Headers  []string // name, value pairs
	Conns    int
	Duration time.Duration
	CPU      string // taskset CPU list for the tool, "" for none
	Dir      string // scratch directory for scripts, bodies and logs
}

// Wrk runs wrk over HTTP/1.1 (one thread, one request in flight per
// connection) and parses its output.
func Wrk(ctx context.Context, s Spec) (Result, error) {
	script := filepath.Join(s.Dir, "wrk.lua")
	if err := os.WriteFile(script, []byte(LuaScript(s.Method, s.Body, s.Headers...)), 0o644); err != nil {
		return Result{}, err
	}
	args := []string{"-t1", "-c" + strconv.Itoa(s.Conns), "-d" + secs(s.Duration), "--latency", "--timeout", "10s", "-s", script, s.URL}
	out, err := run(ctx, s, "wrk", args)
	if err != nil {
		return Result{}, err
	}
	return ParseWrk(out)
}

// H2load runs h2load over prior-knowledge h2c (one thread, one stream in
// flight per connection) and takes the percentiles from its log file.
func H2load(ctx context.Context, s Spec) (Result, error) {
	logf := filepath.Join(s.Dir, "h2load.log")
	args := []string{"-t1", "-c" + strconv.Itoa(s.Conns), "-m1", "-D" + secs(s.Duration), "--log-file=" + logf}
	if len(s.Body) > 0 {
		body := filepath.Join(s.Dir, "h2load.body")
		if err := os.WriteFile(body, s.Body, 0o644); err != nil {
			return Result{}, err
		}
		args = append(args, "-d", body)
	}
	for i := 0; i+1 < len(s.Headers); i += 2 {
		args = append(args, "-H", s.Headers[i]+": "+s.Headers[i+1])
	}
	out, err := run(ctx, s, "h2load", append(args, s.URL))
	if err != nil {
		return Result{}, err
	}
	r, err := ParseH2load(out)
	if err != nil {
		return r, err
	}
	log, err := os.ReadFile(logf)
	if err != nil {
		return r, err
	}
	os.Remove(logf)
	r.P50, r.P99, _, err = ParseH2loadLog(string(log))
	return r, err
}

func secs(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}

// run executes the tool, pinned with taskset when s.CPU is set, bounded by
// ctx and by twice the run's duration plus a margin.
func run(ctx context.Context, s Spec, tool string, args []string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*s.Duration+30*time.Second)
	defer cancel()
	name := tool
	if s.CPU != "" {
		args = append([]string{"-c", s.CPU, tool}, args...)
		name = "taskset"
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("load: %s: %w: %.300s", tool, err, out)
	}
	return string(out), nil
}
