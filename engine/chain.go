package engine

import (
	"strings"

	"github.com/straitgw/strait/filter"
	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/rpc"
	"github.com/straitgw/strait/transcode"
	"github.com/straitgw/strait/upstream"
)

// The filter chain (package filter) runs in start, once the route is
// known and the upstream HEADERS are built, before the first attempt. A
// filter may add metadata, pick another upstream, answer the request
// itself, or suspend it; a suspended exchange owns what it will send
// (attempt.go's arena) and goes on from resume, on the resuming
// goroutine. Finishers hear how the request ended.

// chainFor returns the filters of a route (nil: none apply).
func (s *snapshot) chainFor(rt *transcode.Route, svc, rpcPath string) filter.Chain {
	if len(s.filters) == 0 {
		return nil
	}
	if rt != nil {
		if c, ok := s.chains[rt]; ok {
			return c
		}
	}
	_, method, _ := strings.Cut(strings.TrimPrefix(rpcPath, "/"), "/")
	return filter.For(s.filters, filter.Route{Service: svc, Method: method})
}

// compileChains builds every route's chain once.
func (s *snapshot) compileChains() {
	if len(s.filters) == 0 {
		return
	}
	s.chains = map[*transcode.Route]filter.Chain{}
	for _, rt := range s.router.All() {
		_, method, _ := strings.Cut(strings.TrimPrefix(rt.GRPCPath, "/"), "/")
		r := filter.Route{Service: string(rt.Service), Method: method}
		if !rt.Default {
			r.HTTPMethod, r.Template = rt.HTTPMethod, rt.Template
		}
		s.chains[rt] = filter.For(s.filters, r)
	}
}

// filtering is a leg's progress through its chain.
type filtering struct {
	chain  filter.Chain
	next   int
	freq   *filterRequest
	passed int    // filters whose OnRequest let the request through
	resume func() // goes on once the chain is through (under mu)
}

// filter runs the chain from where it stopped. It reports true when the
// request may go on now; false when it was answered (rejected) or waits
// for a suspended filter, which resumes it.
func (l *leg) filter() bool {
	for l.next < len(l.chain) {
		f := l.chain[l.next]
		l.next++
		res := f.OnRequest(l.freq, l.resumeFilter)
		switch res.Verdict {
		case filter.VerdictContinue:
			l.passed = l.next
		case filter.VerdictReject:
			l.reject(res)
			return false
		case filter.VerdictSuspend:
			l.passed = l.next
			l.freq.own()
			return false
		}
	}
	return true
}

// resumeFilter is the callback a suspended filter calls, once.
func (l *leg) resumeFilter(res filter.Result) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return
	}
	if res.Verdict == filter.VerdictReject {
		l.reject(res)
		return
	}
	if l.filter() {
		l.resume()
	}
}

// reject answers the request with the filter's status and headers.
func (l *leg) reject(res filter.Result) {
	fs := l.extra
	for _, h := range res.Headers {
		fs = append(fs, h2.Field{Name: strings.ToLower(h.Name), Value: h.Value})
	}
	l.down.setExtra(fs)
	l.e.metrics.localReplies.Add(1)
	l.giveUp(res.Status)
}

// filtersDone tells the filters that let the request through how it
// ended, once.
func (l *leg) filtersDone(st rpc.Status) {
	if l.freq == nil || l.passed == 0 {
		return
	}
	d := filter.Done{Status: st, Upstream: l.snap.nameOf(l.pool)}
	for _, f := range l.chain[:l.passed] {
		if fin, ok := f.(filter.Finisher); ok {
			fin.OnDone(l.freq, d)
		}
	}
	l.passed = 0
}

// upstreamOf is the pool a request goes to: the route's, unless a filter
// picked another.
func (s *snapshot) upstreamOf(l *leg, svc string) *upstream.Pool {
	if l.freq != nil && l.freq.upstream != "" {
		return s.byName[l.freq.upstream]
	}
	return s.pool(protoreflectName(svc))
}

// startChain runs the route's filters and, when they let the request
// through at once, reports true: the caller then calls proceed. A
// rejected request is answered; a suspended one proceeds from resume.
func (l *leg) startChain(s *snapshot, req *request, rt *transcode.Route, svc, rpcPath string) bool {
	l.chain = s.chainFor(rt, svc, rpcPath)
	if len(l.chain) == 0 {
		return true
	}
	l.freq = newFilterRequest(req, svc, rpcPath)
	l.resume = func() {
		if err := l.proceed(nil, s, svc); err != nil {
			l.giveUp(unavailable(err))
		}
	}
	ok := l.filter()
	if !l.done && l.passed > 0 {
		l.freq.own() // finishers hear of its end after start returns
	}
	return ok
}

// proceed sends the first attempt once the filters let it through.
func (l *leg) proceed(b *upstream.Batch, s *snapshot, svc string) error {
	if l.freq != nil {
		l.fields = append(l.fields, l.freq.added...)
	}
	return l.begin(b, s.upstreamOf(l, svc))
}
