package harness

import (
	"context"
	"slices"
	"strconv"

	benchv1 "github.com/straitgw/strait/perf/gen/benchv1"
	"github.com/straitgw/strait/perf/internal/check"
	"github.com/straitgw/strait/perf/internal/payload"
	"google.golang.org/protobuf/proto"
)

// Tools a workload can be driven with.
const (
	ToolWrk    = "wrk"    // HTTP/1.1
	ToolH2load = "h2load" // prior-knowledge h2c
)

// Workload is one kind of request, the tool that sends it, the gateways
// that can serve it, and the check that one answer is right.
type Workload struct {
	Name     string
	Title    string
	Tool     string
	Method   string
	Path     string
	Body     []byte
	Headers  []string
	Gateways []string
	Baseline string // ratios divide by this gateway's figures
	Check    func(ctx context.Context, base, addr string) error
}

// Cell is a workload at a connection count: one block of the table.
type Cell struct {
	W     *Workload
	Conns int
}

var (
	restGateways   = []string{Strait, GRPCGateway, Vanguard, NetHTTP}
	streamGateways = []string{Strait, GRPCGateway, NetHTTP} // vanguard streams REST only as HttpBody
	grpcGateways   = []string{Strait, Vanguard, Nginx, Direct}
	webGateways    = []string{Strait, Vanguard}
	jsonHeaders    = []string{"Content-Type", "application/json"}
	grpcHeaders    = []string{"content-type", "application/grpc", "te", "trailers"}
	webHeaders     = []string{"Content-Type", "application/grpc-web+proto", "X-Grpc-Web", "1"}
)

func restUnary(name, title, tool, path string, m, want proto.Message) *Workload {
	body := payload.JSON(m)
	h2c := tool == ToolH2load
	return &Workload{Name: name, Title: title, Tool: tool, Method: "POST", Path: path, Body: body,
		Headers: jsonHeaders, Gateways: restGateways, Baseline: GRPCGateway,
		Check: func(ctx context.Context, base, _ string) error {
			return check.RESTUnary(ctx, check.Client(h2c), base+path, body, want)
		}}
}

// Workloads returns every workload, the headline first.
func Workloads() []*Workload {
	put := payload.PutRecord()
	recPath := "/v1/tenants/" + payload.Tenant + "/records"
	streamPath := recPath + "?count=" + strconv.Itoa(payload.StreamCount)
	grpc := func(name, title, method string, m proto.Message, chk func(context.Context, string) error) *Workload {
		return &Workload{Name: name, Title: title, Tool: ToolH2load, Method: "POST", Path: "/bench.v1.Bench/" + method,
			Body: payload.Frame(m), Headers: grpcHeaders, Gateways: grpcGateways, Baseline: Vanguard,
			Check: func(ctx context.Context, _, addr string) error { return chk(ctx, addr) }}
	}
	return []*Workload{
		restUnary("rest-1k-h1", "REST unary 1 KB, HTTP/1.1 (headline)", ToolWrk, recPath, put.Record, put.Record),
		restUnary("rest-small-h1", "REST unary 64 B, HTTP/1.1", ToolWrk, "/v1/ping", payload.Ping(), pingResponse()),
		restUnary("rest-large-h1", "REST unary 16 KB, HTTP/1.1", ToolWrk, "/v1/batches", payload.Batch(), payload.Batch()),
		restUnary("rest-1k-h2c", "REST unary 1 KB, h2c", ToolH2load, recPath, put.Record, put.Record),
		{Name: "rest-stream-h1", Title: "REST server streaming, 10 x 1 KB, HTTP/1.1", Tool: ToolWrk, Method: "GET", Path: streamPath,
			Gateways: streamGateways, Baseline: GRPCGateway,
			Check: func(ctx context.Context, base, _ string) error {
				return check.RESTStream(ctx, check.Client(false), base+streamPath)
			}},
		grpc("grpc-1k", "gRPC passthrough unary 1 KB", "PutRecord", put, check.GRPCUnary),
		grpc("grpc-stream", "gRPC server streaming, 10 x 1 KB", "ListRecords", payload.ListRecords(), check.GRPCStream),
		{Name: "grpcweb-1k-h1", Title: "gRPC-Web unary 1 KB, HTTP/1.1", Tool: ToolWrk, Method: "POST", Path: "/bench.v1.Bench/PutRecord",
			Body: payload.Frame(put), Headers: webHeaders, Gateways: webGateways, Baseline: Vanguard,
			Check: func(ctx context.Context, base, _ string) error { return check.GRPCWeb(ctx, check.Client(false), base) }},
	}
}

func pingResponse() proto.Message {
	p := payload.Ping()
	return &benchv1.PingResponse{Id: p.Id, Name: p.Name, Status: p.Status, SentUnixNanos: p.SentUnixNanos}
}

// Plan is the list of cells a run measures, only those of the named
// workloads when names is not empty.
func Plan(quick bool, names []string) []Cell {
	var out []Cell
	for _, c := range plan(quick) {
		if len(names) == 0 || slices.Contains(names, c.W.Name) {
			out = append(out, c)
		}
	}
	return out
}

func plan(quick bool) []Cell {
	ws := Workloads()
	byName := map[string]*Workload{}
	for _, w := range ws {
		byName[w.Name] = w
	}
	if quick {
		return []Cell{{byName["rest-1k-h1"], 64}, {byName["rest-1k-h1"], 1000}, {byName["grpc-1k"], 64}}
	}
	var cells []Cell
	for _, w := range ws {
		cells = append(cells, Cell{w, 64})
	}
	for _, n := range []string{"rest-1k-h1", "rest-1k-h2c", "grpc-1k"} {
		cells = append(cells, Cell{byName[n], 1000})
	}
	return cells
}
