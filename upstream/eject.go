package upstream

// eject takes e out of the rotation for BaseEjection × its ejections in a
// row (capped at MaxEjection), unless every other endpoint is ejected
// already: then it keeps its place, and its failures keep counting. A
// streak ends when e stayed in for MaxEjection since its last return.
// Ejection decisions are made under the pool's lock, so two endpoints
// failing at once cannot both leave.
func (p *Pool) eject(e *Endpoint) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := nanotime()
	if e.ejectedUntil.Load() > now || int(e.failures.Load()) < p.cfg.EjectAfter {
		return // already out, or a success came between
	}
	others := false
	for _, x := range p.endpoints() {
		if x != e && x.ejectedUntil.Load() <= now {
			others = true
			break
		}
	}
	if !others {
		return
	}
	if now-e.lastBack > int64(p.cfg.MaxEjection) {
		e.streak = 0
	}
	e.streak++
	d := int64(p.cfg.ejection(e.streak))
	e.ejectedUntil.Store(now + d)
	e.lastBack = now + d
	e.failures.Store(0)
	e.ejections.Add(1)
}

// Ejected reports whether e is out of the rotation now.
func (e *Endpoint) Ejected() bool { return e.ejectedUntil.Load() > nanotime() }
