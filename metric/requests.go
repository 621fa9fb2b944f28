// Package metric keeps strait's request and upstream metrics with the
// Prometheus client library and writes them in its text format. Label
// values come from the descriptors and fixed vocabularies only, so the
// series are bounded; each method's label children are cached (Route),
// so counting a request looks nothing up and allocates nothing. metric
// imports rpc, filter and upstream, never engine.
package metric

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/rpc"
)

// Buckets are the request duration histogram's upper bounds, in seconds:
// from 100µs (the gateway's own time on a local answer) through the
// milliseconds of a typical upstream call to 10s; longer calls, streams
// mostly, fall in +Inf.
var Buckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Unknown is the service and method label of a request that matched no
// method of the descriptors (a path no route serves, a CORS preflight).
const Unknown = "unknown"

const numProtocols = 3 // filter.ProtocolREST, ProtocolGRPC, ProtocolGRPCWeb

// Code is a request's code label: its gRPC status, or for a response
// without one the class of its HTTP status.
type Code uint8

const numCodes = int(rpc.NumCodes) + 5 // the gRPC codes, then 1xx..5xx

var codeNames = func() (n [numCodes]string) {
	for c := range rpc.Code(rpc.NumCodes) {
		n[c] = c.String()
	}
	copy(n[rpc.NumCodes:], []string{"1xx", "2xx", "3xx", "4xx", "5xx"})
	return n
}()

// CodeOf is the label of a response: the gRPC code name when it carried
// a status (codes past 16 count as UNKNOWN, as clients read them), else
// its HTTP status class ("2xx" for a CORS preflight).
func CodeOf(hasCode bool, c rpc.Code, httpStatus int) Code {
	if hasCode {
		if c >= rpc.NumCodes {
			c = rpc.CodeUnknown
		}
		return Code(c)
	}
	class := min(max(httpStatus/100, 1), 5)
	return Code(int(rpc.NumCodes) + class - 1)
}

func (c Code) String() string { return codeNames[c] }

// Requests holds the request series: strait_requests_total,
// strait_request_duration_seconds and the byte counters, labelled
// service, method, protocol (and code).
type Requests struct {
	total   *prometheus.CounterVec
	seconds *prometheus.HistogramVec
	in, out *prometheus.CounterVec

	mu     sync.Mutex
	routes map[[2]string]*Route
}

// NewRequests registers the request series with reg.
func NewRequests(reg prometheus.Registerer) *Requests {
	labels := []string{"service", "method", "protocol", "code"}
	m := &Requests{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "strait_requests_total",
			Help: "Requests answered (or left by their client), by method, protocol and gRPC code (HTTP status class without one)."}, labels),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "strait_request_duration_seconds",
			Help: "From a request's head read to its response's last byte written.", Buckets: Buckets}, labels),
		in: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "strait_request_bytes_total",
			Help: "Request body bytes received from clients."}, labels[:3]),
		out: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "strait_response_bytes_total",
			Help: "Response body bytes sent to clients."}, labels[:3]),
		routes: map[[2]string]*Route{},
	}
	reg.MustRegister(m.total, m.seconds, m.in, m.out)
	return m
}

// Route returns the cache of one method's label children, the same for
// the same names (a reload keeps counting on them). It is for building
// a snapshot's tables, not for the hot path.
func (m *Requests) Route(service, method string) *Route {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{service, method}
	r := m.routes[k]
	if r == nil {
		r = &Route{m: m, service: service, method: method}
		m.routes[k] = r
	}
	return r
}

// Route counts the requests of one method. Its children are made on
// first use (a label set that never occurs costs no series) and then
// read with one atomic load each.
type Route struct {
	m               *Requests
	service, method string
	cells           [numProtocols][numCodes]atomic.Pointer[cell]
	bytes           [numProtocols]atomic.Pointer[byteCell]
}

type cell struct {
	total   prometheus.Counter
	seconds prometheus.Observer
}

type byteCell struct{ in, out prometheus.Counter }

// Observe counts one finished request.
func (r *Route) Observe(p filter.Protocol, c Code, d time.Duration, in, out int64) {
	if int(p) >= numProtocols {
		p = filter.ProtocolREST
	}
	ce := r.cells[p][c].Load()
	if ce == nil {
		ce = r.newCell(p, c)
	}
	ce.total.Inc()
	ce.seconds.Observe(d.Seconds())
	b := r.bytes[p].Load()
	if b == nil {
		b = r.newBytes(p)
	}
	if in > 0 {
		b.in.Add(float64(in))
	}
	if out > 0 {
		b.out.Add(float64(out))
	}
}

// newCell makes a label set's children; two racing callers get the same
// children from the vectors, so either store is right.
func (r *Route) newCell(p filter.Protocol, c Code) *cell {
	lv := []string{r.service, r.method, p.String(), c.String()}
	ce := &cell{total: r.m.total.WithLabelValues(lv...), seconds: r.m.seconds.WithLabelValues(lv...)}
	r.cells[p][c].Store(ce)
	return ce
}

func (r *Route) newBytes(p filter.Protocol) *byteCell {
	lv := []string{r.service, r.method, p.String()}
	b := &byteCell{in: r.m.in.WithLabelValues(lv...), out: r.m.out.WithLabelValues(lv...)}
	r.bytes[p].Store(b)
	return b
}
