package e2e

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	pb "github.com/straitgw/strait/internal/echopb"
	"github.com/straitgw/strait/internal/testutil"
)

// lifeLoad is continuous load on the echo service through the gateway:
// REST over HTTP/1.1 (net/http) and h2c (x/net), and native gRPC
// (grpc-go), unary and small server streams, each call with its own
// x-req-id and random x-f- headers (names, values, repeats, -bin) from a
// logged seed, every byte of the answer checked. Bounded: maxLifeCalls a
// worker and maxLifeLoad in all.
type lifeLoad struct {
	start   time.Time
	stopc   chan struct{}
	wg      sync.WaitGroup
	closers []func()

	mu    sync.Mutex
	res   []lifeResult
	marks []lifeMark
	kills []time.Duration // when backends were killed (atDeath)
}

// lifeResult is one call: when it started (since the load's start), how
// long it took, what went wrong (nil: all checked and right).
type lifeResult struct {
	id       string
	p        protocol
	k        kind
	at, took time.Duration
	errs     []string
}

type lifeMark struct {
	name string
	at   time.Duration
}

const (
	maxLifeCalls = 20000
	maxLifeLoad  = 2 * time.Minute
	lifeTimeout  = 10 * time.Second // each call's deadline
)

// lifeWorker is one client of the load: a protocol, on connections it
// keeps or on a new connection for every call (fresh).
type lifeWorker struct {
	p     protocol
	fresh bool
}

// lifeWorkers are the load's clients, one goroutine each.
var lifeWorkers = []lifeWorker{{protoRESTH1, false}, {protoRESTH1, false}, {protoRESTH2, false}, {protoGRPC, false}, {protoGRPC, false}}

func startLifeLoad(t *testing.T, listen string, seed uint64) *lifeLoad {
	return startLifeLoadOf(t, listen, seed, lifeWorkers)
}

func startLifeLoadOf(t *testing.T, listen string, seed uint64, workers []lifeWorker) *lifeLoad {
	t.Helper()
	l := &lifeLoad{start: time.Now(), stopc: make(chan struct{}), marks: []lifeMark{{"start", 0}}}
	for w, lw := range workers {
		p := lw.p
		var call func(ctx context.Context, c *fcase) *outcome
		switch p {
		case protoRESTH1:
			tr := &http.Transport{MaxIdleConnsPerHost: 2, DisableCompression: true, DisableKeepAlives: lw.fresh}
			rc := &restClient{addr: listen, hc: &http.Client{Transport: tr}}
			call, l.closers = rc.call, append(l.closers, tr.CloseIdleConnections)
		case protoRESTH2:
			hc := testutil.H2CClient()
			hc.Timeout = 0
			rc := &restClient{addr: listen, hc: hc}
			call, l.closers = rc.call, append(l.closers, hc.CloseIdleConnections)
		case protoGRPC:
			if lw.fresh {
				call = func(ctx context.Context, c *fcase) *outcome {
					cc, err := dialGRPC(listen)
					if err != nil {
						return &outcome{err: err}
					}
					defer cc.Close()
					return grpcCall(ctx, cc, c)
				}
				break
			}
			cc, err := dialGRPC(listen)
			if err != nil {
				t.Fatal(err)
			}
			call = func(ctx context.Context, c *fcase) *outcome { return grpcCall(ctx, cc, c) }
			l.closers = append(l.closers, func() { cc.Close() })
		default:
			t.Fatalf("lifeLoad has no %s client", p)
		}
		g := gen{rand.New(rand.NewPCG(seed, uint64(w)))}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for n := 0; n < maxLifeCalls && time.Since(l.start) < maxLifeLoad; n++ {
				select {
				case <-l.stopc:
					return
				default:
				}
				l.one(g, fmt.Sprintf("%s-%d-%d", p, w, n), p, call)
			}
		}()
	}
	return l
}

func (l *lifeLoad) one(g gen, id string, p protocol, call func(context.Context, *fcase) *outcome) {
	c := g.lifeCase(id, p)
	at := time.Since(l.start)
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	o := call(ctx, c)
	cancel()
	r := lifeResult{id: id, p: p, k: c.k, at: at, took: time.Since(l.start) - at, errs: lifeCheck(c, o)}
	l.mu.Lock()
	l.res = append(l.res, r)
	l.mu.Unlock()
}

