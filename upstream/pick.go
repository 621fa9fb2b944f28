package upstream

import (
	"errors"
	"math/rand/v2"

	"github.com/straitgw/strait/h2"
)

// Ranks order the endpoints for one Open: the best rank that can take the
// stream gets it, so a worse endpoint is used only when nothing better
// can. An excluded endpoint ranks below every other.
const (
	rankHealthy   = iota             // healthy, not ejected
	rankUnhealthy                    // its health probe failed
	rankEjected                      // ejected: consecutive failures
	rankExcluded                     // + the request's Exclude
	rankNone      = 2 * rankExcluded // backing off with no connection: unusable
)

// rank places e for a request that excludes ex, at time now.
func (e *Endpoint) rank(now int64, ex *Endpoint) int {
	if e.nconns.Load() == 0 && e.backoffUntil.Load() > now {
		return rankNone
	}
	r := rankHealthy
	if e.ejectedUntil.Load() > now {
		r = rankEjected
	} else if e.unhealthy.Load() {
		r = rankUnhealthy
	}
	if e == ex {
		r += rankExcluded
	}
	return r
}

// pick opens r's stream on the best-ranked endpoint that can take it now.
// Within a rank the policy chooses; an endpoint that cannot take it now
// starts a dial in the background and the next one is tried, so a cold or
// hung endpoint delays no request another can serve. ErrPending: nothing
// of the best usable rank can take it yet, but a dial is under way.
func (p *Pool) pick(b *Batch, r *Request) (*h2.Stream, *Endpoint, error) {
	eps := p.endpoints()
	if len(eps) == 0 {
		return nil, nil, p.noEndpoint()
	}
	now := nanotime()
	best := rankNone
	for _, e := range eps {
		best = min(best, e.rank(now, r.Exclude))
	}
	if best == rankNone {
		return nil, nil, lastDialErr(eps)
	}
	var last error
	for rank := best; rank < rankNone; rank++ {
		s, e, err := p.pickRank(b, r, eps, rank, now)
		if err == nil || err == ErrPending || errors.Is(err, h2.ErrHeaderListTooLong) {
			return s, e, err
		}
		if err != errNone {
			last = err
		}
	}
	if last == nil {
		last = ErrNoEndpoint
	}
	return nil, nil, last
}

// errNone: no endpoint has the rank.
var errNone = errors.New("upstream: none of this rank")

// pickRank tries the endpoints of one rank: the policy's choice first,
// then the rest round robin.
func (p *Pool) pickRank(b *Batch, r *Request, eps []*Endpoint, rank int, now int64) (*h2.Stream, *Endpoint, error) {
	var first *Endpoint
	err := errNone
	pending := false
	if p.cfg.LB == LBLeastRequest {
		if first = twoChoices(eps, rank, now, r.Exclude); first != nil {
			s, e := first.open(b, r)
			if e == nil {
				return s, first, nil
			}
			pending, err = e == ErrPending, e
		}
	}
	n := len(eps)
	start := int(p.rr.Add(1))
	for i := range n {
		e := eps[(start+i)%n]
		if e == first || e.rank(now, r.Exclude) != rank {
			continue
		}
		s, oerr := e.open(b, r)
		switch {
		case oerr == nil:
			return s, e, nil
		case oerr == ErrPending:
			pending = true
		case errors.Is(oerr, h2.ErrHeaderListTooLong):
			return nil, nil, oerr
		default:
			err = oerr
		}
	}
	if pending {
		return nil, nil, ErrPending
	}
	return nil, nil, err
}

// twoChoices draws two endpoints of the rank at random and returns the
// one with fewer streams in flight (nil if the rank is empty).
func twoChoices(eps []*Endpoint, rank int, now int64, ex *Endpoint) *Endpoint {
	m := 0
	for _, e := range eps {
		if e.rank(now, ex) == rank {
			m++
		}
	}
	if m == 0 {
		return nil
	}
	i, j := rand.IntN(m), rand.IntN(m)
	if m > 1 {
		j = (i + 1 + rand.IntN(m-1)) % m // distinct from i
	}
	var a, c *Endpoint
	k := 0
	for _, e := range eps {
		if e.rank(now, ex) != rank {
			continue
		}
		if k == i {
			a = e
		}
		if k == j {
			c = e
		}
		k++
	}
	switch { // a rank may change under the count: never return nil here
	case a == nil:
		return c
	case c == nil || c.active() >= a.active():
		return a
	}
	return c
}

// lastDialErr is why every endpoint backs off: the first dial error found.
func lastDialErr(eps []*Endpoint) error {
	for _, e := range eps {
		e.mu.Lock()
		err := e.lastErr
		e.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return ErrNoEndpoint
}
