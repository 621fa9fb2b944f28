package h2

// event is a callback collected under the conn lock and run after it is
// released, so handlers may write to other connections freely.
type event struct {
	s   *Stream
	h   StreamHandler
	err error
	n   int // > 0: OnDrain(n); else OnClose(err)
}

// events is reused by its owner (the Serve goroutine keeps one); other
// goroutines use one on their stack.
type events []event

func (ev *events) close(s *Stream, h StreamHandler, err error) {
	*ev = append(*ev, event{s: s, h: h, err: err})
}

func (ev *events) drain(s *Stream, h StreamHandler, n int) {
	if _, ok := h.(Drainer); ok && n > 0 {
		*ev = append(*ev, event{s: s, h: h, n: n})
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
