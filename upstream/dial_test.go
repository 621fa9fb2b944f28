package upstream

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/straitgw/strait/h2"
)

// TestDialSingleFlight: concurrent Opens at a cold start make one dial;
// every one of them is woken once, from a goroutine that holds no pool
// lock (Wake calls back into the pool), and then opens at once.
func TestDialSingleFlight(t *testing.T) {
	addr, dials := delayed(t, serving(t), 100*time.Millisecond)
	p := newPool(t, []string{addr}, Config{})
	const n = 50
	var wg sync.WaitGroup
	var woken, pending, wakes atomic.Int32
	wg.Add(n)
	for range n {
		go func() {
			defer wg.Done()
			r := echoRequest(newCall())
			ch := make(chan struct{}, 2)
			r.Wake = func() {
				wakes.Add(1)
				_ = p.Ready() // takes the pool's locks: none may be held
				ch <- struct{}{}
			}
			_, _, err := p.Open(nil, r)
			if !errors.Is(err, ErrPending) {
				t.Errorf("cold Open: %v; want ErrPending", err)
				return
			}
			pending.Add(1)
			select {
			case <-ch:
				woken.Add(1)
			case <-time.After(5 * time.Second):
				t.Error("not woken within 5s")
				return
			}
			r.Wake = nil
			s, _, err := p.Open(nil, r)
			if err != nil {
				t.Errorf("Open after Wake: %v", err)
				return
			}
			s.Reset(h2.ErrCodeCancel)
		}()
	}
	wg.Wait()
	time.Sleep(50 * time.Millisecond) // a second Wake would show by now
	if got, want := [4]int32{dials.Load(), pending.Load(), woken.Load(), wakes.Load()}, [4]int32{1, n, n, n}; got != want {
		t.Fatalf("dials, pending, woken, Wake calls: got %v; want %v", got, want)
	}
}

// TestDialCap: a dial in flight counts toward MaxConnsPerEndpoint, and no
// second dial starts while one is in flight.
func TestDialCap(t *testing.T) {
	up, release := holding(t)
	defer release()
	addr, dials := delayed(t, up, 100*time.Millisecond)
	p := newPool(t, []string{addr}, Config{MaxConnsPerEndpoint: 2, H2: h2.Config{MaxConcurrentStreams: 1}})
	e := byAddr(p, addr)
	startEcho(t, p, echoRequest(newCall())) // conn 1, its one slot taken
	r := echoRequest(newCall())
	if _, _, err := p.Open(nil, r); !errors.Is(err, ErrPending) {
		t.Fatalf("Open with conn 1 full: %v; want ErrPending (dial 2 starts)", err)
	}
	for range 5 { // dial 2 in flight: more requests wait for it, no dial 3
		if _, _, err := p.Open(nil, echoRequest(newCall())); !errors.Is(err, ErrPending) {
			t.Fatalf("Open while dial 2 is in flight: %v; want ErrPending", err)
		}
	}
	if st := e.stats(); st.Conns != 1 || !st.Dialing {
		t.Fatalf("while dialing: %d conns, dialing %v; want 1, true", st.Conns, st.Dialing)
	}
	startEcho(t, p, r) // conn 2
	if _, _, err := p.Open(nil, echoRequest(newCall())); !errors.Is(err, ErrFull) {
		t.Fatalf("Open at the cap: %v; want ErrFull", err)
	}
	if got := dials.Load(); got != 2 {
		t.Fatalf("dials: got %d; want 2 (the cap)", got)
	}
}

