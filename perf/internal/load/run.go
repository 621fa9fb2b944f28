package load

import (
	"context"
	"fmt"
	"net/url"
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

	// Vary adds a fresh x-request-id and authorization (package reqhdr) to
	// every request, drawn from Seed (wrk's Lua script, h2gen).
	Vary bool
	Seed uint64

	// For h2gen: its binary, what success is ("rest", "grpc", "grpc-web"),
	// and the expected response messages (each with a 5-byte gRPC prefix)
	// of type Type, checked on a sample of the responses.
	H2gen  string
	Mode   string
	Expect []byte
	Type   string
}

// Wrk runs wrk over HTTP/1.1 (one thread, one request in flight per
// connection) and parses its output.
func Wrk(ctx context.Context, s Spec) (Result, error) {
	script := filepath.Join(s.Dir, "wrk.lua")
	lua := LuaScript(s.Method, s.Body, s.Headers...)
	if s.Vary {
		u, err := url.Parse(s.URL)
		if err != nil {
			return Result{}, err
		}
		lua = LuaVaried(s.Method, u.RequestURI(), u.Host, s.Body, s.Seed, s.Headers...)
	}
	if err := os.WriteFile(script, []byte(lua), 0o644); err != nil {
		return Result{}, err
	}
	args := []string{"-t1", "-c" + strconv.Itoa(s.Conns), "-d" + secs(s.Duration), "--latency", "--timeout", "10s", "-s", script, s.URL}
	out, cpu, err := run(ctx, s, "wrk", args)
	if err != nil {
		return Result{}, err
	}
	r, err := ParseWrk(out)
	r.ToolCPU = cpu
	return r, err
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
	out, cpu, err := run(ctx, s, "h2load", append(args, s.URL))
	if err != nil {
		return Result{}, err
	}
	r, err := ParseH2load(out)
	r.ToolCPU = cpu
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

// H2gen runs our h2c generator (bin/h2gen; one request in flight per
// connection, varied headers when s.Vary) and parses its summary.
func H2gen(ctx context.Context, s Spec) (Result, error) {
	args := []string{"-url", s.URL, "-method", s.Method, "-mode", s.Mode, "-c", strconv.Itoa(s.Conns),
		"-d", s.Duration.String(), "-vary=" + strconv.FormatBool(s.Vary), "-seed", strconv.FormatUint(s.Seed, 10)}
	if len(s.Body) > 0 {
		body := filepath.Join(s.Dir, "h2gen.body")
		if err := os.WriteFile(body, s.Body, 0o644); err != nil {
			return Result{}, err
		}
		args = append(args, "-body", body)
	}
	if len(s.Expect) > 0 {
		exp := filepath.Join(s.Dir, "h2gen.expect")
		if err := os.WriteFile(exp, s.Expect, 0o644); err != nil {
			return Result{}, err
		}
		args = append(args, "-expect", exp, "-type", s.Type)
	}
	for i := 0; i+1 < len(s.Headers); i += 2 {
		args = append(args, "-H", s.Headers[i]+": "+s.Headers[i+1])
	}
	out, cpu, err := run(ctx, s, s.H2gen, args)
	if err != nil {
		return Result{}, err
	}
	r, err := ParseH2gen(out)
	r.ToolCPU = cpu
	return r, err
}

// run executes the tool, pinned with taskset when s.CPU is set, bounded by
// ctx and by twice the run's duration plus a margin. It returns the tool's
// output and its CPU time (user+sys, from its rusage).
func run(ctx context.Context, s Spec, tool string, args []string) (string, time.Duration, error) {
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
	var cpu time.Duration
	if cmd.ProcessState != nil { // taskset execs the tool: this is the tool's own
		cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		return string(out), cpu, fmt.Errorf("load: %s: %w: %.300s", filepath.Base(tool), err, out)
	}
	return string(out), cpu, nil
}
