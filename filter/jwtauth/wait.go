package jwtauth

import (
	"sync"
	"time"

	"github.com/straitgw/strait/filter"
)

// waitKeys suspends r until ru's keys are fetched (the first set, or one
// that may hold the token's unknown kid), for at most f.wait. tok is the
// request's own copy. Without a fetch to wait for, it answers at once.
func (f *Filter) waitKeys(ru *rule, tok string, mask uint64, r filter.Request, resume func(filter.Result)) filter.Result {
	w := &waiter{f: f, tok: tok, mask: mask, r: r, resume: resume}
	w.mu.Lock() // the timer and the fetch may fire before this returns
	defer w.mu.Unlock()
	if !ru.keys.await(w.finish, true) {
		// No fetch will come; the set may have changed meanwhile.
		v, _, err := f.verify(tok, mask, f.now())
		if err != nil {
			return rejection(err)
		}
		f.remember(v, tok).apply(r)
		return filter.Continue
	}
	w.timer = time.AfterFunc(f.wait, w.finish)
	return filter.Suspend
}

// waiter is a request suspended until keys arrive or f.wait passes.
type waiter struct {
	f      *Filter
	tok    string
	mask   uint64
	r      filter.Request
	resume func(filter.Result)
	mu     sync.Mutex
	timer  *time.Timer
	done   bool
}

// finish verifies the token again with the keys now in hand and resumes
// the request, once (the fetch's end or the timer, whichever is first).
func (w *waiter) finish() {
	w.mu.Lock()
	if w.done {
		w.mu.Unlock()
		return
	}
	w.done = true
	if w.timer != nil {
		w.timer.Stop()
	}
	w.mu.Unlock()
	v, _, err := w.f.verify(w.tok, w.mask, w.f.now())
	if err != nil {
		w.resume(rejection(err))
		return
	}
	v.tok = w.tok
	w.f.cache.add(v)
	v.apply(w.r)
	w.resume(filter.Continue)
}
