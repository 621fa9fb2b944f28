package engine

import (
	"errors"
	"sync"
	"time"

	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/rpc"
	"github.com/straitgw/strait/upstream"
)

// relayHighWater bounds the bytes queued toward one side before the other
// side's receive window stops being returned: backpressure, not buffering.
const relayHighWater = 64 << 10

// exchange is a started request, as its front end sees it.
type exchange interface {
	// cancel: the client went away; the upstream stream is reset.
	cancel()
	// drained: the client took queued response bytes.
	drained()
	// expire ends the exchange at once with st (a drain's deadline).
	expire(st rpc.Status)
}

// leg is the upstream half of an exchange: the attempts to open the
// upstream stream (attempt.go), the stream, its deadline, and the response
// credit withheld while the client lags. call (REST) and relay (gRPC,
// gRPC-Web) embed it. mu guards the whole exchange and is held across h2
// and pool calls: neither runs a callback inside the call that raised it
// (h2/events.go, upstream.Request.Wake), so nothing re-enters.
type leg struct {
	e        *Engine
	snap     *snapshot
	down     downstream
	self     h2.StreamHandler // the exchange, as the upstream stream's handler
	giveUp   func(rpc.Status) // ends the exchange with a gateway status, under mu
	mu       sync.Mutex
	up       *h2.Stream
	timer    *time.Timer
	deadline time.Time // zero: none
	owed     int       // response bytes taken while the client lagged
	done     bool      // the client's response has ended
	// reassembling: a message split across frames is being gathered (a
	// call); over the gateway's budget it gets no more credit meanwhile.
	reassembling bool
	extra        []h2.Field // the response fields start set (setExtra), for a filter's rejection
	attempts
	filtering
	slots // what the leg holds of its upstream's circuit breaker
}

// arm starts the deadline; onTimeout runs when it passes.
func (l *leg) arm(d time.Duration, onTimeout func()) {
	if d > 0 {
		l.deadline = time.Now().Add(d)
		l.timer = time.AfterFunc(d, onTimeout)
	}
}

// upClosed records that the upstream stream is gone.
func (l *leg) upClosed() {
	if l.up != nil {
		l.up = nil
		l.e.metrics.upstreamStreams.Add(-1)
		l.release(overRequests)
	}
}

// stopTimer runs when the client's response ends (every path that sets
// done calls it): what the leg still holds of the circuit breaker, but
// its stream, goes back too.
func (l *leg) stopTimer() {
	l.release(overPending)
	l.release(overRetries)
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	l.stopWait()
}

// credit returns n response bytes taken from s to its window, or owes
// them while relayHighWater or more wait for the client, or any while the
// gateway is over its memory budget (overload.go): the upstream then
// stops sending, and what the gateway holds stays bounded.
func (l *leg) credit(s *h2.Stream, n int) {
	if bl := l.down.backlog(); !l.done && (bl >= relayHighWater || (bl > 0 || l.reassembling) && l.e.overBudget()) {
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

// resetUp cancels the upstream stream, or a wait for one.
func (l *leg) resetUp() {
	l.waiting = false
	l.release(overPending)
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

// unavailable is the status of a request no upstream took.
func unavailable(err error) rpc.Status {
	var oe *overloadError
	if errors.As(err, &oe) {
		return rpc.New(rpc.CodeUnavailable, oe.Error())
	}
	if errors.Is(err, upstream.ErrNoEndpoint) || errors.Is(err, upstream.ErrClosed) {
		return rpc.New(rpc.CodeUnavailable, "no upstream endpoint available")
	}
	return rpc.New(rpc.CodeUnavailable, "upstream: "+err.Error())
}
