package upstream

import (
	"testing"
	"time"
)

// TestEjection: EjectAfter failures in a row eject an endpoint; it gets no
// streams while out, comes back when its time is up, and a streak makes
// each ejection longer, up to MaxEjection. A success resets the count.
func TestEjection(t *testing.T) {
	a, b := serving(t), serving(t)
	const base, most = 150 * time.Millisecond, 400 * time.Millisecond
	p := newPool(t, []string{a, b}, Config{EjectAfter: 3, BaseEjection: base, MaxEjection: most})
	p.Warm()
	waitConns(t, p, 2)
	ea := byAddr(p, a)
	ea.Report(false)
	ea.Report(false)
	ea.Report(true)
	ea.Report(false)
	ea.Report(false)
	if ea.Ejected() {
		t.Fatal("ejected after 2 failures, a success, 2 failures; want in (EjectAfter 3)")
	}
	for i, want := range []time.Duration{base, 2 * base, most, most} {
		start := time.Now()
		ea.Report(false)
		if !ea.Ejected() {
			t.Fatalf("ejection %d: not ejected after %d failures in a row", i+1, 3)
		}
		for range 6 {
			if e := echo(t, p); e == ea {
				t.Fatalf("ejection %d: a stream went to the ejected endpoint", i+1)
			}
		}
		waitFor(t, want+time.Second, "back from ejection", func() bool { return !ea.Ejected() })
		if d := time.Since(start); d < want-20*time.Millisecond || d > want+500*time.Millisecond {
			t.Fatalf("ejection %d lasted %v; want %v", i+1, d, want)
		}
		got := map[*Endpoint]bool{}
		for range 4 {
			got[echo(t, p)] = true
		}
		if !got[ea] {
			t.Fatalf("ejection %d: the endpoint back from ejection got no stream", i+1)
		}
		ea.Report(false)
		ea.Report(false)
	}
	if got := p.Stats().Endpoints[0].Ejections; got != 4 {
		t.Fatalf("Stats ejections: got %d; want 4", got)
	}
}

// TestEjectionNeverTheLast: with every other endpoint ejected, the last
// one stays in however it fails, and Open still uses it.
func TestEjectionNeverTheLast(t *testing.T) {
	a, b := serving(t), serving(t)
	p := newPool(t, []string{a, b}, Config{EjectAfter: 1, BaseEjection: time.Hour})
	ea, eb := byAddr(p, a), byAddr(p, b)
	ea.Report(false)
	for range 10 {
		eb.Report(false)
	}
	if got := [2]bool{ea.Ejected(), eb.Ejected()}; got != [2]bool{true, false} {
		t.Fatalf("ejected: got %v; want [true false]", got)
	}
	if e := echo(t, p); e != eb {
		t.Fatalf("stream went to %v; want the last endpoint in, %s", e, b)
	}
}

// TestDialFailuresEject: failed dials count toward ejection, and the
// ejected endpoint is no candidate while the other serves.
func TestDialFailuresEject(t *testing.T) {
	bad, good := refusing(t), serving(t)
	p := newPool(t, []string{bad, good}, Config{EjectAfter: 2, DialBackoff: 10 * time.Millisecond, BaseEjection: time.Hour})
	p.Warm()
	eb := byAddr(p, bad)
	waitFor(t, 5*time.Second, "ejected after failed dials", eb.Ejected)
	if st := eb.stats(); st.DialFailures < 2 || st.Ejections != 1 {
		t.Fatalf("dial failures, ejections: got %d, %d; want >= 2, 1", st.DialFailures, st.Ejections)
	}
}
