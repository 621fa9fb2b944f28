package harness

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/straitgw/strait/perf/internal/load"
	"github.com/straitgw/strait/perf/internal/proc"
)

// ErrGatewayExited is a run's error when the gateway died under load.
var ErrGatewayExited = errors.New("harness: gateway exited under load")

// Options shape one benchmark.
type Options struct {
	PerfDir   string
	Quick     bool
	Duration  time.Duration // one measured run
	Warmup    time.Duration // one unmeasured run per gateway and cell
	Repeats   int
	Gateways  []string // subset of AllGateways; empty = all
	Workloads []string // subset of workload names; empty = the plan's
	Install   bool     // apt-get / go install missing tools, regenerate
	PprofDir  string   // when set, a CPU profile of strait for every measured run
}

// Run is one measured load run against one gateway.
type Run struct {
	load.Result
	CPUPerReq time.Duration
	PeakKB    int64
	Err       error
}

// Series is every run of one gateway in one cell, or why there is none.
type Series struct {
	Gateway string
	Runs    []Run
	Failed  string
}

// CellResult is one block of the table.
type CellResult struct {
	Cell   Cell
	Series []*Series // in the workload's gateway order
}

// Setup installs and builds everything and starts the shared upstream. A
// strait that does not build is recorded in Env.StraitErr, not fatal. The
// caller must KillAll procs.
func Setup(ctx context.Context, o Options, procs *Procs) (*Env, error) {
	if o.Install {
		if err := InstallTools(ctx, o.PerfDir); err != nil {
			return nil, err
		}
		if err := Generate(ctx, o.PerfDir); err != nil {
			return nil, err
		}
	}
	if err := Build(ctx, o.PerfDir); err != nil {
		return nil, err
	}
	straitErr := BuildStrait(ctx, o.PerfDir)
	if straitErr != nil {
		log.Printf("strait does not build; its cells read failed: %v", straitErr)
	}
	env, err := startUpstream(o, procs)
	if err != nil {
		return nil, err
	}
	env.StraitErr = straitErr
	return env, nil
}

func startUpstream(o Options, procs *Procs) (*Env, error) {
	addr, err := FreePort()
	if err != nil {
		return nil, err
	}
	p, err := procs.Start("upstream", LoadCPU, gomaxprocs1, filepath.Join(o.PerfDir, "bin", "upstream"), "-listen", addr)
	if err != nil {
		return nil, err
	}
	if err := WaitPort(p, addr, 20*time.Second); err != nil {
		return nil, err
	}
	return &Env{PerfDir: o.PerfDir, TmpDir: procs.Dir, Procs: procs, Upstream: addr,
		Desc: filepath.Join(o.PerfDir, "proto", "bench.pb")}, nil
}

// Measure runs the cells in order. Each cell starts its gateways afresh (so
// memory kept from an earlier cell does not count, and a gateway that died
// gets another chance), checks one answer from each, then runs the repeats
// interleaved across gateways (A B C A B C ...). It stops early, keeping
// what it has, when ctx ends.
func Measure(ctx context.Context, o Options, env *Env, cells []Cell) []*CellResult {
	var out []*CellResult
	for _, c := range cells {
		if ctx.Err() != nil {
			break
		}
		cr := &CellResult{Cell: c}
		gws := map[string]*Gateway{}
		for _, name := range c.W.Gateways {
			if len(o.Gateways) > 0 && !slices.Contains(o.Gateways, name) {
				continue
			}
			g := env.StartGateway(name)
			gws[name] = g
			cr.Series = append(cr.Series, &Series{Gateway: name, Failed: checkGateway(ctx, c.W, g)})
		}
		out = append(out, cr)
		runCell(ctx, o, gws, cr, env.TmpDir)
		for _, g := range gws {
			if g.Proc != nil {
				g.Proc.Kill()
			}
		}
	}
	return out
}

