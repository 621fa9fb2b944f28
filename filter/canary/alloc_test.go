package canary

import "testing"

// raceEnabled is set under -race, which changes allocation counts.
var raceEnabled bool

// TestZeroAlloc pins the per-request path, keyed and unkeyed: hashing a
// key and drawing a bucket allocate nothing.
func TestZeroAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	keyed := New(Rule{Upstream: "canary", Header: Header{Name: "x-canary", Value: "1"},
		Key: Key{Kind: KeyHeader, Name: "x-tenant"}, Keys: []string{"acme"}, Percent: 50})
	random := New(Rule{Upstream: "canary", Percent: 50})
	r := newRequest("x-tenant", "tenant-42")
	for name, f := range map[string]*Filter{"keyed": keyed, "random": random} {
		got := testing.AllocsPerRun(1000, func() {
			delete(r.values, picked{})
			f.OnRequest(r, nil)
		})
		if got != 0 {
			t.Errorf("%s: %v allocs/op; want 0", name, got)
		}
	}
}
