package tracing

import (
	"context"
	"net"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/straitgw/strait/rpc"
)

// Attribute keys: OpenTelemetry's semantic conventions for RPC and HTTP,
// and strait's own.
const (
	keyRPCSystem   = "rpc.system"
	keyRPCService  = "rpc.service"
	keyRPCMethod   = "rpc.method"
	keyGRPCStatus  = "rpc.grpc.status_code"
	keyHTTPMethod  = "http.request.method"
	keyHTTPRoute   = "http.route"
	keyURLPath     = "url.path"
	keyHTTPStatus  = "http.response.status_code"
	keyReqSize     = "http.request.body.size"
	keyRespSize    = "http.response.body.size"
	keyServerAddr  = "server.address"
	keyServerPort  = "server.port"
	keyErrorType   = "error.type"
	keyProtocol    = "strait.protocol"
	keyRequestID   = "strait.request_id"
	keyRetry       = "strait.retry"
	rpcSystemValue = "grpc"
)

// spans makes r's server span and its attempts' client spans, with the
// recorded ids and timestamps.
func (t *Tracer) spans(r *Request) {
	ctx := context.Background()
	if r.Parent != (SpanID{}) {
		ts, _ := trace.ParseTraceState(r.State) // a bad tracestate loses itself, not the trace
		ctx = trace.ContextWithRemoteSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: trace.TraceID(r.Trace), SpanID: trace.SpanID(r.Parent),
			TraceFlags: trace.FlagsSampled, TraceState: ts, Remote: true}))
	}
	name := r.name()
	ctx, srv := t.tracer.Start(withIDs(ctx, r.Trace, r.Span), name, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithTimestamp(r.Start), trace.WithAttributes(r.serverAttributes()...))
	for i := range r.Attempts {
		a := &r.Attempts[i]
		_, cs := t.tracer.Start(withIDs(ctx, r.Trace, a.Span), name, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithTimestamp(a.Start), trace.WithAttributes(r.clientAttributes(a, i)...))
		if a.Code != rpc.CodeOK {
			cs.SetStatus(codes.Error, a.Code.String())
		}
		cs.End(trace.WithTimestamp(a.End))
	}
	if r.serverError() {
		srv.SetStatus(codes.Error, r.Code.String())
	}
	srv.End(trace.WithTimestamp(r.End))
}

// name is the spans' name: the RPC, "pkg.v1.Service/Method", or the
// HTTP method when no route matched.
func (r *Request) name() string {
	if r.Service != "" {
		return r.Service + "/" + r.Method
	}
	return r.HTTPMethod
}

func (r *Request) rpcAttributes(kv []attribute.KeyValue) []attribute.KeyValue {
	if r.Service == "" {
		return kv
	}
	return append(kv, attribute.String(keyRPCSystem, rpcSystemValue),
		attribute.String(keyRPCService, r.Service), attribute.String(keyRPCMethod, r.Method))
}

func (r *Request) serverAttributes() []attribute.KeyValue {
	kv := r.rpcAttributes(make([]attribute.KeyValue, 0, 14))
	kv = append(kv, attribute.String(keyProtocol, r.Protocol), attribute.String(keyHTTPMethod, r.HTTPMethod),
		attribute.String(keyURLPath, r.Path), attribute.Int64(keyReqSize, r.In), attribute.Int64(keyRespSize, r.Out))
	if r.Route != "" {
		kv = append(kv, attribute.String(keyHTTPRoute, r.Route))
	}
	if r.Status != 0 {
		kv = append(kv, attribute.Int(keyHTTPStatus, r.Status))
	}
	if r.HasCode {
		kv = append(kv, attribute.Int(keyGRPCStatus, int(r.Code)))
	}
	if r.RequestID != "" {
		kv = append(kv, attribute.String(keyRequestID, r.RequestID))
	}
	return kv
}

func (r *Request) clientAttributes(a *Attempt, i int) []attribute.KeyValue {
	kv := r.rpcAttributes(make([]attribute.KeyValue, 0, 8))
	kv = append(kv, attribute.Int(keyRetry, i), attribute.Int(keyGRPCStatus, int(a.Code)))
	if host, port, err := net.SplitHostPort(a.Endpoint); err == nil {
		kv = append(kv, attribute.String(keyServerAddr, host))
		if p, err := strconv.Atoi(port); err == nil {
			kv = append(kv, attribute.Int(keyServerPort, p))
		}
	}
	if a.Error != "" {
		kv = append(kv, attribute.String(keyErrorType, a.Error))
	}
	return kv
}

// serverError reports a request the server failed (semantic conventions:
// HTTP 5xx, and the gRPC codes that are the server's fault); a client's
// error, such as NOT_FOUND or a 4xx, leaves the server span unset.
func (r *Request) serverError() bool {
	if r.Status >= 500 {
		return true
	}
	if !r.HasCode {
		return false
	}
	switch r.Code {
	case rpc.CodeUnknown, rpc.CodeDeadlineExceeded, rpc.CodeUnimplemented, rpc.CodeInternal,
		rpc.CodeUnavailable, rpc.CodeDataLoss:
		return true
	}
	return false
}

// presetIDs gives the SDK the ids the engine chose (they travel in
// traceparent headers before the spans exist), or random ones.
type presetIDs struct{}

type idsKey struct{}

type ids struct {
	trace TraceID
	span  SpanID
}

func withIDs(ctx context.Context, t TraceID, s SpanID) context.Context {
	return context.WithValue(ctx, idsKey{}, ids{t, s})
}

func (presetIDs) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	if v, ok := ctx.Value(idsKey{}).(ids); ok {
		return trace.TraceID(v.trace), trace.SpanID(v.span)
	}
	return trace.TraceID(randomTrace()), trace.SpanID(NewSpanID())
}

func (presetIDs) NewSpanID(ctx context.Context, _ trace.TraceID) trace.SpanID {
	if v, ok := ctx.Value(idsKey{}).(ids); ok {
		return trace.SpanID(v.span)
	}
	return trace.SpanID(NewSpanID())
}

func randomTrace() TraceID {
	t, _ := NewSampler(1).Sample(Parent{}, false)
	return t
}
