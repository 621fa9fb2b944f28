package engine

import (
	"io"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/straitgw/strait/accesslog"
	"github.com/straitgw/strait/metric"
	"github.com/straitgw/strait/transcode"
)

// telemetry is what the gateway reports of its traffic: the request and
// upstream metrics (package metric) and the access log (package
// accesslog), both fed by observers of finished requests (observe.go).
type telemetry struct {
	reg      *prometheus.Registry
	requests *metric.Requests
	unknown  *metric.Route // requests no method of the descriptors took

	// log is the access log while it is on; observers read it once per
	// request. file is the one accesslog.Log, once one was configured
	// (set once): a reload that turns the log off keeps it, its output
	// closed, so its counters and writer carry on if it is turned on
	// again.
	log     atomic.Pointer[accesslog.Log]
	file    atomic.Pointer[accesslog.Log]
	logPath string // file's path, "" while off; guarded by reloadMu
}

// initTelemetry registers the metrics and the observers that feed them.
func (e *Engine) initTelemetry() {
	t := &e.telemetry
	t.reg = prometheus.NewRegistry()
	t.requests = metric.NewRequests(t.reg)
	t.unknown = t.requests.Route(metric.Unknown, metric.Unknown)
	metric.RegisterUpstreams(t.reg, e.upstreamPools)
	t.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "strait_access_log_lines_total",
			Help: "Access log lines written."}, func() float64 { return float64(e.logCounts(true)) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "strait_access_log_dropped_total",
			Help: "Access log lines dropped: the queue was full (the output lagged) or a write failed."},
			func() float64 { return float64(e.logCounts(false)) }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	e.observers = append(e.observers, e.countRequest, e.logRequest)
}

// methodStats builds a snapshot's table of metric children, one per
// method of router, by Route.MethodIndex. A method keeps its children
// across reloads (metric.Requests.Route returns the same).
func (e *Engine) methodStats(router *transcode.Router) []*metric.Route {
	ms := router.Methods()
	out := make([]*metric.Route, len(ms))
	for i, md := range ms {
		out[i] = e.telemetry.requests.Route(string(md.Parent().FullName()), string(md.Name()))
	}
	return out
}

// methodStats returns the metric children of rt's method.
func (s *snapshot) methodStats(rt *transcode.Route) *metric.Route {
	if i := rt.MethodIndex; i < len(s.methods) {
		return s.methods[i]
	}
	return nil
}

// countRequest is the metrics observer: a few atomic adds on children
// cached per method, no lookup, no allocation.
func (e *Engine) countRequest(o *observation) {
	rt := o.stats
	if rt == nil {
		rt = e.telemetry.unknown
	}
	rt.Observe(o.proto, metric.CodeOf(o.hasCode, o.code, o.status), o.dur, o.in, o.out)
}

// logRequest is the access log observer: it copies the observation into
// the log's queue (or drops it when the queue is full) and returns.
func (e *Engine) logRequest(o *observation) {
	l := e.telemetry.log.Load()
	if l == nil {
		return
	}
	code := accesslog.NoGRPCStatus
	if o.hasCode {
		code = int(o.code)
	}
	l.Add(&accesslog.Entry{Time: o.start, Duration: o.dur, Protocol: o.proto.String(), Method: o.method,
		Path: o.path, Service: o.service, RPC: o.rpcMethod, Status: o.status, GRPC: code,
		BytesIn: o.in, BytesOut: o.out, Upstream: o.upstream, Retries: o.retries,
		RequestID: o.requestID, TraceID: o.traceID})
}

// logCounts is the access log's lines written (or dropped).
func (e *Engine) logCounts(written bool) uint64 {
	f := e.telemetry.file.Load()
	switch {
	case f == nil:
		return 0
	case written:
		return f.Written()
	}
	return f.Dropped()
}

// upstreamPools names the pools in force, for a scrape.
func (e *Engine) upstreamPools() []metric.Pool {
	s := e.snap.Load()
	ps := make([]metric.Pool, len(s.pools))
	for i, p := range s.pools {
		ps[i] = metric.Pool{Name: s.cfg.Upstreams[i].Name, Pool: p}
	}
	return ps
}

// writeMetrics writes the request, upstream, access log and runtime
// series after the engine's own counters (metrics.go).
func (e *Engine) writeMetrics(w io.Writer) {
	if err := metric.WriteText(w, e.telemetry.reg); err != nil {
		e.log.Warn("metrics", "err", err)
	}
}

// openAccessLog starts the access log of the first configuration.
func (e *Engine) openAccessLog(a AccessLogConfig) error {
	if !a.on() {
		return nil
	}
	l, err := accesslog.Open(a.Path, accesslog.Options{})
	if err != nil {
		return err
	}
	t := &e.telemetry
	t.file.Store(l)
	t.logPath = a.Path
	e.obsKeep.Store(true)
	t.log.Store(l)
	return nil
}

// reloadAccessLog applies a reload's access_log (under reloadMu): on,
// off, or another path. The writer switches outputs between two lines,
// so none is lost; requests that end while the log is being turned on
// may be logged without their path and request id.
func (e *Engine) reloadAccessLog(a AccessLogConfig) error {
	t := &e.telemetry
	f := t.file.Load()
	switch {
	case f == nil:
		return e.openAccessLog(a)
	case !a.on():
		t.log.Store(nil)
		e.obsKeep.Store(false)
		t.logPath = ""
		return f.Reopen("") // closes the file; lines still queued are written first
	case a.Path != t.logPath:
		if err := f.Reopen(a.Path); err != nil {
			return err
		}
		t.logPath = a.Path
	}
	e.obsKeep.Store(true)
	t.log.Store(f)
	return nil
}

// ReopenLogs reopens the access log file at its path: after a rotation
// moved it away, lines go to a new file there. SIGHUP calls it.
func (e *Engine) ReopenLogs() error {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	t := &e.telemetry
	if f := t.file.Load(); f != nil && t.logPath != "" {
		return f.Reopen(t.logPath)
	}
	return nil
}

// closeTelemetry writes the access log's last lines and closes it.
func (e *Engine) closeTelemetry() {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	if f := e.telemetry.file.Load(); f != nil {
		e.telemetry.log.Store(nil)
		if err := f.Close(); err != nil {
			e.log.Warn("access log", "err", err)
		}
	}
}
