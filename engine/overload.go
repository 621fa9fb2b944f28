package engine

import (
	"slices"
	"sync/atomic"
	"time"

	"github.com/straitgw/strait/h2"
)

// Overload protection: slow readers must not take memory from everyone
// else (Envoy's per-connection buffer limit and overload manager are the
// anchors). Response bytes held for clients are bounded three ways:
//   - per stream: an exchange stops returning upstream credit once
//     relayHighWater waits for its client (leg.credit), so the upstream can
//     send at most one stream window more (upstreamStreamWindow);
//   - per connection: h2's MaxConnBuffer; a stream that would pass it is
//     reset, the well-behaved streams of other connections untouched;
//   - gateway-wide: limits.max_buffered_bytes. Past it every exchange whose
//     client lags stops returning credit at once (their windows stay
//     closed); past it for a moment, the connections holding the most get
//     their stalled streams reset (HTTP/1.1 ones closed) until the total is
//     back under the budget.

// held counts the response bytes a client connection holds (h2 queues and
// the socket writer's pending bytes), and the gateway's total.
type held struct{ n atomic.Int64 }

func (e *Engine) addHeld(c *held, n int) {
	c.n.Add(int64(n))
	e.metrics.held.Add(int64(n))
}

// overBudget reports whether held bytes passed limits.max_buffered_bytes.
func (e *Engine) overBudget() bool {
	return e.metrics.held.Load() > int64(e.snap.Load().cfg.Limits.MaxBufferedBytes)
}

// shedEvery is how often the budget is checked; stallAge how long a stream
// must have made no progress to be shed.
const (
	shedEvery = 200 * time.Millisecond
	stallAge  = 500 * time.Millisecond
)

// watchBudget sheds the worst offenders while the gateway is over budget.
// It runs until the engine closes.
func (e *Engine) watchBudget() {
	t := time.NewTicker(shedEvery)
	defer t.Stop()
	for {
		select {
		case <-e.done:
			return
		case <-t.C:
			if e.overBudget() {
				e.shed()
			}
		}
	}
}

// shed resets the stalled streams of the connections holding the most,
// worst first, until the total is back under the budget.
func (e *Engine) shed() {
	cs := e.liveConns()
	slices.SortFunc(cs, func(a, b *conn) int { return int(b.held.n.Load() - a.held.n.Load()) })
	for _, c := range cs {
		if !e.overBudget() || c.held.n.Load() == 0 {
			return
		}
		e.metrics.shed.Add(int64(c.shed()))
	}
}

// shed drops what a lagging client connection holds: an h2 connection's
// streams that made no progress for stallAge (RST_STREAM
// ENHANCE_YOUR_CALM), an HTTP/1.1 connection whole (its one response).
func (c *conn) shed() int {
	h1, h2c := c.protocol()
	switch {
	case h2c != nil:
		return h2c.h2.ResetStalled(stallAge, h2.ErrCodeEnhanceYourCalm)
	case h1 != nil && h1.w.backlog() > 0:
		_ = c.nc.Close()
		return 1
	}
	return 0
}
