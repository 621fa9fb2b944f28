package engine

import (
	"sync"
	"time"

	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/rpc"
	"github.com/straitgw/strait/upstream"
)

// relayHighWater bounds the bytes queued toward one side before the other
// side's receive window stops being returned: backpressure, not buffering.
const relayHighWater = 256 << 10

// exchange is a started request, as its front end sees it.
type exchange interface {
	// cancel: the client went away; the upstream stream is reset.
	cancel()
	// drained: the client took queued response bytes.
	drained()
	// expire ends the exchange at once with st (a drain's deadline).
	expire(st rpc.Status)
}

// leg is the upstream half of an exchange: the stream to the upstream,
// its deadline, and the response credit withheld while the client lags.
// call (REST) and relay (gRPC, gRPC-Web) embed it. mu guards the whole
// exchange and is held across h2 calls: h2 never runs a callback inside
// the call that raised it (h2/events.go), so nothing re-enters.
type leg struct {
	e        *Engine
	snap     *snapshot
	down     downstream
	mu       sync.Mutex
	up       *h2.Stream
	timer    *time.Timer
	deadline time.Time // zero: none
	owed     int       // response bytes taken while the client lagged
	done     bool      // the client's response has ended
}

// open opens the upstream stream and arms the deadline; onTimeout runs
// when it passes. With a batch, the upstream connection is corked in it.
func (l *leg) open(b *upstream.Batch, p *upstream.Pool, fields []h2.Field, end bool,
	h h2.StreamHandler, d time.Duration, onTimeout func()) error {
	if p == nil {
		return upstream.ErrNoEndpoint
	}
	s, err := openShim(b, p, &upstream.Request{Fields: fields, End: end, Handler: h})
	if err != nil {
		return err
	}
	l.up = s
	l.e.metrics.upstreamStreams.Add(1)
	if d > 0 {
		l.deadline = time.Now().Add(d)
		l.timer = time.AfterFunc(d, onTimeout)
	}
	return nil
}

// openShim is a stopgap until the engine parks a request on ErrPending:
// it waits for the pool's Wake on the caller's goroutine, as the old
// pool's synchronous dial did (a dial or a lookup ends within the dial
// timeout). The fields stay valid: the caller has not returned.
func openShim(b *upstream.Batch, p *upstream.Pool, r *upstream.Request) (*h2.Stream, error) {
	for range 8 {
		wake := make(chan struct{}, 1)
		r.Wake = func() { wake <- struct{}{} }
		s, _, err := p.Open(b, r)
		if err != upstream.ErrPending {
			return s, err
		}
		select {
		case <-wake:
		case <-time.After(30 * time.Second):
			return nil, err
		}
	}
	return nil, upstream.ErrPending
}

// upClosed records that the upstream stream is gone.
func (l *leg) upClosed() {
	if l.up != nil {
		l.up = nil
		l.e.metrics.upstreamStreams.Add(-1)
	}
}

func (l *leg) stopTimer() {
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
}

// credit returns n response bytes taken from s to its window, or owes
// them while relayHighWater or more wait for the client: the upstream then
// stops sending, and what the gateway holds stays bounded.
func (l *leg) credit(s *h2.Stream, n int) {
	if !l.done && l.down.backlog() >= relayHighWater {
		l.owed += n
		return
	}
	s.Consume(n)
}

// repay returns the credit withheld once the client has caught up.
func (l *leg) repay() {
	if l.owed > 0 && l.up != nil && l.down.backlog() < relayHighWater {
		n := l.owed
		l.owed = 0
		l.up.Consume(n)
	}
}

// corkDown joins the client connection to the batch of the upstream
// worker a callback of up runs on.
func (l *leg) corkDown(up *h2.Stream) {
	if b := upstream.BatchOf(up); b != nil && !l.done {
		l.down.cork(b)
	}
}

// resetUp cancels the upstream stream.
func (l *leg) resetUp() {
	if l.up != nil {
		l.up.Reset(h2.ErrCodeCancel)
	}
}

// timerBatch corks the connections a timer callback writes to, so its
// writes leave in one flush per connection and the callbacks they raise
// are delivered when the batch ends (after the leg's lock is released).
func (l *leg) timerBatch(b *upstream.Batch) {
	if l.up != nil {
		b.Cork(l.up.Conn())
	}
	if !l.done {
		l.down.cork(b)
	}
}
