package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/straitgw/strait/internal/echo"
	pb "github.com/straitgw/strait/internal/echopb"
)

// The lifecycle tests run `strait serve` in front of two echo endpoints,
// each its own process (internal/echo/echoserver) that reports the
// x-req-id of every call it receives, under continuous REST and gRPC
// load (lifeLoad), and fail one endpoint mid-load. Under the defaults a
// backend that dies, hangs or restarts may cost only calls it saw: every
// other call must succeed, byte for byte. After the load the gateway must
// return to its idle baseline (goroutines, upstream streams, client
// connections) and its RSS must stay bounded.

// warm makes calls until every backend given has received one, so the
// gateway holds a connection to each before the baseline is taken.
func warm(t *testing.T, g *lifeGateway, bs ...*backend) {
	t.Helper()
	cc, err := dialGRPC(g.Listen)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	deadline := time.Now().Add(15 * time.Second)
	for i := 0; ; i++ {
		ready := true
		for _, b := range bs {
			ready = ready && b.count() > 0
		}
		if ready {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("warm-up: after %d calls some backend has none", i)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		ctx = metadata.AppendToOutgoingContext(ctx, echo.RequestIDKey, fmt.Sprintf("warm-%d", i))
		_, _ = pb.NewEchoClient(cc).Unary(ctx, &pb.EchoRequest{Text: "warm"})
		cancel()
		time.Sleep(20 * time.Millisecond)
	}
}

// waitServing waits until b has received n more calls than it had, and
// returns how long that took (0 and a test error if not within d).
func waitServing(t *testing.T, b *backend, n int, d time.Duration) time.Duration {
	t.Helper()
	start, from := time.Now(), b.count()
	for b.count() < from+n {
		if time.Since(start) > d {
			t.Errorf("backend %s on %s received %d calls in %v; want %d: the gateway did not take it back",
				b.Name, b.Addr, b.count()-from, d, n)
			return 0
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// checkRSS fails the test if the gateway's RSS grew without bound: the
// peak under load must stay within rssGrowth of the idle baseline.
func checkRSS(t *testing.T, g *lifeGateway, base gauges, from, to time.Time) {
	t.Helper()
	peak, at := g.rss.peak(from, to)
	final, _ := readRSS(g.cmd.Process.Pid)
	t.Logf("RSS: baseline %.1f MB, peak under load %.1f MB (at %.1fs), after the load %.1f MB; %d samples",
		mb(base.rssKB), mb(peak), at.Sub(from).Seconds(), mb(final), g.rss.samples(from, to))
	if peak > base.rssKB+rssGrowth {
		t.Errorf("RSS peaked at %.1f MB under load, %.1f MB above the idle baseline %.1f MB; want at most %.0f MB above",
			mb(peak), mb(peak-base.rssKB), mb(base.rssKB), mb(rssGrowth))
	}
}

// rssGrowth bounds the RSS the lifecycle load may add to an idle
// gateway (race-enabled build: its shadow memory is counted too).
const rssGrowth = 128 << 10 // kB

// TestBackendKilled: one of two endpoints is killed (SIGKILL) mid-load.
// Only calls it saw may fail; the gateway stops sending to it; restarted
// on its port, it gets calls again without a restart of strait.
func TestBackendKilled(t *testing.T) {
	t.Parallel()
	seed := fidelitySeed(t)
	a, b := startBackend(t, "a", "127.0.0.1:0"), startBackend(t, "b", "127.0.0.1:0")
	g := startLifeGateway(t, a.Addr, b.Addr)
	warm(t, g, a, b)
	base := g.baseline(t)
	m0 := metrics(t, g.Admin)

	l := startLifeLoad(t, g.Listen, seed)
	time.Sleep(1500 * time.Millisecond)
	l.mark("b killed")
	b.kill(t)
	t.Logf("b saw %d calls before it was killed", b.count())
	time.Sleep(time.Second)
	l.mark("b down")
	m1 := metrics(t, g.Admin)
	aDown := a.count()
	time.Sleep(2 * time.Second)
	m2 := metrics(t, g.Admin)
	t.Logf("while b was down: a received %d calls, retries %d",
		a.count()-aDown, m2["strait_upstream_retries_total"]-m1["strait_upstream_retries_total"])
	l.mark("b restarted")
	b2 := startBackend(t, "b2", b.Addr)
	restarted := time.Now()
	for b2.accepted() == 0 && time.Since(restarted) < 15*time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	if b2.accepted() == 0 {
		t.Errorf("the gateway did not reconnect to the restarted b within 15s")
	} else {
		t.Logf("the gateway reconnected to the restarted b %v after its restart", time.Since(restarted).Round(time.Millisecond))
	}
	// An endpoint ejected for its failures (upstream.Config.BaseEjection,
	// 30s by default) may take that long to get calls again.
	if waitServing(t, b2, 20, 45*time.Second) > 0 {
		t.Logf("restarted b served calls again %v after its restart", time.Since(restarted).Round(time.Millisecond))
	}
	l.mark("both serving")
	a0, b0 := a.count(), b2.count()
	time.Sleep(time.Second)
	l.stop()
	t.Logf("with both serving again: a received %d calls, b %d", a.count()-a0, b2.count()-b0)
	if a.count() == a0 || b2.count() == b0 {
		t.Errorf("after b's restart both endpoints must serve: a received %d calls, b %d", a.count()-a0, b2.count()-b0)
	}
	l.report(t, []*backend{a, b, b2}, g.rss)
	l.noSlowCalls(t, "b down", 0, "the gateway still made calls wait for the dead backend")
	m3 := metrics(t, g.Admin)
	t.Logf("strait_upstream_retries_total: %d before the load, %d in all",
		m0["strait_upstream_retries_total"], m3["strait_upstream_retries_total"])
	g.settle(t, base)
	checkRSS(t, g, base, l.start, l.when("stopped"))
}

// TestBackendHung: one of two endpoints accepts TCP and never speaks,
// from the start, or in place of a backend killed on its port, or is
// stopped (SIGSTOP) for 4s mid-load and resumed. No call fails (but
// those the killed backend saw), no call waits for the hung endpoint once
// the gateway could know it hangs.
func TestBackendHung(t *testing.T) {
	t.Parallel()
	seed := fidelitySeed(t)
	t.Run("from-start", func(t *testing.T) {
		a := startBackend(t, "a", "127.0.0.1:0")
		h := startBlackhole(t, "127.0.0.1:0")
		g := startLifeGateway(t, a.Addr, h.Addr())
		warm(t, g, a)
		base := g.baseline(t)
		l := startLifeLoad(t, g.Listen, seed)
		time.Sleep(4 * time.Second)
		l.stop()
		t.Logf("the hung endpoint accepted %d connections", h.Accepted())
		l.report(t, nil, g.rss)
		l.noSlowCalls(t, "start", 0, "a call waited for the hung endpoint")
		g.settle(t, base)
		checkRSS(t, g, base, l.start, l.when("stopped"))
	})
	t.Run("replaces-killed", func(t *testing.T) {
		a, b := startBackend(t, "a", "127.0.0.1:0"), startBackend(t, "b", "127.0.0.1:0")
		g := startLifeGateway(t, a.Addr, b.Addr)
		warm(t, g, a, b)
		base := g.baseline(t)
		l := startLifeLoad(t, g.Listen, seed+1)
		time.Sleep(1500 * time.Millisecond)
		l.mark("b killed, hung")
		b.kill(t)
		h := startBlackhole(t, b.Addr)
		time.Sleep(4 * time.Second)
		l.stop()
		t.Logf("the hung endpoint accepted %d connections", h.Accepted())
		l.report(t, []*backend{b}, g.rss)
		l.noSlowCalls(t, "b killed, hung", time.Second, "a call waited for the hung endpoint")
		g.settle(t, base)
		checkRSS(t, g, base, l.start, l.when("stopped"))
	})
	t.Run("sigstop", func(t *testing.T) {
		a, b := startBackend(t, "a", "127.0.0.1:0"), startBackend(t, "b", "127.0.0.1:0")
		g := startLifeGateway(t, a.Addr, b.Addr)
		warm(t, g, a, b)
		base := g.baseline(t)
		l := startLifeLoad(t, g.Listen, seed+2)
		time.Sleep(1500 * time.Millisecond)
		l.mark("b stopped")
		if err := b.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		stopped := time.Now()
		// The load's workers soon all wait on b. Probes started 2s into
		// the stop (timeouts.connect: long enough for the gateway to see
		// that b stopped answering) show where new calls go.
		time.Sleep(2 * time.Second)
		l.mark("b stopped 2s")
		pr := startProbes(t, g.Listen, 20, 50*time.Millisecond)
		time.Sleep(time.Until(stopped.Add(4 * time.Second)))
		l.mark("b resumed")
		if err := b.cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		pr.wait()
		time.Sleep(1500 * time.Millisecond)
		l.stop()
		l.report(t, nil, g.rss)
		pr.report(t, b)
		g.settle(t, base)
		checkRSS(t, g, base, l.start, l.when("stopped"))
	})
}

// TestBackendGoAway: each of two endpoints in turn stops gracefully
// (grpc-go GracefulStop: GOAWAY, then its calls finish) mid-load and is
// restarted on its port. No call fails.
func TestBackendGoAway(t *testing.T) {
	t.Parallel()
	seed := fidelitySeed(t)
	a, b := startBackend(t, "a", "127.0.0.1:0"), startBackend(t, "b", "127.0.0.1:0")
	g := startLifeGateway(t, a.Addr, b.Addr)
	warm(t, g, a, b)
	base := g.baseline(t)
	l := startLifeLoad(t, g.Listen, seed)
	time.Sleep(1500 * time.Millisecond)
	bs := []*backend{a, b}
	for i, old := range []*backend{b, a} {
		l.mark(old.Name + " GOAWAY")
		old.term(t)
		time.Sleep(300 * time.Millisecond)
		l.mark(old.Name + " restarted")
		nb := startBackend(t, old.Name+"2", old.Addr)
		bs = append(bs, nb)
		took := waitServing(t, nb, 20, 45*time.Second)
		t.Logf("GOAWAY %d: %s served again %v after its restart", i+1, old.Name, took.Round(time.Millisecond))
	}
	l.mark("both serving")
	time.Sleep(time.Second)
	l.stop()
	l.report(t, nil, g.rss)
	g.settle(t, base)
	checkRSS(t, g, base, l.start, l.when("stopped"))
}

// probes are calls started at a fixed pace, each on its own goroutine,
// so none waits for another (the load's workers are closed loops).
type probes struct {
	cc   *grpc.ClientConn
	wg   sync.WaitGroup
	took []time.Duration
	errs []error
	ids  []string
	at   []time.Time
}

func startProbes(t *testing.T, listen string, n int, every time.Duration) *probes {
	t.Helper()
	cc, err := dialGRPC(listen)
	if err != nil {
		t.Fatal(err)
	}
	p := &probes{cc: cc, took: make([]time.Duration, n), errs: make([]error, n), ids: make([]string, n), at: make([]time.Time, n)}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for i := range n {
			p.ids[i], p.at[i] = fmt.Sprintf("probe-%d", i), time.Now()
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), lifeTimeout)
				defer cancel()
				ctx = metadata.AppendToOutgoingContext(ctx, echo.RequestIDKey, p.ids[i])
				r, err := pb.NewEchoClient(cc).Unary(ctx, &pb.EchoRequest{Id: p.ids[i]})
				if err == nil && r.Id != p.ids[i] {
					err = fmt.Errorf("answer for %q", r.Id)
				}
				p.took[i], p.errs[i] = time.Since(p.at[i]), err
			}()
			time.Sleep(every)
		}
	}()
	return p
}

// wait waits for every probe and closes their connection.
func (p *probes) wait() {
	p.wg.Wait()
	p.cc.Close()
}

// report fails the test for every probe that failed or took over
// slowCall: a call the gateway sent to the stopped backend b although
// it had stopped answering.
func (p *probes) report(t *testing.T, b *backend) {
	t.Helper()
	slow, toB := 0, 0
	var b2 strings.Builder
	for i, d := range p.took {
		if b.saw(p.ids[i]) {
			toB++
		}
		if d > slowCall || p.errs[i] != nil {
			slow++
			fmt.Fprintf(&b2, "\n  %s took %v (to b: %v), error %v", p.ids[i], d.Round(time.Millisecond), b.saw(p.ids[i]), p.errs[i])
		}
	}
	t.Logf("probes: %d sent, %d went to the stopped backend, %d failed or took over %v", len(p.took), toB, slow, slowCall)
	if slow > 0 {
		t.Errorf("%d of %d calls started 2-3s after backend %s stopped answering (SIGSTOP) failed or took over %v: the gateway kept sending new calls to it:%s",
			slow, len(p.took), b.Name, slowCall, b2.String())
	}
}
