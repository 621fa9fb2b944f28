package engine

import (
	"strconv"
	"sync"
	"time"

	"github.com/straitgw/strait/h2"
)

// relayHighWater bounds the bytes queued toward one side before the other
// side's receive window stops being returned: backpressure, not buffering.
const relayHighWater = 256 << 10

// relay couples a downstream gRPC stream with an upstream one. Messages are
// not decoded: HEADERS, DATA and trailers pass through, with flow control
// linked so a slow reader on either side slows the writer on the other.
// One value handles both streams; s == r.down tells which side spoke.
type relay struct {
	e     *Engine
	down  *h2.Stream
	mu    sync.Mutex
	up    *h2.Stream
	timer *time.Timer
	ended bool // downstream response finished (trailers sent or reset)
	sent  bool // downstream response headers sent
	owedD int  // downstream bytes received, window not yet returned
	owedU int  // upstream bytes received, window not yet returned
}

func startRelay(e *Engine, snap *snapshot, down *h2.Stream, fields []h2.Field, path string, end bool) h2.StreamHandler {
	r := &relay{e: e, down: down}
	svc, ok := serviceOf(path)
	if !ok {
		r.trailersOnly(12, "malformed gRPC path "+strconv.Quote(path))
		return r
	}
	p := snap.pool(svc)
	if p == nil {
		r.trailersOnly(14, "no upstream for "+string(svc))
		return r
	}
	var timeout string
	fs := make([]h2.Field, 0, len(fields)+1)
	for _, f := range fields {
		if f.Name == "grpc-timeout" {
			timeout = f.Value
		}
		if f.Name == "connection" || f.Name == "keep-alive" {
			continue
		}
		fs = append(fs, f)
	}
	d := snap.deadline(timeout)
	if timeout == "" {
		fs = appendTimeout(fs, d)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	up, err := p.Open(fs, end, r)
	if err != nil {
		r.trailersOnlyLocked(14, err.Error())
		return r
	}
	r.up = up
	e.metrics.upstreamStreams.Add(1)
	if d > 0 {
		r.timer = time.AfterFunc(d, r.onTimeout)
	}
	return r
}

func (r *relay) OnHeaders(s *h2.Stream, fields []h2.Field, end bool) {
	if s == r.down { // request trailers: forward
		r.mu.Lock()
		up := r.up
		r.mu.Unlock()
		if up != nil {
			_ = up.WriteHeaders(fields, end)
		}
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return
	}
	r.sent = true
	if end {
		r.endLocked()
		r.e.metrics.countStatus(statusOf(fields))
	}
	_ = r.down.WriteHeaders(fields, end)
}

func (r *relay) OnData(s *h2.Stream, p []byte, end bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	other := r.up
	if s != r.down {
		other = r.down
		if r.ended {
			s.Consume(len(p))
			return
		}
	}
	if other == nil {
		s.Consume(len(p))
		return
	}
	_ = other.WriteData(p, end)
	if other.Buffered() < relayHighWater {
		s.Consume(len(p))
		return
	}
	if s == r.down {
		r.owedD += len(p)
	} else {
		r.owedU += len(p)
	}
}

// OnDrain returns withheld window once the far side has taken the bytes.
func (r *relay) OnDrain(s *h2.Stream, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s == r.down && r.up != nil && r.owedU > 0 && s.Buffered() < relayHighWater {
		r.up.Consume(r.owedU)
		r.owedU = 0
	}
	if s != r.down && r.owedD > 0 && s.Buffered() < relayHighWater {
		r.down.Consume(r.owedD)
		r.owedD = 0
	}
}

func (r *relay) OnClose(s *h2.Stream, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s == r.down {
		if err != nil && r.up != nil {
			r.up.Reset(h2.ErrCodeCancel)
		}
		r.stopTimer()
		return
	}
	r.e.metrics.upstreamStreams.Add(-1)
	if err != nil && !r.ended {
		r.failLocked(14, "upstream: "+errText(err))
	}
}

func (r *relay) onTimeout() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return
	}
	if r.up != nil {
		r.up.Reset(h2.ErrCodeCancel)
	}
	r.failLocked(4, "deadline exceeded")
}

// failLocked ends the downstream response with a gateway status: trailers
// if headers went out, a trailers-only response otherwise.
func (r *relay) failLocked(code uint32, msg string) {
	if r.sent {
		r.endLocked()
		_ = r.down.WriteHeaders(statusFields(nil, code, msg), true)
		r.e.metrics.countStatus(code)
		return
	}
	r.trailersOnlyLocked(code, msg)
}

func (r *relay) trailersOnly(code uint32, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.trailersOnlyLocked(code, msg)
}

func (r *relay) trailersOnlyLocked(code uint32, msg string) {
	r.sent = true
	r.endLocked()
	r.e.metrics.countStatus(code)
	fs := []h2.Field{{Name: ":status", Value: "200"}, {Name: "content-type", Value: "application/grpc"}}
	_ = r.down.WriteHeaders(statusFields(fs, code, msg), true)
}

func (r *relay) endLocked() {
	r.ended = true
	r.stopTimer()
}

func (r *relay) stopTimer() {
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
}

func statusFields(fs []h2.Field, code uint32, msg string) []h2.Field {
	fs = append(fs, h2.Field{Name: "grpc-status", Value: strconv.Itoa(int(code))})
	if msg != "" {
		fs = append(fs, h2.Field{Name: "grpc-message", Value: encodeGRPCMessage(msg)})
	}
	return fs
}

func statusOf(fs []h2.Field) uint32 {
	for _, f := range fs {
		if f.Name == "grpc-status" {
			n, _ := strconv.Atoi(f.Value)
			return uint32(n)
		}
	}
	return 2
}
