// Package filter is strait's request filter chain: small steps that run
// before a request goes upstream (rate limits, authentication, routing
// choices) and learn how it ended. Filters run on the event loop: they
// must not block. One that has to wait (an external check) suspends the
// request and resumes it from a callback, on any goroutine.
//
// Filters are configured globally and per route (a service, a method, or
// an HTTP rule: see Selector); a Go program embedding strait adds its own
// through engine.Config.Filters. filter imports rpc only; the built-in
// filters live in packages below it.
package filter

import "github.com/straitgw/strait/rpc"

// Protocol is how a client called.
type Protocol uint8

const (
	ProtocolREST    Protocol = iota // JSON over HTTP/1.1 or HTTP/2
	ProtocolGRPC                    // native gRPC
	ProtocolGRPCWeb                 // gRPC-Web, binary or text
)

var protocolNames = [...]string{"rest", "grpc", "grpc-web"}

func (p Protocol) String() string {
	if int(p) < len(protocolNames) {
		return protocolNames[p]
	}
	return "unknown"
}

// Field is one header field.
type Field struct{ Name, Value string }

// Request is a request as filters see it. Strings it returns are valid
// only during the call that received it: a filter that keeps one (in a
// map, for a later callback) copies it.
type Request interface {
	Protocol() Protocol
	Method() string   // the HTTP method
	Path() string     // without the query
	Service() string  // "pkg.v1.Service"
	RPC() string      // "/pkg.v1.Service/Method"
	ClientIP() string // the peer's address
	RequestID() string
	// Header returns the first value of a request header (lower-case
	// name), "" when absent.
	Header(name string) string
	// Identity is the verified client identity of the connection (mTLS),
	// "" when none.
	Identity() string
	// SetMetadata adds a field to the upstream request's metadata (both
	// strings are copied). A filter uses it to forward what it verified.
	SetMetadata(name, value string)
	// SetUpstream sends the request to another configured upstream.
	SetUpstream(name string)
	// Value and SetValue carry per-request values between filters (a
	// verified token's claims for a rate limit's key, say).
	Value(key any) any
	SetValue(key, value any)
}

// Verdict is what OnRequest decides.
type Verdict uint8

const (
	VerdictContinue Verdict = iota // on to the next filter, then upstream
	VerdictReject                  // answer with Result.Status at once
	VerdictSuspend                 // wait: the filter calls resume
)

// Result is a filter's decision: go on, answer the request with a status
// (and headers, such as Retry-After), or wait for resume.
type Result struct {
	Verdict Verdict
	Status  rpc.Status
	Headers []Field
}

// Continue lets the request go on.
var Continue = Result{}

// Reject answers the request with st, in its protocol: a JSON error with
// st's HTTP status for REST, a trailers-only status for gRPC and
// gRPC-Web; headers go with it.
func Reject(st rpc.Status, headers ...Field) Result {
	return Result{Verdict: VerdictReject, Status: st, Headers: headers}
}

// Suspend tells the chain that the filter will call resume, once.
var Suspend = Result{Verdict: VerdictSuspend}

// Filter is one step of the chain. OnRequest runs on the event loop,
// before the request goes upstream, and must not block; returning
// Suspend, it calls resume later with Continue or a rejection, from any
// goroutine.
type Filter interface {
	OnRequest(r Request, resume func(Result)) Result
}

// Done is how a request ended, for filters that keep state per request
// (a circuit breaker's count) or report (logs, metrics).
type Done struct {
	Status   rpc.Status
	Upstream string // the configured upstream it went to, "" if none
}

// Finisher is implemented by filters that learn how a request they let
// through ended. OnDone runs exactly once per OnRequest that did not
// reject, on any goroutine, and must not block.
type Finisher interface {
	OnDone(r Request, d Done)
}

// Func adapts a function to Filter.
type Func func(r Request, resume func(Result)) Result

func (f Func) OnRequest(r Request, resume func(Result)) Result { return f(r, resume) }