// lifeCase is a small call: unary, or a server stream of up to 3
// messages, with up to 2 KiB of random headers.
func (g gen) lifeCase(id string, p protocol) *fcase {
	r := g.r
	c := &fcase{id: id, p: p, k: kindUnary, timeout: lifeTimeout}
	if r.IntN(4) == 0 {
		c.k = kindServer
	}
	c.md = g.headers(p.h1(), 2<<10)
	m := &pb.EchoRequest{Payload: g.bytes(r.IntN(512)), Text: g.text(r.IntN(32)), Id: id, Seed: r.Uint64()}
	if c.k == kindServer {
		m.Count, m.Size = int32(r.IntN(4)), int32(r.IntN(2048))
	}
	c.reqs = []*pb.EchoRequest{m}
	return c
}

// lifeCheck is checker.check without the upstream record (the backends
// are other processes): status, messages, echoed metadata, foreign keys.
func lifeCheck(c *fcase, o *outcome) []string {
	k := checker{c: c}
	sent := c.sentMD()
	k.foreign("response header", o.hdr, sent, "")
	k.foreign("response trailer", o.trl, sent, "t-")
	wantMsgs, code, msg, details := c.expected()
	switch {
	case o.err != nil:
		k.addf("call error", "%v", o.err)
	case o.code != code || o.msg != msg:
		k.addf("status", "got %v %q; want %v %q", o.code, short(o.msg), code, short(msg))
	default:
		if !slices.EqualFunc(o.details, details, slices.Equal) {
			k.addf("details", "got %d details; want %d", len(o.details), len(details))
		}
		k.messages(o.msgs, wantMsgs)
		k.metadata("response header", o.hdr, sent, "")
		k.metadata("response trailer", o.trl, sent, "t-")
	}
	return k.errs
}

// killed records that a backend is being killed now.
func (l *lifeLoad) killed() {
	l.mu.Lock()
	l.kills = append(l.kills, time.Since(l.start))
	l.mu.Unlock()
}

// mark starts a phase of the test: results are reported by the phase
// in which they started.
func (l *lifeLoad) mark(name string) {
	l.mu.Lock()
	l.marks = append(l.marks, lifeMark{name, time.Since(l.start)})
	l.mu.Unlock()
}

// stop ends the load, waits for every call in flight, and closes the
// clients' connections.
func (l *lifeLoad) stop() {
	close(l.stopc)
	l.wg.Wait()
	for _, c := range l.closers {
		c()
	}
	l.mark("stopped")
}

// lifeCounts sums the results of one phase.
type lifeCounts struct {
	sent, ok, failedSeen, failedUnseen, slow int
	atDeath                                  int // in flight when a backend was killed (see atDeath)
	p50, p99, max                            time.Duration
	unseen                                   []lifeResult // failures no failed backend saw
}

// deathWindow bounds how long after a SIGKILL the gateway may still write
// a call onto the dead backend's connection before it sees it close.
const deathWindow = 50 * time.Millisecond

// atDeath reports a call that failed with the upstream connection lost
// while it was in flight at a kill: it was written before the gateway
// could see the backend die, so it may have reached the backend, and no
// HTTP/2 signal (no GOAWAY, no REFUSED_STREAM) proves it did not. The
// gateway cannot resend it safely; it is counted apart, not as a failure.
func atDeath(r lifeResult, kills []time.Duration) bool {
	if !slices.ContainsFunc(r.errs, func(e string) bool { return strings.Contains(e, "connection lost") }) {
		return false
	}
	for _, k := range kills {
		if r.at <= k+deathWindow && r.at+r.took >= k {
			return true
		}
	}
	return false
}

// slowCall is the latency past which a call is counted slow.
const slowCall = time.Second

func (c lifeCounts) String() string {
	return fmt.Sprintf("sent %d, ok %d, failed-seen %d, failed-unseen %d, in flight at a kill %d; latency p50 %v p99 %v max %v, %d over %v",
		c.sent, c.ok, c.failedSeen, c.failedUnseen, c.atDeath, c.p50.Round(time.Microsecond), c.p99.Round(time.Microsecond),
		c.max.Round(time.Microsecond), c.slow, slowCall)
}

func (l *lifeLoad) counts(from, to time.Duration, bs []*backend) lifeCounts {
	l.mu.Lock()
	defer l.mu.Unlock()
	var c lifeCounts
	var lat []time.Duration
	for _, r := range l.res {
		if r.at < from || r.at >= to {
			continue
		}
		c.sent++
		lat = append(lat, r.took)
		if r.took > slowCall {
			c.slow++
		}
		switch {
		case len(r.errs) == 0:
			c.ok++
		case excused(bs, r.id):
			c.failedSeen++
		case atDeath(r, l.kills):
			c.atDeath++
		default:
			c.failedUnseen++
			c.unseen = append(c.unseen, r)
		}
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		c.p50, c.p99, c.max = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
	}
	return c
}

