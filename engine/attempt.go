package engine

import (
	"errors"
	"time"

	"github.com/straitgw/strait/h2"
	"github.com/straitgw/strait/rpc"
	"github.com/straitgw/strait/upstream"
)

// attempts is what a leg keeps of its request so that one the backend
// provably never processed goes to another endpoint instead of failing
// (the lifecycle contract, under the defaults): the upstream HEADERS
// (owned: the front end's views die when start returns), and the body
// sent so far while it stays under retryBuffer. Provably never processed:
// Open failed (nothing was sent), the wait for a connection ended, the
// upstream refused the stream (REFUSED_STREAM), or a GOAWAY named a last
// stream below it. While no stream is open, body also holds the bytes
// the next attempt is to send (hold). Guarded by leg.mu.
type attempts struct {
	pool     *upstream.Pool
	ep       *upstream.Endpoint // the current attempt's endpoint
	exclude  *upstream.Endpoint // the last one that failed it
	fields   []h2.Field
	arena    []byte // holds the strings of fields
	body     []byte // the request bytes sent so far, while keep, and those held
	complete bool   // the client's request has ended: an attempt ends it too
	keep     bool   // body holds every byte sent: a resend is possible
	waiting  bool   // parked on the pool (ErrPending) until wake
	waitT    *time.Timer
	answered bool // response headers arrived: this attempt is final
	tries    int
	onSent   func()       // runs under mu once a stream is open and the body written
	policy   *retryPolicy // the service's retry policy, or nil (retry.go)
	ptries   int          // retries the policy made
	restart  func()       // forgets a response before the policy resends
}

const (
	// retryBuffer bounds the request bytes kept for a resend.
	retryBuffer = 64 << 10
	// maxTries bounds the attempts of one request.
	maxTries = 3
)

// prepare keeps what the attempts send. fields may be views (they are
// copied); body is the request's first bytes, copied unless owned says
// the front end keeps it for as long as the exchange lasts.
func (l *leg) prepare(fields []h2.Field, end bool, body []byte, owned bool) {
	l.own(fields)
	l.complete, l.keep = end, true
	if owned {
		l.body = body
	} else if len(body) > 0 {
		l.body = append([]byte(nil), body...)
	}
}

// begin makes the first attempt on p.
func (l *leg) begin(b *upstream.Batch, p *upstream.Pool) error {
	l.pool = p
	if l.pool == nil {
		return upstream.ErrNoEndpoint
	}
	l.brk = l.snap.breakers[p]
	return l.send(b)
}

// own copies fields and their strings into the leg (one allocation for
// the strings).
func (l *leg) own(fields []h2.Field) {
	n := 0
	for _, f := range fields {
		n += len(f.Name) + len(f.Value)
	}
	l.arena = make([]byte, 0, n)
	l.fields = make([]h2.Field, len(fields))
	for i, f := range fields {
		l.fields[i] = h2.Field{Name: l.str(f.Name), Value: l.str(f.Value), Sensitive: f.Sensitive}
	}
}

// str appends s to the arena and views it. The arena never grows past
// its first allocation (own sized it), so earlier views stay put, and
// nothing writes into it again: the views are as immutable as strings.
func (l *leg) str(s string) string {
	start := len(l.arena)
	l.arena = append(l.arena, s...)
	return bstr(l.arena[start:len(l.arena):len(l.arena)])
}

// send opens a stream for the next attempt and writes the body kept. A
// connection still being dialed parks the leg until wake; an Open that
// fails sent nothing, so another endpoint is tried at once. The circuit
// breaker's bounds are checked first (breaker.go).
func (l *leg) send(b *upstream.Batch) error {
	for {
		if !l.hold(overRequests) {
			return l.overloaded(overRequests)
		}
		l.traceAttempt()
		s, ep, err := l.pool.Open(b, &upstream.Request{Fields: l.fields, End: l.complete && len(l.body) == 0,
			Handler: l.self, Wake: l.wake, Exclude: l.exclude})
		if err == nil {
			return l.opened(s, ep)
		}
		l.release(overRequests)
		switch {
		case errors.Is(err, upstream.ErrPending):
			return l.park()
		case !l.mayRetry():
			return err
		}
		l.traceEnd(rpc.CodeUnavailable, "OPEN_FAILED")
		l.exclude = ep
	}
}

func (l *leg) opened(s *h2.Stream, ep *upstream.Endpoint) error {
	l.up, l.ep, l.answered = s, ep, false
	l.waiting = false // a wake still due finds nothing to do
	l.traceReached(ep)
	l.e.metrics.upstreamStreams.Add(1)
	l.stopWait()
	if len(l.body) > 0 {
		if err := s.WriteData(l.body, l.complete); err != nil {
			return err
		}
	}
	if !l.keep {
		l.body = nil
	}
	if l.onSent != nil {
		l.onSent()
	}
	return nil
}

// park waits for the pool's wake, for up to timeouts.connect, unless
// the circuit breaker's max_pending are waiting already.
func (l *leg) park() error {
	if !l.hold(overPending) {
		return l.overloaded(overPending)
	}
	l.waiting = true
	if l.waitT == nil {
		l.waitT = time.AfterFunc(l.snap.cfg.Timeouts.Connect, l.waitExpired)
	}
	return nil
}

