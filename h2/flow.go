package h2

import "time"

// sendable returns how many of n bytes the stream and connection send
// windows admit now (RFC 9113 §6.9.1).
func (c *Conn) sendable(s *Stream, n int) int {
	w := min(s.sendWin, c.sendWin)
	if w <= 0 {
		return 0
	}
	return int(min(int64(n), w))
}

// writeData writes p as DATA frames no larger than the peer's maximum and
// charges the send windows; the caller checked them with sendable.
func (c *Conn) writeData(s *Stream, p []byte, end bool) {
	if len(p) == 0 {
		if end {
			c.frame(FrameHeader{Type: FrameData, Flags: FlagEndStream, StreamID: s.id})
		}
		return
	}
	s.sendWin -= int64(len(p))
	c.sendWin -= int64(len(p))
	c.sentData = true
	max := int(c.peer.maxFrame)
	for len(p) > 0 {
		n := min(len(p), max)
		h := FrameHeader{Length: uint32(n), Type: FrameData, StreamID: s.id}
		if end && n == len(p) {
			h.Flags = FlagEndStream
		}
		copy(c.frame(h), p[:n])
		p = p[n:]
	}
}

// drainStream writes what the windows admit of s's queue, then its queued
// trailers or END_STREAM. It records an OnDrain event.
func (c *Conn) drainStream(s *Stream) {
	pending := len(s.out) - s.outOff
	n := c.sendable(s, pending)
	last := n == pending
	if n == 0 && !last {
		return
	}
	c.writeData(s, s.out[s.outOff:s.outOff+n], last && s.endQueued && !s.hasTrail)
	s.outOff += n
	c.addQueued(-n)
	s.progress = time.Now()
	if !last {
		c.queueDrain(s, s.h, n)
		return
	}
	if cap(s.out) > 64<<10 {
		s.out = nil
	}
	s.out, s.outOff = s.out[:0], 0
	c.unblock(s)
	if s.hasTrail {
		c.writeHeaders(s.id, s.trailers, true)
		s.trailers, s.hasTrail = nil, false
	}
	c.queueDrain(s, s.h, n)
	if s.endQueued {
		s.endQueued = false
		c.closeIfDone(s)
	}
}

// drainAll gives newly opened connection window to blocked streams,
// starting one further along each time.
func (c *Conn) drainAll() {
	for i := 0; i < len(c.blocked) && c.sendWin > 0; {
		s := c.blocked[i]
		c.drainStream(s)
		if i < len(c.blocked) && c.blocked[i] == s {
			i++
		}
	}
	// Rotate so that the same stream is not always first to the window.
	if n := len(c.blocked); n > 1 {
		first := c.blocked[0]
		copy(c.blocked, c.blocked[1:])
		c.blocked[n-1] = first
	}
}

// consumeConn returns n received bytes to the connection window, granting
// them back in batches of half a window.
func (c *Conn) consumeConn(n int64) {
	if c.err != nil {
		return
	}
	c.unacked += n
	if c.unacked >= int64(c.cfg.ConnWindowSize/2) {
		var b [16]byte
		c.write(AppendWindowUpdate(b[:0], 0, uint32(c.unacked)))
		c.sentData = true
		c.recvWin += c.unacked
		c.unacked = 0
	}
}

// consumeStream returns n bytes the handler took to the stream's window,
// in batches of half a window.
func (c *Conn) consumeStream(s *Stream, n int64) {
	if c.err != nil || s.closed || s.remoteEnd {
		return
	}
	s.unacked += n
	if s.unacked >= int64(c.cfg.InitialWindowSize/2) {
		var b [16]byte
		c.write(AppendWindowUpdate(b[:0], s.id, uint32(s.unacked)))
		s.recvWin += s.unacked
		s.unacked = 0
	}
}

// onWindowUpdate applies a peer's WINDOW_UPDATE (RFC 9113 §6.9).
func (c *Conn) onWindowUpdate(h FrameHeader, p []byte) error {
	v, ok := ConsumeUint32(p)
	if !ok {
		return connErr(ErrCodeFrameSize, ErrBadFrame)
	}
	inc := int64(v & maxWindow)
	if h.StreamID == 0 {
		if inc == 0 {
			return connErr(ErrCodeProtocol, ErrBadFrame)
		}
		if c.sendWin += inc; c.sendWin > maxWindow {
			return connErr(ErrCodeFlowControl, ErrFlowControl)
		}
		c.drainAll()
		return nil
	}
	s := c.streams[h.StreamID]
	if s == nil {
		if c.idle(h.StreamID) {
			return connErr(ErrCodeProtocol, ErrBadStreamID)
		}
		return c.calm(&c.ctrl) // late updates are legal but not free
	}
	if inc == 0 {
		return c.peerReset(s, ErrCodeProtocol, ErrBadFrame)
	}
	if s.sendWin += inc; s.sendWin > maxWindow {
		return c.peerReset(s, ErrCodeFlowControl, ErrFlowControl)
	}
	if s.blocked {
		c.drainStream(s)
	}
	return nil
}

// setPeerWindow applies a new SETTINGS_INITIAL_WINDOW_SIZE to every open
// stream's send window (RFC 9113 §6.9.2); windows may go negative.
func (c *Conn) setPeerWindow(v uint32) error {
	delta := int64(v) - int64(c.peer.initWin)
	c.peer.initWin = v
	for _, s := range c.streams {
		if s.sendWin += delta; s.sendWin > maxWindow {
			return connErr(ErrCodeFlowControl, ErrFlowControl)
		}
	}
	if delta > 0 {
		c.drainAll()
	}
	return nil
}
