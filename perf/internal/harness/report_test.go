package harness

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/straitgw/strait/perf/internal/load"
)

func TestSummarize(t *testing.T) {
	s := &Series{Gateway: "x", Runs: []Run{
		{Result: load.Result{Requests: 10, QPS: 100, P50: time.Millisecond, P99: 4 * time.Millisecond}, CPUPerReq: 20 * time.Microsecond, PeakKB: 2048},
		{Result: load.Result{Requests: 1000, QPS: 300, P50: 3 * time.Millisecond, P99: 8 * time.Millisecond, Errors: 2, Why: "status 503 ×2"}, CPUPerReq: 40 * time.Microsecond, PeakKB: 4096, ToolPerReq: 5 * time.Microsecond},
		{Result: load.Result{Requests: 1000, QPS: 900, Errors: 11, Why: "grpc-status 3 ×11"}},
		{Result: load.Result{Requests: 10, QPS: 200, P50: 2 * time.Millisecond, P99: 6 * time.Millisecond}, CPUPerReq: 30 * time.Microsecond, PeakKB: 3072},
		{Err: errors.New("wrk died")},
	}}
	st, ok, why := Summarize(s)
	want := Stats{QPS: 200, P50: 2, P99: 6, CPU: 30, RSS: 3, Spread: 1, Errors: 13, N: 3}
	wantWhy := []string{"run 2: 2 errors: status 503 ×2", "run 3: not counted, 1.1% of requests failed (11: grpc-status 3 ×11)", "run 5: wrk died"}
	if !ok || st != want || !slices.Equal(why, wantWhy) {
		t.Errorf("got %+v %v %q; want %+v and %q", st, ok, why, want, wantWhy)
	}
	if _, ok, why := Summarize(&Series{Failed: "failed to start: boom"}); ok || len(why) != 1 || why[0] != "failed to start: boom" {
		t.Errorf("failed series: got ok=%v why=%q", ok, why)
	}
	if _, ok, why := Summarize(&Series{Runs: []Run{{Result: load.Result{QPS: 0, Errors: 5, Why: "conn ×5"}}}}); ok || len(why) != 1 || why[0] != "run 1: no request succeeded (5 failed: conn ×5)" {
		t.Errorf("empty run: got ok=%v why=%q", ok, why)
	}
}

func TestMedianEven(t *testing.T) {
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("got %v; want 2.5", got)
	}
}

