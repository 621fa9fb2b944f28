package upstream

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/straitgw/strait/h2"
)

// healthPath is the standard gRPC health service (grpc.health.v1).
const healthPath = "/grpc.health.v1.Health/Check"

// StartHealthChecks probes every endpoint, those DNS adds later too, each
// interval with a health Check for the empty service name. An endpoint
// that fails is skipped by Open while another is usable; if every
// endpoint fails, Open still tries them (better a likely failure than a
// certain one). A probe waits for a ready connection like any request,
// within its timeout.
func (p *Pool) StartHealthChecks(interval, timeout time.Duration) {
	if interval <= 0 {
		return
	}
	p.mu.Lock()
	p.hcInterval, p.hcTimeout = interval, timeout
	p.mu.Unlock()
	for _, e := range p.endpoints() {
		e.scheduleProbe(interval, timeout)
	}
}

// probeNew starts probing an endpoint DNS added, if probes are on.
func (p *Pool) probeNew(e *Endpoint) {
	p.mu.Lock()
	interval, timeout := p.hcInterval, p.hcTimeout
	p.mu.Unlock()
	if interval > 0 {
		e.scheduleProbe(interval, timeout)
	}
}

// scheduleProbe runs the next probe of e after interval; each round arms
// a timer of its own, so no timer is shared with its own callback.
func (e *Endpoint) scheduleProbe(interval, timeout time.Duration) {
	time.AfterFunc(interval, func() {
		if e.pool.closed.Load() || e.isRemoved() {
			return
		}
		e.probe(timeout, func() { e.scheduleProbe(interval, timeout) })
	})
}

// probe runs one Check on e and records the outcome, then calls next.
func (e *Endpoint) probe(timeout time.Duration, next func()) {
	h := &healthCall{e: e, next: next}
	h.req = Request{Fields: healthFields(e.authority), Handler: h, Wake: h.open}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.timer = time.AfterFunc(timeout, h.expire)
	h.openLocked()
}

func healthFields(authority string) []h2.Field {
	return []h2.Field{
		{Name: ":method", Value: "POST"}, {Name: ":scheme", Value: "http"},
		{Name: ":path", Value: healthPath}, {Name: ":authority", Value: authority},
		{Name: "content-type", Value: "application/grpc"}, {Name: "te", Value: "trailers"},
	}
}

// healthCall is one probe: the Open request and the stream's handler.
type healthCall struct {
	e       *Endpoint
	next    func()
	req     Request
	mu      sync.Mutex
	timer   *time.Timer
	s       *h2.Stream
	serving bool
	code    string
	ended   bool
}

// open is the request's Wake: a connection is ready or its dial failed.
func (h *healthCall) open() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.openLocked()
}

func (h *healthCall) openLocked() {
	if h.ended {
		return
	}
	s, _, err := h.e.pool.open(nil, &h.req, h.e)
	switch {
	case err == ErrPending:
		return
	case err != nil:
		h.doneLocked(false)
		return
	}
	h.s = s
	_ = s.WriteData([]byte{0, 0, 0, 0, 0}, true) // HealthCheckRequest{}: empty
}

func (h *healthCall) expire() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.s != nil {
		h.s.Reset(h2.ErrCodeCancel)
	}
	h.doneLocked(false)
}

func (h *healthCall) OnHeaders(_ *h2.Stream, fields []h2.Field, end bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, f := range fields {
		if f.Name == "grpc-status" {
			h.code = f.Value
		}
	}
	if end {
		h.doneLocked(h.code == "0" && h.serving)
	}
}

// OnData reads the HealthCheckResponse. The response is a few bytes and
// arrives in one frame.
func (h *healthCall) OnData(s *h2.Stream, p []byte, end bool) {
	h.mu.Lock()
	h.serving = servingStatus(p)
	h.mu.Unlock()
	s.Consume(len(p))
}

// servingStatus reports whether a gRPC message (5-byte prefix, then a
// HealthCheckResponse) says SERVING: field 1, varint 1, first.
func servingStatus(p []byte) bool {
	if len(p) < 5 {
		return false
	}
	msg := p[5:]
	if n := binary.BigEndian.Uint32(p[1:5]); uint64(n) < uint64(len(msg)) {
		msg = msg[:n]
	}
	return len(msg) >= 2 && msg[0] == 0x08 && msg[1] == 1
}

func (h *healthCall) OnClose(_ *h2.Stream, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.doneLocked(err == nil && h.code == "0" && h.serving)
}

func (h *healthCall) doneLocked(ok bool) {
	if h.ended {
		return
	}
	h.ended = true
	if h.timer != nil {
		h.timer.Stop()
	}
	h.e.unhealthy.Store(!ok)
	h.e.probes.Add(1)
	h.next()
}
