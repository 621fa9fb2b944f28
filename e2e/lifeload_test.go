package e2e

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	pb "github.com/straitgw/strait/internal/echopb"
	"github.com/straitgw/strait/internal/testutil"
)

// lifeGateway is `strait serve --config` with one upstream over the
// given echo endpoints, under the defaults (no retry or ejection
// settings), and the process's RSS sampled every 100 ms.
type lifeGateway struct {
	Listen, Admin string
	cmd           *exec.Cmd
	rss           *rssSampler
}

func startLifeGateway(t *testing.T, endpoints ...string) *lifeGateway {
	t.Helper()
	g := &lifeGateway{Listen: testutil.FreeAddr(t), Admin: testutil.FreeAddr(t)}
	cfg := fmt.Sprintf("listen: %s\nadmin: %s\ndescriptors: [%q]\nupstreams:\n  - name: echo\n    endpoints: [%s]\n",
		g.Listen, g.Admin, echoDescriptors(t), strings.Join(endpoints, ", "))
	p := filepath.Join(t.TempDir(), "strait.yaml")
	writeFile(t, p, cfg)
	g.cmd = runStrait(t, g.Listen, "serve", "--config", p)
	g.rss = startRSS(t, g.cmd.Process.Pid)
	return g
}

// gauges are the gateway's resource gauges at one moment.
type gauges struct {
	goroutines, streams, conns int
	rssKB                      int64
}

func (s gauges) String() string {
	return fmt.Sprintf("goroutines %d, upstream streams open %d, client connections open %d, RSS %.1f MB",
		s.goroutines, s.streams, s.conns, float64(s.rssKB)/1024)
}

func (g *lifeGateway) gauges(t *testing.T) gauges {
	t.Helper()
	m := metrics(t, g.Admin)
	rss, _ := readRSS(g.cmd.Process.Pid)
	return gauges{goroutines: m["strait_goroutines"], streams: m["strait_upstream_streams_open"],
		conns: m["strait_connections_open"], rssKB: rss}
}

// metrics reads every unlabeled value of strait's /metrics.
func metrics(t *testing.T, admin string) map[string]int {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m := map[string]int{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && !strings.HasPrefix(f[0], "#") {
			n, _ := strconv.Atoi(f[1])
			m[f[0]] = n
		}
	}
	return m
}

// goroutineSlack is how far above its idle baseline the gateway's
// goroutine count may settle: a redial of an endpoint that is down or
// hung (one goroutine per endpoint at most, for up to timeouts.connect)
// and a connection's short-lived teardown goroutine may be caught in a
// sample.
const goroutineSlack = 4

// baseline waits for the gateway to be idle (no client connection, no
// upstream stream) and returns its gauges.
func (g *lifeGateway) baseline(t *testing.T) gauges {
	t.Helper()
	var s gauges
	waitFor(t, "the gateway to be idle", func() bool {
		s = g.gauges(t)
		return s.conns == 0 && s.streams == 0
	})
	time.Sleep(200 * time.Millisecond) // goroutines of the closed connections end
	s = g.gauges(t)
	t.Logf("baseline: %v", s)
	return s
}

// settle checks that once the load stopped and its clients closed, the
// gateway returns to base within 15s: no upstream stream open, the
// client connections of base, goroutines within goroutineSlack.
func (g *lifeGateway) settle(t *testing.T, base gauges) gauges {
	t.Helper()
	start := time.Now()
	var s gauges
	for {
		s = g.gauges(t)
		if s.streams == base.streams && s.conns == base.conns && s.goroutines <= base.goroutines+goroutineSlack {
			t.Logf("settled in %v: %v (baseline %v)", time.Since(start).Round(time.Millisecond), s, base)
			return s
		}
		if time.Since(start) > 15*time.Second {
			t.Errorf("15s after the load stopped the gateway has not returned to its baseline: "+
				"goroutines %d (baseline %d, slack %d), upstream streams open %d (baseline %d), client connections open %d (baseline %d)",
				s.goroutines, base.goroutines, goroutineSlack, s.streams, base.streams, s.conns, base.conns)
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// rssSampler reads a process's VmRSS every 100 ms.
type rssSampler struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	kb   []int64
	at   []time.Time
}

const maxRSSSamples = 6000 // 10 minutes

func startRSS(t *testing.T, pid int) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for range maxRSSSamples {
			kb, err := readRSS(pid)
			if err != nil {
				return // the process is gone
			}
			s.mu.Lock()
			s.kb, s.at = append(s.kb, kb), append(s.at, time.Now())
			s.mu.Unlock()
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() {
		close(s.stop)
		<-s.done
	})
	return s
}

// peak is the largest sample taken in [from, to), and when.
func (s *rssSampler) peak(from, to time.Time) (kb int64, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, a := range s.at {
		if !a.Before(from) && a.Before(to) && s.kb[i] > kb {
			kb, at = s.kb[i], a
		}
	}
	return kb, at
}

// over is the first sample in [from, to) above kb, or the zero time.
func (s *rssSampler) over(kb int64, from, to time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, a := range s.at {
		if !a.Before(from) && a.Before(to) && s.kb[i] > kb {
			return a
		}
	}
	return time.Time{}
}

// samples is how many samples were taken in [from, to).
func (s *rssSampler) samples(from, to time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, a := range s.at {
		if !a.Before(from) && a.Before(to) {
			n++
		}
	}
	return n
}

// readRSS is VmRSS of /proc/PID/status, in kB.
func readRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

func mb(kb int64) float64 { return float64(kb) / 1024 }

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
	p50, p99, max                            time.Duration
	unseen                                   []lifeResult // failures no failed backend saw
}

// slowCall is the latency past which a call is counted slow.
const slowCall = time.Second

func (c lifeCounts) String() string {
	return fmt.Sprintf("sent %d, ok %d, failed-seen %d, failed-unseen %d; latency p50 %v p99 %v max %v, %d over %v",
		c.sent, c.ok, c.failedSeen, c.failedUnseen, c.p50.Round(time.Microsecond), c.p99.Round(time.Microsecond),
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
