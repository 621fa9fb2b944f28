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
	"sync/atomic"
	"time"

	"github.com/straitgw/strait/perf/internal/load"
	"github.com/straitgw/strait/perf/internal/proc"
	"github.com/straitgw/strait/perf/internal/reqhdr"
	"google.golang.org/grpc/metadata"
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

	// Fixed sends the same header bytes on every request (wrk's static
	// script, h2load), as before varied headers: the old figures. By
	// default every request carries a fresh x-request-id and authorization
	// (package reqhdr), drawn from Seed.
	Fixed bool
	Seed  uint64
	// H2Tool drives the h2c workloads: "h2gen", "h2load" (fixed headers
	// only), or "" for h2gen with varied headers and h2load with fixed.
	H2Tool string
	// Straits adds strait binaries as gateways of their own
	// (strait-before=PATH, ...), or replaces the one built here ("strait").
	Straits []StraitBin
	// StraitConfigs gives a strait gateway a configuration file (its
	// flags still set the listen, admin, upstream and descriptors), by
	// gateway name: the same binary with observability on, say.
	StraitConfigs map[string]string
	// Baseline, when set and in a cell, is what that cell's ratios divide by.
	Baseline string
}

// MaxErrorShare is the share of failed requests above which a run does not
// count (its figures would be those of a gateway answering errors).
const MaxErrorShare = 0.01

// h2Tool is the tool the h2c workloads run on.
func (o Options) h2Tool() string {
	switch {
	case o.H2Tool != "":
		return o.H2Tool
	case o.Fixed:
		return ToolH2load
	}
	return ToolH2gen
}

// Tool is the tool that drives w in this run.
func (o Options) Tool(w *Workload) string {
	if w.Tool == ToolH2c {
		return o.h2Tool()
	}
	return w.Tool
}

// Validate rejects combinations that cannot run.
func (o Options) Validate() error {
	if o.h2Tool() != ToolH2gen && o.h2Tool() != ToolH2load {
		return fmt.Errorf("harness: -h2tool is h2gen or h2load, not %q", o.H2Tool)
	}
	if o.h2Tool() == ToolH2load && !o.Fixed {
		return errors.New("harness: h2load cannot vary headers per request: use -headers fixed with -h2tool h2load")
	}
	seen := map[string]bool{}
	for _, b := range o.Straits {
		if seen[b.Name] || !validStraitName(b.Name) {
			return fmt.Errorf("harness: strait binary name %q repeated or not strait-SOMETHING", b.Name)
		}
		seen[b.Name] = true
	}
	return nil
}

// cellGateways is the gateways that run a cell: the workload's, with every
// extra strait right after strait, less those -gateways leaves out (an
// extra strait always runs: it was asked for by name).
func (o Options) cellGateways(w *Workload) []string {
	var out []string
	for _, name := range w.Gateways {
		if len(o.Gateways) == 0 || slices.Contains(o.Gateways, name) {
			out = append(out, name)
		}
		if name == Strait {
			for _, b := range o.Straits {
				if b.Name != Strait {
					out = append(out, b.Name)
				}
			}
		}
	}
	return out
}

// checkHeaders makes the check requests' varied headers.
var checkHeaders = reqhdr.NewGen(uint64(time.Now().UnixNano()), 0)

// Run is one measured load run against one gateway.
type Run struct {
	load.Result
	CPUPerReq  time.Duration // the gateway's, per successful request
	ToolPerReq time.Duration // the load tool's, per request it completed (ok or not)
	PeakKB     int64
	Err        error
}

// Series is every run of one gateway in one cell, or why there is none.
type Series struct {
	Gateway string
	Runs    []Run
	Failed  string
	After   string // the check after the runs failed: why
	Log     string // panics the gateway logged (and recovered from)
}

// CellResult is one block of the table.
type CellResult struct {
	Cell     Cell
	Tool     string    // what drove it: wrk, h2gen or h2load
	Baseline string    // ratios divide by this gateway's figures
	Series   []*Series // in the workload's gateway order
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
	env, err := startUpstream(o, procs)
	if err != nil {
		return nil, err
	}
	env.Straits, env.StraitErrs, env.StraitConfigs = map[string]string{}, map[string]error{}, o.StraitConfigs
	bins := o.Straits
	if !slices.ContainsFunc(bins, func(b StraitBin) bool { return b.Name == Strait }) {
		bins = append([]StraitBin{{Name: Strait}}, bins...)
	}
	for _, b := range bins {
		path, err := b.Path, error(nil)
		switch {
		case b.Rev != "":
			path, err = BuildStraitRev(ctx, o.PerfDir, procs.Dir, b.Name, b.Rev)
		case path == "":
			path, err = filepath.Join(o.PerfDir, "bin", "strait"), BuildStrait(ctx, o.PerfDir)
		default:
			if path, err = filepath.Abs(path); err == nil {
				_, err = os.Stat(path)
			}
		}
		if err != nil {
			log.Printf("%s does not build; its cells read failed: %v", b.Name, err)
			env.StraitErrs[b.Name] = err
			continue
		}
		env.Straits[b.Name] = path
	}
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
		cr := &CellResult{Cell: c, Tool: o.Tool(c.W), Baseline: c.W.Baseline}
		gws := map[string]*Gateway{}
		for _, name := range o.cellGateways(c.W) {
			g := env.StartGateway(name)
			gws[name] = g
			cr.Series = append(cr.Series, &Series{Gateway: name, Failed: checkGateway(ctx, o, c.W, g)})
			if name == o.Baseline {
				cr.Baseline = name
			}
		}
		out = append(out, cr)
		runCell(ctx, o, gws, cr, env.TmpDir)
		for _, s := range cr.Series { // still right after the load? anything in its log?
			g := gws[s.Gateway]
			if s.Failed == "" && len(s.Runs) > 0 && g.Proc.Alive() {
				if why := checkGateway(ctx, o, c.W, g); why != "" {
					s.After = why
				}
			}
			if g.Proc != nil {
				s.Log = panics(g.Proc.Log)
			}
		}
		for _, g := range gws {
			if g.Proc != nil {
				g.Proc.Kill()
			}
		}
	}
	return out
}

