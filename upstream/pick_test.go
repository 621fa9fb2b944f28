package upstream

import (
	"testing"
	"time"

	"github.com/straitgw/strait/h2"
)

// TestRoundRobinSpreads: with every endpoint ready, calls in turn go to
// each endpoint equally.
func TestRoundRobinSpreads(t *testing.T) {
	addrs := []string{serving(t), serving(t), serving(t)}
	p := newPool(t, addrs, Config{})
	p.Warm()
	waitConns(t, p, 3)
	got := map[string]int{}
	for range 30 {
		got[echo(t, p).Addr()]++
	}
	for _, a := range addrs {
		if got[a] != 10 {
			t.Fatalf("calls per endpoint: got %v; want 10 each", got)
		}
	}
}

// TestLeastRequestPrefersIdle: with one endpoint busy, least request
// sends new streams to the idle one until it is as busy.
func TestLeastRequestPrefersIdle(t *testing.T) {
	busy, release := holding(t)
	idle, release2 := holding(t)
	defer release()
	defer release2()
	p := newPool(t, []string{busy, idle}, Config{LB: LBLeastRequest})
	p.Warm()
	waitConns(t, p, 2)
	be := byAddr(p, busy)
	for range 10 {
		r := echoRequest(newCall())
		s, _, err := p.open(nil, r, be)
		if err != nil {
			t.Fatal(err)
		}
		s.WriteData([]byte{0, 0, 0, 0, 0}, true)
	}
	got := map[string]int{}
	for range 8 {
		_, e := startEcho(t, p, echoRequest(newCall()))
		got[e.Addr()]++
	}
	if got[idle] != 8 {
		t.Fatalf("new streams: got %v; want all 8 on the idle endpoint %s", got, idle)
	}
}

// TestPickFilters: health, ejection, backoff and Exclude decide where
// streams go; a worse endpoint is used only when nothing better can.
func TestPickFilters(t *testing.T) {
	a, b, dead := serving(t), serving(t), refusing(t)
	p := newPool(t, []string{a, b, dead}, Config{DialBackoff: time.Hour})
	p.Warm()
	ea, eb, ed := byAddr(p, a), byAddr(p, b), byAddr(p, dead)
	waitFor(t, 5*time.Second, "two ready, one failed", func() bool {
		return ea.ready() && eb.ready() && ed.dialFailures.Load() > 0
	})
	out := nanotime() + int64(time.Hour)
	for _, tc := range []struct {
		name               string
		unhealthy, ejected []*Endpoint
		exclude            *Endpoint
		want               map[string]bool
	}{
		{name: "all usable", want: map[string]bool{a: true, b: true}},
		{name: "a unhealthy", unhealthy: []*Endpoint{ea}, want: map[string]bool{b: true}},
		{name: "a ejected", ejected: []*Endpoint{ea}, want: map[string]bool{b: true}},
		{name: "both unhealthy", unhealthy: []*Endpoint{ea, eb}, want: map[string]bool{a: true, b: true}},
		{name: "a ejected, b unhealthy", ejected: []*Endpoint{ea}, unhealthy: []*Endpoint{eb}, want: map[string]bool{b: true}},
		{name: "exclude a", exclude: ea, want: map[string]bool{b: true}},
		{name: "exclude a, b unhealthy", exclude: ea, unhealthy: []*Endpoint{eb}, want: map[string]bool{b: true}},
		{name: "exclude a, b ejected", exclude: ea, ejected: []*Endpoint{eb}, want: map[string]bool{b: true}},
		{name: "exclude a, b ejected and unhealthy", exclude: ea, ejected: []*Endpoint{eb}, unhealthy: []*Endpoint{eb}, want: map[string]bool{b: true}},
	} {
		for _, e := range []*Endpoint{ea, eb} {
			e.unhealthy.Store(false)
			e.ejectedUntil.Store(0)
		}
		for _, e := range tc.unhealthy {
			e.unhealthy.Store(true)
		}
		for _, e := range tc.ejected {
			e.ejectedUntil.Store(out)
		}
		got := map[string]bool{}
		for range 12 {
			c := newCall()
			r := echoRequest(c)
			r.Exclude = tc.exclude
			s, e, err := p.Open(nil, r)
			if err != nil {
				t.Fatalf("%s: Open: %v; want a stream at once", tc.name, err)
			}
			s.Reset(h2.ErrCodeCancel)
			got[e.Addr()] = true
		}
		if len(got) != len(tc.want) || got[a] != tc.want[a] || got[b] != tc.want[b] {
			t.Errorf("%s: endpoints used: got %v; want %v", tc.name, got, tc.want)
		}
	}
}

// TestExcludeOnly: the excluded endpoint still takes the stream when it
// is the only one.
func TestExcludeOnly(t *testing.T) {
	a := serving(t)
	p := newPool(t, []string{a}, Config{})
	first := echo(t, p)
	c := newCall()
	r := echoRequest(c)
	r.Exclude = first
	if _, e := startEcho(t, p, r); e != first {
		t.Fatalf("got %v; want the excluded endpoint, the only one", e)
	}
}