func checkGateway(ctx context.Context, w *Workload, g *Gateway) string {
	if g.Err != nil {
		return "failed to start: " + g.Err.Error()
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := w.Check(ctx, "http://"+g.Addr, g.Addr); err != nil {
		log.Printf("%s %s: wrong answer: %v", w.Name, g.Name, err)
		return "wrong answer: " + err.Error()
	}
	return ""
}

func runCell(ctx context.Context, o Options, gws map[string]*Gateway, cr *CellResult, tmp string) {
	for rep := 0; rep < o.Repeats; rep++ {
		for _, s := range cr.Series {
			if s.Failed != "" || ctx.Err() != nil {
				continue
			}
			g := gws[s.Gateway]
			if rep == 0 && o.Warmup > 0 {
				measure(ctx, cr.Cell, g, o.Warmup, tmp)
			}
			d := runLength(o.Duration, cr.Cell.Conns)
			prof := profileRun(ctx, o, g, d, fmt.Sprintf("%s-c%d-r%d", cr.Cell.W.Name, cr.Cell.Conns, rep+1))
			r := measure(ctx, cr.Cell, g, d, tmp)
			<-prof
			log.Printf("%-14s c=%-4d %-12s qps=%8.0f p50=%v p99=%v cpu/req=%v peak=%dMB errors=%d %v",
				cr.Cell.W.Name, cr.Cell.Conns, g.Name, r.QPS, r.P50, r.P99, r.CPUPerReq, r.PeakKB>>10, r.Errors, errText(r.Err))
			s.Runs = append(s.Runs, r)
			if errors.Is(r.Err, ErrGatewayExited) {
				s.Failed = fmt.Sprintf("exited under load in run %d (%s)", len(s.Runs), lastLines(g.Proc.Log, 3))
			}
		}
	}
}

// profileRun fetches a CPU profile of strait over the coming run into
// o.PprofDir/name.pprof; the channel closes when it is done (at once when
// there is nothing to do).
func profileRun(ctx context.Context, o Options, g *Gateway, d time.Duration, name string) chan struct{} {
	done := make(chan struct{})
	if o.PprofDir == "" || g.Name != Strait || g.Admin == "" {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", g.Admin, max(1, int(d.Seconds())))
		if err := fetch(ctx, url, filepath.Join(o.PprofDir, name+".pprof"), d+30*time.Second); err != nil {
			log.Printf("pprof %s: %v", name, err)
		}
	}()
	return done
}

// runLength doubles d for 1000-connection cells, where opening the
// connections takes a noticeable share of a short run.
func runLength(d time.Duration, conns int) time.Duration {
	if conns >= 1000 {
		return 2 * d
	}
	return d
}

// measure runs the load tool once and reads the gateway's CPU time and peak
// RSS around it.
func measure(ctx context.Context, c Cell, g *Gateway, d time.Duration, tmp string) Run {
	spec := load.Spec{URL: "http://" + g.Addr + c.W.Path, Method: c.W.Method, Body: c.W.Body, Headers: c.W.Headers,
		Conns: c.Conns, Duration: d, CPU: LoadCPU, Dir: tmp}
	pid := g.Proc.Pid
	_ = proc.ResetPeak(pid) // best effort: without it the peak is since start
	before, err := proc.Read(pid)
	if !g.Proc.Alive() {
		return Run{Err: ErrGatewayExited}
	}
	if err != nil {
		return Run{Err: err}
	}
	tool := load.Wrk
	if c.W.Tool == ToolH2load {
		tool = load.H2load
	}
	res, err := tool(ctx, spec)
	after, rerr := proc.Read(pid)
	if !g.Proc.Alive() || rerr != nil {
		return Run{Result: res, Err: ErrGatewayExited}
	}
	r := Run{Result: res, Err: err, PeakKB: after.PeakKB}
	if res.Requests > 0 {
		r.CPUPerReq = (after.CPU - before.CPU) / time.Duration(res.Requests)
	}
	return r
}

// lastLines is the end of a child's log, for the table.
func lastLines(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return path
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i, l := range lines { // a Go crash: its first line says why
		if strings.HasPrefix(l, "panic:") || strings.HasPrefix(l, "fatal error:") {
			lines = lines[i:min(i+n, len(lines))]
			break
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return filepath.Base(path) + ": " + strings.Join(lines, " / ")
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TmpDir recreates perf/results/tmp for scripts, logs and nginx's files.
func TmpDir(perfDir string) (string, error) {
	dir := filepath.Join(perfDir, "results", "tmp")
	os.RemoveAll(dir)
	return dir, os.MkdirAll(dir, 0o755)
}
