package engine

import (
	"errors"
	"strconv"
	"time"

	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/transcode"
	"github.com/straitgw/strait/upstream"
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
	batch *upstream.Batch // the client connection's: use on its worker only
	serial
	up       *h2.Stream // guarded by serial.op, like everything below
	timer    *time.Timer
	deadline time.Time
	ended    bool // downstream response finished (trailers sent or reset)
	sent     bool // downstream response headers sent
	owedD    int  // downstream bytes received, window not yet returned
	owedU    int  // upstream bytes received, window not yet returned
}

func startRelay(e *Engine, snap *snapshot, b *upstream.Batch, down *h2.Stream, fields []h2.Field, path string, end bool) h2.StreamHandler {
	r := &relay{e: e, down: down, batch: b}
	r.enter()
	defer r.exit(r)
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
		fs = append(fs, f)
	}
	d := snap.deadline(timeout)
	if timeout == "" {
		fs = appendTimeout(fs, d)
	}
	up, err := p.Open(b, fs, end, r)
	if err != nil {
		r.trailersOnly(14, err.Error())
		return r
	}
	r.up = up
	e.metrics.upstreamStreams.Add(1)
	if d > 0 {
		r.deadline = time.Now().Add(d)
		r.timer = time.AfterFunc(d, r.onTimeout)
	}
	return r
}

func (r *relay) OnHeaders(s *h2.Stream, fields []h2.Field, end bool) {
	r.enter()
	defer r.exit(r)
	if s == r.down { // request trailers: forward
		if r.up != nil {
			r.batch.Cork(r.up.Conn())
			_ = r.up.WriteHeaders(fields, end)
		}
		return
	}
	r.corkClient(s)
	if r.ended {
		return
	}
	r.sent = true
	if end {
		r.end()
		r.e.metrics.countStatus(statusOf(fields))
	}
	_ = r.down.WriteHeaders(fields, end)
}

func (r *relay) OnData(s *h2.Stream, p []byte, end bool) {
	r.enter()
	defer r.exit(r)
	other := r.up
	if s != r.down {
		other = r.down
		if r.ended {
			other = nil
		}
	}
	if other == nil {
		s.Consume(len(p))
		return
	}
	if s == r.down {
		r.batch.Cork(other.Conn())
	} else {
		r.corkClient(s)
	}
	if err := other.WriteData(p, end); errors.Is(err, h2.ErrBufferFull) {
		// Only a peer that ignores our window gets here: end both sides.
		other.Reset(h2.ErrCodeFlowControl)
		s.Reset(h2.ErrCodeFlowControl)
		return
	}
	if other.Buffered() < relayHighWater {
		s.Consume(len(p))
	} else if s == r.down {
		r.owedD += len(p)
	} else {
		r.owedU += len(p)
	}
}

// OnDrain returns withheld window once the far side has taken the bytes.
func (r *relay) OnDrain(s *h2.Stream, n int) {
	if r.enterOrQueue(event{kind: evDrain, s: s, n: n}) {
		r.drained(s)
		r.exit(r)
	}
}

func (r *relay) drained(s *h2.Stream) {
	if s.Buffered() >= relayHighWater {
		return
	}
	if s == r.down && r.up != nil && r.owedU > 0 {
		n := r.owedU
		r.owedU = 0
		r.up.Consume(n)
	}
	if s != r.down && r.owedD > 0 {
		n := r.owedD
		r.owedD = 0
		r.down.Consume(n)
	}
}

func (r *relay) OnClose(s *h2.Stream, err error) {
	if r.enterOrQueue(event{kind: evClose, s: s, err: err}) {
		r.closed(s, err)
		r.exit(r)
	}
}

func (r *relay) runEvent(ev event) {
	switch ev.kind {
	case evClose:
		r.closed(ev.s, ev.err)
	case evDrain:
		r.drained(ev.s)
	}
}

func (r *relay) closed(s *h2.Stream, err error) {
	if s == r.down {
		r.stopTimer()
		r.ended = true
		if err != nil && r.up != nil {
			r.up.Reset(h2.ErrCodeCancel)
		}
		return
	}
	if r.up != nil {
		r.e.metrics.upstreamStreams.Add(-1)
	}
	if err != nil && !r.ended {
		r.fail(streamStatus(err, r.deadline))
	}
}

// corkClient joins the client connection to the batch of the upstream
// worker an upstream callback runs on.
func (r *relay) corkClient(up *h2.Stream) {
	if b := upstream.BatchOf(up); b != nil {
		b.Cork(r.down.Conn())
	}
}

func (r *relay) onTimeout() {
	r.enter()
	defer r.exit(r)
	if r.ended {
		return
	}
	r.fail(4, "deadline exceeded")
	if r.up != nil {
		r.up.Reset(h2.ErrCodeCancel)
	}
}

// fail ends the downstream response with a gateway status: trailers if
// headers went out, a trailers-only response otherwise.
func (r *relay) fail(code uint32, msg string) {
	if !r.sent {
		r.trailersOnly(code, msg)
		return
	}
	r.end()
	r.e.metrics.countStatus(code)
	_ = r.down.WriteHeaders(statusFields(nil, code, msg), true)
}

func (r *relay) trailersOnly(code uint32, msg string) {
	r.sent = true
	r.end()
	r.e.metrics.countStatus(code)
	fs := []h2.Field{{Name: ":status", Value: "200"}, {Name: "content-type", Value: "application/grpc"}}
	_ = r.down.WriteHeaders(statusFields(fs, code, msg), true)
}

func (r *relay) end() {
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
		fs = append(fs, h2.Field{Name: "grpc-message", Value: transcode.EncodeGRPCMessage(msg)})
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
