package upstream

import (
	"testing"
	"time"

	"github.com/straitgw/strait/internal/testutil"
)

// TestHealthProbeHungEndpoint: a probe against an endpoint that never
// answers marks it not serving within the probe's timeout (the probe
// waits for a ready connection like any request; its dial never gets
// one), it then gets no streams, and probing goes on.
func TestHealthProbeHungEndpoint(t *testing.T) {
	hung, well := blackhole(t), serving(t)
	p := newPool(t, []string{hung, well}, Config{DialTimeout: time.Second})
	const interval, timeout = 20 * time.Millisecond, 200 * time.Millisecond
	p.StartHealthChecks(interval, timeout)
	eh, ew := byAddr(p, hung), byAddr(p, well)
	waitFor(t, interval+2*timeout+time.Second, "the hung endpoint unhealthy", eh.unhealthy.Load)
	for i := range 20 {
		if e := echo(t, p); e != ew {
			t.Fatalf("call %d went to %s; want the serving endpoint %s", i, e.Addr(), well)
		}
	}
	rounds := eh.probes.Load()
	waitFor(t, 2*(interval+timeout)+time.Second, "another probe round", func() bool { return eh.probes.Load() > rounds })
}

// TestHealthNotServing: an endpoint whose health service says
// NOT_SERVING is skipped; when it says SERVING again it is back.
func TestHealthNotServing(t *testing.T) {
	var status atomicBytes
	status.set([]byte{0x08, 0x02}) // NOT_SERVING
	sick := testutil.StartRawUpstream(t, func(c *testutil.Call) ([]byte, error) {
		if c.Method == healthPath {
			return status.get(), nil
		}
		return c.Req, nil
	})
	well := serving(t)
	p := newPool(t, []string{sick, well}, Config{})
	p.StartHealthChecks(10*time.Millisecond, time.Second)
	es, ew := byAddr(p, sick), byAddr(p, well)
	waitFor(t, 5*time.Second, "probes ran", func() bool { return es.probes.Load() > 0 && ew.probes.Load() > 0 })
	if got := [2]bool{es.unhealthy.Load(), ew.unhealthy.Load()}; got != [2]bool{true, false} {
		t.Fatalf("unhealthy: got %v; want [true false]", got)
	}
	for range 6 {
		if e := echo(t, p); e != ew {
			t.Fatalf("a call went to the NOT_SERVING endpoint %s", e.Addr())
		}
	}
	status.set([]byte{0x08, 0x01})
	waitFor(t, 5*time.Second, "healthy again", func() bool { return !es.unhealthy.Load() })
}

// TestStartsWithNothingReachable: a pool whose only endpoint refuses
// connections is built without error, is not Ready, fails Opens fast, and
// works without a restart once the endpoint answers.
func TestStartsWithNothingReachable(t *testing.T) {
	addr := refusing(t)
	p := newPool(t, []string{addr}, Config{DialBackoff: 10 * time.Millisecond, MaxDialBackoff: 50 * time.Millisecond})
	p.Warm()
	if p.Ready() {
		t.Fatal("Ready with nothing reachable")
	}
	e := byAddr(p, addr)
	waitFor(t, 5*time.Second, "a failed dial", func() bool { return e.dialFailures.Load() > 0 })
	start := time.Now()
	if _, _, err := open(t, p, echoRequest(newCall())); err == nil {
		t.Fatal("Open succeeded with nothing listening")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Open against a refusing endpoint took %v; want it fast", d)
	}
	ln := listenOn(t, addr)
	proxy(t, ln, serving(t), 0)
	waitFor(t, 5*time.Second, "Ready once the endpoint answers", p.Ready)
	echo(t, p)
}
