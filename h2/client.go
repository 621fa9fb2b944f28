package h2

// OpenStream starts a client stream with the request header fields; end
// sets END_STREAM (no body). It fails with ErrNoStreamSlot when the peer's
// or our concurrency limit is reached and ErrConnClosing once the
// connection drains or died: the caller opens another connection.
func (c *Conn) OpenStream(fields []Field, end bool, h StreamHandler) (*Stream, error) {
	if h == nil {
		h = discard{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil || c.goAway || c.draining || c.drained || c.closing || c.nextID > maxWindow {
		return nil, ErrConnClosing
	}
	if c.nLocal >= int(min(c.cfg.MaxConcurrentStreams, c.peer.maxStreams)) {
		return nil, ErrNoStreamSlot
	}
	s := &Stream{c: c, id: c.nextID, h: h, local: true, localEnd: end,
		sendWin: int64(c.peer.initWin), recvWin: int64(c.cfg.InitialWindowSize), contentLen: -1}
	c.nextID += 2
	c.streams[s.id] = s
	c.nLocal++
	err := c.writeHeaders(s.id, fields, end)
	if err == nil {
		err = c.flushSoon()
	}
	if err != nil {
		delete(c.streams, s.id)
		c.nLocal--
		return nil, err
	}
	if c.nLocal == 1 && c.timer != nil && c.cfg.KeepAlive > 0 {
		// The watchdog of an idle connection ticks slowly: the first
		// stream brings the active PING's shorter tick (watch.go).
		c.timer.Reset(c.tick())
	}
	return s, nil
}