// checkGateway makes one request of w through g (with varied headers
// unless o.Fixed, which the upstream checks) and says what is wrong.
func checkGateway(ctx context.Context, o Options, w *Workload, g *Gateway) string {
	if g.Err != nil {
		return "failed to start: " + g.Err.Error()
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if !o.Fixed {
		id, auth := checkHeaders.Next()
		ctx = metadata.AppendToOutgoingContext(ctx, reqhdr.IDName, id, reqhdr.AuthName, auth)
	}
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
				measure(ctx, o, cr.Cell, g, o.Warmup, tmp)
			}
			d := runLength(o.Duration, cr.Cell.Conns)
			prof := profileRun(ctx, o, g, d, fmt.Sprintf("%s-c%d-r%d", cr.Cell.W.Name, cr.Cell.Conns, rep+1))
			r := measure(ctx, o, cr.Cell, g, d, tmp)
			<-prof
			log.Printf("%-14s c=%-4d %-13s qps=%8.0f p50=%v p99=%v cpu/req=%v load/req=%v peak=%dMB errors=%d %s%v",
				cr.Cell.W.Name, cr.Cell.Conns, g.Name, r.QPS, r.P50, r.P99, r.CPUPerReq, r.ToolPerReq, r.PeakKB>>10, r.Errors, r.Why, errText(r.Err))
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
	if o.PprofDir == "" || !IsStrait(g.Name) || g.Admin == "" {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", g.Admin, max(1, int(d.Seconds())))
		if err := fetch(ctx, url, filepath.Join(o.PprofDir, g.Name+"-"+name+".pprof"), d+30*time.Second); err != nil {
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

// runs numbers the load runs, so each draws different header values.
var runs atomic.Uint64

// Spec is the load tool's job for cell c against addr.
func Spec(o Options, c Cell, addr string, d time.Duration, tmp string) load.Spec {
	w := c.W
	return load.Spec{URL: "http://" + addr + w.Path, Method: w.Method, Body: w.Body, Headers: w.Headers,
		Conns: c.Conns, Duration: d, CPU: LoadCPU, Dir: tmp,
		Vary: !o.Fixed, Seed: o.Seed + runs.Add(1)<<20,
		H2gen: filepath.Join(o.PerfDir, "bin", "h2gen"), Mode: w.Mode, Expect: w.Expect, Type: w.Type}
}

// measure runs the load tool once and reads the gateway's CPU time and peak
// RSS around it.
func measure(ctx context.Context, o Options, c Cell, g *Gateway, d time.Duration, tmp string) Run {
	spec := Spec(o, c, g.Addr, d, tmp)
	pid := g.Proc.Pid
	_ = proc.ResetPeak(pid) // best effort: without it the peak is since start
	before, err := proc.Read(pid)
	if !g.Proc.Alive() {
		return Run{Err: ErrGatewayExited}
	}
	if err != nil {
		return Run{Err: err}
	}
	tool := map[string]func(context.Context, load.Spec) (load.Result, error){
		ToolWrk: load.Wrk, ToolH2load: load.H2load, ToolH2gen: load.H2gen}[o.Tool(c.W)]
	res, err := tool(ctx, spec)
	after, rerr := proc.Read(pid)
	if !g.Proc.Alive() || rerr != nil {
		return Run{Result: res, Err: ErrGatewayExited}
	}
	r := Run{Result: res, Err: err, PeakKB: after.PeakKB}
	if res.Requests > 0 {
		r.CPUPerReq = (after.CPU - before.CPU) / time.Duration(res.Requests)
	}
	if n := res.Requests + res.Errors; n > 0 {
		r.ToolPerReq = res.ToolCPU / time.Duration(n)
	}
	return r
}

// panics counts the lines of a log that report a panic (a gateway that
// recovers from panics stays up: its log is the only sign) and quotes the
// first.
func panics(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	n, first := 0, ""
	for line := range strings.Lines(string(b)) {
		if strings.Contains(line, "panic:") || strings.Contains(line, "panic in") || strings.HasPrefix(line, "fatal error:") {
			if n++; n == 1 {
				first = strings.TrimSpace(line)
				if i := strings.Index(first, "panic"); i > 0 {
					first = first[i:] // the message, not the logger's prefix
				}
			}
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d panics in its log (%s), first: %.300s", n, filepath.Base(path), first)
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