func TestWriteTableRatios(t *testing.T) {
	w := &Workload{Name: "w", Title: "W", Tool: ToolWrk, Baseline: GRPCGateway}
	run := func(qps float64) []Run {
		return []Run{{Result: load.Result{Requests: 1, QPS: qps, P50: time.Millisecond, P99: time.Millisecond}, CPUPerReq: time.Microsecond, PeakKB: 1024}}
	}
	var b strings.Builder
	WriteTable(&b, []*CellResult{{Cell: Cell{w, 64}, Series: []*Series{
		{Gateway: Strait, Runs: run(300)}, {Gateway: GRPCGateway, Runs: run(100)}, {Gateway: NetHTTP, Failed: "wrong | answer"},
	}}})
	out := b.String()
	for _, want := range []string{"| strait | 300 (3.00×) |", "| grpc-gateway | 100 (1.00×) |", "| net/http | failed (see below) |", "- net/http: wrong / answer"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestPlanGatewaysServeTheirWorkloads(t *testing.T) {
	for _, quick := range []bool{false, true} {
		for _, c := range Plan(quick, nil) {
			if c.W == nil || c.Conns <= 0 || c.W.Check == nil {
				t.Fatalf("quick=%v: bad cell %+v", quick, c)
			}
			found := false
			for _, g := range c.W.Gateways {
				found = found || g == c.W.Baseline
			}
			if !found {
				t.Errorf("%s: baseline %s does not run it", c.W.Name, c.W.Baseline)
			}
		}
	}
}

func TestWriteSummary(t *testing.T) {
	w := &Workload{Name: "w", Baseline: GRPCGateway}
	run := func(qps float64, cpu time.Duration) []Run {
		return []Run{{Result: load.Result{Requests: 1, QPS: qps}, CPUPerReq: cpu}}
	}
	var b strings.Builder
	WriteSummary(&b, []*CellResult{{Cell: Cell{w, 64}, Series: []*Series{
		{Gateway: Strait, Runs: run(300, 20*time.Microsecond)}, {Gateway: GRPCGateway, Runs: run(100, 80*time.Microsecond)},
	}}})
	if want := "| w | 64 | 300 | 3.00× grpc-gateway | 20.0 | 0.25× grpc-gateway | strait |"; !strings.Contains(b.String(), want) {
		t.Errorf("got\n%s\nwant a line %q", b.String(), want)
	}
}

func TestCellGateways(t *testing.T) {
	w := &Workload{Gateways: []string{Strait, GRPCGateway, Vanguard}}
	o := Options{Straits: []StraitBin{{Name: "strait-before", Path: "/x"}, {Name: Strait, Path: "/y"}}}
	if got, want := o.cellGateways(w), []string{Strait, "strait-before", GRPCGateway, Vanguard}; !slices.Equal(got, want) {
		t.Errorf("got %q; want %q", got, want)
	}
	o.Gateways = []string{Vanguard}
	if got, want := o.cellGateways(w), []string{"strait-before", Vanguard}; !slices.Equal(got, want) {
		t.Errorf("filtered: got %q; want %q", got, want)
	}
}

func TestParseStraitBin(t *testing.T) {
	for in, want := range map[string]string{"strait-before=/tmp/s": "strait-before", "strait=bin/s": "strait", "strait-v1.2_x=HEAD~3": "strait-v1.2_x"} {
		if name, _, err := ParseStraitBin(in); err != nil || name != want {
			t.Errorf("%q: got %q, %v; want %q", in, name, err, want)
		}
	}
	for _, bad := range []string{"before=/x", "strait-=/x", "strait-before", "strait-before=", "strait-a b=/x", "nginx=/x", "strait-UP=/x"} {
		if _, _, err := ParseStraitBin(bad); err == nil {
			t.Errorf("%q: got nil error", bad)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tt := range []struct {
		o  Options
		ok bool
	}{
		{Options{}, true},
		{Options{Fixed: true}, true},
		{Options{Fixed: true, H2Tool: ToolH2gen}, true},
		{Options{H2Tool: ToolH2load}, false}, // h2load cannot vary headers
		{Options{H2Tool: "ghz"}, false},
		{Options{Straits: []StraitBin{{Name: "strait-a"}, {Name: "strait-a"}}}, false},
	} {
		if err := tt.o.Validate(); (err == nil) != tt.ok {
			t.Errorf("%+v: got %v", tt.o, err)
		}
	}
	w := &Workload{Tool: ToolH2c}
	if got := (Options{}).Tool(w); got != ToolH2gen {
		t.Errorf("varied: tool %q", got)
	}
	if got := (Options{Fixed: true}).Tool(w); got != ToolH2load {
		t.Errorf("fixed: tool %q", got)
	}
}

func TestWriteStraits(t *testing.T) {
	w := &Workload{Name: "w", Baseline: GRPCGateway}
	run := func(qps float64, cpu time.Duration) []Run {
		return []Run{{Result: load.Result{Requests: 1, QPS: qps, P99: time.Millisecond}, CPUPerReq: cpu}}
	}
	var b strings.Builder
	WriteStraits(&b, []*CellResult{{Cell: Cell{w, 64}, Series: []*Series{
		{Gateway: Strait, Runs: run(300, 20*time.Microsecond)}, {Gateway: "strait-before", Runs: run(400, 15*time.Microsecond)},
		{Gateway: GRPCGateway, Runs: run(100, 80*time.Microsecond)},
	}}})
	for _, want := range []string{"| w | 64 | strait | 300 | 1.00× | 20.0 | 1.00× |", "| w | 64 | strait-before | 400 | 1.33× | 15.0 | 0.75× |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("got\n%s\nwant a line %q", b.String(), want)
		}
	}
	b.Reset()
	WriteStraits(&b, []*CellResult{{Cell: Cell{w, 64}, Series: []*Series{{Gateway: Strait, Runs: run(1, 1)}}}})
	if b.Len() != 0 {
		t.Errorf("one strait: got %q", b.String())
	}
}

func TestPanics(t *testing.T) {
	dir := t.TempDir()
	log := dir + "/g.log"
	os.WriteFile(log, []byte("serving\n2026/12/03 17:35:15 logger.go:190: [Error] GOPOOL: panic in pool: id (640) <= evictCount (663): goroutine 3\nruntime/debug.Stack()\npanic({0xac8680?})\npanic: boom\n"), 0o644)
	if got, want := panics(log), "2 panics in its log (g.log), first: panic in pool: id (640) <= evictCount (663): goroutine 3"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
	os.WriteFile(log, []byte("serving\n"), 0o644)
	if got := panics(log); got != "" {
		t.Errorf("clean log: got %q", got)
	}
}
