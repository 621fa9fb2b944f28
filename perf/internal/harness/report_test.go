package harness

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/straitgw/strait/perf/internal/load"
)

func TestSummarize(t *testing.T) {
	s := &Series{Gateway: "x", Runs: []Run{
		{Result: load.Result{Requests: 10, QPS: 100, P50: time.Millisecond, P99: 4 * time.Millisecond}, CPUPerReq: 20 * time.Microsecond, PeakKB: 2048},
		{Result: load.Result{Requests: 10, QPS: 300, P50: 3 * time.Millisecond, P99: 8 * time.Millisecond, Errors: 2}, CPUPerReq: 40 * time.Microsecond, PeakKB: 4096},
		{Result: load.Result{Requests: 10, QPS: 200, P50: 2 * time.Millisecond, P99: 6 * time.Millisecond}, CPUPerReq: 30 * time.Microsecond, PeakKB: 3072},
		{Err: errors.New("wrk died")},
	}}
	st, ok, why := Summarize(s)
	want := Stats{QPS: 200, P50: 2, P99: 6, CPU: 30, RSS: 3, Spread: 1, Errors: 2, N: 3}
	if !ok || st != want || len(why) != 1 || why[0] != "run 4: wrk died" {
		t.Errorf("got %+v %v %q; want %+v and run 4's error", st, ok, why, want)
	}
	if _, ok, why := Summarize(&Series{Failed: "failed to start: boom"}); ok || len(why) != 1 || why[0] != "failed to start: boom" {
		t.Errorf("failed series: got ok=%v why=%q", ok, why)
	}
	if _, ok, why := Summarize(&Series{Runs: []Run{{Result: load.Result{QPS: 0}}}}); ok || len(why) != 1 || why[0] != "run 1: no request completed" {
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
