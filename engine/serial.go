package engine

import (
	"sync"

	"github.com/straitgw/strait/h2"
)

// serial runs one operation at a time on a call or relay. Operations call
// into h2, and h2 may call back (OnClose, OnDrain, a downstream reset
// cancelling the call) on the same goroutine before it returns: those
// callbacks must not wait for the operation they are part of. So the lock
// held across h2 calls (op) is never taken by a callback that can arrive
// that way; such a callback queues itself while an operation runs, and the
// running operation plays the queue before it leaves.
type serial struct {
	op      sync.Mutex // held for a whole operation
	mu      sync.Mutex // guards busy and pending
	busy    bool
	pending []event
}

// event is a callback that arrived while an operation was running.
type event struct {
	kind eventKind
	s    *h2.Stream
	err  error
	n    int
}

type eventKind uint8

const (
	evClose  eventKind = iota // OnClose(s, err)
	evDrain                   // OnDrain(s, n)
	evCancel                  // the client went away
)

// eventRunner plays a queued event; it runs inside an operation.
type eventRunner interface{ runEvent(ev event) }

func (x *serial) enter() {
	x.op.Lock()
	x.mu.Lock()
	x.busy = true
	x.mu.Unlock()
}

// enterOrQueue starts an operation, or queues ev for the running one and
// reports false.
func (x *serial) enterOrQueue(ev event) bool {
	x.mu.Lock()
	if x.busy {
		x.pending = append(x.pending, ev)
		x.mu.Unlock()
		return false
	}
	x.mu.Unlock()
	x.enter()
	return true
}

// exit plays the queued events, then ends the operation.
func (x *serial) exit(r eventRunner) {
	for {
		x.mu.Lock()
		if len(x.pending) == 0 {
			x.busy = false
			x.mu.Unlock()
			x.op.Unlock()
			return
		}
		ev := x.pending[0]
		x.pending = x.pending[1:]
		x.mu.Unlock()
		r.runEvent(ev)
	}
}