// TestOpenNeverDials: against an endpoint that accepts and never speaks,
// Open answers at once (the dial is elsewhere), and the dial fails within
// DialTimeout for want of the server's SETTINGS.
func TestOpenNeverDials(t *testing.T) {
	const timeout = 300 * time.Millisecond
	p := newPool(t, []string{blackhole(t)}, Config{DialTimeout: timeout})
	r := echoRequest(newCall())
	woken := make(chan time.Time, 1)
	r.Wake = func() { woken <- time.Now() }
	start := time.Now()
	_, _, err := p.Open(nil, r)
	if took := time.Since(start); !errors.Is(err, ErrPending) || took > 20*time.Millisecond {
		t.Fatalf("Open: %v after %v; want ErrPending within 20ms", err, took)
	}
	select {
	case at := <-woken:
		if d := at.Sub(start); d < timeout-50*time.Millisecond || d > timeout+time.Second {
			t.Fatalf("woken after %v; want about DialTimeout %v", d, timeout)
		}
	case <-time.After(timeout + 2*time.Second):
		t.Fatal("not woken after DialTimeout")
	}
	r.Wake = nil
	if _, _, err := p.Open(nil, r); !errors.Is(err, ErrDial) || !errors.Is(err, errNoSettings) {
		t.Fatalf("Open after the failed dial: %v; want ErrDial (no SETTINGS)", err)
	}
}

// TestDialFailures: each way a dial fails reaches Open as ErrDial when no
// other endpoint exists; next to a good endpoint, the failing one costs
// no request, and Open answers at once.
func TestDialFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		addr  func(*testing.T) string
		cause error
	}{
		// netpoll reports a refused connect, and often a connection
		// closed at once, as ErrConnClosed: only the sentinel is sure.
		{"refused", refusing, ErrDial},
		{"closed at once", closer, ErrDial},
		{"never speaks", blackhole, errNoSettings},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := tc.addr(t)
			cfg := Config{DialTimeout: 200 * time.Millisecond, DialBackoff: 50 * time.Millisecond}
			alone := newPool(t, []string{bad}, cfg)
			if _, _, err := open(t, alone, echoRequest(newCall())); !errors.Is(err, ErrDial) || !errors.Is(err, tc.cause) {
				t.Fatalf("alone: got %v; want ErrDial caused by %v", err, tc.cause)
			}
			good := serving(t)
			p := newPool(t, []string{bad, good}, cfg)
			p.Warm()
			eb := byAddr(p, bad)
			waitFor(t, 5*time.Second, "good ready, bad failed", func() bool {
				return byAddr(p, good).ready() && eb.dialFailures.Load() > 0
			})
			deadline := time.Now().Add(time.Second) // across backoffs and redials
			for i := 0; time.Now().Before(deadline); i++ {
				c := newCall()
				s, e, err := p.Open(nil, echoRequest(c))
				if err != nil || e.Addr() != good {
					t.Fatalf("open %d: %v on %v; want a stream on %s at once", i, err, e, good)
				}
				s.Reset(h2.ErrCodeCancel)
				time.Sleep(5 * time.Millisecond)
			}
			if eb.dialFailures.Load() < 2 {
				t.Fatalf("bad endpoint: %d dial failures; want it redialed", eb.dialFailures.Load())
			}
		})
	}
}

// TestBackoffGrows: a refused endpoint is redialed with growing, capped
// waits, not in a loop.
func TestBackoffGrows(t *testing.T) {
	p := newPool(t, []string{refusing(t)}, Config{DialBackoff: 10 * time.Millisecond, MaxDialBackoff: 80 * time.Millisecond})
	p.Warm()
	time.Sleep(time.Second)
	// 10+20+40+80 ms, then every 80 ms: about 15 dials (±20% jitter).
	if n := p.Stats().Endpoints[0].DialFailures; n < 8 || n > 20 {
		t.Fatalf("dials in 1s: got %d; want 8..20", n)
	}
	for n := 1; n < 10; n++ {
		d, want := p.cfg.backoff(n), min(10*time.Millisecond<<(n-1), 80*time.Millisecond)
		if d < want*4/5 || d > want*6/5 {
			t.Errorf("backoff(%d): got %v; want %v ±20%%", n, d, want)
		}
	}
}
