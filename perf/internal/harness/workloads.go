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

// Tools a workload can be driven with. An h2c workload runs on h2gen (our
// generator, which varies headers per request) or, with fixed headers, on
// h2load: see Options.H2Tool.
const (
	ToolWrk    = "wrk"    // HTTP/1.1
	ToolH2load = "h2load" // prior-knowledge h2c, fixed headers
	ToolH2gen  = "h2gen"  // prior-knowledge h2c, varied or fixed headers
	ToolH2c    = "h2c"    // a workload's Tool: h2gen or h2load, chosen per run
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

	// For h2gen: what success is ("rest", "grpc", "grpc-web") and the
	// expected response messages (5-byte gRPC prefix each) of type Type,
	// checked on a sample of the responses.
	Mode   string
	Expect []byte
	Type   string
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
	web2Headers    = []string{"content-type", "application/grpc-web+proto", "x-grpc-web", "1"}
	recordType     = "bench.v1.Record"
)

func restUnary(name, title, tool, path string, m, want proto.Message) *Workload {
	body := payload.JSON(m)
	h2c := tool == ToolH2c
	return &Workload{Name: name, Title: title, Tool: tool, Method: "POST", Path: path, Body: body,
		Headers: jsonHeaders, Gateways: restGateways, Baseline: GRPCGateway,
		Mode: "rest", Expect: payload.Frame(want), Type: string(want.ProtoReflect().Descriptor().FullName()),
		Check: func(ctx context.Context, base, _ string) error {
			return check.RESTUnary(ctx, check.Client(h2c), base+path, body, want)
		}}
}

// Workloads returns every workload, the headline first.
func Workloads() []*Workload {
	put := payload.PutRecord()
	recPath := "/v1/tenants/" + payload.Tenant + "/records"
	streamPath := recPath + "?count=" + strconv.Itoa(payload.StreamCount)
	grpc := func(name, title, method string, m proto.Message, want []byte, chk func(context.Context, string) error) *Workload {
		return &Workload{Name: name, Title: title, Tool: ToolH2c, Method: "POST", Path: "/bench.v1.Bench/" + method,
			Body: payload.Frame(m), Headers: grpcHeaders, Gateways: grpcGateways, Baseline: Vanguard,
			Mode: "grpc", Expect: want, Type: recordType,
			Check: func(ctx context.Context, _, addr string) error { return chk(ctx, addr) }}
	}
	var stream []byte
	for i := range payload.StreamCount {
		stream = append(stream, payload.Frame(payload.Record(i))...)
	}
	return []*Workload{
		restUnary("rest-1k-h1", "REST unary 1 KB, HTTP/1.1 (headline)", ToolWrk, recPath, put.Record, put.Record),
		restUnary("rest-small-h1", "REST unary 64 B, HTTP/1.1", ToolWrk, "/v1/ping", payload.Ping(), pingResponse()),
		restUnary("rest-large-h1", "REST unary 16 KB, HTTP/1.1", ToolWrk, "/v1/batches", payload.Batch(), payload.Batch()),
		restUnary("rest-1k-h2c", "REST unary 1 KB, h2c", ToolH2c, recPath, put.Record, put.Record),
		{Name: "rest-stream-h1", Title: "REST server streaming, 10 x 1 KB, HTTP/1.1", Tool: ToolWrk, Method: "GET", Path: streamPath,
			Gateways: streamGateways, Baseline: GRPCGateway,
			Check: func(ctx context.Context, base, _ string) error {
				return check.RESTStream(ctx, check.Client(false), base+streamPath)
			}},
		grpc("grpc-1k", "gRPC passthrough unary 1 KB", "PutRecord", put, payload.Frame(put.Record), check.GRPCUnary),
		grpc("grpc-stream", "gRPC server streaming, 10 x 1 KB", "ListRecords", payload.ListRecords(), stream, check.GRPCStream),
		{Name: "grpcweb-1k-h1", Title: "gRPC-Web unary 1 KB, HTTP/1.1", Tool: ToolWrk, Method: "POST", Path: "/bench.v1.Bench/PutRecord",
			Body: payload.Frame(put), Headers: webHeaders, Gateways: webGateways, Baseline: Vanguard,
			Mode: "grpc-web", Expect: payload.Frame(put.Record), Type: recordType,
			Check: func(ctx context.Context, base, _ string) error { return check.GRPCWeb(ctx, check.Client(false), base) }},
		{Name: "grpcweb-1k-h2c", Title: "gRPC-Web unary 1 KB, h2c", Tool: ToolH2c, Method: "POST", Path: "/bench.v1.Bench/PutRecord",
			Body: payload.Frame(put), Headers: web2Headers, Gateways: webGateways, Baseline: Vanguard,
			Mode: "grpc-web", Expect: payload.Frame(put.Record), Type: recordType,
			Check: func(ctx context.Context, base, _ string) error { return check.GRPCWeb(ctx, check.Client(true), base) }},
	}
}

func pingResponse() proto.Message {
	p := payload.Ping()
	return &benchv1.PingResponse{Id: p.Id, Name: p.Name, Status: p.Status, SentUnixNanos: p.SentUnixNanos}
}

// Plan is the list of cells a run measures, only those of the named
// workloads when names is not empty (a named workload the plan leaves out,
// such as grpcweb-1k-h2c in a quick run, is measured at 64 connections).
func Plan(quick bool, names []string) []Cell {
	var out []Cell
	for _, c := range plan(quick) {
		if len(names) == 0 || slices.Contains(names, c.W.Name) {
			out = append(out, c)
		}
	}
	for _, w := range Workloads() {
		if slices.Contains(names, w.Name) && !slices.ContainsFunc(out, func(c Cell) bool { return c.W.Name == w.Name }) {
			out = append(out, Cell{w, 64})
		}
	}
	return out
}

// WorkloadNames lists every workload's name, for flag help.
func WorkloadNames() []string {
	var out []string
	for _, w := range Workloads() {
		out = append(out, w.Name)
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
		return []Cell{{byName["rest-1k-h1"], 64}, {byName["rest-1k-h1"], 1000}, {byName["grpc-1k"], 64}, {byName["grpcweb-1k-h1"], 64}}
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
