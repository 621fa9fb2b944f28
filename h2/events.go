package h2

// Event delivery contract: a callback (OnClose, OnDrain) raised by a call
// into h2 is never run on that caller's stack. It is queued on the
// connection and delivered, one deliverer at a time and in order, after
// the call has returned: by Serve once the frame being handled is done,
// by the Uncork that ends the caller's Cork, or, when neither is due, by
// a short-lived goroutine. So a handler may hold its own lock across any
// h2 call (Write*, Reset, Consume, OpenStream) without deadlocking on its
// own callback. OnHeaders and OnData come from Serve only, never from a
// caller's call.

// event is a queued callback.
type event struct {
	s   *Stream
	h   StreamHandler
	err error
	n   int // > 0: OnDrain(n); else OnClose(err)
}

// events is a queue of callbacks.
type events []event

// queueClose queues OnClose, under the lock.
func (c *Conn) queueClose(s *Stream, h StreamHandler, err error) {
	c.pending = append(c.pending, event{s: s, h: h, err: err})
	c.hasEvents.Store(true)
}

// queueDrain queues OnDrain for handlers that want it, under the lock.
func (c *Conn) queueDrain(s *Stream, h StreamHandler, n int) {
	if _, ok := h.(Drainer); ok && n > 0 {
		c.pending = append(c.pending, event{s: s, h: h, n: n})
		c.hasEvents.Store(true)
	}
}

// run delivers the events in order and empties the list.
func (ev *events) run() {
	for i := range *ev {
		e := &(*ev)[i]
		if e.n > 0 {
			e.h.(Drainer).OnDrain(e.s, e.n)
		} else {
			e.h.OnClose(e.s, e.err)
		}
		*e = event{}
	}
	*ev = (*ev)[:0]
}

// release ends a call made by an h2 user: it unlocks, and when the call
// queued events that no Serve or Uncork will deliver, it starts a
// goroutine for them (timers and goroutines that write without a Cork).
func (c *Conn) release() {
	spawn := len(c.pending) > 0 && !c.serving && c.corked == 0 && !c.delivering
	if spawn {
		c.delivering = true
	}
	c.mu.Unlock()
	if spawn {
		go c.deliverLoop()
	}
}

// deliver runs the queued events unless another deliverer is at work (it
// will run them). Call it with no lock held.
func (c *Conn) deliver() {
	if !c.hasEvents.Load() { // the common case costs no lock
		return
	}
	c.mu.Lock()
	if c.delivering || len(c.pending) == 0 {
		c.mu.Unlock()
		return
	}
	c.delivering = true
	c.mu.Unlock()
	c.deliverLoop()
}

// deliverLoop runs events until the queue is empty; the caller has set
// delivering. A handler that panics gives the role up first, so that
// events keep flowing for the other streams.
func (c *Conn) deliverLoop() {
	defer func() {
		if v := recover(); v != nil {
			c.mu.Lock()
			c.delivering = false
			c.mu.Unlock()
			panic(v)
		}
	}()
	for {
		c.mu.Lock()
		if len(c.pending) == 0 {
			c.delivering = false
			c.mu.Unlock()
			return
		}
		batch := c.pending
		c.pending = c.spare[:0]
		c.hasEvents.Store(false)
		c.mu.Unlock()
		batch.run()
		c.mu.Lock()
		c.spare = batch[:0]
		c.mu.Unlock()
	}
}