func (l *leg) stopWait() {
	if l.waitT != nil {
		l.waitT.Stop()
		l.waitT = nil
	}
}

// wake runs on a pool goroutine when a parked attempt may open now.
func (l *leg) wake() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.waiting || l.done {
		return
	}
	l.waiting = false
	l.release(overPending)
	if err := l.send(nil); err != nil {
		l.giveUp(unavailable(err))
	}
}

func (l *leg) waitExpired() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waitT = nil
	if l.waiting && !l.done {
		l.waiting = false
		l.release(overPending)
		l.giveUp(rpc.New(rpc.CodeUnavailable, "no upstream connection within "+l.snap.cfg.Timeouts.Connect.String()))
	}
}

// retry sends the request again after its stream ended with err before
// any response, when err proves the backend never processed it. It
// reports whether a new attempt is under way (or waiting).
func (l *leg) retry(err error) bool {
	if l.answered || l.done || !l.keep || !unprocessed(err) || !l.mayRetry() {
		return false
	}
	l.traceEnd(rpc.CodeUnavailable, unprocessedWhy(err))
	l.upClosed()
	l.exclude = l.ep
	var ge h2.GoAwayError
	if errors.As(err, &ge) && ge.Code == h2.ErrCodeNo {
		l.ep = nil // a graceful drain says nothing against the endpoint
	} else {
		l.report(rpc.CodeUnavailable) // one that refuses everything is ejected
	}
	l.e.metrics.retries.Add(1)
	if err := l.send(nil); err != nil {
		l.giveUp(unavailable(err))
	}
	return true
}

// unprocessed reports a stream error that proves the upstream never
// processed the request (RFC 9113 §8.7: REFUSED_STREAM, and streams above
// a GOAWAY's last stream id).
func unprocessed(err error) bool {
	var ge h2.GoAwayError
	if errors.As(err, &ge) {
		return true
	}
	var se h2.StreamError
	return errors.As(err, &se) && se.Code == h2.ErrCodeRefusedStream
}

// mayRetry counts an attempt if the request has attempts left and the
// engine's retry budget allows one (gRPC's retry throttling: tokens drain
// by one a retry and refill by a tenth an answered request, and retries
// stop below half the bucket, so a failing fleet is not hit twice as hard).
func (l *leg) mayRetry() bool {
	if l.tries+1 >= maxTries || l.e.retryTokens.Load() <= retryTokensMax/2 || !l.hold(overRetries) {
		return false
	}
	l.tries++
	l.e.retryTokens.Add(-retryTokenCost)
	return true
}

// Retry throttling, in thousandths of a token.
const (
	retryTokensMax   = 10_000
	retryTokenCost   = 1_000
	retryTokenRefill = 100
)

// answer records the upstream's response headers: this attempt is final,
// and the body kept for a resend is dropped.
func (l *leg) answer() {
	if l.answered {
		return
	}
	l.answered = true
	if l.policy == nil { // a policy may resend after an answer
		l.keep, l.body = false, nil
	}
	if t := l.e.retryTokens.Add(retryTokenRefill); t > retryTokensMax {
		l.e.retryTokens.Add(retryTokensMax - t)
	}
}

// report tells the endpoint how the exchange went, for outlier ejection:
// an answer that is not UNAVAILABLE is a success; no answer (a lost
// connection, a reset, the deadline) or UNAVAILABLE a failure.
func (l *leg) report(code rpc.Code) {
	l.traceEnd(code, "")
	o := l.down.obs()
	o.setCode(code)
	o.retries = l.tries + l.ptries
	if l.ep != nil {
		o.upstream = l.ep.Addr()
		l.ep.Report(l.answered && code != rpc.CodeUnavailable)
		l.ep = nil
	}
}

// leave records the endpoint and retries of an exchange whose client
// left, without a report: the client's leaving says nothing of the
// endpoint.
func (l *leg) leave() {
	o := l.down.obs()
	o.retries = l.tries + l.ptries
	if l.ep != nil {
		o.upstream = l.ep.Addr()
		l.ep = nil
	}
}

// keepBody keeps request bytes sent while a resend is still possible,
// and notes whether they end the request (a resend must end it too).
func (l *leg) keepBody(p []byte, end bool) {
	l.complete = l.complete || end
	if !l.keep {
		return
	}
	if len(l.body)+len(p) > retryBuffer {
		l.keep, l.body = false, nil
		return
	}
	l.body = append(l.body, p...)
}

// holdBody keeps request bytes that arrive while the leg has no upstream
// stream but will get one: parked on the pool, a filter suspended, or a
// retry policy's backoff. The next attempt sends them after the body sent
// before (opened). Nothing else bounds them: the caller withholds the
// client's window for them until they are sent (relay.bodySent), so they
// stay within it. A leg without a stream always has keep set: only a
// first attempt or a resend leaves it so, and a resend needs keep.
func (l *leg) holdBody(p []byte, end bool) {
	l.body = append(l.body, p...)
	l.complete = l.complete || end
}
