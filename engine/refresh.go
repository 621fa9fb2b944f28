package engine

import (
	"time"
)

// refreshReflection asks upstreams with reflection_refresh for their
// descriptors again, as often as the most eager asks, and reloads when
// they changed: a method added upstream becomes routable without a
// restart. It runs until the engine closes.
func (e *Engine) refreshReflection() {
	every := time.Duration(0)
	for _, u := range e.snap.Load().cfg.Upstreams {
		if r := u.ReflectionRefresh; r > 0 && (every == 0 || r < every) {
			every = r
		}
	}
	if every == 0 {
		return
	}
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-e.done:
				return
			case <-t.C:
				e.refreshOnce()
			}
		}
	}()
}

func (e *Engine) refreshOnce() {
	s := e.snap.Load()
	files, err := s.cfg.LoadDescriptors()
	if err != nil {
		e.log.Warn("reflection refresh failed; keeping the descriptors in force", "err", err.Error())
		return
	}
	if digest(files) == s.digest {
		return
	}
	if err := e.reloadOver(s, s.cfg, files); err != nil {
		e.log.Warn("reflection refresh rejected; keeping the descriptors in force", "err", err.Error())
		return
	}
	e.log.Info("reflection refresh reloaded the descriptors", "version", e.ConfigVersion())
}
