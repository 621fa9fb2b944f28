package e2e

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// fstats counts calls per protocol and kind, and mismatches per class.
type fstats struct {
	mu      sync.Mutex
	cells   [numProtocols][numKinds]cell
	classes map[string]*class
}

type cell struct {
	calls, bytes, mismatched, errors int
	took, slowest                    time.Duration
}

type class struct {
	n        int
	examples []string
}

func (s *fstats) add(c *fcase, o *outcome, errs []string, took time.Duration) {
	n := 0
	for _, r := range c.reqs {
		n += len(r.Payload)
	}
	for _, m := range o.msgs {
		n += len(m.Payload)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cl := &s.cells[c.p][c.k]
	cl.calls++
	cl.bytes += n
	cl.took += took
	cl.slowest = max(cl.slowest, took)
	if o.err != nil {
		cl.errors++
	}
	if len(errs) == 0 {
		return
	}
	cl.mismatched++
	if s.classes == nil {
		s.classes = map[string]*class{}
	}
	seen := map[string]bool{}
	for _, e := range errs {
		name, _, _ := strings.Cut(e, ":")
		key := fmt.Sprintf("%s/%s %s", c.p, c.k, name)
		if seen[key] {
			continue
		}
		seen[key] = true
		k := s.classes[key]
		if k == nil {
			k = &class{}
			s.classes[key] = k
		}
		k.n++
		if len(k.examples) < 2 {
			k.examples = append(k.examples, c.String()+": "+e)
		}
	}
}

// report logs the table and returns the number of mismatched calls.
func (s *fstats) report(t *testing.T) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "%-9s %-7s %8s %12s %10s %7s %9s %9s\n", "protocol", "kind", "calls", "bytes", "mismatched", "errors", "mean ms", "max ms")
	var tot cell
	for p := range numProtocols {
		for k := range numKinds {
			c := s.cells[p][k]
			if c.calls == 0 {
				continue
			}
			fmt.Fprintf(&b, "%-9s %-7s %8d %12d %10d %7d %9d %9d\n", p, k, c.calls, c.bytes, c.mismatched, c.errors,
				(c.took / time.Duration(c.calls)).Milliseconds(), c.slowest.Milliseconds())
			tot.calls += c.calls
			tot.bytes += c.bytes
			tot.mismatched += c.mismatched
			tot.errors += c.errors
		}
	}
	fmt.Fprintf(&b, "%-17s %8d %12d %10d %7d\n", "total", tot.calls, tot.bytes, tot.mismatched, tot.errors)
	t.Logf("fidelity counts:\n%s", b.String())
	if len(s.classes) > 0 {
		keys := make([]string, 0, len(s.classes))
		for k := range s.classes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var e strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&e, "%s: %d calls\n", k, s.classes[k].n)
			for _, x := range s.classes[k].examples {
				fmt.Fprintf(&e, "    e.g. %s\n", x)
			}
		}
		t.Errorf("mismatch classes:\n%s", e.String())
	}
	return tot.mismatched
}