// report logs every phase's counts (and the gateway's peak RSS in it,
// when rss is given) and fails the test for each call that failed
// although no backend the test killed or hung saw it. It returns the
// totals.
func (l *lifeLoad) report(t *testing.T, bs []*backend, rss *rssSampler) lifeCounts {
	t.Helper()
	l.mu.Lock()
	marks := slices.Clone(l.marks)
	l.mu.Unlock()
	for i, m := range marks[:len(marks)-1] {
		next := marks[i+1]
		mem := ""
		if rss != nil {
			if kb, _ := rss.peak(l.start.Add(m.at), l.start.Add(next.at)); kb > 0 {
				mem = fmt.Sprintf("; RSS peak %.1f MB", mb(kb))
			}
		}
		t.Logf("phase %-22s [%6.2fs, %6.2fs): %v%s", m.name, m.at.Seconds(), next.at.Seconds(), l.counts(m.at, next.at, bs), mem)
	}
	all := l.counts(0, maxLifeLoad+time.Minute, bs)
	t.Logf("all calls: %v", all)
	l.logSlow(t, marks)
	if all.failedUnseen > 0 {
		var b strings.Builder
		for i, r := range all.unseen {
			if i == 10 {
				fmt.Fprintf(&b, "\n  ... %d more", len(all.unseen)-10)
				break
			}
			fmt.Fprintf(&b, "\n  %s (%s/%s) at %.3fs (%s) took %v: %s", r.id, r.p, r.k, r.at.Seconds(), phaseOf(marks, r.at),
				r.took.Round(time.Millisecond), strings.Join(r.errs, "; "))
		}
		t.Errorf("%d of %d calls failed that no killed or hung backend saw (ok %d, failed-seen %d); by error:%s\nfirst:%s",
			all.failedUnseen, all.sent, all.ok, all.failedSeen, byError(all.unseen), b.String())
	}
	if all.ok == 0 {
		t.Errorf("no call succeeded")
	}
	return all
}

// logSlow names up to 10 calls that took over slowCall: which client,
// when, how long.
func (l *lifeLoad) logSlow(t *testing.T, marks []lifeMark) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.res {
		if r.took <= slowCall {
			continue
		}
		if n++; n <= 10 {
			t.Logf("slow: %s (%s/%s) at %.3fs (%s) took %v", r.id, r.p, r.k, r.at.Seconds(), phaseOf(marks, r.at), r.took.Round(time.Millisecond))
		}
	}
}

// slowerThan counts the calls that took over d.
func (l *lifeLoad) slowerThan(d time.Duration) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.res {
		if r.took > d {
			n++
		}
	}
	return n
}

// phaseOf names the phase at and how far into it.
func phaseOf(marks []lifeMark, at time.Duration) string {
	m := marks[0]
	for _, x := range marks {
		if x.at <= at {
			m = x
		}
	}
	return fmt.Sprintf("%s +%v", m.name, (at - m.at).Round(time.Millisecond))
}

// phaseCounts sums the calls started from the named mark (plus skip) to
// the next one.
func (l *lifeLoad) phaseCounts(name string, skip time.Duration, bs []*backend) lifeCounts {
	l.mu.Lock()
	from, to := time.Duration(-1), maxLifeLoad+time.Minute
	for i, m := range l.marks {
		if m.name == name {
			from = m.at + skip
			if i+1 < len(l.marks) {
				to = l.marks[i+1].at
			}
		}
	}
	l.mu.Unlock()
	if from < 0 {
		panic("no mark " + name)
	}
	return l.counts(from, to, bs)
}

// noSlowCalls fails the test if a call started in the named phase (after
// skip) took over slowCall: the gateway made it wait for a backend that
// had died or hung.
func (l *lifeLoad) noSlowCalls(t *testing.T, phase string, skip time.Duration, why string) {
	t.Helper()
	c := l.phaseCounts(phase, skip, nil)
	if c.slow > 0 {
		t.Errorf("%d of %d calls started in phase %q (from %v in) took over %v (max %v): %s",
			c.slow, c.sent, phase, skip, slowCall, c.max.Round(time.Millisecond), why)
	}
}

// byError counts failures by their first error, most frequent first.
func byError(rs []lifeResult) string {
	n := map[string]int{}
	for _, r := range rs {
		e := r.errs[0]
		if len(e) > 120 {
			e = e[:120] + "…"
		}
		n[e]++
	}
	keys := slices.Collect(maps.Keys(n))
	slices.SortFunc(keys, func(a, b string) int { return n[b] - n[a] })
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %5d × %s", n[k], k)
	}
	return b.String()
}

// when is the time of the named mark (the zero time if none).
func (l *lifeLoad) when(name string) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.marks {
		if m.name == name {
			return l.start.Add(m.at)
		}
	}
	return time.Time{}
}
