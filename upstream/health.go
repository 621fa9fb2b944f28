package upstream

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/straitgw/strait/h2"
)

// healthPath is the standard gRPC health service (grpc.health.v1).
const healthPath = "/grpc.health.v1.Health/Check"

// StartHealthChecks probes every endpoint each interval with a health
// Check for the empty service name. An endpoint that fails is skipped by
// Open until a probe passes again; if every endpoint fails, Open still
// tries them all (better a likely failure than a certain one).
func (p *Pool) StartHealthChecks(interval, timeout time.Duration) {
	if interval <= 0 {
		return
	}
	for _, e := range p.endpoints {
		e.scheduleProbe(interval, timeout)
	}
}

// scheduleProbe runs the next probe of e after interval; each round arms
// a timer of its own, so no timer is shared with its own callback.
func (e *endpoint) scheduleProbe(interval, timeout time.Duration) {
	time.AfterFunc(interval, func() {
		if e.pool.closed.Load() {
			return
		}
		e.probe(timeout, func() {
			if !e.pool.closed.Load() {
				e.scheduleProbe(interval, timeout)
			}
		})
	})
}

// probe runs one Check on e and records the outcome, then calls next.
func (e *endpoint) probe(timeout time.Duration, next func()) {
	h := &healthCall{e: e, next: next}
	fields := []h2.Field{
		{Name: ":method", Value: "POST"}, {Name: ":scheme", Value: "http"},
		{Name: ":path", Value: healthPath}, {Name: ":authority", Value: e.addr},
		{Name: "content-type", Value: "application/grpc"}, {Name: "te", Value: "trailers"},
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s, err := e.open(nil, fields, false, h)
	if err != nil {
		h.doneLocked(false)
		return
	}
	h.timer = time.AfterFunc(timeout, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		s.Reset(h2.ErrCodeCancel)
		h.doneLocked(false)
	})
	_ = s.WriteData([]byte{0, 0, 0, 0, 0}, true) // HealthCheckRequest{}: empty
}

// healthCall is the handler of one probe stream.
type healthCall struct {
	e       *endpoint
	next    func()
	mu      sync.Mutex
	timer   *time.Timer
	serving bool
	code    string
	ended   bool
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

// OnData reads HealthCheckResponse.status (field 1, enum): SERVING is 1.
// The response is a few bytes and arrives in one frame.
func (h *healthCall) OnData(s *h2.Stream, p []byte, end bool) {
	if len(p) >= 5 {
		n := int(binary.BigEndian.Uint32(p[1:5]))
		msg := p[5:min(len(p), 5+n)]
		h.mu.Lock()
		h.serving = len(msg) >= 2 && msg[0] == 0x08 && msg[1] == 1
		h.mu.Unlock()
	}
	s.Consume(len(p))
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
