package engine

import (
	"fmt"
	"io"
	"sync/atomic"
)

// metrics are plain atomic counters, rendered in the Prometheus text format
// by the admin server. The request series, labelled by method, protocol
// and code, and the upstream endpoints' are telemetry's (telemetry.go).
type metrics struct {
	connsOpen       atomic.Int64
	localReplies    atomic.Int64
	upstreamStreams atomic.Int64
	panics          atomic.Int64
	reloads         atomic.Int64
	held            atomic.Int64 // response bytes held for clients (overload.go)
	shed            atomic.Int64 // streams reset (connections closed) over budget
	retries         atomic.Int64
	reloadsRejected atomic.Int64
}

func (m *metrics) write(w io.Writer) {
	fmt.Fprintf(w, "# TYPE strait_connections_open gauge\nstrait_connections_open %d\n", m.connsOpen.Load())
	fmt.Fprintf(w, "# TYPE strait_local_replies_total counter\nstrait_local_replies_total %d\n", m.localReplies.Load())
	fmt.Fprintf(w, "# TYPE strait_upstream_streams_open gauge\nstrait_upstream_streams_open %d\n", m.upstreamStreams.Load())
	fmt.Fprintf(w, "# HELP strait_panics_total Panics recovered while serving a connection (each logged with its stack).\n")
	fmt.Fprintf(w, "# TYPE strait_panics_total counter\nstrait_panics_total %d\n", m.panics.Load())
	fmt.Fprintf(w, "# TYPE strait_buffered_bytes gauge\nstrait_buffered_bytes %d\n", m.held.Load())
	fmt.Fprintf(w, "# TYPE strait_overload_resets_total counter\nstrait_overload_resets_total %d\n", m.shed.Load())
	fmt.Fprintf(w, "# TYPE strait_upstream_retries_total counter\nstrait_upstream_retries_total %d\n", m.retries.Load())
	fmt.Fprintf(w, "# TYPE strait_reloads_total counter\nstrait_reloads_total %d\n", m.reloads.Load())
	fmt.Fprintf(w, "# TYPE strait_reloads_rejected_total counter\nstrait_reloads_rejected_total %d\n", m.reloadsRejected.Load())
}

// writeTraffic writes the series of the rate limits and circuit breakers
// in force (ratelimit.go, breaker.go): their counters live with them.
func (e *Engine) writeTraffic(w io.Writer) {
	s := e.snap.Load()
	s.writeRateLimits(w)
	s.writeBreakers(w)
}
