package upstream

// PoolStats is a pool's state, for /metrics.
type PoolStats struct {
	Endpoints []EndpointStats
}

// EndpointStats is one endpoint's state.
type EndpointStats struct {
	Addr         string
	Conns        int    // open connections, draining ones included
	Active       int    // streams in flight
	Dialing      bool   // a dial is in flight
	Ejected      bool   // out of the rotation after consecutive failures
	Healthy      bool   // the last health probe passed (true without probes)
	DialFailures uint64 // failed dials since the start
	Ejections    uint64 // times ejected since the start
}

// Stats reports every endpoint's state. It takes each endpoint's lock
// briefly and never blocks on the network.
func (p *Pool) Stats() PoolStats {
	eps := p.endpoints()
	st := PoolStats{Endpoints: make([]EndpointStats, len(eps))}
	for i, e := range eps {
		st.Endpoints[i] = e.stats()
	}
	return st
}

func (e *Endpoint) stats() EndpointStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := EndpointStats{Addr: e.addr, Conns: len(e.conns), Dialing: e.dialing,
		Ejected: e.Ejected(), Healthy: !e.unhealthy.Load(),
		DialFailures: e.dialFailures.Load(), Ejections: e.ejections.Load()}
	for _, c := range e.conns {
		s.Active += c.h2.Active()
	}
	return s
}
