package engine

import (
	"fmt"
	"io"
	"sync/atomic"
)

// metrics are plain atomic counters, rendered in the Prometheus text format
// by the admin server.
type metrics struct {
	connsOpen       atomic.Int64
	requests        atomic.Int64
	localReplies    atomic.Int64
	upstreamStreams atomic.Int64
	status          [17]atomic.Int64 // by gRPC code
}

func (m *metrics) countStatus(code uint32) {
	if code > 16 {
		code = 2
	}
	m.status[code].Add(1)
}

var codeNames = [17]string{"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
	"NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
	"ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"}

func (m *metrics) write(w io.Writer) {
	fmt.Fprintf(w, "# TYPE strait_connections_open gauge\nstrait_connections_open %d\n", m.connsOpen.Load())
	fmt.Fprintf(w, "# TYPE strait_requests_total counter\nstrait_requests_total %d\n", m.requests.Load())
	fmt.Fprintf(w, "# TYPE strait_local_replies_total counter\nstrait_local_replies_total %d\n", m.localReplies.Load())
	fmt.Fprintf(w, "# TYPE strait_upstream_streams_open gauge\nstrait_upstream_streams_open %d\n", m.upstreamStreams.Load())
	fmt.Fprintf(w, "# TYPE strait_grpc_status_total counter\n")
	for i := range m.status {
		if n := m.status[i].Load(); n > 0 {
			fmt.Fprintf(w, "strait_grpc_status_total{code=%q} %d\n", codeNames[i], n)
		}
	}
}
